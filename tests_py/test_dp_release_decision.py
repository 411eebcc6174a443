"""The release decision is itself differentially private, and its threshold is honest, at every level.

For each level of a day period, with the level's own OpenDP measurements and threshold:

DP. Two datasets differ in one participant in one cell: tau - 1 participants in D, tau in
D' (tau the level's release threshold, where the decision is most uncertain), and the
added person opened M doors. The decision reads only the cell's noisy participants and
noisy doors opened, so P(release | D') <= e^eps * P(release | D) and the same swapped,
with eps = the level's participants and doors costs from OpenDP's privacy maps. A
threshold on the true count would release with probability 0 under D and 1 under D'.

Honesty. A cell with k - 1 true participants is released with probability at most the
published false-release probability (<= 1 %).

N = 200,000 independent copies per dataset. Hoeffding: each of the 8 DP frequencies (4
levels x 2 datasets) is within t = sqrt(ln(16 / 1e-6) / (2N)) ~ 0.0064 of its probability
except with probability 1e-6 / 8 each, so the widened DP inequalities fail for a correct
release with probability at most 1e-6. Chernoff (multiplicative): each of the 4 false-release
frequencies exceeds (1 + eta) times its probability p with probability at most
exp(-eta^2 N p / 3); eta is chosen per level so that this is 2.5e-7, 1e-6 over the levels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dp_fixtures import policy
from privacy_insights.dp.mechanisms import period_mechanism
from privacy_insights.dp.params import LEVELS
from privacy_insights.dp.release import release_decision
from privacy_insights.dp.thresholds import release_threshold

N = 200_000
T = math.sqrt(math.log(16 / 1e-6) / (2 * N))


def release_frequency(level_noise, threshold: int, participants: int, doors: int, p) -> float:
    noisy_p = level_noise.metrics["unique_participants"].sample(np.full(N, participants, dtype=np.int64))
    noisy_d = level_noise.metrics["doors_opened"].sample(np.full(N, doors, dtype=np.int64))
    g = p.for_granularity("day")
    decided = release_decision(noisy_p, noisy_d, threshold, g.max_opens_per_participant, p.dominance_max_share)
    return float(np.mean([d is None for d in decided]))


@pytest.mark.parametrize("level", LEVELS)
def test_release_decision_is_dp_and_honest_at_every_level(level):
    p = policy()
    mech = period_mechanism(p, "day")
    noise = mech.level(level)
    m = p.for_granularity("day").max_opens_per_participant
    scale = noise.metrics["unique_participants"].scale
    threshold, chance = release_threshold("laplace", scale, 100, p.false_release_probability)
    epsilon = noise.metrics["unique_participants"].cost + noise.metrics["doors_opened"].cost
    bound = math.exp(epsilon)

    p_without = release_frequency(noise, threshold, threshold - 1, 2 * threshold, p)
    p_with = release_frequency(noise, threshold, threshold, 2 * threshold + m, p)
    assert 0.2 < p_without < 0.8 and 0.2 < p_with < 0.8, (p_without, p_with)  # genuinely random here
    assert p_with - T <= bound * (p_without + T), (level, p_with, p_without, bound)
    assert p_without - T <= bound * (p_with + T), (level, p_with, p_without, bound)
    assert not (1.0 - T <= bound * (0.0 + T))  # a threshold on the true count would break it

    eta = math.sqrt(3 * math.log(1 / 2.5e-7) / (N * chance))
    at_k_minus_1 = release_frequency(noise, threshold, 99, 200, p)
    assert chance <= 0.01
    assert at_k_minus_1 <= (1 + eta) * chance, (level, at_k_minus_1, chance)
