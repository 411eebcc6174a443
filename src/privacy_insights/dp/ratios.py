"""Which ratios and count intervals a released row publishes (post-processing, no privacy cost).

A ratio of two noisy counts can be so uncertain that it says nothing: at city-week level
with a few hundred participants the repeat rate's 95 % margin is about +-0.4, bars that
cover all of [0, 1]. A released row therefore publishes a ratio only when its 95 % margin
is at most the public bound ``ratio_moe95_bound`` (dbt var ``spots_release``, 0.10 by
default); otherwise the ratio and its margin are null and a reason column says why.

Everything here reads only released (noisy, charged, post-processed) values and public
noise scales, never a true count: the decisions are post-processing of the differentially
private release and cost no privacy budget.

Margins (delta method, 95 %: 1.96 standard deviations, with the exact variance of each
count's own noisy measurement from ``thresholds.variance``; consistency post-processing
usually narrows the error, so the margins are on the safe side):
- repeat rate r = R / P: 1.96 * sqrt(var R + r^2 var P) / P;
- trend score t = a / (a + b) (a this bucket's doors, b the bucket before):
  1.96 * sqrt(b^2 var a + a^2 var b) / (a + b)^2.

Count intervals: the 95 % interval of a count is [max(0, est - moe95), est + moe95]; a
count is never negative, so its lower bound is clipped at 0 (``lower_bound``).
"""

from __future__ import annotations

import numpy as np

MARGIN_ABOVE_BOUND = "margin_above_bound"  # the ratio's 95 % margin exceeds the public bound
NO_EARLIER_BUCKET = "no_earlier_bucket"  # trend only: the bucket before was not released
WITHHELD_REASONS = (MARGIN_ABOVE_BOUND, NO_EARLIER_BUCKET)
Z95 = 1.959963984540054  # two-sided 95 % quantile of the standard normal


def repeat_rate_margin(rate: np.ndarray, participants: np.ndarray, var_repeaters: float, var_participants: float):
    """Delta-method 95 % margin of repeaters / participants (nan where participants <= 0)."""
    rate, participants = np.asarray(rate, dtype=float), np.asarray(participants, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = Z95 * np.sqrt(var_repeaters + rate**2 * var_participants) / participants
    return np.where(participants > 0, out, np.nan)


def trend_margin(current: np.ndarray, previous: np.ndarray, var_current: np.ndarray, var_previous: np.ndarray):
    """Delta-method 95 % margin of current / (current + previous) (nan where the sum is <= 0)."""
    a, b = np.asarray(current, dtype=float), np.asarray(previous, dtype=float)
    total = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        out = Z95 * np.sqrt(b**2 * np.asarray(var_current) + a**2 * np.asarray(var_previous)) / total**2
    return np.where(total > 0, out, np.nan)


def within_bound(value: np.ndarray, margin: np.ndarray, bound: float) -> np.ndarray:
    """Per row: may the ratio be published? True when it and its margin are known and the margin <= bound."""
    value, margin = np.asarray(value, dtype=float), np.asarray(margin, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(value) & ~np.isnan(margin) & (margin <= bound)


def withheld_reason(released: np.ndarray, value: np.ndarray, margin: np.ndarray, bound: float) -> np.ndarray:
    """Per row: None (published, or the row is suppressed: its privacy_suppressed_reason says why)
    or ``margin_above_bound`` (released row whose ratio is known but too uncertain)."""
    released = np.asarray(released, dtype=bool)
    known = ~np.isnan(np.asarray(value, dtype=float))
    out = np.full(len(released), None, dtype=object)
    out[released & known & ~within_bound(value, margin, bound)] = MARGIN_ABOVE_BOUND
    return out


def lower_bound(estimate: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Lower end of a count's 95 % interval, clipped at 0 (nan where either is unknown)."""
    return np.maximum(np.asarray(estimate, dtype=float) - np.asarray(margin, dtype=float), 0.0)


__all__ = [
    "MARGIN_ABOVE_BOUND",
    "NO_EARLIER_BUCKET",
    "WITHHELD_REASONS",
    "lower_bound",
    "repeat_rate_margin",
    "trend_margin",
    "within_bound",
    "withheld_reason",
]
