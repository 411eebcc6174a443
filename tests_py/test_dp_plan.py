"""The release plan: one decision point against the complete ledger, in one canonical order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from dp_fixtures import empty_ledger, policy
from privacy_insights.dp.budget import BudgetLedger, Charge
from privacy_insights.dp.plan import LEDGER_COLUMNS, PERIOD_DAYS, plan_releases

START = date(2026, 10, 5)  # a Monday
AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


def eligible_at(day_count: int, granularities=("day", "week")) -> dict[str, list[date]]:
    """Periods eligible once ``day_count`` days since START have ended (delay aside)."""
    out = {
        "day": [START + timedelta(days=i) for i in range(day_count)],
        "week": [START + timedelta(days=7 * i) for i in range(day_count // 7)],
    }
    return {g: out[g] for g in granularities}


def ledger_after(p, plan, previous: pd.DataFrame) -> pd.DataFrame:
    rows = plan.ledger_rows(p, AS_OF, AS_OF)
    return pd.concat([previous, rows], ignore_index=True) if len(previous) else rows


def landed_all(ledger: pd.DataFrame) -> set:
    return {
        (r.time_granularity, pd.Timestamp(r.release_period_start).date(), int(r.release_version))
        for r in ledger.itertuples()
    }


def charged_set(ledger: pd.DataFrame) -> set:
    return {
        (r.time_granularity, pd.Timestamp(r.release_period_start).date())
        for r in ledger.itertuples()
        if r.status == "charged"
    }


def test_daily_builds_and_one_build_charge_the_same_periods_under_a_binding_cap():
    p = policy(epsilon_cap=4.5)
    one = plan_releases(p, empty_ledger(), set(), eligible_at(40), START)
    one_ledger = one.ledger_rows(p, AS_OF, AS_OF)

    ledger = empty_ledger()
    for day in range(1, 41):
        plan = plan_releases(p, ledger, landed_all(ledger), eligible_at(day), START)
        ledger = ledger_after(p, plan, ledger)
    assert charged_set(ledger) == charged_set(one_ledger)
    assert {r.time_granularity for r in ledger.itertuples() if r.status == "denied"} >= {"day"}
    assert any(r.status == "charged" and r.time_granularity == "week" for r in ledger.itertuples())
    # no window above the cap
    charges = [
        Charge(
            r.time_granularity, pd.Timestamp(r.release_period_start).date(), PERIOD_DAYS[r.time_granularity], r.epsilon
        )
        for r in ledger.itertuples()
        if r.status == "charged"
    ]
    budget = BudgetLedger(30, 4.5, 0.0, charges)
    for c in charges:
        assert budget.worst_window(c)[1] <= 4.5 + 1e-9


def test_weeks_keep_priority_across_builds():
    """A day decided before its week is eligible leaves room for the week: with room for one
    week and one day in a window, the week wins even though its days came first."""
    p = policy(epsilon_cap=1.25, budget_window_days=7)  # week 0.5 + day 0.75
    ledger = empty_ledger()
    for day in range(1, 8):
        plan = plan_releases(p, ledger, landed_all(ledger), eligible_at(day), START)
        ledger = ledger_after(p, plan, ledger)
    assert ("week", START) in charged_set(ledger)


def test_a_charge_whose_rows_never_landed_is_retried_under_a_new_version_and_charged_again():
    p = policy()
    first = plan_releases(p, empty_ledger(), set(), eligible_at(2, ("day",)), START)
    ledger = first.ledger_rows(p, AS_OF, AS_OF)
    landed = {("day", START, 1)}  # the second day's rows never landed
    again = plan_releases(p, ledger, landed, eligible_at(2, ("day",)), START)
    assert [(d.granularity, d.period_start, d.version, d.purpose, d.status) for d in again.decisions] == [
        ("day", START + timedelta(days=1), 2, "retry", "charged")
    ]
    # the first charge stays spent: the retry's window counts both
    assert abs(again.decisions[0].window_epsilon - 3 * 0.75) < 1e-9


def test_a_day_leaves_room_for_the_weeks_of_its_window():
    p = policy(epsilon_cap=0.75)  # one day fits, but not beside the week reserved over it
    plan = plan_releases(p, empty_ledger(), set(), eligible_at(1, ("day",)), START)
    assert [d.status for d in plan.decisions] == ["denied"]
    assert "reserved for higher-priority periods" in plan.decisions[0].reason


def test_released_and_denied_periods_are_final():
    p = policy(epsilon_cap=0.75, week__enabled=False)
    plan = plan_releases(p, empty_ledger(), set(), eligible_at(2, ("day",)), START)
    assert [d.status for d in plan.decisions] == ["charged", "denied"]
    ledger = plan.ledger_rows(p, AS_OF, AS_OF)
    assert plan_releases(p, ledger, landed_all(ledger), eligible_at(2, ("day",)), START).empty
    # a denied period whose suppressed rows never landed is republished, never charged
    republish = plan_releases(p, ledger, {("day", START, 1)}, eligible_at(2, ("day",)), START)
    assert not republish.decisions and republish.republish == [("day", START + timedelta(days=1), 1)]


def test_corrections_are_off_by_default_and_charged_when_enabled():
    p = policy()
    plan = plan_releases(p, empty_ledger(), set(), eligible_at(1, ("day",)), START)
    ledger = plan.ledger_rows(p, AS_OF, AS_OF)
    late = {("day", START): 500}
    assert plan_releases(p, ledger, landed_all(ledger), eligible_at(1, ("day",)), START, late).empty
    on = policy(corrections={"enabled": True, "min_late_events": 100})
    corrected = plan_releases(on, ledger, landed_all(ledger), eligible_at(1, ("day",)), START, late)
    assert [(d.version, d.purpose, d.status) for d in corrected.decisions] == [(2, "correction", "charged")]
    few = {("day", START): 99}
    assert plan_releases(on, ledger, landed_all(ledger), eligible_at(1, ("day",)), START, few).empty


def test_gaussian_delta_adds_up_under_its_own_cap():
    p = policy(mechanism="gaussian", gaussian_delta=1e-6, delta_cap=3e-6, week__enabled=False)
    plan = plan_releases(p, empty_ledger(), set(), eligible_at(5, ("day",)), START)
    assert [d.status for d in plan.decisions] == ["charged"] * 3 + ["denied"] * 2
    assert "delta cap" in plan.decisions[3].reason
    rows = plan.ledger_rows(p, AS_OF, AS_OF)
    assert list(rows.columns) == LEDGER_COLUMNS
    assert rows["window_delta"].max() <= 3e-6 * (1 + 1e-9)


def test_exotic_caps_are_kept_exactly():
    for cap in (100.0, 12.25):
        p = policy(epsilon_cap=cap)
        rows = plan_releases(p, empty_ledger(), set(), eligible_at(1, ("day",)), START).ledger_rows(p, AS_OF, AS_OF)
        assert rows["epsilon_cap"].tolist() == [cap]
