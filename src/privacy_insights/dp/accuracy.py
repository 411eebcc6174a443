"""Expected error of each released metric under the configured policy (README "Privacy parameters").

Counts: the exact mean absolute error E|Z| of the noise (summed over its probability mass
function) and OpenDP's 95 % accuracy bound; relative error is E|Z| / true count. Ratios
(repeat_rate_est at a true rate of 0.3, trend_score_est at a flat trend) use the delta
method on the two noisy counts: their error is roughly normal with the standard deviation
shown, so the mean absolute error is sqrt(2 / pi) times it. "False release" is the chance
that an empty cell (true participants 0) clears k on noise alone.
"""

from __future__ import annotations

import math

import numpy as np
import opendp.prelude as dp

from privacy_insights.dp.mechanisms import PeriodMechanism, period_mechanism
from privacy_insights.dp.params import GRANULARITIES, ReleasePolicy

TRUE_COUNTS = (100, 1_000, 10_000)
REPEAT_RATE = 0.3


def _pmf(mechanism: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    support = np.arange(-int(60 * scale) - 50, int(60 * scale) + 51).astype(float)
    weights = np.exp(-np.abs(support) / scale) if mechanism == "discrete_laplace" else np.exp(-support**2 / (2 * scale**2))
    return support, weights / weights.sum()


def noise_stats(mechanism: str, scale: float) -> dict[str, float]:
    support, pmf = _pmf(mechanism, scale)
    if mechanism == "discrete_laplace":
        bound95 = dp.discrete_laplacian_scale_to_accuracy(scale, 0.05)
    else:
        bound95 = dp.discrete_gaussian_scale_to_accuracy(scale, 0.05)
    return {"mae": float(np.sum(pmf * np.abs(support))), "sd": float(math.sqrt(np.sum(pmf * support**2))),
            "bound95": float(bound95)}


def false_release(mechanism: str, scale: float, k: int) -> float:
    support, pmf = _pmf(mechanism, scale)
    return float(pmf[support >= k].sum())


def _row(name: str, mae: float, extra: str, per_count) -> str:
    cells = " | ".join(per_count(n) for n in TRUE_COUNTS)
    return f"| {name} | {mae} | {extra} | {cells} |"


def granularity_table(policy: ReleasePolicy, granularity: str) -> list[str]:
    mech: PeriodMechanism = period_mechanism(policy, granularity)
    g = policy.for_granularity(granularity)
    stats = {m: noise_stats(mech.mechanism, noise.scale) for m, noise in mech.metrics.items()}
    lines = [
        f"**{granularity}**: {mech.mechanism}, epsilon {mech.epsilon:g} per period"
        + (f" (delta {mech.delta:g}, rho {mech.rho:.4g})" if mech.rho else "")
        + f", k {g.k_min}, C = {g.max_cells_per_participant} cells, M = {g.max_opens_per_cell} opens; "
        f"chance that an empty cell's noisy participants clear k: {false_release(mech.mechanism, mech.metrics['unique_participants'].scale, g.k_min):.1e}",
        "",
        "| metric | mean abs. error | 95 % of errors within | "
        + " | ".join(f"error at true {n:,}" for n in TRUE_COUNTS) + " |",
        "|---|---|---|" + "---|" * len(TRUE_COUNTS),
    ]
    for metric in ("unique_participants", "doors_opened"):
        s = stats[metric]
        lines.append(_row(f"{metric}_est (scale {mech.metrics[metric].scale:.3g})", f"{s['mae']:.1f}", f"±{s['bound95']:.0f}",
                          lambda n, s=s: f"{s['mae'] / n:.2%}"))
    sd_p, sd_r, sd_d = stats["unique_participants"]["sd"], stats["repeaters"]["sd"], stats["doors_opened"]["sd"]
    rate_sd = lambda n: math.sqrt(sd_r**2 + (REPEAT_RATE * sd_p) ** 2) / n       # noqa: E731
    trend_sd = lambda n: math.sqrt(2) * sd_d / (4 * n)                               # noqa: E731
    k = math.sqrt(2 / math.pi)
    lines.append(_row(f"repeat_rate_est, true rate 0.3 (repeaters scale {mech.metrics['repeaters'].scale:.3g})",
                      "—", "≈ 1.96 sd (normal approx.)",
                      lambda n: f"±{k * rate_sd(n):.3f} ({k * rate_sd(n) / REPEAT_RATE:.1%})"))
    lines.append(_row("trend_score_est, flat trend 0.5", "—", "≈ 1.96 sd (normal approx.)",
                      lambda n: f"±{k * trend_sd(n):.4f} ({k * trend_sd(n) / 0.5:.2%})"))
    return lines


def parameters_markdown(policy: ReleasePolicy) -> str:
    defaults = [
        "| parameter | default | meaning |",
        "|---|---|---|",
        f"| mechanism | {policy.mechanism} | discrete Laplace (pure DP) from OpenDP; `gaussian` for discrete Gaussian (zCDP) |",
        f"| reporting_delay_hours | {policy.reporting_delay_hours} | a bucket is released once its end is this long before `as_of` (>= 72 enforced) |",
        f"| budget_window_days | {policy.budget_window_days} | rolling window over which all releases add up |",
        f"| epsilon_cap | {policy.epsilon_cap:g} | epsilon any window may hold, hour + day + week together |",
        f"| dominance_max_share | {policy.dominance_max_share:g} | suppress unless M / noisy doors_opened <= this |",
        "| metric_epsilon_shares | " + ", ".join(f"{m} {s:g}" for m, s in policy.metric_shares.items())
        + " | split of a period's epsilon across the noised counts |",
    ]
    for g in GRANULARITIES:
        p = policy.for_granularity(g)
        defaults.append(f"| {g}: epsilon / k / C / M | {p.epsilon:g} / {p.k_min} / {p.max_cells_per_participant} / "
                        f"{p.max_opens_per_cell} | per release period ({'ISO week' if g == 'week' else 'UTC day'}) |")
    body = ["\n".join(defaults), ""]
    for g in GRANULARITIES:
        body += granularity_table(policy, g) + [""]
    return "\n".join(body)
