"""Rolling-window privacy budget across the hour, day and week releases.

The same events feed every granularity, so their epsilons (and, for the Gaussian option,
their deltas) add up (basic composition). A charge counts against every window of
``window_days`` consecutive days that overlaps its period; a new charge is allowed only
if, in every such window, what is already charged plus what is reserved plus the new
charge stays within the caps. ``extra_caps`` adds windows of other lengths with their own
caps (the optional 365-day annual cap), checked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

TOLERANCE = 1e-9  # float slack when comparing sums with the caps


@dataclass(frozen=True)
class Charge:
    granularity: str
    period_start: date
    period_days: int
    epsilon: float
    delta: float = 0.0

    @property
    def period_end(self) -> date:  # exclusive
        return self.period_start + timedelta(days=self.period_days)

    def overlaps(self, window_start: date, window_end: date) -> bool:
        return self.period_start < window_end and self.period_end > window_start


def window_totals(
    charges: list[Charge] | tuple[Charge, ...], window_days: int, starts: list[date]
) -> tuple[np.ndarray, np.ndarray]:
    """Epsilon and delta of ``charges`` overlapping each window of ``window_days`` starting at ``starts``."""
    if not charges or not starts:
        return np.zeros(len(starts)), np.zeros(len(starts))
    first = np.array([c.period_start.toordinal() for c in charges])
    end = first + np.array([c.period_days for c in charges])
    epsilon = np.array([c.epsilon for c in charges], dtype=float)
    delta = np.array([c.delta for c in charges], dtype=float)
    window_start = np.array([s.toordinal() for s in starts])[:, None]
    inside = (first[None, :] < window_start + window_days) & (end[None, :] > window_start)
    return inside @ epsilon, inside @ delta


@dataclass
class BudgetLedger:
    window_days: int
    cap: float
    delta_cap: float = 0.0
    charges: list[Charge] = field(default_factory=list)
    extra_caps: list[tuple[int, float, float]] = field(default_factory=list)  # (window days, cap, delta cap)

    def _spent_in(self, window_start: date, extra: tuple[Charge, ...] = ()) -> tuple[float, float]:
        epsilon, delta = window_totals((*self.charges, *extra), self.window_days, [window_start])
        return float(epsilon[0]), float(delta[0])

    def windows(self, candidate: Charge, window_days: int | None = None) -> list[date]:
        """Start days of every window (of the budget window's length by default) that overlaps ``candidate``."""
        days = window_days or self.window_days
        first = candidate.period_start - timedelta(days=days - 1)
        return [first + timedelta(days=i) for i in range((candidate.period_end - first).days)]

    def worst_window(self, candidate: Charge, reserved: tuple[Charge, ...] = ()) -> tuple[date, float, float]:
        """The window overlapping ``candidate`` with the most epsilon spent or reserved, and its totals."""
        starts = self.windows(candidate)
        epsilon, delta = window_totals((*self.charges, *reserved), self.window_days, starts)
        best = max(zip(starts, epsilon, delta, strict=True), key=lambda row: (row[1], row[2], row[0]))
        return best[0], float(best[1]), float(best[2])

    def try_charge(self, candidate: Charge, reserved: tuple[Charge, ...] = ()) -> tuple[bool, str, float, float]:
        """Record the charge if it fits beside the charges and ``reserved``.

        Returns (allowed, explanation, epsilon and delta of the busiest window after it).
        """
        for window_days, cap, delta_cap in [(self.window_days, self.cap, self.delta_cap), *self.extra_caps]:
            starts = self.windows(candidate, window_days)
            spent_all, spent_delta_all = window_totals((*self.charges, *reserved), window_days, starts)
            over_epsilon = spent_all + candidate.epsilon > cap + TOLERANCE
            over_delta = (candidate.delta > 0) & (spent_delta_all + candidate.delta > delta_cap + TOLERANCE * 1e-6)
            over = np.flatnonzero(over_epsilon | over_delta)
            if len(over):
                i = int(over[0])
                window_start, spent, spent_delta = starts[i], float(spent_all[i]), float(spent_delta_all[i])
                window_end = window_start + timedelta(days=window_days)
                what = (
                    f"epsilon {candidate.epsilon:g}, but the {window_days}-day window "
                    f"{window_start}..{window_end - timedelta(days=1)} has {spent:g} of the cap {cap:g}"
                    if over_epsilon[i]
                    else f"delta {candidate.delta:g}, but the {window_days}-day window "
                    f"{window_start}..{window_end - timedelta(days=1)} has {spent_delta:g} of the delta cap "
                    f"{delta_cap:g}"
                )
                reserved_note = " spent or reserved for higher-priority periods" if reserved else " spent"
                if window_days != self.window_days:  # report the budget window's figures, as for any decision
                    _, window_epsilon, window_delta = self.worst_window(candidate)
                    return (
                        False,
                        f"{candidate.granularity} period {candidate.period_start} needs {what}{reserved_note} "
                        "(the annual cap)",
                        window_epsilon,
                        window_delta,
                    )
                return (
                    False,
                    f"{candidate.granularity} period {candidate.period_start} needs {what}{reserved_note}",
                    spent,
                    spent_delta,
                )
        self.charges.append(candidate)
        _, epsilon, delta = self.worst_window(candidate)
        return (
            True,
            (
                f"{candidate.granularity} period {candidate.period_start} charged epsilon {candidate.epsilon:g}; "
                f"busiest overlapping window now at {epsilon:g} of {self.cap:g}"
            ),
            epsilon,
            delta,
        )
