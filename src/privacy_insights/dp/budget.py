"""Rolling-window privacy budget across the hour, day and week releases.

The same events feed all three granularities, so their epsilons add up (basic
composition). A release charges its epsilon to every day its period covers; a new
release is allowed only if, for every window of ``window_days`` consecutive days that
overlaps its period, the epsilon of all releases overlapping that window plus its own
stays within ``cap``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

TOLERANCE = 1e-9  # float slack when comparing sums of epsilons with the cap


@dataclass(frozen=True)
class Charge:
    granularity: str
    period_start: date
    period_days: int
    epsilon: float

    @property
    def period_end(self) -> date:  # exclusive
        return self.period_start + timedelta(days=self.period_days)


@dataclass
class BudgetLedger:
    window_days: int
    cap: float
    charges: list[Charge] = field(default_factory=list)

    def _spent_in(self, window_start: date) -> float:
        window_end = window_start + timedelta(days=self.window_days)
        return sum(c.epsilon for c in self.charges if c.period_start < window_end and c.period_end > window_start)

    def worst_window(self, candidate: Charge) -> tuple[date, float]:
        """The window overlapping ``candidate`` with the most epsilon spent, and that amount."""
        first = candidate.period_start - timedelta(days=self.window_days - 1)
        starts = [first + timedelta(days=i) for i in range((candidate.period_end - first).days)]
        return max(((s, self._spent_in(s)) for s in starts), key=lambda pair: (pair[1], pair[0]))

    def try_charge(self, candidate: Charge) -> tuple[bool, str]:
        """Record the charge if it fits; returns (allowed, explanation)."""
        window_start, spent = self.worst_window(candidate)
        window_end = window_start + timedelta(days=self.window_days)
        if spent + candidate.epsilon > self.cap + TOLERANCE:
            return False, (
                f"{candidate.granularity} period {candidate.period_start} needs epsilon {candidate.epsilon:g}, "
                f"but the {self.window_days}-day window {window_start}..{window_end - timedelta(days=1)} "
                f"has {spent:g} of the cap {self.cap:g} spent"
            )
        self.charges.append(candidate)
        return True, (
            f"{candidate.granularity} period {candidate.period_start} charged epsilon {candidate.epsilon:g}; "
            f"busiest overlapping window now at {spent + candidate.epsilon:g} of {self.cap:g}"
        )
