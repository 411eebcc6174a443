"""Utility of a built spots_insights_v1 release, measured against the truth it protects.

Reads, from one warehouse: the released rows (``outside_buyer.spots_insights_v1``), the
exact bounded aggregates the release was computed from (``intermediate.int_spots__cell_aggregates``,
each level's own rows) and the staged events (``staging.stg_spots__interaction_events``,
for raw door opens). An internal reviewer's tool: it reads true counts, so its output
is for the team and the privacy reviewer, never for buyers.

Per granularity and level: cells in the domain, released, suppressed by reason (`rolled_up`
when the level was not measured for that city-period and has no rows), the share of
true participants and doors opened in released cells, the median and 90th-percentile
relative error of released participants, and released cells whose true participants are
below k. Headline figures match the release's utility targets (docs/privacy_reviewer.md, "Utility").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from privacy_insights.targets import Warehouse

if TYPE_CHECKING:
    from privacy_insights.utility.peer import PeerComparison


@dataclass
class Utility:
    levels: pd.DataFrame  # one row per granularity and level
    headline: dict[str, float]
    cities: pd.DataFrame  # released vs suppressed cells by city (day, every level)
    errors: pd.DataFrame  # released day cells: level, true participants, estimate, noise scale
    ledger: pd.DataFrame  # the budget ledger
    meta: dict = field(default_factory=dict)
    peer: PeerComparison | None = None  # PipelineDP on the same staged events (utility.peer), when asked for

    def to_dict(self) -> dict:
        out = {"headline": self.headline, "levels": self.levels.to_dict("records"), "meta": self.meta}
        if self.peer is not None:
            out["peer"] = self.peer.to_dict()
        return out


def _truth_sql(warehouse: Warehouse) -> str:
    """Each level's exact bounded counts, from its own rows (bounds are per level)."""
    cells = warehouse.qualify("intermediate", "int_spots__cell_aggregates")
    released = warehouse.qualify("outside_buyer", "spots_insights_v1")
    return f"""
        select granularity, period_start, time_bucket_start_utc, geo_bucket_id, level as release_level,
            door_type as segment_door_type, category as segment_category, context as segment_context,
            participants as true_participants, doors_opened as true_doors
        from {cells}
        where (granularity, period_start) in (
            select distinct time_granularity, release_period_start from {released})"""


def measure(warehouse: Warehouse) -> Utility:
    con = warehouse.connection
    released = warehouse.qualify("outside_buyer", "spots_insights_v1")
    con.execute(f"create or replace temp table utility_truth as {_truth_sql(warehouse)}")
    con.execute(f"""
        create or replace temp table utility_cells as
        select t.*, r.privacy_k_min_enforced as k, r.unique_participants_est as estimate,
            r.uncertainty_unique_participants_noise_scale as noise_scale,
            case when r.time_granularity is null then 'rolled_up'
                 when r.privacy_suppressed then r.privacy_suppressed_reason else 'released' end as outcome
        from utility_truth as t
        left join {released} as r
            on r.time_granularity = t.granularity and r.time_bucket_start_utc = t.time_bucket_start_utc
            and r.geo_bucket_id = t.geo_bucket_id and r.release_level = t.release_level
            and r.segment_door_type = t.segment_door_type and r.segment_category = t.segment_category
            and r.segment_context = t.segment_context""")
    levels = con.sql("""
        select * from (
        select granularity, release_level,
            count(*) as cells,
            count(*) filter (where outcome = 'released') as released,
            count(*) filter (where outcome = 'k_min') as suppressed_k_min,
            count(*) filter (where outcome = 'dominance') as suppressed_dominance,
            count(*) filter (where outcome = 'complementary') as suppressed_complementary,
            count(*) filter (where outcome = 'budget_exhausted') as budget_exhausted,
            count(*) filter (where outcome = 'rolled_up') as rolled_up,
            coalesce(sum(true_participants) filter (where outcome = 'released') / nullif(sum(true_participants), 0), 0)
                as share_participants_released,
            coalesce(sum(true_doors) filter (where outcome = 'released') / nullif(sum(true_doors), 0), 0)
                as share_doors_released,
            median(abs(estimate - true_participants) / true_participants)
                filter (where outcome = 'released' and true_participants > 0) as median_relative_error,
            quantile_cont(abs(estimate - true_participants) / true_participants, 0.9)
                filter (where outcome = 'released' and true_participants > 0) as p90_relative_error,
            count(*) filter (where outcome = 'released' and true_participants < k) as released_below_k
        from utility_cells
        group by all
        ) order by granularity,
            list_position(['city', 'city_door_type', 'city_category', 'city_segment'], release_level)
    """).df()
    headline = _headline(warehouse, levels)
    cities = con.sql("""
        select geo_bucket_id as city, outcome, count(*) as cells from utility_cells
        where granularity = 'day' group by all order by all""").df()
    errors = con.sql("""
        select release_level, true_participants, estimate, noise_scale from utility_cells
        where granularity = 'day' and outcome = 'released' and true_participants > 0""").df()
    ledger = con.sql(f"select * from {warehouse.qualify('outside_buyer', 'spots_privacy_budget_ledger')}").df()
    return Utility(levels, headline, cities, errors, ledger)


def _headline(warehouse: Warehouse, levels: pd.DataFrame) -> dict[str, float]:
    con = warehouse.connection
    staged = warehouse.qualify("staging", "stg_spots__interaction_events")
    released = warehouse.qualify("outside_buyer", "spots_insights_v1")
    window = con.sql(f"""
        with days as (
            select distinct release_period_start as day from {released} where time_granularity = 'day'
        ),
        opens as (
            select city_code, day_start, week_start, count(*) as opens from {staged}
            where counts_as_door_opened and city_code is not null and day_start in (select day from days)
            group by all
        ),
        day_cover as (
            select distinct geo_bucket_id, time_bucket_start_utc from {released}
            where time_granularity = 'day' and not privacy_suppressed
        ),
        week_cover as (
            select distinct geo_bucket_id, time_bucket_start_utc from {released}
            where time_granularity = 'week' and not privacy_suppressed
        )
        select
            sum(opens) as opens,
            sum(opens) filter (where d.geo_bucket_id is not null) as opens_in_released_day,
            sum(opens) filter (where d.geo_bucket_id is not null or w.geo_bucket_id is not null)
                as opens_in_released_day_or_week
        from opens
        left join day_cover as d on d.geo_bucket_id = opens.city_code and d.time_bucket_start_utc = opens.day_start
        left join week_cover as w on w.geo_bucket_id = opens.city_code and w.time_bucket_start_utc = opens.week_start
    """).fetchone()
    combos = con.sql(f"""
        with days as (
            select distinct release_period_start as day from {released} where time_granularity = 'day'
        ),
        numbered as (
            select distinct geo_bucket_id, time_bucket_start_utc, segment_category from {released}
            where time_granularity = 'day' and not privacy_suppressed
                and release_level in ('city_category', 'city_segment')
        )
        select (select count(*) from numbered),
            (select count(*) from days) * (select count(*) from {warehouse.qualify("reference", "city_definitions")})
            * (select count(*) from {warehouse.qualify("reference", "categories")})
    """).fetchone()
    city_day = levels[(levels["granularity"] == "day") & (levels["release_level"] == "city")]
    released_total = int(levels["released"].sum())
    opens, in_day, in_day_or_week = (float(v or 0) for v in window)
    return {
        "share_opens_in_released_day_cell": in_day / opens if opens else 0.0,
        "share_opens_in_released_day_or_week_cell": in_day_or_week / opens if opens else 0.0,
        "share_city_category_days_with_a_number": combos[0] / combos[1] if combos[1] else 0.0,
        "median_relative_error_city_day_participants": float(city_day["median_relative_error"].iloc[0])
        if len(city_day) and pd.notna(city_day["median_relative_error"].iloc[0])
        else float("nan"),
        "share_released_cells_below_k": float(levels["released_below_k"].sum()) / released_total
        if released_total
        else 0.0,
        "released_cells": released_total,
    }


__all__ = ["Utility", "measure", "asdict"]
