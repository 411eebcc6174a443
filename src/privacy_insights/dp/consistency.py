"""The city total of a city-period from its independent noisy measurements.

A city-period measures its city level once and, where a city does not measure a finer
level, once more with that level's share of the budget (dp/release.py). Each is an
unbiased estimate of the same count; the published total is their inverse-variance
weighted mean. Levels are bounded on their own (int_spots__bounded_contributions), so a
finer level's cells are not estimates of the city total and are not combined with it.

Reads noisy values only: post-processing, no privacy cost. (Until per-level bounds, this
module also made the levels add up: least-squares projection, raking and controlled
rounding; rows released then say so in privacy_dp_post_processing.)
"""

from __future__ import annotations

import numpy as np


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
