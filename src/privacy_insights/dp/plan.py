"""The release plan: which periods a build releases, and what each costs, before any noise.

One decision point for every granularity (DESIGN.md §2.13). Given the complete ledger of
earlier charges (every build, every granularity, every version) and the periods this
build may release, the plan decides each candidate period in one canonical order —

    by the period's end, then week before day before hour, then by start —

charging it if, in every budget window that overlaps it, the epsilon (and delta) already
charged, plus what is reserved for not-yet-decided periods of higher-priority
granularities, plus its own, fits under the caps; otherwise denying it for good
(`budget_exhausted`). Periods become eligible in that same order as time passes, so a
sequence of daily builds and one build over the same days decide exactly the same
periods, and "week, then day, then hour" holds across builds: a day never takes budget a
later week of its window will need.

Candidates:
- `initial`: an eligible period with no ledger row. Eligible: its cells exist, which the
  cell domain allows only once the period is past the delay AND its landing is complete
  (the loader's watermark, int_spots__landing_completeness). A period past the delay
  without cells is *held* (``Plan.held``): not decided, not charged, not published, and
  reserved like any undecided period. The watermark only moves forward, so the complete
  periods are always a prefix of the canonical order and holding one never lets a later
  period take budget out of order.
- `retry`: a charged period whose rows never landed (the build failed after charging, or
  was killed). Its charge stays spent; it is released again with fresh noise under a new
  version and charged again.
- `correction`: with ``corrections.enabled`` (off by default), a data-independent schedule:
  a period first charged less than ``corrections.after_days`` days after its end (by that
  charge's clock, as_of less the delay) is released once more with fresh noise under a new
  version, charged again, by the first build whose cutoff (the clock's, and the landing's)
  is ``after_days`` past its end. Whether a period is corrected reads only the ledger, the
  clock and the watermark, never a count (DESIGN.md §2, "no decision reads a true count").
  Corrections have the lowest priority: one is charged only if it fits beside every
  undecided period of every granularity in its windows (a correction never takes budget an
  initial release needs); a denied correction publishes nothing (the period keeps its
  version) and is final.
A denied period whose (suppressed) rows never landed is republished, without a charge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from privacy_insights.dp.budget import BudgetLedger, Charge
from privacy_insights.dp.mechanisms import period_mechanism
from privacy_insights.dp.params import GRANULARITIES, PRIORITY, ReleasePolicy

PERIOD_DAYS = {"hour": 1, "day": 1, "week": 7}
LEDGER_KEY = ["time_granularity", "release_period_start", "release_version"]


@dataclass(frozen=True)
class Decision:
    granularity: str
    period_start: date
    version: int
    purpose: str  # initial | retry | correction
    status: str  # charged | denied
    mechanism: str
    epsilon: float
    delta: float
    rho: float | None
    window_epsilon: float  # epsilon of the busiest window overlapping the period, after this decision
    window_delta: float
    reason: str


@dataclass(frozen=True)
class Held:
    """A period past the delay that this build does not decide (it has no cells)."""

    granularity: str
    period_start: date
    reason: str  # landing_incomplete | not_aggregated


@dataclass
class Plan:
    decisions: list[Decision] = field(default_factory=list)
    republish: list[tuple[str, date, int]] = field(default_factory=list)  # denied, rows never landed
    held: list[Held] = field(default_factory=list)  # past the delay, not complete (or not aggregated)

    @property
    def empty(self) -> bool:
        return not self.decisions and not self.republish

    def ledger_rows(self, policy: ReleasePolicy, as_of: datetime, charged_at: datetime) -> pd.DataFrame:
        """The decisions as rows of the budget ledger (spots_privacy_budget_ledger)."""
        rows = []
        for d in self.decisions:
            g = policy.for_granularity(d.granularity)
            rows.append(
                {
                    "dataset": "spots_insights_v1",
                    "time_granularity": d.granularity,
                    "release_period_start": pd.Timestamp(d.period_start),
                    "release_version": d.version,
                    "purpose": d.purpose,
                    "status": d.status,
                    "mechanism": d.mechanism,
                    "epsilon": d.epsilon if d.status == "charged" else 0.0,
                    "delta": d.delta if d.status == "charged" else 0.0,
                    "rho": d.rho if d.status == "charged" else None,
                    "budget_window_days": policy.budget_window_days,
                    "epsilon_cap": policy.epsilon_cap,
                    "delta_cap": policy.delta_cap,
                    "window_epsilon": d.window_epsilon,
                    "window_delta": d.window_delta,
                    "k_min": g.k_min,
                    "max_opens_per_participant": g.max_opens_per_participant,
                    "reporting_delay_hours": policy.reporting_delay_hours,
                    "as_of": pd.Timestamp(as_of).tz_localize(None)
                    if pd.Timestamp(as_of).tzinfo is None
                    else pd.Timestamp(as_of).tz_convert("UTC").tz_localize(None),
                    "charged_at": pd.Timestamp(charged_at).tz_convert("UTC").tz_localize(None),
                }
            )
        return pd.DataFrame(rows, columns=LEDGER_COLUMNS)


LEDGER_COLUMNS = [
    "dataset",
    "time_granularity",
    "release_period_start",
    "release_version",
    "purpose",
    "status",
    "mechanism",
    "epsilon",
    "delta",
    "rho",
    "budget_window_days",
    "epsilon_cap",
    "delta_cap",
    "window_epsilon",
    "window_delta",
    "k_min",
    "max_opens_per_participant",
    "reporting_delay_hours",
    "as_of",
    "charged_at",
]


def _day(value) -> date:
    return pd.Timestamp(value).date()


def _order(granularity: str, start: date) -> tuple:
    return (start + timedelta(days=PERIOD_DAYS[granularity]), PRIORITY.index(granularity), start)


def period_end(granularity: str, start: date) -> datetime:
    """The exclusive end of a period, as a naive UTC datetime."""
    return datetime.combine(start + timedelta(days=PERIOD_DAYS[granularity]), datetime.min.time())


def first_period_start(granularity: str, release_start: date) -> date:
    """The first period of ``granularity`` that starts on or after release_start (weeks start on Monday)."""
    if granularity == "week":
        return release_start + timedelta(days=(7 - release_start.weekday()) % 7)
    return release_start


def clock_calendar(policy: ReleasePolicy, cutoff: datetime, release_start: date) -> dict[str, list[date]]:
    """Every period of each enabled granularity that the clock makes eligible: it starts on or after
    release_start and ends at or before ``cutoff`` (as_of less the delay; naive UTC)."""
    out: dict[str, list[date]] = {}
    for granularity in policy.enabled:
        start, periods = first_period_start(granularity, release_start), []
        while period_end(granularity, start) <= cutoff:
            periods.append(start)
            start += timedelta(days=PERIOD_DAYS[granularity])
        out[granularity] = periods
    return out


def _periods_overlapping(granularity: str, first: date, last: date, release_start: date) -> list[date]:
    """Period starts of ``granularity`` overlapping the days first..last, none before release_start."""
    if granularity == "week":
        start = first - timedelta(days=first.weekday())
        step = 7
    else:
        start, step = first, 1
    out = []
    while start <= last:
        if start >= release_start:
            out.append(start)
        start += timedelta(days=step)
    return out


def _naive(value) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()


def plan_releases(
    policy: ReleasePolicy,
    ledger: pd.DataFrame,
    landed: set[tuple[str, date, int]],
    eligible: dict[str, list[date]],
    release_start: date,
    complete_through: datetime | None = None,
    clock_cutoff: datetime | None = None,
) -> Plan:
    """Decide this build's releases against the complete ledger (see the module docstring).

    ``eligible``: the periods this build has cells for (past the delay and complete);
    ``clock_cutoff``: as_of less the delay (naive UTC): with it, the periods past the delay
    that are not eligible are reported held, and corrections fall due; ``complete_through``:
    the landing's completeness (naive UTC; None: nothing is known complete).
    """
    mechanisms = {g: period_mechanism(policy, g) for g in policy.enabled}
    history = ledger.copy()
    if len(history):
        history["release_period_start"] = history["release_period_start"].map(_day)
    charges = [
        Charge(
            r.time_granularity,
            r.release_period_start,
            PERIOD_DAYS[r.time_granularity],
            float(r.epsilon),
            float(r.delta or 0.0),
        )
        for r in history.itertuples()
        if r.status == "charged"
    ]
    caps = policy.caps()
    budget = BudgetLedger(policy.budget_window_days, policy.epsilon_cap, policy.delta_cap, charges, caps[1:])
    reach = max(days for days, _, _ in caps)  # the longest window: how far a reservation looks
    latest, first_charge, corrected = {}, {}, set()
    for r in history.itertuples():
        key = (r.time_granularity, r.release_period_start)
        if key not in latest or r.release_version > latest[key].release_version:
            latest[key] = r
        if r.status == "charged" and (key not in first_charge or r.release_version < first_charge[key].release_version):
            first_charge[key] = r
        if r.purpose == "correction":
            corrected.add(key)

    plan = Plan()
    cutoff = None
    if clock_cutoff is not None and complete_through is not None:
        cutoff = min(clock_cutoff, complete_through)
    eligible_sets = {g: {_day(p) for p in eligible.get(g, [])} for g in GRANULARITIES}
    if clock_cutoff is not None:
        for granularity, periods in clock_calendar(policy, clock_cutoff, release_start).items():
            for start in periods:
                if (granularity, start) in latest or start in eligible_sets[granularity]:
                    continue
                complete = complete_through is not None and period_end(granularity, start) <= complete_through
                plan.held.append(Held(granularity, start, "not_aggregated" if complete else "landing_incomplete"))

    candidates = []  # (granularity, start, version, purpose)
    for granularity in policy.enabled:
        for start in sorted(eligible_sets[granularity]):
            row = latest.get((granularity, start))
            if row is None:
                candidates.append((granularity, start, 1, "initial"))
            elif (granularity, start, int(row.release_version)) in landed:
                if _correction_due(policy, granularity, start, row, first_charge, corrected, cutoff):
                    candidates.append((granularity, start, int(row.release_version) + 1, "correction"))
            elif row.status == "charged":
                candidates.append((granularity, start, int(row.release_version) + 1, "retry"))
            elif row.purpose != "correction":  # a denied correction publishes nothing: the period keeps its version
                plan.republish.append((granularity, start, int(row.release_version)))
    candidates.sort(key=lambda c: (c[3] == "correction", *_order(c[0], c[1])))

    decided = set(latest)
    for granularity, start, version, purpose in candidates:
        mech = mechanisms[granularity]
        candidate = Charge(granularity, start, PERIOD_DAYS[granularity], mech.epsilon, mech.delta)
        first = start - timedelta(days=reach - 1)
        last = candidate.period_end + timedelta(days=reach - 2)
        # an initial period reserves for the undecided periods of higher priority; a correction for every one
        reserving = policy.enabled if purpose == "correction" else PRIORITY[: PRIORITY.index(granularity)]
        reserved = tuple(
            Charge(other, p, PERIOD_DAYS[other], mechanisms[other].epsilon, mechanisms[other].delta)
            for other in PRIORITY
            if other in reserving and other in mechanisms
            for p in _periods_overlapping(other, first, last, release_start)
            if (other, p) not in decided
        )
        ok, why, window_epsilon, window_delta = budget.try_charge(candidate, reserved)
        decided.add((granularity, start))
        plan.decisions.append(
            Decision(
                granularity,
                start,
                version,
                purpose,
                "charged" if ok else "denied",
                mech.mechanism,
                mech.epsilon,
                mech.delta,
                mech.rho,
                window_epsilon,
                window_delta,
                why,
            )
        )
    return plan


def _correction_due(policy, granularity, start, row, first_charge, corrected, cutoff) -> bool:
    """The correction schedule (module docstring): public inputs only, the ledger, the clock and the watermark."""
    key = (granularity, start)
    if not policy.corrections_enabled or cutoff is None or row.status != "charged" or key in corrected:
        return False
    due = period_end(granularity, start) + timedelta(days=policy.corrections_after_days)
    first = first_charge.get(key)
    charged_cutoff = _naive(first.as_of) - timedelta(hours=policy.reporting_delay_hours) if first is not None else None
    released_early = charged_cutoff is not None and charged_cutoff < due
    return released_early and due <= cutoff
