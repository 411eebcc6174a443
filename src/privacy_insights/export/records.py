"""Flat warehouse rows of spots_insights_v1 to the nested record of contract 000 §4.2, and back."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd

SELECT_COLUMNS = [
    "schema_version", "dataset", "time_bucket_start_utc", "time_granularity", "reporting_delay_hours",
    "geo_bucket_type", "geo_bucket_id", "segment_door_type", "segment_category", "segment_context",
    "unique_participants_est", "doors_opened_est", "repeat_rate_est", "trend_score_est",
    "privacy_k_min_enforced", "privacy_suppressed", "privacy_suppressed_reason", "privacy_dp_enabled",
    "privacy_dp_mechanism", "privacy_dp_epsilon", "privacy_dp_delta", "privacy_dp_rho",
    "privacy_dp_budget_window_days", "privacy_dp_post_processing",
]


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):      # numpy scalars
        return v.item()
    return v


def _int(v: Any) -> int | None:
    v = _value(v)
    return None if v is None else int(v)


def _float(v: Any) -> float | None:
    v = _value(v)
    return None if v is None else float(v)


def to_record(row: dict) -> dict:
    bucket = row["time_bucket_start_utc"]
    if isinstance(bucket, (pd.Timestamp, datetime)):
        bucket = bucket.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "schema_version": row["schema_version"],
        "dataset": row["dataset"],
        "time_bucket_start_utc": bucket,
        "time_granularity": row["time_granularity"],
        "reporting_delay_hours": _int(row["reporting_delay_hours"]),
        "geo_bucket": {"type": row["geo_bucket_type"], "id": row["geo_bucket_id"]},
        "segment": {"door_type": row["segment_door_type"], "category": row["segment_category"],
                    "context": row["segment_context"]},
        "metrics": {"unique_participants_est": _int(row["unique_participants_est"]),
                    "doors_opened_est": _int(row["doors_opened_est"]),
                    "repeat_rate_est": _float(row["repeat_rate_est"]),
                    "trend_score_est": _float(row["trend_score_est"])},
        "privacy": {"k_min_enforced": _int(row["privacy_k_min_enforced"]),
                    "suppressed": bool(row["privacy_suppressed"]),
                    "suppressed_reason": _value(row["privacy_suppressed_reason"]),
                    "dp": {"enabled": bool(row["privacy_dp_enabled"]),
                           "mechanism": row["privacy_dp_mechanism"],
                           "epsilon": _float(row["privacy_dp_epsilon"]),
                           "delta": _float(row["privacy_dp_delta"]),
                           "rho": _float(row["privacy_dp_rho"]),
                           "budget_window_days": _int(row["privacy_dp_budget_window_days"]),
                           "post_processing": row["privacy_dp_post_processing"]}},
    }


def flatten(record: dict, prefix: str = "") -> dict:
    """Dotted keys for CSV (geo_bucket.id, privacy.dp.epsilon, ...): the same schema, one level."""
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
