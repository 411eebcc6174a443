"""Small helpers shared by the DP unit tests."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from harness import default_release
from privacy_insights.dp.params import ReleasePolicy, parse_policy
from privacy_insights.dp.release import CELL_COLUMNS, PeriodRelease

DOORS = ["community", "event", "spot"]
CATEGORIES = ["art", "coffee", "community", "food", "music", "other", "outdoor", "sports", "tech"]
CONTEXTS = ["evening", "midday", "morning", "unknown", "weekend"]


def release_config(**overrides: Any) -> dict:
    """The project's default spots_release var with top-level, ``granularity__field`` or
    ``levels__level__field`` overrides."""
    cfg = copy.deepcopy(default_release())
    for key, value in overrides.items():
        parts = key.split("__")
        if len(parts) == 2:
            cfg["granularities"][parts[0]][parts[1]] = value
        elif len(parts) == 3 and parts[0] == "levels":
            cfg["levels"][parts[1]][parts[2]] = value
        else:
            cfg[key] = value
    return cfg


def policy(**overrides: Any) -> ReleasePolicy:
    return parse_policy(release_config(**overrides), 72)


def city_cells(granularity: str, periods: list[str], cities: dict[str, int], doors_per_participant: float = 1.2,
               repeat_share: float = 0.2, seed: int = 0) -> pd.DataFrame:
    """A complete cell domain (every door type x category x context, or every hour) for each
    period and city, with ``cities[city]`` participants spread over the cells at random."""
    rng = np.random.default_rng(seed)
    rows = []
    for period in periods:
        start = pd.Timestamp(period)
        for city, participants in cities.items():
            if granularity == "hour":
                keys = [(start + pd.Timedelta(hours=h), "all", "all", "morning") for h in range(24)]
            else:
                keys = [(start, d, c, x) for d in DOORS for c in CATEGORIES for x in CONTEXTS]
            counts = rng.multinomial(participants, np.full(len(keys), 1 / len(keys)))
            for (bucket, door, category, context), n in zip(keys, counts):
                rows.append({"granularity": granularity, "period_start": start, "time_bucket_start_utc": bucket,
                             "geo_bucket_type": "city", "geo_bucket_id": city, "door_type": door,
                             "category": category, "context": context, "participants": int(n),
                             "doors_opened": int(round(n * doors_per_participant)),
                             "repeaters": int(round(n * repeat_share))})
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def charged(granularity: str, periods: list[str], version: int = 1) -> list[PeriodRelease]:
    return [PeriodRelease(granularity, pd.Timestamp(p), version, True) for p in periods]


def denied(granularity: str, periods: list[str], version: int = 1) -> list[PeriodRelease]:
    return [PeriodRelease(granularity, pd.Timestamp(p), version, False) for p in periods]


def empty_ledger() -> pd.DataFrame:
    from privacy_insights.dp.plan import LEDGER_COLUMNS

    return pd.DataFrame({c: [] for c in LEDGER_COLUMNS})
