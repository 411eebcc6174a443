"""Rolling-window budget: releases of all granularities add up inside any window."""

from __future__ import annotations

from datetime import date, timedelta

from privacy_insights.dp.budget import BudgetLedger, Charge


def day(d: int) -> date:
    return date(2026, 10, 1) + timedelta(days=d)


def test_charges_up_to_the_cap_then_denies():
    ledger = BudgetLedger(window_days=30, cap=2.0)
    assert ledger.try_charge(Charge("day", day(0), 1, 1.0))[0]
    assert ledger.try_charge(Charge("day", day(1), 1, 1.0))[0]
    ok, why, *_ = ledger.try_charge(Charge("day", day(2), 1, 1.0))
    assert not ok
    assert "needs epsilon 1" in why and "has 2 of the cap 2 spent" in why
    assert len(ledger.charges) == 2


def test_window_rolls_forward():
    ledger = BudgetLedger(window_days=30, cap=1.0)
    assert ledger.try_charge(Charge("day", day(0), 1, 1.0))[0]
    assert not ledger.try_charge(Charge("day", day(29), 1, 1.0))[0]  # same 30-day window as day 0
    assert ledger.try_charge(Charge("day", day(30), 1, 1.0))[0]  # day 0 has left every window with it


def test_granularities_share_the_budget():
    ledger = BudgetLedger(window_days=7, cap=1.0)
    assert ledger.try_charge(Charge("week", day(0), 7, 0.6))[0]
    assert not ledger.try_charge(Charge("day", day(3), 1, 0.5))[0]  # inside the week's period
    assert ledger.try_charge(Charge("hour", day(3), 1, 0.4))[0]


def test_a_later_release_counts_against_an_earlier_period():
    """Windows after the candidate matter too: releases are not always in time order."""
    ledger = BudgetLedger(window_days=10, cap=1.0)
    assert ledger.try_charge(Charge("day", day(9), 1, 1.0))[0]
    assert not ledger.try_charge(Charge("day", day(5), 1, 0.1))[0]
    assert ledger.try_charge(Charge("day", day(-1), 1, 1.0))[0]  # 10 days apart: never in one window


def test_week_period_overlaps_windows_by_its_days():
    ledger = BudgetLedger(window_days=3, cap=1.0)
    assert ledger.try_charge(Charge("week", day(0), 7, 1.0))[0]
    assert not ledger.try_charge(Charge("day", day(8), 1, 0.5))[0]  # window day6..day8 overlaps the week
    assert ledger.try_charge(Charge("day", day(9), 1, 0.5))[0]


def test_reservations_count_like_charges():
    ledger = BudgetLedger(window_days=7, cap=1.0)
    reserved = (Charge("week", day(0), 7, 0.6),)
    ok, why, *_ = ledger.try_charge(Charge("day", day(2), 1, 0.5), reserved)
    assert not ok and "reserved for higher-priority periods" in why
    assert ledger.try_charge(Charge("day", day(2), 1, 0.4), reserved)[0]
    assert ledger.charges == [Charge("day", day(2), 1, 0.4)]  # a reservation is never recorded


def test_delta_has_its_own_cap():
    ledger = BudgetLedger(window_days=30, cap=100.0, delta_cap=2e-6)
    assert ledger.try_charge(Charge("day", day(0), 1, 0.5, 1e-6))[0]
    assert ledger.try_charge(Charge("day", day(1), 1, 0.5, 1e-6))[0]
    ok, why, epsilon, delta = ledger.try_charge(Charge("day", day(2), 1, 0.5, 1e-6))
    assert not ok and "delta cap" in why and delta == 2e-6
