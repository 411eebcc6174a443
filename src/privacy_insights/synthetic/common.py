"""Shared pieces of the generator: stateless per-entity hashing, chunking, Arrow helpers.

Per-entity attributes (a user's home, a session's country) come from a hash of the
entity index and the seed, not from arrays, so memory stays flat however many rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(values: np.ndarray, salt: int) -> np.ndarray:
    """A fast 64-bit mixing function (SplitMix64 finaliser) of ``values`` and ``salt``."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + np.uint64((salt * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _MASK


def unit_hash(values: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic uniform [0, 1) floats from entity indices."""
    return (splitmix64(values, salt) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """(offset, length) pairs covering ``total`` rows."""
    for offset in range(0, total, size):
        yield offset, min(size, total - offset)


def labels(indices: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    """A dictionary-encoded string column: cheap, and DuckDB reads it as text."""
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), pa.array(values))


def timestamps(epoch_us: np.ndarray) -> pa.Array:
    return pa.array(epoch_us.astype(np.int64), type=pa.timestamp("us", tz="UTC"))


def uuid_sql(expression: str) -> str:
    """SQL turning any text expression into a deterministic, UUID-formatted string."""
    h = f"md5({expression})"
    return (
        f"(substr({h}, 1, 8) || '-' || substr({h}, 9, 4) || '-4' || substr({h}, 14, 3) || '-a'"
        f" || substr({h}, 18, 3) || '-' || substr({h}, 21, 12))"
    )
