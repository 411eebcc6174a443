"""Expected error of each released metric under the configured policy (docs/privacy_reviewer.md "Privacy parameters").

Counts: the exact mean absolute error E|Z| of each level's noise (summed over its probability
mass function) and OpenDP's 95 % accuracy bound; relative error is E|Z| / true count. These
are the errors of a cell's own measurement: consistency post-processing combines several
measurements of a city and usually does better. The release threshold of each level and
the chance that a cell with k - 1 true participants clears it come from ``thresholds``.
Ratios: the participants from which a cell's repeat rate is published whatever its value
(its 95 % margin at rate 1, the largest, within ``ratio_moe95_bound``; module ``ratios``).
"""

from __future__ import annotations

import math

import numpy as np

from privacy_insights.dp.mechanisms import period_mechanism
from privacy_insights.dp.params import GRANULARITIES, ReleasePolicy
from privacy_insights.dp.ratios import Z95
from privacy_insights.dp.thresholds import margin_of_error, release_threshold, tail, variance

TRUE_COUNTS = (100, 1_000, 10_000)


def mean_absolute_error(family: str, scale: float) -> float:
    support = np.arange(1, int(80 * scale) + 50)
    # E|Z| = 2 * sum_{j >= 1} P(Z >= j) for a symmetric integer distribution
    return float(2 * sum(tail(family, scale, int(j)) for j in support))


def repeat_rate_published_from(family: str, scale_repeaters: float, scale_participants: float, bound: float) -> int:
    """Fewest noisy participants at which a repeat rate's 95 % margin is within ``bound`` at any rate."""
    return math.ceil(Z95 * math.sqrt(variance(family, scale_repeaters) + variance(family, scale_participants)) / bound)


def granularity_table(policy: ReleasePolicy, granularity: str) -> list[str]:
    mech = period_mechanism(policy, granularity)
    g = policy.for_granularity(granularity)
    state = "enabled" if g.enabled else "disabled by default"
    lines = [
        f"**{granularity}** ({state}): {mech.mechanism}, epsilon {mech.epsilon:g} per period"
        + (f" (delta {mech.delta:g}, rho {mech.rho:.4g})" if mech.rho else "")
        + f", k {g.k_min}, at most C_L cells of each level per participant per period, "
        f"M = {g.max_opens_per_participant} doors opened per cell",
        "",
        "| level | share of epsilon | C_L | measured when city participants >= "
        "| participants: scale / mean abs. error / 95 % "
        "within | release threshold (false release at k - 1) | doors opened: scale / 95 % within | "
        + " | ".join(f"participants error at {n:,}" for n in TRUE_COUNTS)
        + f" | repeat rate published from (margin <= {policy.ratio_moe95_bound:g}) |",
        "|---|---|---|---|---|---|---|" + "---|" * len(TRUE_COUNTS) + "---|",
    ]
    for name, level in policy.levels(granularity).items():
        noise = mech.level(name)
        participants, doors = noise.metrics["unique_participants"], noise.metrics["doors_opened"]
        mae = mean_absolute_error(mech.family, participants.scale)
        threshold, chance = release_threshold(
            mech.family, participants.scale, g.k_min, policy.false_release_probability
        )
        cells = " | ".join(f"{mae / n:.2%}" for n in TRUE_COUNTS)
        ratio_from = repeat_rate_published_from(
            mech.family, noise.metrics["repeaters"].scale, participants.scale, policy.ratio_moe95_bound
        )
        lines.append(
            f"| {name} | {level.epsilon_share:g} | {level.max_cells_per_participant} | "
            f"{level.min_city_participants:,} | {participants.scale:.3g} / "
            f"{mae:.1f} / ±{margin_of_error(mech.family, participants.scale):.0f} | {threshold} ({chance:.2%}) | "
            f"{doors.scale:.3g} / ±{margin_of_error(mech.family, doors.scale):.0f} | {cells} | "
            f"{ratio_from:,} participants |"
        )
    return lines


def parameters_markdown(policy: ReleasePolicy) -> str:
    defaults = [
        "| parameter | default | meaning |",
        "|---|---|---|",
        f"| mechanism | {policy.mechanism} | discrete Laplace (pure DP) from OpenDP; "
        "`gaussian` for discrete Gaussian (zCDP) |",
        f"| reporting_delay_hours | {policy.reporting_delay_hours} "
        "| a bucket is released once its end is this long before `as_of` (>= 72 enforced) |",
        f"| budget_window_days | {policy.budget_window_days} | rolling window over which all releases add up |",
        f"| epsilon_cap | {policy.epsilon_cap:g} | epsilon any window may hold, hour + day + week together |",
        f"| false_release_probability | {policy.false_release_probability:g} "
        "| chance that a cell with k - 1 true participants clears its release threshold |",
        f"| dominance_max_share | {policy.dominance_max_share:g} "
        "| suppress unless M / max(noisy doors opened, noisy participants) <= this |",
        "| metric_epsilon_shares | "
        + ", ".join(f"{m} {s:g}" for m, s in policy.metric_shares.items())
        + " | split of each level's epsilon across the noised counts |",
        "| levels (day, week) | "
        + ", ".join(f"{name} {lv.epsilon_share:g}" for name, lv in policy.level_policies.items())
        + " | split of a period's epsilon across the measured levels |",
        "| levels (day, week): max_cells_per_participant | "
        + ", ".join(f"{name} {lv.max_cells_per_participant}" for name, lv in policy.level_policies.items())
        + " | bound C_L: cells of the level one participant adds to per period (hour: the city's) |",
        f"| ratio_moe95_bound | {policy.ratio_moe95_bound:g} | a released row publishes a ratio (repeat_rate_est, "
        "trend_score_est) only when its 95 % margin is at most this; else null with a `*_withheld_reason` "
        "(post-processing: no privacy cost) |",
    ]
    for g in GRANULARITIES:
        p = policy.for_granularity(g)
        defaults.append(
            f"| {g}: enabled / epsilon / k / M | {str(p.enabled).lower()} / {p.epsilon:g} / {p.k_min} / "
            f"{p.max_opens_per_participant} | per release period ({'ISO week' if g == 'week' else 'UTC day'}) |"
        )
    body = ["\n".join(defaults), ""]
    for g in GRANULARITIES:
        body += granularity_table(policy, g) + [""]
    return "\n".join(body)
