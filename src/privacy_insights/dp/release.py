"""The DP release of spots_insights_v1 periods that the release plan charged.

For each charged period (``plan.Decision``), from the exact per-cell aggregates of the
bounded contributions (``int_spots__cell_aggregates``: one row per cell of each measured
level, each level bounded on its own: a participant is in at most C_L cells of level L per
period, ``levels.<L>.max_cells_per_participant``):

1. Levels. Per city and time bucket: the city level (all segments `all`) is measured
   first. Day and week periods then measure city x door type, city x category and city x
   segment (door type x category x context) for cities whose noisy city participants
   reach each level's ``min_city_participants``; the budget share of a level a city does
   not measure buys it a second city measurement instead, so every city-period costs the
   same. Hour periods measure the city level only. Every measurement is OpenDP noise
   (``mechanisms``).
2. Release decisions, on each cell's own noisy values only: released when noisy
   participants reach the level's honest threshold (``thresholds``: k plus a margin so a
   cell with k - 1 true participants is released at most ``false_release_probability``
   of the time) and M / noisy doors opened <= dominance_max_share; otherwise suppressed
   (`k_min`, `dominance`). A level not measured for a city-period publishes no rows: its
   numbers are rolled up into the parent. A period the plan denied publishes its city
   rows, suppressed as `budget_exhausted`.
3. Post-processing: the city total is the inverse-variance mean of its measurements; every
   cell is rounded to the nearest non-negative integer. Levels are not forced to add up:
   each counts the distinct participants of its own cells (a person in two categories is
   one city participant and two category participants when C_category >= 2).
   repeat_rate_est and trend_score_est from released values, clamped to [0, 1]. A released
   cell whose published participants fall below k is suppressed.
   A ratio is published only when its 95 % margin is at most the public bound
   ``ratio_moe95_bound``, else null with a reason (``ratios``: noisy values and public
   noise scales only, so no privacy cost).
   Complementary suppression (``suppression``): no parent and its children hold exactly one
   suppressed cell, which their sum would give away.
4. Error bars: each released row carries the noise scale and 95 % margin of its own
   measurement of each count, the lower end of each count's 95 % interval clipped at 0,
   and delta-method 95 % margins of its published ratios with the bound they met.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from privacy_insights.dp import consistency, ratios
from privacy_insights.dp.mechanisms import LevelNoise, PeriodMechanism, period_mechanism
from privacy_insights.dp.params import GRANULARITIES, LEVELS, METRICS, ReleasePolicy
from privacy_insights.dp.suppression import complementary_suppression
from privacy_insights.dp.thresholds import margin_of_error, release_threshold, variance

SCHEMA_VERSION = "1.2"
DATASET = "spots_insights_v1"
ALL = "all"
POST_PROCESSING = (
    "each level bounded on its own (at most privacy_dp_cells_per_participant cells of the level per participant), "
    "so levels need not add up; city totals are inverse-variance means of their measurements, every count rounded "
    "to a non-negative integer; repeat_rate_est and trend_score_est are ratios of "
    "released values clamped to [0, 1], null when their 95 % margin exceeds ratio_moe95_bound; count lower bounds "
    "clipped at 0; complementary suppression: no sum holds exactly one suppressed cell"
)  # at most 500 characters (the record schema's maxLength)
HIDDEN_WHEN_SUPPRESSED = [
    "unique_participants_est",
    "doors_opened_est",
    "repeat_rate_est",
    "repeat_rate_withheld_reason",
    "uncertainty_unique_participants_noise_scale",
    "uncertainty_unique_participants_moe95",
    "uncertainty_unique_participants_lower95",
    "uncertainty_doors_opened_noise_scale",
    "uncertainty_doors_opened_moe95",
    "uncertainty_doors_opened_lower95",
    "uncertainty_repeat_rate_moe95",
    "uncertainty_ratio_moe95_bound",
]
BUCKET_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
CELL_COLUMNS = [
    "granularity",
    "period_start",
    "level",
    "time_bucket_start_utc",
    "geo_bucket_type",
    "geo_bucket_id",
    "door_type",
    "category",
    "context",
    "participants",
    "doors_opened",
    "repeaters",
]
METRIC_COLUMNS = {"unique_participants": "participants", "doors_opened": "doors_opened", "repeaters": "repeaters"}
# The record shape of contract 000 §4.2, flat (nested again by the exporter), with types.
RELEASE_DTYPES = {
    "schema_version": "string",
    "dataset": "string",
    "release_period_start": "datetime64[us]",
    "release_version": "Int64",
    "release_level": "string",
    "time_bucket_start_utc": "datetime64[us]",
    "time_granularity": "string",
    "reporting_delay_hours": "Int64",
    "geo_bucket_type": "string",
    "geo_bucket_id": "string",
    "segment_door_type": "string",
    "segment_category": "string",
    "segment_context": "string",
    "unique_participants_est": "Int64",
    "doors_opened_est": "Int64",
    "repeat_rate_est": "float64",
    "trend_score_est": "float64",
    "repeat_rate_withheld_reason": "string",
    "trend_score_withheld_reason": "string",
    "uncertainty_unique_participants_noise_scale": "float64",
    "uncertainty_unique_participants_moe95": "float64",
    "uncertainty_unique_participants_lower95": "float64",
    "uncertainty_doors_opened_noise_scale": "float64",
    "uncertainty_doors_opened_moe95": "float64",
    "uncertainty_doors_opened_lower95": "float64",
    "uncertainty_repeat_rate_moe95": "float64",
    "uncertainty_trend_score_moe95": "float64",
    "uncertainty_ratio_moe95_bound": "float64",
    "privacy_k_min_enforced": "Int64",
    "privacy_release_threshold": "Int64",
    "privacy_false_release_probability": "float64",
    "privacy_suppressed": "bool",
    "privacy_suppressed_reason": "string",
    "privacy_dp_enabled": "bool",
    "privacy_dp_mechanism": "string",
    "privacy_dp_epsilon": "float64",
    "privacy_dp_level_epsilon_share": "float64",
    "privacy_dp_delta": "float64",
    "privacy_dp_rho": "float64",
    "privacy_dp_budget_window_days": "Int64",
    "privacy_dp_cells_per_participant": "Int64",
    "privacy_dp_max_opens_per_participant": "Int64",
    "privacy_dp_post_processing": "string",
    "released_at": "datetime64[us]",
}
RELEASE_COLUMNS = list(RELEASE_DTYPES)
# What the trend of a new bucket reads from the released bucket before it (dbt_entry reads
# only these from the release table).
TREND_HISTORY_COLUMNS = [
    "release_level",
    "geo_bucket_type",
    "geo_bucket_id",
    "segment_door_type",
    "segment_category",
    "segment_context",
    "time_bucket_start_utc",
    "doors_opened_est",
    "uncertainty_doors_opened_noise_scale",
    "privacy_dp_mechanism",
]


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The release columns in order, with their declared types (also for an empty frame)."""
    return frame[RELEASE_COLUMNS].astype(RELEASE_DTYPES)


def empty_release() -> pd.DataFrame:
    return typed(pd.DataFrame({c: [] for c in RELEASE_COLUMNS}))


@dataclass(frozen=True)
class PeriodRelease:
    """What the plan decided for one period: charged (noise is drawn) or denied."""

    granularity: str
    period_start: pd.Timestamp
    version: int
    charged: bool


LEVEL_DIMENSIONS = {  # the segment columns a level's cells name (the others are `all`)
    "city": (),
    "city_door_type": ("door_type",),
    "city_category": ("category",),
    "city_segment": ("door_type", "category", "context"),
}


@dataclass
class _Grid:
    """Cells of one granularity's periods as dense arrays: groups (period, bucket, city) x each level's cells."""

    groups: pd.DataFrame  # period_start, time_bucket_start_utc, geo_bucket_type, geo_bucket_id, context
    doors: list[str]
    categories: list[str]
    contexts: list[str]
    values: dict[str, dict[str, np.ndarray]]  # level -> metric -> (G, cells of the level) true counts


def _grid(cells: pd.DataFrame, granularity: str) -> _Grid:
    """Each level's cells from its own rows (``level``: each level is bounded on its own, so no
    level is a sum of another), in the order of _level_frame: door type, category, context."""
    key = ["period_start", "time_bucket_start_utc", "geo_bucket_type", "geo_bucket_id"]
    city = cells[cells["level"] == "city"]
    if granularity == "hour":
        ordered = city.sort_values(key, ignore_index=True)
        if ordered.duplicated(key).any() or len(ordered) != len(cells):
            raise ValueError(
                "cells: hour cells must be one per city and hour, level city (door type and category `all`)"
            )
        groups = ordered[key + ["context"]]
        values = {"city": {m: ordered[c].to_numpy(dtype=np.int64).reshape(-1, 1) for m, c in METRIC_COLUMNS.items()}}
        return _Grid(groups, [ALL], [ALL], [""], values)
    finest = cells[cells["level"] == "city_segment"]
    doors, categories, contexts = (sorted(finest[c].unique()) for c in ("door_type", "category", "context"))
    groups = city.sort_values(key, ignore_index=True)[key].assign(context=ALL)
    if groups.duplicated(key).any():
        raise ValueError("cells: one city-level cell per city and bucket")
    domains = {"door_type": doors, "category": categories, "context": contexts}
    values = {}
    for level, dims in LEVEL_DIMENSIONS.items():
        rows = cells[cells["level"] == level]
        width = int(np.prod([len(domains[d]) for d in dims])) if dims else 1
        ordered = rows.assign(**{f"_{d}": pd.Categorical(rows[d], domains[d]) for d in dims}).sort_values(
            key + [f"_{d}" for d in dims], ignore_index=True
        )
        if len(ordered) != len(groups) * width or not (
            ordered[key].iloc[::width].reset_index(drop=True).equals(groups[key])
        ):
            raise ValueError(
                f"cells: the cell domain of level {level} must be complete (every {' x '.join(dims) or 'city'} "
                "cell per city and bucket); int_spots__cell_domain builds it from the seeds"
            )
        values[level] = {m: ordered[c].to_numpy(dtype=np.int64).reshape(-1, width) for m, c in METRIC_COLUMNS.items()}
    return _Grid(groups, doors, categories, contexts, values)


@dataclass
class _Measured:
    """Noisy values of one level for the groups that measured it (others are nan)."""

    noise: LevelNoise
    mask: np.ndarray  # (G,) which groups measured this level
    values: dict[str, np.ndarray]  # metric -> (G, n) noisy (nan where not measured)


def _measure(grid: _Grid, level: str, noise: LevelNoise, mask: np.ndarray) -> _Measured:
    values = {}
    for metric in METRICS:
        exact = grid.values[level][metric]
        noisy = np.full(exact.shape, np.nan)
        if mask.any():
            drawn = noise.metrics[metric].sample(exact[mask].ravel())
            noisy[mask] = drawn.reshape(exact[mask].shape)
        values[metric] = noisy
    return _Measured(noise, mask, values)


def _consistent(
    grid: _Grid, measured: dict[str, _Measured], extra: tuple[np.ndarray, np.ndarray] | None, family: str, metric: str
) -> dict[str, np.ndarray]:
    """Non-negative integers per measured level; nan where unmeasured.

    Each level is bounded on its own (a participant is in up to C_L cells of level L), so its
    true counts are not sums of another level's: a person in two categories is one city
    participant and two category participants. No level is forced to add up to another;
    the city total is the inverse-variance weighted mean of its measurements (its own and,
    where a city did not measure a finer level, the second city measurement ``extra``:
    (values, variances), nan where a city has none), and every cell is rounded to the
    nearest non-negative integer. Post-processing of noisy values only.
    """

    def var(m: _Measured) -> float:
        return variance(family, m.noise.metrics[metric].scale)

    estimates = [(measured["city"].values[metric][:, 0], var(measured["city"]))]
    if extra is not None:
        estimates.append(extra)
    total = np.maximum(np.nan_to_num(consistency.inverse_variance_total(estimates)), 0.0)
    out = {"city": np.floor(total + 0.5)[:, None]}
    for level in LEVELS[1:]:
        if level in measured:
            noisy = measured[level].values[metric]
            with np.errstate(invalid="ignore"):
                out[level] = np.where(np.isnan(noisy), np.nan, np.floor(np.maximum(noisy, 0.0) + 0.5))
    return out


def _level_frame(grid: _Grid, level: str, granularity: str) -> pd.DataFrame:
    """One row per cell of ``level`` for every group, in the order of _grid's columns."""
    groups = grid.groups
    if level == "city":
        frame = groups.assign(segment_door_type=ALL, segment_category=ALL, segment_context=groups["context"])
        return frame.drop(columns="context")
    if level == "city_door_type":
        segments = pd.DataFrame({"segment_door_type": grid.doors, "segment_category": ALL, "segment_context": ALL})
    elif level == "city_category":
        segments = pd.DataFrame({"segment_door_type": ALL, "segment_category": grid.categories, "segment_context": ALL})
    else:
        index = pd.MultiIndex.from_product([grid.doors, grid.categories, grid.contexts])
        segments = pd.DataFrame(list(index), columns=["segment_door_type", "segment_category", "segment_context"])
    return groups.drop(columns="context").merge(segments, how="cross")


def _doors_variance(history: pd.DataFrame) -> np.ndarray:
    """Variance of each row's own noisy doors opened, from its published mechanism and noise scale."""
    family = history["privacy_dp_mechanism"].astype("string").str.removeprefix("discrete_")
    scale = pd.to_numeric(history["uncertainty_doors_opened_noise_scale"], errors="coerce")
    out = np.full(len(history), np.nan)
    for (f, s), rows in pd.DataFrame({"f": family, "s": scale}).groupby(["f", "s"], dropna=True).groups.items():
        out[history.index.get_indexer(rows)] = variance(str(f), float(s))
    return out


def _trend(new: pd.DataFrame, previous: pd.DataFrame, granularity: str) -> tuple[np.ndarray, np.ndarray]:
    """(trend score, its delta-method 95 % margin) per row of ``new``; nan where the bucket before
    at the same cell was not released. Reads released values and published noise scales only."""
    key = ["release_level", "geo_bucket_type", "geo_bucket_id", "segment_door_type", "segment_category"]
    if granularity != "hour":  # hour cells' context follows the hour; compare hour with hour
        key = key + ["segment_context"]
    cols = key + ["time_bucket_start_utc", "doors_opened_est"]
    history = pd.concat([previous[TREND_HISTORY_COLUMNS], new[TREND_HISTORY_COLUMNS]], ignore_index=True)
    history = history.dropna(subset=["doors_opened_est"]).reset_index(drop=True)
    history["previous_variance"] = _doors_variance(history)
    history = history[cols + ["previous_variance"]].rename(columns={"doors_opened_est": "previous_doors"})
    history["time_bucket_start_utc"] = pd.to_datetime(history["time_bucket_start_utc"]) + BUCKET_STEP[granularity]
    history = history.drop_duplicates(key + ["time_bucket_start_utc"])
    current_variance = _doors_variance(new[TREND_HISTORY_COLUMNS].reset_index(drop=True))
    joined = new[cols].merge(history, on=key + ["time_bucket_start_utc"], how="left")
    current = joined["doors_opened_est"].astype("Float64")
    prior = joined["previous_doors"].astype("Float64")
    total = current + prior
    trend = (current / total.where(total > 0)).clip(0, 1).to_numpy(dtype="float64", na_value=np.nan)
    margin = ratios.trend_margin(
        current.to_numpy(dtype="float64", na_value=np.nan),
        prior.to_numpy(dtype="float64", na_value=np.nan),
        current_variance,
        joined["previous_variance"].to_numpy(dtype="float64", na_value=np.nan),
    )
    return trend, np.where(np.isnan(trend), np.nan, margin)


def _publish_trend(out: pd.DataFrame, previous: pd.DataFrame, granularity: str, bound: float) -> pd.DataFrame:
    """trend_score_est and its margin where the margin is within ``bound``, else null with a reason."""
    trend, margin = _trend(out, previous, granularity)
    released = ~out["privacy_suppressed"].to_numpy(dtype=bool)
    published = ratios.within_bound(trend, margin, bound)
    reason = ratios.withheld_reason(released, trend, margin, bound)
    reason[released & np.isnan(trend)] = ratios.NO_EARLIER_BUCKET
    out["trend_score_est"] = np.where(published, trend, np.nan)
    out["uncertainty_trend_score_moe95"] = np.where(published, margin, np.nan)
    out["trend_score_withheld_reason"] = reason
    return out


def _metadata(
    frame: pd.DataFrame, policy: ReleasePolicy, granularity: str, mech: PeriodMechanism, released_at: datetime
) -> pd.DataFrame:
    """The columns every row of a granularity's release shares."""
    g = policy.for_granularity(granularity)
    frame["schema_version"] = SCHEMA_VERSION
    frame["dataset"] = DATASET
    frame["time_granularity"] = granularity
    frame["reporting_delay_hours"] = policy.reporting_delay_hours
    frame["privacy_k_min_enforced"] = g.k_min
    frame["privacy_dp_enabled"] = True
    frame["privacy_dp_mechanism"] = mech.mechanism
    frame["privacy_dp_budget_window_days"] = policy.budget_window_days
    frame["privacy_dp_max_opens_per_participant"] = g.max_opens_per_participant
    frame["privacy_dp_post_processing"] = POST_PROCESSING
    frame["released_at"] = pd.Timestamp(released_at).tz_convert("UTC").tz_localize(None)
    return frame


def release_decision(
    noisy_participants: np.ndarray, noisy_doors: np.ndarray, threshold: int, max_opens: int, dominance_share: float
) -> np.ndarray:
    """Per cell, from its own noisy measurement only: None (release), 'k_min' or 'dominance'.

    k_min: noisy participants below the honest threshold. Dominance: the top contributor
    has at most M doors opened and a cell's doors opened are at least its participants
    (each opened one or more), so its share is at most M / max(doors, participants).
    """
    with np.errstate(invalid="ignore"):
        below = ~(noisy_participants >= threshold)
        dominated = ~below & ~(np.fmax(noisy_doors, noisy_participants) * dominance_share >= max_opens)
    out = np.full(len(noisy_participants), None, dtype=object)
    out[below] = "k_min"
    out[dominated] = "dominance"
    return out


def release_periods(
    cells: pd.DataFrame,
    granularity: str,
    policy: ReleasePolicy,
    periods: list[PeriodRelease],
    previous_rows: pd.DataFrame,
    released_at: datetime,
    report: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Release rows for ``periods`` of ``granularity`` (every level, every cell of the domain).

    ``cells``: int_spots__cell_aggregates rows of those periods; ``previous_rows``: released rows
    of the bucket before the first new one (for trend_score_est).
    """
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity: must be one of {', '.join(GRANULARITIES)}, got {granularity!r}")
    missing = set(CELL_COLUMNS) - set(cells.columns)
    if missing:
        raise ValueError(f"cells: missing columns {sorted(missing)}")
    if not periods:
        return empty_release()
    decision = {pd.Timestamp(p.period_start): p for p in periods}
    cells = cells[cells["granularity"] == granularity].copy()
    cells["period_start"] = pd.to_datetime(cells["period_start"])
    cells = cells[cells["period_start"].isin(list(decision))]
    absent = set(decision) - {pd.Timestamp(p) for p in cells["period_start"].unique()}
    if absent:
        raise ValueError(f"cells: no cells for {granularity} period(s) {sorted(str(p.date()) for p in absent)}")
    grid = _grid(cells, granularity)
    mech = period_mechanism(policy, granularity)
    levels = policy.levels(granularity)
    periods_of_groups = grid.groups["period_start"].to_numpy()
    charged = np.array([decision[pd.Timestamp(p)].charged for p in periods_of_groups], dtype=bool)
    versions = np.array([decision[pd.Timestamp(p)].version for p in periods_of_groups], dtype=np.int64)

    measured, extra = _measure_levels(grid, mech, levels, charged)
    published = {metric: _consistent(grid, measured, extra[metric], mech.family, metric) for metric in METRICS}
    frames = [
        _level_rows(grid, level, granularity, policy, mech, measured[level], published, charged, versions)
        for level in levels
    ]
    out = _hide_suppressed(complementary_suppression(pd.concat(frames, ignore_index=True)))
    out = _metadata(out, policy, granularity, mech, released_at)
    out = _publish_trend(out, previous_rows, granularity, policy.ratio_moe95_bound)
    counts = pd.Series(out["privacy_suppressed_reason"]).fillna("released").value_counts().to_dict()
    report(
        f"[{DATASET} {granularity}] {len(periods)} period(s), {len(out)} cells over {len(levels)} level(s): "
        f"{counts}; {mech.mechanism} epsilon {mech.epsilon:g} per period"
    )
    return typed(
        out.sort_values(
            [
                "release_period_start",
                "time_bucket_start_utc",
                "geo_bucket_id",
                "release_level",
                "segment_door_type",
                "segment_category",
                "segment_context",
            ],
            ignore_index=True,
        )
    )


def _hide_suppressed(frame: pd.DataFrame) -> pd.DataFrame:
    """Metrics and error bars of every suppressed row are null (complementary ones included)."""
    hidden = frame["privacy_suppressed"].to_numpy(dtype=bool)
    for column in HIDDEN_WHEN_SUPPRESSED:
        frame[column] = frame[column].mask(hidden)
    return frame


def _measure_levels(
    grid: _Grid, mech: PeriodMechanism, levels: dict, charged: np.ndarray
) -> tuple[dict[str, _Measured], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Noisy measurements of every level for the charged groups: the city first, then each finer
    level where the noisy city participants reach its minimum. The share of the levels a city
    did not measure buys it a second city measurement: returned as (values, variances) per
    metric, nan where a city has none."""
    G = len(grid.groups)
    measured: dict[str, _Measured] = {"city": _measure(grid, "city", mech.level("city"), charged)}
    city_participants = np.nan_to_num(measured["city"].values["unique_participants"][:, 0], nan=-np.inf)
    unspent = np.zeros(G)
    for level, lp in levels.items():
        if level == "city":
            continue
        mask = charged & (city_participants >= lp.min_city_participants)
        measured[level] = _measure(grid, level, mech.level(level), mask)
        unspent += np.where(charged & ~mask, lp.epsilon_share, 0.0)
    extra = {m: (np.full(G, np.nan), np.full(G, np.inf)) for m in METRICS}
    for share in np.unique(np.round(unspent[unspent > 1e-12], 12)):
        rows = np.isclose(unspent, share)
        second = _measure(grid, "city", mech.extra_city(float(share)), rows)
        for metric in METRICS:
            extra[metric][0][rows] = second.values[metric][rows, 0]
            extra[metric][1][rows] = variance(mech.family, second.noise.metrics[metric].scale)
    return measured, extra


def _level_rows(
    grid: _Grid,
    level: str,
    granularity: str,
    policy: ReleasePolicy,
    mech: PeriodMechanism,
    m: _Measured,
    published: dict[str, dict[str, np.ndarray]],
    charged: np.ndarray,
    versions: np.ndarray,
) -> pd.DataFrame:
    """One level's rows: decisions on the cells' own noisy values, consistent values, error bars."""
    g_policy = policy.for_granularity(granularity)
    frame = _level_frame(grid, level, granularity)
    in_group = np.repeat(np.arange(len(grid.groups)), len(frame) // len(grid.groups))
    # A level a city-period did not measure publishes no rows (its numbers are in the
    # parent); the city level is always published, suppressed when the period was denied.
    keep = np.ones(len(frame), dtype=bool) if level == "city" else m.mask[in_group]
    frame, in_group = frame[keep].reset_index(drop=True), in_group[keep]
    noisy = {metric: m.values[metric].reshape(-1)[keep] for metric in METRICS}
    values = {metric: published[metric][level].reshape(-1)[keep] for metric in METRICS}
    scale_p = m.noise.metrics["unique_participants"].scale
    scale_d = m.noise.metrics["doors_opened"].scale
    threshold, false_release = release_threshold(mech.family, scale_p, g_policy.k_min, policy.false_release_probability)

    reason = release_decision(
        noisy["unique_participants"],
        noisy["doors_opened"],
        threshold,
        g_policy.max_opens_per_participant,
        policy.dominance_max_share,
    )
    reason[~charged[in_group]] = "budget_exhausted"
    # post-processing moved a released cell below k: suppress it too (reads noisy values only)
    reason[pd.isna(pd.Series(reason)).to_numpy() & (values["unique_participants"] < g_policy.k_min)] = "k_min"
    shown = pd.isna(pd.Series(reason)).to_numpy()

    def show(array: np.ndarray) -> pd.Series:
        return pd.Series(array, dtype="Float64").where(shown).round().astype("Int64")

    frame = frame.rename(columns={"period_start": "release_period_start"})
    frame["release_level"] = level
    frame["release_version"] = versions[in_group]
    frame["privacy_dp_epsilon"] = np.where(charged[in_group], mech.epsilon, 0.0)
    frame["privacy_dp_delta"] = np.where(charged[in_group], mech.delta, 0.0)
    frame["privacy_dp_rho"] = np.where(charged[in_group] & (mech.rho is not None), mech.rho or np.nan, np.nan)
    frame["unique_participants_est"] = show(values["unique_participants"])
    frame["doors_opened_est"] = show(values["doors_opened"])
    participants = frame["unique_participants_est"].to_numpy(dtype="float64", na_value=np.nan)
    doors = frame["doors_opened_est"].to_numpy(dtype="float64", na_value=np.nan)
    repeaters = show(values["repeaters"]).to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.clip(np.where(participants > 0, repeaters / participants, np.nan), 0, 1)
    margin = ratios.repeat_rate_margin(
        rate,
        participants,
        variance(mech.family, m.noise.metrics["repeaters"].scale),
        variance(mech.family, scale_p),
    )
    bound = policy.ratio_moe95_bound
    published = ratios.within_bound(rate, margin, bound)
    frame["repeat_rate_est"] = np.where(published, rate, np.nan)
    frame["uncertainty_repeat_rate_moe95"] = np.where(published, margin, np.nan)
    frame["repeat_rate_withheld_reason"] = ratios.withheld_reason(shown, rate, margin, bound)
    frame["uncertainty_ratio_moe95_bound"] = np.where(shown, bound, np.nan)
    moe_p, moe_d = margin_of_error(mech.family, scale_p), margin_of_error(mech.family, scale_d)
    frame["uncertainty_unique_participants_noise_scale"] = np.where(shown, scale_p, np.nan)
    frame["uncertainty_unique_participants_moe95"] = np.where(shown, moe_p, np.nan)
    frame["uncertainty_unique_participants_lower95"] = np.where(shown, ratios.lower_bound(participants, moe_p), np.nan)
    frame["uncertainty_doors_opened_noise_scale"] = np.where(shown, scale_d, np.nan)
    frame["uncertainty_doors_opened_moe95"] = np.where(shown, moe_d, np.nan)
    frame["uncertainty_doors_opened_lower95"] = np.where(shown, ratios.lower_bound(doors, moe_d), np.nan)
    frame["privacy_release_threshold"] = threshold
    frame["privacy_false_release_probability"] = false_release
    frame["privacy_suppressed"] = ~shown
    frame["privacy_suppressed_reason"] = reason
    frame["privacy_dp_level_epsilon_share"] = policy.levels(granularity)[level].epsilon_share
    frame["privacy_dp_cells_per_participant"] = m.noise.cells_per_participant
    return frame


__all__ = [
    "ALL",
    "CELL_COLUMNS",
    "DATASET",
    "PeriodRelease",
    "POST_PROCESSING",
    "RELEASE_COLUMNS",
    "SCHEMA_VERSION",
    "TREND_HISTORY_COLUMNS",
    "empty_release",
    "release_periods",
    "typed",
]
