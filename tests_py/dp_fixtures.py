"""Small helpers shared by the DP unit tests."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from harness import default_release
from privacy_insights.dp.params import ReleasePolicy, parse_policy


def policy(**overrides: Any) -> ReleasePolicy:
    """The project's default policy with top-level or ``granularity.field`` overrides."""
    cfg = copy.deepcopy(default_release())
    for key, value in overrides.items():
        if "__" in key:
            g, field = key.split("__")
            cfg["granularities"][g][field] = value
        else:
            cfg[key] = value
    return parse_policy(cfg, 72)


def cells(granularity: str, periods: list[str], n_cells: int = 3, participants: int = 0,
          doors: int | None = None, repeaters: int = 0) -> pd.DataFrame:
    """A cell frame as int_spots__cell_aggregates returns it, every cell with the same counts."""
    rows = []
    for period in periods:
        start = pd.Timestamp(period)
        buckets = [start + pd.Timedelta(hours=h) for h in range(24)] if granularity == "hour" else [start]
        for bucket in buckets:
            for i in range(n_cells):
                rows.append({
                    "granularity": granularity, "period_start": start, "time_bucket_start_utc": bucket,
                    "geo_bucket_type": "city", "geo_bucket_id": f"c{i:05d}", "door_type": "spot",
                    "category": "all" if granularity == "hour" else "coffee", "context": "morning",
                    "participants": participants, "doors_opened": participants * 2 if doors is None else doors,
                    "repeaters": repeaters,
                })
    return pd.DataFrame(rows, columns=["granularity", "period_start", "time_bucket_start_utc", "geo_bucket_type",
                                       "geo_bucket_id", "door_type", "category", "context", "participants",
                                       "doors_opened", "repeaters"])


def no_history() -> pd.DataFrame:
    return pd.DataFrame({"time_granularity": pd.Series(dtype="string"),
                         "release_period_start": pd.Series(dtype="datetime64[us]"),
                         "privacy_dp_epsilon": pd.Series(dtype="float64")})
