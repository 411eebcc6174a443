"""Rolling-window privacy budget across the hour, day and week releases.

The same events feed every granularity, so their epsilons (and, for the Gaussian option,
their deltas) add up (basic composition). A charge counts against every window of
``window_days`` consecutive days that overlaps its period; a new charge is allowed only
if, in every such window, what is already charged plus what is reserved plus the new
charge stays within the caps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

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


@dataclass
class BudgetLedger:
    window_days: int
    cap: float
    delta_cap: float = 0.0
    charges: list[Charge] = field(default_factory=list)

    def _spent_in(self, window_start: date, extra: tuple[Charge, ...] = ()) -> tuple[float, float]:
        window_end = window_start + timedelta(days=self.window_days)
        inside = [c for c in (*self.charges, *extra) if c.overlaps(window_start, window_end)]
        return sum(c.epsilon for c in inside), sum(c.delta for c in inside)

    def windows(self, candidate: Charge) -> list[date]:
        """Start days of every window that overlaps ``candidate``."""
        first = candidate.period_start - timedelta(days=self.window_days - 1)
        return [first + timedelta(days=i) for i in range((candidate.period_end - first).days)]

    def worst_window(self, candidate: Charge, reserved: tuple[Charge, ...] = ()) -> tuple[date, float, float]:
        """The window overlapping ``candidate`` with the most epsilon spent or reserved, and its totals."""
        best = max(
            ((s, *self._spent_in(s, reserved)) for s in self.windows(candidate)),
            key=lambda row: (row[1], row[2], row[0]),
        )
        return best

    def try_charge(self, candidate: Charge, reserved: tuple[Charge, ...] = ()) -> tuple[bool, str, float, float]:
        """Record the charge if it fits beside the charges and ``reserved``.

        Returns (allowed, explanation, epsilon and delta of the busiest window after it).
        """
        for window_start in self.windows(candidate):
            spent, spent_delta = self._spent_in(window_start, reserved)
            window_end = window_start + timedelta(days=self.window_days)
            over_epsilon = spent + candidate.epsilon > self.cap + TOLERANCE
            over_delta = candidate.delta > 0 and spent_delta + candidate.delta > self.delta_cap + TOLERANCE * 1e-6
            if over_epsilon or over_delta:
                what = (
                    f"epsilon {candidate.epsilon:g}, but the {self.window_days}-day window "
                    f"{window_start}..{window_end - timedelta(days=1)} has {spent:g} of the cap {self.cap:g}"
                    if over_epsilon
                    else f"delta {candidate.delta:g}, but the {self.window_days}-day window "
                    f"{window_start}..{window_end - timedelta(days=1)} has {spent_delta:g} of the delta cap "
                    f"{self.delta_cap:g}"
                )
                reserved_note = " spent or reserved for higher-priority periods" if reserved else " spent"
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
