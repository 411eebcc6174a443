"""``privacy-insights demo-summary``: what a build released, printed for a person to read.

The last step of ``make demo``. It reads only what a buyer or the reviewer may see: the
public mart ``outside_buyer.spots_insights_v1`` (released rows and their error bars), the
budget ledger, and the public city names of ``reference.city_definitions``; never staging,
intermediate or true counts. It prints:

- how many cells each granularity released, and in how many cities;
- a handful of released city-level day rows (the busiest released city-days of the latest
  released day), every column readable on an 80-column terminal;
- the ledger's epsilon per period: consecutive periods with the same granularity, status,
  purpose and epsilon on one line, and the fullest budget window against its cap;
- where to look next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from privacy_insights.targets import Warehouse

SAMPLE_ROWS = 8

NEXT_STEPS = """\
Where to look next:
  docs/index.md   the documentation, one page per reader (`make docs`: the site in site/)
  make report     the privacy reviewer's report of this warehouse
  .venv/bin/privacy-insights publish && .venv/bin/privacy-insights serve
                  the buyer API on 127.0.0.1:8000 (docs/buyers.md: keys, exports)
  .venv/bin/dbt docs generate && .venv/bin/dbt docs serve --port 8080
                  dbt's own site: every model, column and test"""


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[bool]) -> list[str]:
    """Plain-text columns: a header, a rule, then the rows; ``right`` aligns numeric columns right."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(row) for row in cells)]


def _plus_minus(value: object, margin: object) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if margin is None else f"{value:,} ± {round(margin):,}"


@dataclass(frozen=True)
class LedgerRun:
    """Consecutive ledger periods of one granularity with the same status, purpose and epsilon."""

    granularity: str
    first: date
    last: date
    periods: int
    purpose: str
    status: str
    epsilon: float


def ledger_runs(rows: Sequence[tuple[str, datetime, str, str, float]]) -> list[LedgerRun]:
    """Collapse ledger rows (granularity, period start, purpose, status, epsilon), sorted by
    granularity then period, into runs of consecutive periods (a day apart for hour and day
    periods, a week apart for week periods) that agree on purpose, status and epsilon."""
    runs: list[LedgerRun] = []
    for granularity, start, purpose, status, epsilon in rows:
        day = start.date() if isinstance(start, datetime) else start
        step = timedelta(days=7 if granularity == "week" else 1)
        last = runs[-1] if runs else None
        if (
            last is not None
            and (last.granularity, last.purpose, last.status, last.epsilon) == (granularity, purpose, status, epsilon)
            and day == last.last + step
        ):
            runs[-1] = LedgerRun(granularity, last.first, day, last.periods + 1, purpose, status, epsilon)
        else:
            runs.append(LedgerRun(granularity, day, day, 1, purpose, status, epsilon))
    return runs


def _name(warehouse: Warehouse, schema: str, table: str) -> str:
    """``schema.table`` as this target spells it, for people to read (no catalog, no quotes)."""
    return f"{warehouse.schema(schema)}.{table}"


def _released_counts(warehouse: Warehouse) -> list[str]:
    mart = warehouse.qualify("outside_buyer", "spots_insights_v1")
    rows = warehouse.connection.execute(
        f"""
        select time_granularity,
               count(*) filter (where not privacy_suppressed),
               count(*),
               count(distinct geo_bucket_id) filter (where not privacy_suppressed),
               count(distinct geo_bucket_id)
        from {mart}
        group by 1
        order by case time_granularity when 'hour' then 1 when 'day' then 2 else 3 end
        """
    ).fetchall()
    if not rows:
        return ["Released cells: none yet (no period is past the 72-hour delay and landed completely)."]
    body = [
        (granularity, f"{released:,}", f"{total:,}", f"{cities_released} of {cities}")
        for granularity, released, total, cities_released, cities in rows
    ]
    return [
        f"Released cells ({_name(warehouse, 'outside_buyer', 'spots_insights_v1')}; "
        "a suppressed cell publishes no number):",
        *table(["granularity", "released", "cells", "cities with a released cell"], body, [False, True, True, False]),
    ]


def _sample_rows(warehouse: Warehouse, limit: int) -> list[str]:
    mart = warehouse.qualify("outside_buyer", "spots_insights_v1")
    cities = warehouse.qualify("reference", "city_definitions")
    rows = warehouse.connection.execute(
        f"""
        with released as (
            select *
            from {mart}
            where time_granularity = 'day' and release_level = 'city' and not privacy_suppressed
        )
        select r.geo_bucket_id, c.city_name, cast(r.time_bucket_start_utc as date),
               r.unique_participants_est, r.uncertainty_unique_participants_moe95,
               r.doors_opened_est, r.uncertainty_doors_opened_moe95, r.release_version
        from released as r
        left join {cities} as c on c.city_code = r.geo_bucket_id
        where r.time_bucket_start_utc = (select max(time_bucket_start_utc) from released)
        order by r.unique_participants_est desc, r.geo_bucket_id
        limit ?
        """,
        [limit],
    ).fetchall()
    if not rows:
        return ["Released city-day rows: none (every day cell was suppressed: too few participants per city-day)."]
    body = [
        (code, name or "", day.isoformat(), _plus_minus(people, people_moe), _plus_minus(doors, doors_moe), version)
        for code, name, day, people, people_moe, doors, doors_moe, version in rows
    ]
    return [
        f"A few released rows: city totals of {rows[0][2].isoformat()}, busiest first "
        "(± is the published 95 % margin):",
        *table(
            ["city", "name", "day", "participants", "doors opened", "version"],
            body,
            [False, False, False, True, True, True],
        ),
    ]


def _ledger(warehouse: Warehouse) -> list[str]:
    ledger = warehouse.qualify("outside_buyer", "spots_privacy_budget_ledger")
    con = warehouse.connection
    rows = con.execute(
        f"""
        select time_granularity, release_period_start, purpose, status, epsilon
        from {ledger}
        order by case time_granularity when 'hour' then 1 when 'day' then 2 else 3 end,
                 release_period_start, release_version
        """
    ).fetchall()
    if not rows:
        return [f"Privacy budget ledger ({_name(warehouse, 'outside_buyer', 'spots_privacy_budget_ledger')}): empty."]
    body = [
        (
            run.granularity,
            run.first.isoformat() if run.periods == 1 else f"{run.first.isoformat()} .. {run.last.isoformat()}",
            run.periods,
            run.purpose,
            run.status,
            f"{run.epsilon:g}" if run.status == "charged" else "0 (denied)",
        )
        for run in ledger_runs(rows)
    ]
    fullest, cap, window_days = con.execute(
        f"select max(window_epsilon), max(epsilon_cap), max(budget_window_days) from {ledger} where status = 'charged'"
    ).fetchone()
    lines = [
        f"Privacy budget ledger ({_name(warehouse, 'outside_buyer', 'spots_privacy_budget_ledger')}):",
        "epsilon charged per period before its noise was drawn (consecutive alike periods: one line)",
        *table(
            ["granularity", "periods", "count", "purpose", "status", "epsilon each"],
            body,
            [False, False, True, False, False, True],
        ),
    ]
    if fullest is not None:
        lines.append(f"Fullest {window_days}-day budget window: epsilon {fullest:g} of the cap {cap:g}.")
    return lines


def summary(warehouse: Warehouse, location: str, limit: int = SAMPLE_ROWS) -> str:
    """The whole printout for the warehouse at ``location`` (a path or a target's name)."""
    schemas = [
        name
        for (name,) in warehouse.connection.execute(
            "select distinct table_schema from information_schema.tables where table_catalog = ? order by 1",
            [warehouse.catalog],
        ).fetchall()
    ]
    parts = [
        [f"Results: {location} (schemas {', '.join(schemas)})"],
        _released_counts(warehouse),
        _sample_rows(warehouse, limit),
        _ledger(warehouse),
        NEXT_STEPS.splitlines(),
    ]
    return "\n\n".join("\n".join(part) for part in parts)
