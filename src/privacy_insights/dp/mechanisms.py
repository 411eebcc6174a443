"""Noise for integer counts from OpenDP's secure samplers, calibrated from the bounds.

Contribution bounding (int_spots__bounded_contributions) gives each participant exactly one
cell per release period, chosen by a keyed hash, with their doors opened clamped to M.
Every level of a period (city, city x door type, city x category, city x segment) is a
sum of those cells, so one participant changes, at each level, one cell by at most
    unique_participants:  1      doors_opened:  M      repeaters:  1
(L1 = L2 = that bound). A period's epsilon is split across levels (``levels.*.epsilon_share``)
and, within a level, across metrics (``metric_epsilon_shares``); the levels compose
sequentially, the cells of one level in parallel, so the period costs its epsilon.

- laplace (default): discrete Laplace (OpenDP ``make_laplace`` on integers), scale
  sensitivity / epsilon_metric; pure epsilon-DP, delta 0. The published epsilon is the sum
  of OpenDP's privacy maps of every measurement a participant can reach.
- gaussian (option): discrete Gaussian (OpenDP ``make_gaussian`` on integers) in
  rho-zCDP. The period's rho is the largest whose (epsilon, delta) conversion, computed by
  OpenDP, stays within its epsilon at the configured delta; rho is split like epsilon.

Both samplers draw from the operating system's cryptographic randomness inside OpenDP;
nothing here uses numpy.random or floating-point Laplace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# OpenDP's modules one by one, not opendp.prelude: the prelude also imports its scikit-learn
# and Polars extras, 1.3 s of every dbt build that runs the release model (0.15 s this way).
import opendp.combinators as dpc
import opendp.measurements as dpm
from opendp.domains import atom_domain, vector_domain
from opendp.metrics import absolute_distance, l1_distance, l2_distance
from opendp.mod import enable_features

from privacy_insights.dp.params import METRICS, ReleasePolicy

enable_features("contrib")

_INT_VECTOR = vector_domain(atom_domain(T=int))
MECHANISM_NAMES = {"laplace": "discrete_laplace", "gaussian": "discrete_gaussian"}


@dataclass(frozen=True)
class MetricNoise:
    metric: str
    sensitivity: int
    scale: float
    cost: float  # OpenDP's privacy map at the sensitivity: epsilon (laplace) or rho (gaussian)
    measurement: object  # OpenDP Measurement over integer vectors

    def sample(self, values: np.ndarray) -> np.ndarray:
        """Noisy copies of ``values`` (integers), each with fresh secure noise."""
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.measurement([int(v) for v in values]), dtype=np.int64)


@lru_cache(maxsize=256)
def metric_noise(mechanism: str, metric: str, sensitivity: int, scale: float) -> MetricNoise:
    if mechanism == "laplace":
        meas = dpm.make_laplace(_INT_VECTOR, l1_distance(T=int), scale=scale)
        cost = meas.map(sensitivity)
    else:
        meas = dpm.make_gaussian(_INT_VECTOR, l2_distance(T=float), scale=scale)
        cost = meas.map(float(sensitivity))
    return MetricNoise(metric, sensitivity, scale, float(cost), meas)


@dataclass(frozen=True)
class LevelNoise:
    """The three metrics' noise of one measured level (or of an extra city measurement)."""

    level: str
    share: float  # of the period's budget
    metrics: dict[str, MetricNoise]

    @property
    def cost(self) -> float:
        return sum(m.cost for m in self.metrics.values())


def sensitivities(max_opens_per_participant: int) -> dict[str, int]:
    return {"unique_participants": 1, "doors_opened": max_opens_per_participant, "repeaters": 1}


def zcdp_epsilon(rho: float, delta: float) -> float:
    """OpenDP's conversion of rho-zCDP to (epsilon, delta)-DP."""
    probe = dpm.make_gaussian(atom_domain(T=float, nan=False), absolute_distance(T=float), scale=1.0)
    approx = dpc.make_zCDP_to_approxDP(probe)
    # The probe's rho at sensitivity d is d^2 / 2; pick d so that it equals `rho`.
    return approx.map(math.sqrt(2 * rho)).epsilon(delta)


@lru_cache(maxsize=64)
def _rho_for(epsilon: float, delta: float) -> float:
    low, high = 1e-9, 1.0
    while zcdp_epsilon(high, delta) < epsilon:
        high *= 2
    for _ in range(60):  # bisection on rho: the largest rho whose epsilon(delta) <= target
        mid = (low + high) / 2
        low, high = (mid, high) if zcdp_epsilon(mid, delta) <= epsilon else (low, mid)
    return low


@dataclass(frozen=True)
class PeriodMechanism:
    """The calibrated noise of one release period of a granularity, and what it costs.

    ``budget`` is the period's epsilon (laplace) or rho (gaussian); a level with share s
    spends s * budget, split across metrics. ``level(name)`` gives a measured level;
    ``extra_city(share)`` a further city measurement that spends the share of levels a
    small city does not measure, so every city-period costs the same ``budget``.
    """

    mechanism: str  # "discrete_laplace" or "discrete_gaussian", as published
    epsilon: float
    delta: float
    rho: float | None
    budget: float
    max_opens_per_participant: int
    metric_shares: tuple[tuple[str, float], ...]
    level_shares: tuple[tuple[str, float], ...]

    @property
    def family(self) -> str:
        return "laplace" if self.mechanism == "discrete_laplace" else "gaussian"

    def noise(self, level: str, share: float) -> LevelNoise:
        metrics = {}
        for metric, metric_share in self.metric_shares:
            sensitivity = sensitivities(self.max_opens_per_participant)[metric]
            spend = self.budget * share * metric_share
            scale = sensitivity / spend if self.family == "laplace" else sensitivity / math.sqrt(2 * spend)
            metrics[metric] = metric_noise(self.family, metric, sensitivity, scale)
        return LevelNoise(level, share, metrics)

    def level(self, name: str) -> LevelNoise:
        return self.noise(name, dict(self.level_shares)[name])

    def extra_city(self, share: float) -> LevelNoise:
        return self.noise("city", share)

    def total_cost(self) -> float:
        """OpenDP's privacy maps summed over every measurement one participant can reach."""
        return sum(self.level(name).cost for name, _ in self.level_shares)


def period_mechanism(policy: ReleasePolicy, granularity: str) -> PeriodMechanism:
    g = policy.for_granularity(granularity)
    shares = tuple((m, policy.metric_shares[m]) for m in METRICS)
    levels = tuple((name, lv.epsilon_share) for name, lv in policy.levels(granularity).items())
    if policy.mechanism == "laplace":
        mech = PeriodMechanism(
            "discrete_laplace", g.epsilon, 0.0, None, g.epsilon, g.max_opens_per_participant, shares, levels
        )
        spent = mech.total_cost()
        return PeriodMechanism(
            "discrete_laplace", spent, 0.0, None, g.epsilon, g.max_opens_per_participant, shares, levels
        )
    rho = _rho_for(g.epsilon, policy.delta)
    mech = PeriodMechanism(
        "discrete_gaussian", g.epsilon, policy.delta, rho, rho, g.max_opens_per_participant, shares, levels
    )
    spent_rho = mech.total_cost()
    return PeriodMechanism(
        "discrete_gaussian",
        zcdp_epsilon(spent_rho, policy.delta),
        policy.delta,
        spent_rho,
        rho,
        g.max_opens_per_participant,
        shares,
        levels,
    )


__all__ = [
    "METRICS",
    "MECHANISM_NAMES",
    "LevelNoise",
    "MetricNoise",
    "PeriodMechanism",
    "metric_noise",
    "period_mechanism",
    "sensitivities",
    "zcdp_epsilon",
]
