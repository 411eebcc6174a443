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
- `initial`: an eligible period with no ledger row.
- `retry`: a charged period whose rows never landed (the build failed after charging, or
  was killed). Its charge stays spent; it is released again with fresh noise under a new
  version and charged again.
- `correction`: with ``corrections.enabled`` (off by default), a released period with at
  least ``corrections.min_late_events`` late events is released again with fresh noise
  under a new version and charged again; the old rows are kept.
A denied period whose (suppressed) rows never landed is republished, without a charge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from privacy_insights.dp.budget import BudgetLedger, Charge
from privacy_insights.dp.mechanisms import period_mechanism
from privacy_insights.dp.params import PRIORITY, ReleasePolicy

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


@dataclass
class Plan:
    decisions: list[Decision] = field(default_factory=list)
    republish: list[tuple[str, date, int]] = field(default_factory=list)  # denied, rows never landed

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


def plan_releases(
    policy: ReleasePolicy,
    ledger: pd.DataFrame,
    landed: set[tuple[str, date, int]],
    eligible: dict[str, list[date]],
    release_start: date,
    late_events: dict[tuple[str, date], int] | None = None,
) -> Plan:
    """Decide this build's releases against the complete ledger (see the module docstring)."""
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
    budget = BudgetLedger(policy.budget_window_days, policy.epsilon_cap, policy.delta_cap, charges)
    latest = {}
    for r in history.itertuples():
        key = (r.time_granularity, r.release_period_start)
        if key not in latest or r.release_version > latest[key].release_version:
            latest[key] = r

    plan = Plan()
    candidates = []  # (order, granularity, start, version, purpose)
    for granularity in policy.enabled:
        for start in sorted({_day(p) for p in eligible.get(granularity, [])}):
            row = latest.get((granularity, start))
            if row is None:
                candidates.append((granularity, start, 1, "initial"))
            elif (granularity, start, int(row.release_version)) in landed:
                late = (late_events or {}).get((granularity, start), 0)
                if (
                    policy.corrections_enabled
                    and row.status == "charged"
                    and late >= policy.corrections_min_late_events
                ):
                    candidates.append((granularity, start, int(row.release_version) + 1, "correction"))
            elif row.status == "charged":
                candidates.append((granularity, start, int(row.release_version) + 1, "retry"))
            else:
                plan.republish.append((granularity, start, int(row.release_version)))
    candidates.sort(key=lambda c: _order(c[0], c[1]))

    decided = set(latest)
    for granularity, start, version, purpose in candidates:
        mech = mechanisms[granularity]
        candidate = Charge(granularity, start, PERIOD_DAYS[granularity], mech.epsilon, mech.delta)
        first = start - timedelta(days=policy.budget_window_days - 1)
        last = candidate.period_end + timedelta(days=policy.budget_window_days - 2)
        reserved = tuple(
            Charge(higher, p, PERIOD_DAYS[higher], mechanisms[higher].epsilon, mechanisms[higher].delta)
            for higher in PRIORITY[: PRIORITY.index(granularity)]
            if higher in mechanisms
            for p in _periods_overlapping(higher, first, last, release_start)
            if (higher, p) not in decided
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
