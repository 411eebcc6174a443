"""Noise for integer counts from OpenDP's secure samplers, calibrated from the bounds.

Each release period publishes three counts per cell. One participant, bounded to C cells
per period and M doors opened per cell, changes at most
    unique_participants:  C cells by 1     (L1 = C,     L2 = sqrt(C))
    doors_opened:         C cells by <= M  (L1 = C * M, L2 = sqrt(C) * M)
    repeaters:            C cells by 1     (L1 = C,     L2 = sqrt(C))
The period's epsilon is split across the metrics by ``metric_shares``.

- laplace (default): discrete Laplace (OpenDP ``make_laplace`` on integers), scale
  L1 / epsilon_metric; pure epsilon-DP, delta 0. The published epsilon is the sum of
  OpenDP's privacy maps at the sensitivities (basic composition).
- gaussian (option): discrete Gaussian (OpenDP ``make_gaussian`` on integers) in
  rho-zCDP. The total rho is the largest one whose (epsilon, delta) conversion, computed
  by OpenDP, stays within the period's epsilon at the configured delta; rho is split by
  ``metric_shares``. Published: epsilon, delta and rho.

Both samplers draw from the operating system's cryptographic randomness inside OpenDP;
nothing here uses numpy.random or floating-point Laplace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import opendp.prelude as dp

from privacy_insights.dp.params import METRICS, GranularityPolicy, ReleasePolicy

dp.enable_features("contrib")

_INT_VECTOR = dp.vector_domain(dp.atom_domain(T=int))


@dataclass(frozen=True)
class MetricNoise:
    metric: str
    l1_sensitivity: int
    l2_sensitivity: float
    scale: float
    measurement: object  # OpenDP Measurement over integer vectors

    def sample(self, values: np.ndarray) -> np.ndarray:
        """Noisy copies of ``values`` (integers), each with fresh secure noise."""
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.measurement([int(v) for v in values]), dtype=np.int64)


@dataclass(frozen=True)
class PeriodMechanism:
    """The calibrated noise of one release period, and what it costs."""

    mechanism: str         # "discrete_laplace" or "discrete_gaussian", as published
    epsilon: float
    delta: float
    rho: float | None
    metrics: dict[str, MetricNoise]


def sensitivities(policy: GranularityPolicy) -> dict[str, tuple[int, float]]:
    c, m = policy.max_cells_per_participant, policy.max_opens_per_cell
    return {
        "unique_participants": (c, math.sqrt(c)),
        "doors_opened": (c * m, math.sqrt(c) * m),
        "repeaters": (c, math.sqrt(c)),
    }


def laplace_period(policy: GranularityPolicy, shares: dict[str, float]) -> PeriodMechanism:
    metrics, spent = {}, 0.0
    for metric, (l1, l2) in sensitivities(policy).items():
        scale = l1 / (policy.epsilon * shares[metric])
        meas = dp.m.make_laplace(_INT_VECTOR, dp.l1_distance(T=int), scale=scale)
        spent += meas.map(l1)
        metrics[metric] = MetricNoise(metric, l1, l2, scale, meas)
    return PeriodMechanism("discrete_laplace", spent, 0.0, None, metrics)


def _gaussian_metrics(policy: GranularityPolicy, shares: dict[str, float], rho: float) -> tuple[dict[str, MetricNoise], float]:
    metrics, spent = {}, 0.0
    for metric, (l1, l2) in sensitivities(policy).items():
        scale = l2 / math.sqrt(2 * rho * shares[metric])
        meas = dp.m.make_gaussian(_INT_VECTOR, dp.l2_distance(T=float), scale=scale)
        spent += meas.map(l2)
        metrics[metric] = MetricNoise(metric, l1, l2, scale, meas)
    return metrics, spent


def zcdp_epsilon(rho: float, delta: float) -> float:
    """OpenDP's conversion of rho-zCDP to (epsilon, delta)-DP."""
    probe = dp.m.make_gaussian(dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=1.0)
    approx = dp.c.make_zCDP_to_approxDP(probe)
    # The probe's rho at sensitivity d is d^2 / 2; pick d so that it equals `rho`.
    return approx.map(math.sqrt(2 * rho)).epsilon(delta)


def gaussian_period(policy: GranularityPolicy, shares: dict[str, float], delta: float) -> PeriodMechanism:
    low, high = 1e-9, 1.0
    while zcdp_epsilon(high, delta) < policy.epsilon:
        high *= 2
    for _ in range(60):   # bisection on rho: the largest rho whose epsilon(delta) <= target
        mid = (low + high) / 2
        low, high = (mid, high) if zcdp_epsilon(mid, delta) <= policy.epsilon else (low, mid)
    metrics, rho = _gaussian_metrics(policy, shares, low)
    return PeriodMechanism("discrete_gaussian", zcdp_epsilon(rho, delta), delta, rho, metrics)


def period_mechanism(policy: ReleasePolicy, granularity: str) -> PeriodMechanism:
    g = policy.for_granularity(granularity)
    if policy.mechanism == "laplace":
        return laplace_period(g, policy.metric_shares)
    return gaussian_period(g, policy.metric_shares, policy.delta)


__all__ = ["METRICS", "MetricNoise", "PeriodMechanism", "period_mechanism", "sensitivities", "zcdp_epsilon"]
