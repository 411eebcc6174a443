"""The noise drawn on the release path follows the configured mechanism.

For each mechanism, 10^6 draws from the very measurement the release uses (the day city level's
participants) are compared with the exact distribution (probability mass function summed numerically):

Variance within 5 %. The mean is known (0), so the estimator is E[X^2]. It is
the median of 40 batch means of 25,000 draws each. Chebyshev bounds a batch's chance
of missing by more than 5 %: q <= Var(X^2) / (25,000 * (0.05 * Var X)^2), with Var(X^2)
computed from the exact fourth moment. The median misses only if at least 20 of 40
independent batches miss, so P(false failure) <= P(Binomial(40, q) >= 20). The test
computes that bound and asserts it is below 1e-6 before using it: 3.3e-12 for
Laplace (scale 11.1, the day city level's participants) and 9.4e-20 for Gaussian (sigma 17.1).
No normal approximation is used.

Goodness of fit. A chi-square test over integer bins, each bin holding at least 1,000
expected draws, with the tails pooled. The test rejects at p < 1e-7, so a correct sampler
fails with probability about 1e-7. The chi-square approximation is accurate at these
expected counts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from dp_fixtures import policy
from privacy_insights.dp.mechanisms import period_mechanism

DRAWS = 1_000_000
BATCHES = 40
TOLERANCE = 0.05
GOF_ALPHA = 1e-7


def exact_pmf(mechanism: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    support = np.arange(-int(60 * scale) - 50, int(60 * scale) + 51)
    if mechanism == "discrete_laplace":
        weights = np.exp(-np.abs(support) / scale)
    else:
        weights = np.exp(-(support.astype(float) ** 2) / (2 * scale**2))
    return support, weights / weights.sum()


def false_failure_bound(support: np.ndarray, pmf: np.ndarray) -> float:
    second = float(np.sum(pmf * support.astype(float) ** 2))
    fourth = float(np.sum(pmf * support.astype(float) ** 4))
    per_batch = DRAWS // BATCHES
    q = min(1.0, (fourth - second**2) / (per_batch * (TOLERANCE * second) ** 2))
    return float(stats.binom.sf(BATCHES // 2 - 1, BATCHES, q))


@pytest.mark.parametrize("mechanism", ["laplace", "gaussian"])
def test_noise_matches_the_configured_mechanism(mechanism):
    noise = period_mechanism(policy(mechanism=mechanism), "day").level("city").metrics["unique_participants"]
    published = "discrete_laplace" if mechanism == "laplace" else "discrete_gaussian"
    support, pmf = exact_pmf(published, noise.scale)
    bound = false_failure_bound(support, pmf)
    assert bound < 1e-6, f"test design: false-failure bound {bound:.2e} is not below 1e-6"

    draws = noise.sample(np.zeros(DRAWS, dtype=np.int64))
    assert draws.dtype == np.int64 and len(draws) == DRAWS

    variance = float(np.sum(pmf * support.astype(float) ** 2))
    batch_means = (draws.astype(float) ** 2).reshape(BATCHES, -1).mean(axis=1)
    estimate = float(np.median(batch_means))
    assert abs(estimate / variance - 1) <= TOLERANCE, (
        f"{published} scale {noise.scale}: variance {estimate:.3f} vs exact {variance:.3f} "
        f"(false-failure bound {bound:.1e})"
    )

    # Chi-square goodness of fit on integer bins with >= 1,000 expected draws, tails pooled.
    expected = pmf * DRAWS
    inner = np.flatnonzero(expected >= 1_000)
    lo, hi = support[inner[0]], support[inner[-1]]
    observed_inner = np.bincount(draws[(draws >= lo) & (draws <= hi)] - lo, minlength=hi - lo + 1)
    observed = np.concatenate([[np.sum(draws < lo)], observed_inner, [np.sum(draws > hi)]])
    expected_binned = np.concatenate([[expected[support < lo].sum()], expected[inner], [expected[support > hi].sum()]])
    expected_binned *= DRAWS / expected_binned.sum()
    _, p_value = stats.chisquare(observed, expected_binned)
    assert p_value >= GOF_ALPHA, f"{published}: chi-square p = {p_value:.2e} over {len(observed)} bins"
    assert math.isfinite(p_value)


@pytest.mark.parametrize("mechanism", ["laplace", "gaussian"])
def test_sensitivities_and_costs_per_level_follow_the_cell_bound(mechanism):
    """A level whose participants may add to C_L cells has sensitivities C_L, C_L * M, C_L (L1,
    laplace) or sqrt(C_L), sqrt(C_L) * M, sqrt(C_L) (L2, gaussian); its noise scale grows by C_L
    (sqrt(C_L)) so OpenDP's privacy map charges the same share, and the period's epsilon
    (total_cost over every measurement a person can reach) is the same for any C_L."""
    base = period_mechanism(policy(mechanism=mechanism, levels__city_category__max_cells_per_participant=1), "day")
    wide = period_mechanism(policy(mechanism=mechanism, levels__city_category__max_cells_per_participant=4), "day")
    grow = 4 if mechanism == "laplace" else 2
    for metric, unit in (("unique_participants", 1), ("doors_opened", 4), ("repeaters", 1)):
        one, four = base.level("city_category").metrics[metric], wide.level("city_category").metrics[metric]
        assert one.sensitivity == unit and four.sensitivity == pytest.approx(grow * unit)
        assert four.scale == pytest.approx(grow * one.scale)
        assert four.cost == pytest.approx(one.cost)  # OpenDP's map at the sensitivity: the same spend
        # levels with C_L = 1 are untouched
        assert wide.level("city").metrics[metric].scale == pytest.approx(base.level("city").metrics[metric].scale)
    assert wide.cells("city_category") == 4 and wide.level("city_category").cells_per_participant == 4
    assert wide.total_cost() == pytest.approx(base.total_cost())
    assert wide.epsilon == pytest.approx(base.epsilon) and wide.epsilon <= 0.75 + 1e-9
