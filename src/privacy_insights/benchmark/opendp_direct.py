"""Benchmark baseline (b): the day release's finest level done with OpenDP's Polars interface directly.

What an analyst who skipped dbt would write for the same day cells, bounds and epsilon:

1. Load each participant's doors opened per day cell (one SQL query over the staged
   events: coarsening happens in the engine, as in the pipeline; the identifier stays).
2. Bound each privacy unit (a participant in one day, the pipeline's unit) to the finest
   level's C cells (``levels.city_segment.max_cells_per_participant``), as the pipeline does,
   picking the cells by hash, and clamp its doors in each to M.
3. Hand that frame, at most C rows per unit, to an OpenDP ``Context`` (``contributions=C``) with
   the epsilon the pipeline spends on the finest level (``city_segment``: the day's epsilon
   times its level share), split across the three counts by ``metric_epsilon_shares``.
4. Per count, one query: group by the cell, join the public key set (``with_keys``, the same
   public domain the pipeline releases, empty cells included), add OpenDP's noise.
5. Suppress on the noisy values as the pipeline does (k_min, dominance).

Timed end to end as one process: imports, the load, writing the key set to Parquet,
three OpenDP releases, suppression. The pipeline also measures the coarser levels and
post-processes them into consistent totals; the baseline does the finest level only, the
part whose work grows with the cell domain.

OpenDP derives the noise scales itself from the bounds; ``release_days`` can report them,
so a test checks they equal the pipeline's. The bounding to C cells is done in Polars, not
with ``truncate_num_groups``: in OpenDP 0.16 ``truncate_num_groups(k)`` keeps k - 1 groups
per unit (dense ranks start at 1 and it keeps rank < k) while its accounting assumes k, so
``truncate_num_groups(1)`` keeps nothing (tests_py/test_benchmark.py pins this, so a fixed
OpenDP shows up), and ``keep="sample"`` fails on Polars 1.36 ("multiple fields with name ...
found").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import opendp.prelude as dp
import polars as pl

from privacy_insights import targets
from privacy_insights.dp.params import GranularityPolicy, ReleasePolicy, parse_policy

dp.enable_features("contrib")

CELL_KEYS = ["day_start", "geo_bucket_id", "door_type", "category", "context"]
METRIC_ORDER = ("unique_participants", "doors_opened", "repeaters")
# A public upper bound on rows per cell, needed by OpenDP to rule out integer overflow in sums.
MAX_ROWS_PER_CELL = 2**31
FINEST_LEVEL = "city_segment"


def released_days(as_of: datetime, reporting_delay_hours: int, release_start: date) -> list[date]:
    """The day periods a build at ``as_of`` releases: from release_start, each ending by the cutoff."""
    cutoff = as_of - timedelta(hours=reporting_delay_hours)
    days, day = [], release_start
    while datetime(day.year, day.month, day.day, tzinfo=as_of.tzinfo) + timedelta(days=1) <= cutoff:
        days.append(day)
        day += timedelta(days=1)
    return days


def load_contributions(warehouse: targets.Warehouse, days: list[date]) -> pl.DataFrame:
    """Doors opened per participant and day cell, with the privacy-unit column."""
    staged = warehouse.qualify("staging", "stg_spots__interaction_events")
    arrow = warehouse.connection.execute(
        f"""
        select
            participant_key || '|' || cast(cast(day_start as date) as varchar) as privacy_unit,
            day_start, city_code as geo_bucket_id, door_type, category, context,
            count(*) as doors_opened
        from {staged}
        where counts_as_door_opened and city_code is not null
            and day_start >= ? and day_start < ?
        group by all
    """,
        [days[0], days[-1] + timedelta(days=1)],
    ).to_arrow_table()
    return pl.from_arrow(arrow).with_columns(pl.col("day_start").cast(pl.Datetime("us")))


def public_keys(warehouse: targets.Warehouse, days: list[date]) -> pl.DataFrame:
    """The day cells' public domain, from the seeds only (as int_spots__cell_domain)."""

    def seed(table: str, column: str) -> pl.DataFrame:
        values = [
            r[0]
            for r in warehouse.connection.sql(
                f"select {column} from {warehouse.qualify('reference', table)} order by 1"
            ).fetchall()
        ]
        return pl.DataFrame({column: values})

    keys = pl.DataFrame({"day_start": [datetime(d.year, d.month, d.day) for d in days]}).with_columns(
        pl.col("day_start").cast(pl.Datetime("us"))
    )
    for table, column, name in (
        ("city_definitions", "city_code", "geo_bucket_id"),
        ("door_types", "door_type", None),
        ("categories", "category", None),
        ("contexts", "context", None),
    ):
        keys = keys.join(seed(table, column).rename({column: name or column}), how="cross")
    return keys


def cells_per_unit(contributions: pl.DataFrame, max_opens: int, cells: int) -> pl.DataFrame:
    """Each privacy unit's doors in ``cells`` of its cells (those whose hash ranks first), clamped to M."""
    ranked = contributions.with_columns(pl.struct(["privacy_unit", *CELL_KEYS]).hash(seed=0).alias("_rank"))
    return (
        ranked.sort("_rank")
        .filter(pl.int_range(pl.len()).over("privacy_unit") < cells)
        .with_columns(pl.col("doors_opened").clip(0, max_opens))
        .drop("_rank", "privacy_unit")
    )


def finest_level_cells(policy: ReleasePolicy, g: GranularityPolicy) -> int:
    """The pipeline's bound C of the finest level: cells one unit adds to."""
    return policy.levels(g.granularity)[FINEST_LEVEL].max_cells_per_participant


def finest_level_epsilon(policy: ReleasePolicy, g: GranularityPolicy) -> float:
    return g.epsilon * policy.levels(g.granularity)[FINEST_LEVEL].epsilon_share


def _context(bounded: pl.DataFrame, policy: ReleasePolicy, g: GranularityPolicy) -> dp.Context:
    return dp.Context.compositor(
        data=bounded.lazy(),
        privacy_unit=dp.unit_of(contributions=finest_level_cells(policy, g)),  # made so by cells_per_unit
        privacy_loss=dp.loss_of(epsilon=finest_level_epsilon(policy, g)),
        split_by_weights=[policy.metric_shares[m] for m in METRIC_ORDER],
        margins=[dp.polars.Margin(by=CELL_KEYS, max_length=MAX_ROWS_PER_CELL)],
    )


def _query(context: dp.Context, keys: pl.LazyFrame, g: GranularityPolicy, metric: str):
    """The query of one count. The context hands out epsilon shares in the order queries are
    made, so make each right before releasing it, in METRIC_ORDER."""
    m = g.max_opens_per_participant
    aggregate = {
        "unique_participants": dp.len(signed=True),
        "doors_opened": pl.col("doors_opened").dp.sum((0, m)),
        "repeaters": (pl.col("doors_opened") >= 2).cast(pl.Int64).dp.sum((0, 1)),
    }[metric]
    return context.query().group_by(CELL_KEYS).agg(aggregate.alias(metric)).with_keys(keys)


def release_days(
    contributions: pl.DataFrame, keys: pl.LazyFrame, policy: ReleasePolicy, scales: dict[str, float] | None = None
) -> pl.DataFrame:
    """One row per public day cell of the finest level: noisy counts and the suppression decision.

    ``keys`` should be a scan (``pl.scan_parquet``), not an in-memory frame: OpenDP
    searches the noise scale by rebuilding the measurement dozens of times, and an
    in-memory key set is copied into the plan each time (at 10^5 events, 247,050 keys:
    175 s to resolve one query, against 2 s with the same keys scanned from Parquet).
    ``scales``, when given, receives the noise scale OpenDP chose for each count (this
    costs one more resolution of each query, so the benchmark does not ask for it).
    """
    g = policy.for_granularity("day")
    bounded = cells_per_unit(contributions, g.max_opens_per_participant, finest_level_cells(policy, g))
    context = _context(bounded, policy, g)
    released = None
    for metric in METRIC_ORDER:
        query = _query(context, keys, g, metric)
        if scales is not None:
            scales[metric] = float(query.summarize()["scale"][0])
        part = query.release().collect()
        released = part if released is None else released.join(part, on=CELL_KEYS, how="inner")
    noisy = released.with_columns(pl.col(m).fill_null(0) for m in METRIC_ORDER)
    return noisy.with_columns(
        pl.when(pl.col("unique_participants") < g.k_min)
        .then(pl.lit("k_min"))
        .when(
            (pl.col("doors_opened") <= 0)
            | (g.max_opens_per_participant > policy.dominance_max_share * pl.max_horizontal(pl.col("doors_opened"), 1))
        )
        .then(pl.lit("dominance"))
        .otherwise(None)
        .alias("suppressed_reason")
    )


def run(target: str, as_of: datetime) -> dict:
    variables = targets.project_vars()
    policy = parse_policy(variables["spots_release"], variables["reporting_delay_hours"])
    days = released_days(as_of, policy.reporting_delay_hours, date.fromisoformat(str(variables["release_start_date"])))
    warehouse = targets.connect(target)
    try:
        started = time.perf_counter()
        contributions = load_contributions(warehouse, days)
        keys = public_keys(warehouse, days)
        loaded = time.perf_counter()
    finally:
        warehouse.close()
    with tempfile.TemporaryDirectory() as scratch:
        keys_file = Path(scratch) / "day_keys.parquet"
        keys.write_parquet(keys_file)
        cells = release_days(contributions, pl.scan_parquet(keys_file), policy)
    finished = time.perf_counter()
    reasons = cells["suppressed_reason"].fill_null("released").value_counts()
    return {
        "baseline": "opendp_polars",
        "days": len(days),
        "contribution_rows": contributions.height,
        "cells": cells.height,
        "outcomes": dict(zip(reasons["suppressed_reason"].to_list(), reasons["count"].to_list(), strict=True)),
        "load_s": round(loaded - started, 3),
        "release_s": round(finished - loaded, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", choices=targets.TARGETS, required=True)
    parser.add_argument("--as-of", required=True, help="UTC timestamp, e.g. 2026-11-03T00:00:00Z")
    args = parser.parse_args(argv)
    as_of = datetime.fromisoformat(args.as_of.replace("Z", "+00:00"))
    print(json.dumps(run(args.target, as_of)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
