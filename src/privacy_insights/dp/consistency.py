"""Post-processing that makes the levels of a city-period add up, in non-negative integers.

Input: independent noisy measurements of one metric of a city-period at the levels that
were measured — the city total (possibly twice), the door-type margin (D values), the
category margin (C values) and the segments (D x C x X values). Output: non-negative
integers for every measured cell such that

    sum of the door-type cells = city total = sum of the category cells,
    sum over categories and contexts of the segments of door type d = door-type cell d,
    sum over door types and contexts of the segments of category c = category cell c.

Steps (the US Census TopDown pattern, closed forms instead of a solver):
1. City total: the inverse-variance weighted mean of every unbiased estimate of it (its
   own measurements and the sums of each measured margin), floored at 0.
2. Each margin: the least-squares projection of its measurements onto
   {x >= 0, sum x = total} (equal variances within a level, so weighted least squares is
   Euclidean projection onto the scaled simplex).
3. Door type x category (not released): when segments were measured, their sums over
   contexts (else the product of the margins), raked to both margins by iterative
   proportional fitting (the minimum-discrimination-information table with those margins).
4. Segments: projection of their measurements onto the simplex of their (door, category) total.
5. Integers: the total is rounded; margins by largest remainder so they sum to it; the door
   type x category table by controlled rounding to the integer margins; segments by largest
   remainder within their (door, category) total. Every released number is then a sum of
   the same non-negative integers, so children always add up to their parent.

All of it reads noisy values only: it is post-processing and costs no privacy.
"""

from __future__ import annotations

import numpy as np

IPF_ITERATIONS = 500
IPF_TOLERANCE = 1e-9


def project_to_simplex(values: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean projection onto {x >= 0, sum(x) = total}: x = max(v - theta, 0)."""
    values = np.asarray(values, dtype=float)
    totals = np.maximum(np.asarray(totals, dtype=float), 0.0)
    n = values.shape[1]
    ordered = -np.sort(-values, axis=1)
    cumulative = np.cumsum(ordered, axis=1) - totals[:, None]
    ranks = np.arange(1, n + 1)
    candidates = cumulative / ranks
    active = ordered - candidates > 0
    count = np.maximum(active.sum(axis=1), 1)
    theta = cumulative[np.arange(len(values)), count - 1] / count
    projected = np.maximum(values - theta[:, None], 0.0)
    empty = totals <= 0
    projected[empty] = 0.0
    return projected


def largest_remainder(values: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Row-wise non-negative integers summing to ``totals`` (integers), closest to ``values``."""
    values = np.maximum(np.asarray(values, dtype=float), 0.0)
    totals = np.asarray(totals, dtype=np.int64)
    floors = np.floor(values).astype(np.int64)
    missing = totals - floors.sum(axis=1)
    if (missing < 0).any():
        raise ValueError("largest_remainder: totals below the sum of the floors")
    remainders = values - floors
    order = np.argsort(-remainders, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(values.shape[1])[None, :].repeat(len(values), axis=0), axis=1)
    # a row may need more units than it has cells (a rounded-up total over tiny values):
    # hand out whole rounds first, then the rest by remainder
    rounds, rest = np.divmod(missing, values.shape[1])
    return floors + rounds[:, None] + (ranks < rest[:, None])


def rake(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting of (G, R, C) tables to row and column margins.

    The seed is blended with a tenth of the independence table (rows x cols / total), so no
    cell is a structural zero and the fit converges in a few dozen sweeps.
    """
    rows, cols = np.asarray(rows, dtype=float), np.asarray(cols, dtype=float)
    total = np.maximum(rows.sum(axis=1), 1e-12)
    independence = rows[:, :, None] * cols[:, None, :] / total[:, None, None]
    table = np.maximum(np.asarray(seed, dtype=float), 0.0) + 0.1 * independence
    for _ in range(IPF_ITERATIONS):
        current = table.sum(axis=1)
        table *= np.divide(cols, current, out=np.zeros_like(current), where=current > 0)[:, None, :]
        current = table.sum(axis=2)
        table *= np.divide(rows, current, out=np.zeros_like(current), where=current > 0)[:, :, None]
        if np.abs(table.sum(axis=1) - cols).max(initial=0) < IPF_TOLERANCE:
            break
    return table


def controlled_round(table: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Non-negative integer (G, R, C) tables with exactly the integer row and column sums.

    Start from the floors (lowered where a row or column would already exceed its integer
    sum); the units still owed to each row and column (equal in total) are then placed one
    per cell, preferring columns owed the most and cells with a large fractional part
    (Gale-Ryser order); a unit that finds no free cell goes to any owed column of its row,
    so the margins always hold exactly.
    """
    table = np.maximum(np.asarray(table, dtype=float), 0.0)
    out = np.floor(table).astype(np.int64)
    fraction = table - out
    for g in range(len(out)):
        if rows[g].sum() != cols[g].sum():
            raise ValueError("controlled_round: row and column sums differ")
        _lower_to(out[g], fraction[g], rows[g])
        _lower_to(out[g].T, fraction[g].T, cols[g])
        row_owed = rows[g] - out[g].sum(axis=1)
        col_owed = cols[g] - out[g].sum(axis=0)
        used = np.zeros(out[g].shape, dtype=bool)
        for r in np.argsort(-row_owed, kind="stable"):
            for _ in range(int(row_owed[r])):
                score = np.where((col_owed > 0) & ~used[r], col_owed * 2.0 + fraction[g, r], -np.inf)
                c = int(np.argmax(score))
                if score[c] == -np.inf:  # every owed column already got a unit from this row
                    c = int(np.argmax(col_owed))
                out[g, r, c] += 1
                used[r, c] = True
                col_owed[c] -= 1
    return out


def _lower_to(table: np.ndarray, fraction: np.ndarray, sums: np.ndarray) -> None:
    """Take units from the cells with the smallest fractional part until no row exceeds its sum."""
    for r in np.flatnonzero(table.sum(axis=1) > sums):
        for _ in range(int(table[r].sum() - sums[r])):
            candidates = np.where(table[r] > 0, fraction[r], np.inf)
            c = int(np.argmin(candidates))
            table[r, c] -= 1
            fraction[r, c] += 1.0


def inverse_variance_total(estimates: list[tuple[np.ndarray, np.ndarray | float]]) -> np.ndarray:
    """Weighted mean of unbiased estimates (value, variance); nan values are skipped."""
    numerator = 0.0
    denominator = 0.0
    for value, var in estimates:
        value = np.asarray(value, dtype=float)
        weight = np.where(np.isnan(value), 0.0, 1.0 / np.asarray(var, dtype=float))
        numerator = numerator + np.nan_to_num(value) * weight
        denominator = denominator + weight
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / denominator  # nan where no estimate exists (a denied period)
