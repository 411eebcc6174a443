"""What the dbt Python release model calls. The model stays a few lines long.

The release step of one build, for every granularity at once (DESIGN.md §2.13):

1. read the complete budget ledger and which (granularity, period, version) already landed,
   and check that the two agree (``integrity``): a mismatch stops the build before any charge;
2. plan: decide every eligible period in one canonical order against that history (``plan``);
   a period past the delay whose landing is not complete is held, and reported;
3. charge: append the plan's ledger rows and commit them (``ledger``) — before any noise;
4. release: only then draw noise for the charged periods and post-process (``release``);
5. return the new rows; dbt appends them to the release table.

dbt builds its DAG from the literal ``dbt.ref(...)`` calls in the model file, so the model
passes its refs in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from privacy_insights.dp import integrity
from privacy_insights.dp.ledger import LEDGER_MODEL, append_charges, quoted, read_history
from privacy_insights.dp.params import GRANULARITIES, PolicyError, parse_policy
from privacy_insights.dp.plan import PERIOD_DAYS, plan_releases
from privacy_insights.dp.release import (
    BUCKET_STEP,
    CELL_COLUMNS,
    TREND_HISTORY_COLUMNS,
    PeriodRelease,
    empty_release,
    release_periods,
    typed,
)


def to_pandas(frame: Any) -> pd.DataFrame:
    """A pandas frame from a DuckDB relation, a Spark or Snowpark DataFrame, or pandas."""
    if isinstance(frame, pd.DataFrame):
        return frame
    for method in ("df", "toPandas", "to_pandas"):
        if hasattr(frame, method):
            return getattr(frame, method)()
    raise TypeError(f"cannot read a {type(frame).__name__} into pandas")


def _timestamp(text: str, field: str) -> datetime:
    try:
        value = pd.Timestamp(str(text).replace("Z", ""))
    except ValueError:
        raise PolicyError(f"{field}: must be a UTC timestamp like 2026-11-01T00:00:00Z, got {text!r}") from None
    return value.to_pydatetime().replace(tzinfo=UTC)


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def release_model(
    dbt: Any,
    session: Any,
    cells: Any,
    ledger: Any,
    completeness: Any,
    spots_release: Any,
    reporting_delay_hours: Any,
    as_of: Any,
    release_start_date: Any,
    report=print,
) -> pd.DataFrame:
    """Release every newly eligible period of every enabled granularity (see the module docstring).

    dbt passes a Python model only the configs its own file reads with ``dbt.config.get``,
    so the model reads them and hands them in. ``ledger`` is the model's ``dbt.ref`` of the
    budget ledger: it draws the DAG edge; the ledger itself is read beside the model.
    ``completeness``: int_spots__landing_completeness (one row: the loader's watermark).
    """
    policy = parse_policy(spots_release, reporting_delay_hours)
    clock = _timestamp(as_of, "as_of")
    release_start = _timestamp(release_start_date, "release_start_date").date()
    this = dbt.this
    # The ledger lives beside this model and is read and written there, never through a
    # deferred ref: a slim CI build must not take production's charges for its own.
    ledger_table = quoted(this.database, this.schema, LEDGER_MODEL)
    history = read_history(session.sql(f"select * from {ledger_table}"))
    landed_rows: dict[tuple[str, date, int], integrity.Landed] = {}
    if dbt.is_incremental:
        landed_rows = {
            (g, pd.Timestamp(p).date(), int(v)): integrity.Landed(*(float(x or 0.0) for x in stats))
            for g, p, v, *stats in session.sql(
                "select time_granularity, release_period_start, release_version, min(privacy_dp_epsilon), "
                f"max(privacy_dp_epsilon), min(privacy_dp_delta), max(privacy_dp_delta) from {this} group by 1, 2, 3"
            ).fetchall()
        }
    integrity.check(history, landed_rows, ledger_table)  # before any charge
    landed = set(landed_rows)

    # Eligibility at this build's as_of: the cell domain lists only periods past the delay whose
    # landing is complete (when it was built with the same clock; a period that is not eligible
    # yet is never released). The periods past the delay without cells are held (plan.held).
    cutoff = clock.replace(tzinfo=None) - pd.Timedelta(hours=policy.reporting_delay_hours)
    eligible: dict[str, list[date]] = {g: [] for g in GRANULARITIES}
    for granularity, start in cells.aggregate("granularity, period_start", "granularity, period_start").fetchall():
        start = pd.Timestamp(start).date()
        end = datetime.combine(start, datetime.min.time()) + pd.Timedelta(days=PERIOD_DAYS[granularity])
        if end <= cutoff and start >= release_start:
            eligible[granularity].append(start)
    landing = completeness.project("loaded_through, complete_through, completeness").fetchall()
    loaded_through, complete_through, how = (landing[0][0], landing[0][1], landing[0][2]) if landing else (None,) * 3
    complete_through = pd.Timestamp(complete_through).to_pydatetime() if complete_through is not None else None

    plan = plan_releases(policy, history, landed, eligible, release_start, complete_through, cutoff)
    _report_held(plan, loaded_through, complete_through, how, report)
    if plan.empty:
        report("[spots_insights_v1] nothing new to release")
        return empty_release()
    now = datetime.now(UTC)
    for d in plan.decisions:
        if d.status == "denied":
            outcome = (
                "the correction is not made, the period keeps its release"
                if d.purpose == "correction"
                else "its cells are published suppressed"
            )
            report(f"[spots_insights_v1 {d.granularity}] budget_exhausted: {d.reason}; {outcome}")
    append_charges(session, ledger_table, plan.ledger_rows(policy, clock, now))  # ledger first

    releases = {}
    for d in plan.decisions:
        if d.status == "denied" and d.purpose == "correction":
            continue  # a denied correction publishes nothing: the period's current version stands
        releases.setdefault(d.granularity, []).append(
            PeriodRelease(d.granularity, pd.Timestamp(d.period_start), d.version, d.status == "charged")
        )
    for granularity, start, version in plan.republish:
        releases.setdefault(granularity, []).append(PeriodRelease(granularity, pd.Timestamp(start), version, False))
    frames = []
    for granularity, periods in releases.items():
        starts = _sql_list([str(p.period_start.date()) for p in periods])
        todo = to_pandas(
            cells.filter(f"granularity = '{granularity}' and cast(period_start as date) in ({starts})").project(
                ", ".join(CELL_COLUMNS)
            )
        )
        previous = _previous_rows(session, this, granularity, periods) if dbt.is_incremental else empty_release()
        frames.append(release_periods(todo, granularity, policy, periods, previous, now, report))
    return typed(pd.concat(frames, ignore_index=True)) if frames else empty_release()


def _report_held(plan, loaded_through, complete_through, how, report) -> None:
    """One build-log line per granularity with held periods (ops_spots_release_holds and the
    release_held_incomplete alert say the same from the warehouse)."""
    by_granularity: dict[tuple[str, str], list[str]] = {}
    for held in plan.held:
        by_granularity.setdefault((held.granularity, held.reason), []).append(str(held.period_start))
    for (granularity, reason), starts in by_granularity.items():
        shown = ", ".join(starts[:5]) + (f" and {len(starts) - 5} more" if len(starts) > 5 else "")
        if reason == "landing_incomplete":
            why = (
                f"landing complete through {complete_through} (watermark {loaded_through})"
                if how == "watermark"
                else "no landing watermark (raw.spots_load_watermark; var landing_without_watermark: hold)"
            )
            report(
                f"[spots_insights_v1 {granularity}] release_held_incomplete: {len(starts)} period(s) past the delay "
                f"held, not charged, not published ({why}): {shown}"
            )
        else:
            report(
                f"[spots_insights_v1 {granularity}] {len(starts)} period(s) past the delay have no cell aggregates "
                f"(build int_spots__cell_aggregates with this clock): {shown}"
            )


def _previous_rows(session: Any, this: Any, granularity: str, periods: list[PeriodRelease]) -> pd.DataFrame:
    """Current-version rows of the bucket before each new period's first bucket: the columns the
    trend reads (so a release table written by an older schema version still serves)."""
    buckets = _sql_list([str(p.period_start - BUCKET_STEP[granularity]) for p in periods])
    columns = ", ".join(TREND_HISTORY_COLUMNS)
    return to_pandas(
        session.sql(
            f"""select {columns} from {this} as r
            where time_granularity = '{granularity}' and time_bucket_start_utc in ({buckets})
              and release_version = (select max(release_version) from {this} as v
                                     where v.time_granularity = r.time_granularity
                                       and v.release_period_start = r.release_period_start)"""
        )
    )
