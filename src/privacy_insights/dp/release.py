"""Release one granularity of spots_insights_v1: noise, suppression, metadata, budget.

Input: exact per-cell aggregates over the *public* cell domain (empty cells included),
for eligible periods. Output: one row per cell in the contract's record shape, flat.

Order of work for each period not released before, oldest first:
1. Budget: charge the period's epsilon against the rolling window (all granularities).
   A period that does not fit is published as suppressed with reason
   ``budget_exhausted`` and no noise is drawn for it.
2. Noise: every cell's three counts get fresh noise from OpenDP.
3. Suppression, decided on noisy values only:
   ``k_min``      noisy participants < k
   ``dominance``  M / noisy doors_opened > dominance_max_share (a participant's share of
                  the cell is at most M / doors_opened because of the clamp)
4. Post-processing of released noisy values only: counts floored at 0;
   repeat_rate_est = repeaters / participants, trend_score_est = doors / (doors + the
   same cell's released doors one bucket earlier), both clamped to [0, 1].
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

import numpy as np
import pandas as pd

from privacy_insights.dp.budget import BudgetLedger, Charge
from privacy_insights.dp.mechanisms import PeriodMechanism, period_mechanism
from privacy_insights.dp.params import GRANULARITIES, ReleasePolicy

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1.0"
DATASET = "spots_insights_v1"
POST_PROCESSING = (
    "counts are integers from discrete noise, floored at 0; repeat_rate_est and "
    "trend_score_est are ratios of released noisy values clamped to [0, 1]"
)
BUCKET_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
CELL_COLUMNS = ["granularity", "period_start", "time_bucket_start_utc", "geo_bucket_type", "geo_bucket_id",
                "door_type", "category", "context", "participants", "doors_opened", "repeaters"]
# The record shape of contract 000 §4.2, flat (nested again by the exporter), with types.
RELEASE_DTYPES = {
    "schema_version": "string",
    "dataset": "string",
    "release_period_start": "datetime64[us]",
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
    "privacy_k_min_enforced": "Int64",
    "privacy_suppressed": "bool",
    "privacy_suppressed_reason": "string",
    "privacy_dp_enabled": "bool",
    "privacy_dp_mechanism": "string",
    "privacy_dp_epsilon": "float64",
    "privacy_dp_delta": "float64",
    "privacy_dp_rho": "float64",
    "privacy_dp_budget_window_days": "Int64",
    "privacy_dp_max_cells_per_participant": "Int64",
    "privacy_dp_max_opens_per_cell": "Int64",
    "privacy_dp_post_processing": "string",
    "released_at": "datetime64[us]",
}
RELEASE_COLUMNS = list(RELEASE_DTYPES)


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The release columns in order, with their declared types (also for an empty frame)."""
    return frame[RELEASE_COLUMNS].astype(RELEASE_DTYPES)


def empty_release() -> pd.DataFrame:
    return typed(pd.DataFrame({c: [] for c in RELEASE_COLUMNS}))


HISTORY_COLUMNS = ["time_granularity", "release_period_start", "privacy_dp_epsilon"]


def charges_from_history(history: pd.DataFrame) -> list[Charge]:
    """Budget charges of earlier releases: one row per (granularity, period) with its epsilon."""
    return [
        Charge(row.time_granularity, pd.Timestamp(row.release_period_start).date(),
               7 if row.time_granularity == "week" else 1, float(row.privacy_dp_epsilon))
        for row in history.itertuples()
        if float(row.privacy_dp_epsilon) > 0
    ]


def history_of(releases: pd.DataFrame) -> pd.DataFrame:
    """Reduce release rows to their ledger view (one row per granularity and period)."""
    return releases.groupby(["time_granularity", "release_period_start"], as_index=False)["privacy_dp_epsilon"].max()


def _trend_key(granularity: str) -> list[str]:
    # Hour cells have one context per city and hour, so the hour-to-hour trend ignores it.
    key = ["geo_bucket_type", "geo_bucket_id", "segment_door_type", "segment_category"]
    return key if granularity == "hour" else key + ["segment_context"]


def _add_trend(new: pd.DataFrame, previous: pd.DataFrame, granularity: str) -> pd.Series:
    key = _trend_key(granularity)
    history = pd.concat([previous[key + ["time_bucket_start_utc", "doors_opened_est"]],
                         new[key + ["time_bucket_start_utc", "doors_opened_est"]]], ignore_index=True)
    history = history.rename(columns={"doors_opened_est": "previous_doors"})
    history["time_bucket_start_utc"] = pd.to_datetime(history["time_bucket_start_utc"]) + BUCKET_STEP[granularity]
    history = history.dropna(subset=["previous_doors"]).drop_duplicates(key + ["time_bucket_start_utc"])
    joined = new[key + ["time_bucket_start_utc", "doors_opened_est"]].merge(
        history, on=key + ["time_bucket_start_utc"], how="left")
    current = joined["doors_opened_est"].astype("Float64")
    prior = joined["previous_doors"].astype("Float64")
    total = current + prior
    trend = (current / total.where(total > 0)).clip(0, 1)
    return pd.Series(trend.to_numpy(dtype="float64", na_value=np.nan), index=new.index)


def release_granularity(
    cells: pd.DataFrame,
    granularity: str,
    policy: ReleasePolicy,
    history: pd.DataFrame,
    previous_rows: pd.DataFrame,
    released_at: datetime,
    report: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Rows for every eligible period of ``granularity`` not released before.

    ``history``: one row per earlier release of any granularity (``HISTORY_COLUMNS``);
    ``previous_rows``: this granularity's rows of its latest released period (for the trend).
    """
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity: must be one of {', '.join(GRANULARITIES)}, got {granularity!r}")
    missing = set(CELL_COLUMNS) - set(cells.columns)
    if missing:
        raise ValueError(f"cells: missing columns {sorted(missing)}")
    g = policy.for_granularity(granularity)
    own = history[history["time_granularity"] == granularity]
    done = {pd.Timestamp(p) for p in own["release_period_start"].dropna().unique()}

    cells = cells[cells["granularity"] == granularity].copy()
    cells["period_start"] = pd.to_datetime(cells["period_start"])
    periods = sorted(p for p in cells["period_start"].unique() if pd.Timestamp(p) not in done)
    if not periods:
        report(f"[{DATASET} {granularity}] nothing new to release")
        return empty_release()

    ledger = BudgetLedger(policy.budget_window_days, policy.epsilon_cap, charges_from_history(history))
    mech: PeriodMechanism = period_mechanism(policy, granularity)
    allowed = []
    for period in periods:
        ok, why = ledger.try_charge(Charge(granularity, pd.Timestamp(period).date(), g.period_days, mech.epsilon))
        allowed.append(ok)
        if not ok:
            report(f"[{DATASET} {granularity}] budget_exhausted: {why}; its cells are published suppressed")
    allowed_periods = {pd.Timestamp(p) for p, ok in zip(periods, allowed) if ok}

    todo = cells[cells["period_start"].isin(periods)].sort_values(
        ["period_start", "time_bucket_start_utc", "geo_bucket_id", "door_type", "category", "context"],
        ignore_index=True)
    in_budget = todo["period_start"].isin(allowed_periods).to_numpy()

    noisy = {}
    for metric, column in (("unique_participants", "participants"), ("doors_opened", "doors_opened"),
                           ("repeaters", "repeaters")):
        values = np.zeros(len(todo), dtype=np.int64)
        values[in_budget] = mech.metrics[metric].sample(todo.loc[in_budget, column].to_numpy())
        noisy[metric] = values

    reason = np.full(len(todo), None, dtype=object)
    reason[~in_budget] = "budget_exhausted"
    below_k = in_budget & (noisy["unique_participants"] < g.k_min)
    reason[below_k] = "k_min"
    dominated = in_budget & ~below_k & (
        (noisy["doors_opened"] <= 0)
        | (g.max_opens_per_cell > policy.dominance_max_share * np.maximum(noisy["doors_opened"], 1)))
    reason[dominated] = "dominance"
    shown = pd.isna(pd.Series(reason)).to_numpy()

    def published(values: np.ndarray) -> pd.Series:
        return pd.Series(np.maximum(values, 0), dtype="Int64").where(shown)

    out = pd.DataFrame({
        "schema_version": SCHEMA_VERSION,
        "dataset": DATASET,
        "release_period_start": todo["period_start"],
        "time_bucket_start_utc": pd.to_datetime(todo["time_bucket_start_utc"]),
        "time_granularity": granularity,
        "reporting_delay_hours": policy.reporting_delay_hours,
        "geo_bucket_type": todo["geo_bucket_type"],
        "geo_bucket_id": todo["geo_bucket_id"],
        "segment_door_type": todo["door_type"],
        "segment_category": todo["category"],
        "segment_context": todo["context"],
        "unique_participants_est": published(noisy["unique_participants"]),
        "doors_opened_est": published(noisy["doors_opened"]),
    })
    participants = out["unique_participants_est"].astype("Float64")
    repeaters = published(noisy["repeaters"]).astype("Float64")
    rate = (repeaters / participants.where(participants > 0)).clip(0, 1)
    out["repeat_rate_est"] = rate.to_numpy(dtype="float64", na_value=np.nan)
    out["trend_score_est"] = _add_trend(out, previous_rows, granularity)
    out["privacy_k_min_enforced"] = g.k_min
    out["privacy_suppressed"] = ~shown
    out["privacy_suppressed_reason"] = reason
    out["privacy_dp_enabled"] = True
    out["privacy_dp_mechanism"] = mech.mechanism
    out["privacy_dp_epsilon"] = np.where(in_budget, mech.epsilon, 0.0)
    out["privacy_dp_delta"] = np.where(in_budget, mech.delta, 0.0)
    out["privacy_dp_rho"] = np.where(in_budget, mech.rho if mech.rho is not None else np.nan, np.nan)
    out["privacy_dp_budget_window_days"] = policy.budget_window_days
    out["privacy_dp_max_cells_per_participant"] = g.max_cells_per_participant
    out["privacy_dp_max_opens_per_cell"] = g.max_opens_per_cell
    out["privacy_dp_post_processing"] = POST_PROCESSING
    out["released_at"] = pd.Timestamp(released_at).tz_convert("UTC").tz_localize(None)

    counts = pd.Series(reason).fillna("released").value_counts().to_dict()
    report(f"[{DATASET} {granularity}] {len(periods)} new period(s), {len(out)} cells: {counts}; "
           f"{mech.mechanism} epsilon {mech.epsilon:g} per period")
    return typed(out)
