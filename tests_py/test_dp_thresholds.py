"""Honest thresholds: k plus a margin from the exact noise distribution."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privacy_insights.dp.thresholds import margin_of_error, release_threshold, tail, variance


def laplace_pmf(scale: float, z: np.ndarray) -> np.ndarray:
    a = math.exp(-1 / scale)
    return (1 - a) / (1 + a) * np.exp(-np.abs(z) / scale)


@pytest.mark.parametrize("scale", [1.0, 4.9, 11.1, 40.0])
def test_laplace_tail_matches_the_summed_pmf(scale):
    z = np.arange(-int(80 * scale) - 50, int(80 * scale) + 51)
    pmf = laplace_pmf(scale, z)
    for j in (-7, 0, 1, 5, 30):
        assert tail("laplace", scale, j) == pytest.approx(pmf[z >= j].sum(), rel=1e-9)
    assert variance("laplace", scale) == pytest.approx((pmf * z**2).sum(), rel=1e-9)


@pytest.mark.parametrize("family", ["laplace", "gaussian"])
@pytest.mark.parametrize("scale", [2.0, 11.1, 25.0])
def test_threshold_is_the_smallest_with_the_promised_chance(family, scale):
    threshold, chance = release_threshold(family, scale, 100, 0.01)
    # a cell with k - 1 = 99 true participants clears it iff its noise is >= threshold - 99
    assert chance == tail(family, scale, threshold - 99) <= 0.01
    assert tail(family, scale, threshold - 100) > 0.01  # one less would break the promise
    assert threshold >= 101


def test_margin_of_error_covers_95_percent():
    for family in ("laplace", "gaussian"):
        moe = margin_of_error(family, 10.0)
        inside = 1 - tail(family, 10.0, math.floor(moe) + 1) * 2
        assert inside >= 0.95
