"""The release decision is itself differentially private.

Two datasets differ in one participant in one cell: the cell holds k - 1 = 99
participants in D and k = 100 in D'. The added person opened M = 4 doors. A threshold on
the true count would release the cell with probability 0 under D and 1 under D'. The
release reads only the noisy participants and noisy doors opened, so its probabilities
must satisfy P(release | D') <= e^eps * P(release | D), and the same with D and D'
swapped. Here eps = eps_participants(1) + eps_doors(4) is what OpenDP's privacy maps
charge for this one-cell change, and delta is 0 for discrete Laplace.

Each dataset is released over N = 200,000 independent copies of the cell. Hoeffding:
each frequency is within t = sqrt(ln(4 / 1e-6) / (2N)) ~ 0.0062 of its probability, except
with probability 1e-6 / 2. Taking a union over the two frequencies, the asserted
inequalities, which widen each side by t, fail for a correct release with probability at
most 1e-6.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from dp_fixtures import cells, no_history, policy
from privacy_insights.dp.mechanisms import period_mechanism
from privacy_insights.dp.release import empty_release, release_granularity

N = 200_000
K = 100
M = 4
T = math.sqrt(math.log(4 / 1e-6) / (2 * N))


def release_frequency(participants: int, doors: int) -> float:
    frame = cells("day", ["2026-10-05"], n_cells=N, participants=participants, doors=doors)
    out = release_granularity(frame, "day", policy(), no_history(), empty_release(),
                              datetime(2026, 11, 1, tzinfo=timezone.utc), report=lambda _: None)
    return float((~out["privacy_suppressed"]).mean())


def test_release_decision_is_dp_at_the_k_boundary():
    mech = period_mechanism(policy(), "day")
    epsilon = mech.metrics["unique_participants"].measurement.map(1) + mech.metrics["doors_opened"].measurement.map(M)
    bound = math.exp(epsilon)

    p_without = release_frequency(K - 1, 300)       # D: k - 1 participants
    p_with = release_frequency(K, 300 + M)          # D': one more participant with M doors opened

    # The decision is genuinely random at the boundary, not a step.
    assert 0.2 < p_without < 0.8 and 0.2 < p_with < 0.8, (p_without, p_with)
    assert p_with - T <= bound * (p_without + T) + mech.delta, (p_with, p_without, bound)
    assert p_without - T <= bound * (p_with + T) + mech.delta, (p_with, p_without, bound)

    # A threshold on the true count (0 % vs 100 %) would break the same inequality.
    assert not (1.0 - T <= bound * (0.0 + T) + mech.delta)
