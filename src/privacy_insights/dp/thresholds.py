"""Honest release thresholds and error bars from the exact noise distributions.

Releasing a cell when its noisy participants reach k would publish a cell whose true
count is k - 1 about half the time, and empty cells now and then. Instead a cell is
released only when its noisy participants reach ``threshold = k + margin``, where the
margin is the smallest whole number such that a cell with k - 1 true participants
clears it with probability at most ``false_release_probability`` (1 % by default); cells
with fewer true participants clear it even less often. The decision reads the noisy
value only, so it is differentially private; the threshold depends on public
parameters only.

Distributions (integer noise Z, as OpenDP samples it):
- discrete Laplace with scale s: P(Z = z) proportional to exp(-|z| / s), so
  P(Z >= j) = exp(-j / s) / (1 + exp(-1 / s)) for j >= 1 (closed form);
- discrete Gaussian with scale s: P(Z = z) proportional to exp(-z^2 / (2 s^2)), summed.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from opendp.accuracy import discrete_gaussian_scale_to_accuracy, discrete_laplacian_scale_to_accuracy


def _gaussian_pmf(scale: float) -> tuple[np.ndarray, np.ndarray]:
    half = int(40 * scale) + 50
    support = np.arange(-half, half + 1)
    weights = np.exp(-(support.astype(float) ** 2) / (2 * scale**2))
    return support, weights / weights.sum()


def tail(family: str, scale: float, j: int) -> float:
    """P(Z >= j) for the integer noise of ``family`` ('laplace' or 'gaussian') and ``scale``."""
    if family == "laplace":
        if j <= 0:  # by symmetry, P(Z >= j) = 1 - P(Z <= j - 1) = 1 - P(Z >= 1 - j)
            return 1.0 - tail(family, scale, 1 - j)
        return math.exp(-j / scale) / (1 + math.exp(-1 / scale))
    support, pmf = _gaussian_pmf(scale)
    return float(pmf[support >= j].sum())


@lru_cache(maxsize=512)
def release_threshold(family: str, scale: float, k: int, probability: float) -> tuple[int, float]:
    """(threshold, chance that a cell with k - 1 true participants reaches it)."""
    j = 1
    while tail(family, scale, j) > probability:
        j += 1
    # noisy >= k - 1 + j  <=>  Z >= j when the true count is k - 1
    return k - 1 + j, tail(family, scale, j)


def variance(family: str, scale: float) -> float:
    """Exact variance of the integer noise."""
    if family == "laplace":
        a = math.exp(-1 / scale)
        return 2 * a / (1 - a) ** 2
    support, pmf = _gaussian_pmf(scale)
    return float((pmf * support.astype(float) ** 2).sum())


@lru_cache(maxsize=512)
def margin_of_error(family: str, scale: float, alpha: float = 0.05) -> float:
    """Half-width that the noise stays within with probability 1 - alpha (OpenDP's accuracy)."""
    if family == "laplace":
        return float(discrete_laplacian_scale_to_accuracy(scale, alpha))
    return float(discrete_gaussian_scale_to_accuracy(scale, alpha))
