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
    ``levels__level__field`` overrides, and C_L = 1 at every level unless overridden: the
    fixtures' cells (``city_cells``) are C_L = 1 aggregates (every level a sum of the finest
    cells), and the tests' flake bounds are computed at those noise scales."""
    cfg = copy.deepcopy(default_release())
    for level in cfg["levels"].values():
        level["max_cells_per_participant"] = 1
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


def city_cells(
    granularity: str,
    periods: list[str],
    cities: dict[str, int],
    doors_per_participant: float = 1.2,
    repeat_share: float = 0.2,
    seed: int = 0,
) -> pd.DataFrame:
    """A complete cell domain (every door type x category x context, or every hour) for each
    period and city, with ``cities[city]`` participants spread over the cells at random
    (test data only: numpy's generator never touches a release)."""
    rng = np.random.default_rng(seed)
    if granularity == "hour":
        offsets = [pd.Timedelta(hours=h) for h in range(24)]
        segments = pd.DataFrame({"offset": offsets, "door_type": "all", "category": "all", "context": "morning"})
    else:
        index = pd.MultiIndex.from_product([DOORS, CATEGORIES, CONTEXTS], names=["door_type", "category", "context"])
        segments = index.to_frame(index=False).assign(offset=pd.Timedelta(0))
    frames = []
    names, sizes = list(cities), np.array(list(cities.values()), dtype=np.int64)
    for period in periods:
        start = pd.Timestamp(period)
        shares = np.full(len(segments), 1 / len(segments))
        counts = np.stack([rng.multinomial(n, shares) for n in sizes]) if len(names) else np.zeros((0, len(segments)))
        frame = pd.DataFrame(
            {"geo_bucket_id": np.repeat(names, len(segments)), "participants": counts.reshape(-1).astype(np.int64)}
        )
        seg = pd.concat([segments] * len(names), ignore_index=True)
        frame = pd.concat([frame, seg], axis=1)
        frame["granularity"] = granularity
        frame["period_start"] = start
        frame["time_bucket_start_utc"] = start + frame.pop("offset")
        frame["geo_bucket_type"] = "city"
        frame["doors_opened"] = np.round(frame["participants"] * doors_per_participant).astype(np.int64)
        frame["repeaters"] = np.round(frame["participants"] * repeat_share).astype(np.int64)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({c: [] for c in CELL_COLUMNS})
    return with_levels(pd.concat(frames, ignore_index=True))


LEVEL_DIMENSIONS = {"city": (), "city_door_type": ("door_type",), "city_category": ("category",)}


def with_levels(finest: pd.DataFrame) -> pd.DataFrame:
    """Cells of every measured level from finest cells (no ``level`` column): hour cells are the
    city level; day and week finest cells are city_segment, and the coarser levels their sums
    (as int_spots__cell_aggregates gives with C_L = 1 at every level for participants)."""
    finest = finest.drop(columns="level", errors="ignore")
    if len(finest) and (finest["granularity"] == "hour").all():
        return finest.assign(level="city")[CELL_COLUMNS]
    key = ["granularity", "period_start", "time_bucket_start_utc", "geo_bucket_type", "geo_bucket_id"]
    frames = [finest.assign(level="city_segment")]
    for level, dims in LEVEL_DIMENSIONS.items():
        summed = finest.groupby(key + list(dims), as_index=False)[["participants", "doors_opened", "repeaters"]].sum()
        for column in ("door_type", "category", "context"):
            if column not in dims:
                summed[column] = "all"
        frames.append(summed.assign(level=level))
    return pd.concat(frames, ignore_index=True)[CELL_COLUMNS]


def charged(granularity: str, periods: list[str], version: int = 1) -> list[PeriodRelease]:
    return [PeriodRelease(granularity, pd.Timestamp(p), version, True) for p in periods]


def denied(granularity: str, periods: list[str], version: int = 1) -> list[PeriodRelease]:
    return [PeriodRelease(granularity, pd.Timestamp(p), version, False) for p in periods]


def empty_ledger() -> pd.DataFrame:
    from privacy_insights.dp.plan import LEDGER_COLUMNS

    return pd.DataFrame({c: [] for c in LEDGER_COLUMNS})
