"""Noise for integer counts from OpenDP's secure samplers, calibrated from the bounds.

Contribution bounding (int_spots__bounded_contributions) is per level: at each measured
level L of a release period (city, city x door type, city x category, city x segment; hour
periods: city), a participant keeps at most C_L cells (``levels.<L>.max_cells_per_participant``),
chosen by a keyed hash, with their doors opened in each cell clamped to M. So one
participant changes at most C_L cells of level L, each by at most
    unique_participants:  1      doors_opened:  M      repeaters:  1
and the level's sensitivities are
    L1 (laplace):   unique_participants C_L,        doors_opened C_L * M,        repeaters C_L
    L2 (gaussian):  unique_participants sqrt(C_L),  doors_opened sqrt(C_L) * M,  repeaters sqrt(C_L)
A period's epsilon is split across levels (``levels.*.epsilon_share``) and, within a level,
across metrics (``metric_epsilon_shares``); the levels compose sequentially, the cells of
one level are one vector measurement at the level's sensitivity, so the period costs its
epsilon whatever the C_L (the noise scale grows with C_L instead).

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
    sensitivity: float  # of the level's vector of cells: L1 (laplace) or L2 (gaussian)
    scale: float
    cost: float  # OpenDP's privacy map at the sensitivity: epsilon (laplace) or rho (gaussian)
    measurement: object  # OpenDP Measurement over integer vectors

    def sample(self, values: np.ndarray) -> np.ndarray:
        """Noisy copies of ``values`` (integers), each with fresh secure noise."""
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.measurement([int(v) for v in values]), dtype=np.int64)


@lru_cache(maxsize=256)
def metric_noise(mechanism: str, metric: str, sensitivity: float, scale: float) -> MetricNoise:
    if mechanism == "laplace":
        meas = dpm.make_laplace(_INT_VECTOR, l1_distance(T=int), scale=scale)
        cost = meas.map(int(sensitivity))
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
    cells_per_participant: int = 1  # the level's bound C_L

    @property
    def cost(self) -> float:
        return sum(m.cost for m in self.metrics.values())


def sensitivities(max_opens_per_participant: int, cells_per_participant: int = 1, family: str = "laplace") -> dict:
    """Sensitivity of each metric's vector of a level's cells when a participant adds to at
    most ``cells_per_participant`` (C) cells, each by at most 1 participant, M doors opened
    and 1 repeater: L1 (laplace) C, C * M, C; L2 (gaussian) sqrt(C), sqrt(C) * M, sqrt(C)."""
    if family == "laplace":
        c: float = cells_per_participant
        return {"unique_participants": c, "doors_opened": c * max_opens_per_participant, "repeaters": c}
    root = math.sqrt(cells_per_participant)
    return {"unique_participants": root, "doors_opened": root * max_opens_per_participant, "repeaters": root}


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
    spends s * budget, split across metrics, with noise scaled to the level's sensitivity
    (its bound C_L, ``level_cells``). ``level(name)`` gives a measured level;
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
    level_cells: tuple[tuple[str, int], ...] = ()  # each level's bound C_L (absent: 1)

    @property
    def family(self) -> str:
        return "laplace" if self.mechanism == "discrete_laplace" else "gaussian"

    def cells(self, level: str) -> int:
        """The level's bound C_L: cells of the level one participant adds to per period."""
        return dict(self.level_cells).get(level, 1)

    def noise(self, level: str, share: float) -> LevelNoise:
        metrics = {}
        cells = self.cells(level)
        bounds = sensitivities(self.max_opens_per_participant, cells, self.family)
        for metric, metric_share in self.metric_shares:
            sensitivity = bounds[metric]
            spend = self.budget * share * metric_share
            scale = sensitivity / spend if self.family == "laplace" else sensitivity / math.sqrt(2 * spend)
            metrics[metric] = metric_noise(self.family, metric, sensitivity, scale)
        return LevelNoise(level, share, metrics, cells)

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
    cells = tuple((name, lv.max_cells_per_participant) for name, lv in policy.levels(granularity).items())
    if policy.mechanism == "laplace":
        mech = PeriodMechanism(
            "discrete_laplace", g.epsilon, 0.0, None, g.epsilon, g.max_opens_per_participant, shares, levels, cells
        )
        spent = mech.total_cost()
        return PeriodMechanism(
            "discrete_laplace", spent, 0.0, None, g.epsilon, g.max_opens_per_participant, shares, levels, cells
        )
    rho = _rho_for(g.epsilon, policy.delta)
    mech = PeriodMechanism(
        "discrete_gaussian", g.epsilon, policy.delta, rho, rho, g.max_opens_per_participant, shares, levels, cells
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
        cells,
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
