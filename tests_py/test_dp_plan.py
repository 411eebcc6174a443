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


def cutoff_after(day_count: int) -> datetime:
    """The clock's cutoff (as_of less the delay, naive UTC) once ``day_count`` days since START have ended."""
    return datetime.combine(START + timedelta(days=day_count), datetime.min.time())


def built(p, day_count: int, ledger: pd.DataFrame | None = None, complete: int | None = None, granularities=("day",)):
    """One build at the clock of ``day_count`` days, landing complete through ``complete`` days (default: all)."""
    ledger = empty_ledger() if ledger is None else ledger
    through = cutoff_after(day_count if complete is None else complete)
    eligible = {
        g: [d for d in ps if d + timedelta(days=PERIOD_DAYS[g]) <= through.date()]
        for g, ps in eligible_at(day_count, granularities).items()
    }
    plan = plan_releases(p, ledger, landed_all(ledger), eligible, START, through, cutoff_after(day_count))
    as_of = (cutoff_after(day_count) + timedelta(hours=72)).replace(tzinfo=UTC)
    rows = plan.ledger_rows(p, as_of, as_of)
    return plan, (pd.concat([ledger, rows], ignore_index=True) if len(ledger) else rows)


def test_corrections_are_off_by_default_and_follow_a_schedule_when_enabled():
    """On: a period released less than after_days after its end is corrected once, by the first
    build whose cutoff is after_days past its end; the decision reads the ledger and the clock only."""
    off = policy(week__enabled=False)
    plan, ledger = built(off, 1)
    assert [(d.version, d.purpose) for d in plan.decisions] == [(1, "initial")]
    assert built(off, 10, ledger)[0].decisions[0].purpose == "initial"  # day 2.., never a correction

    on = policy(week__enabled=False, corrections={"enabled": True, "after_days": 3})
    ledger = empty_ledger()
    corrections = []
    for day in range(1, 8):
        plan, ledger = built(on, day, ledger)
        corrections += [(day, d.period_start, d.version) for d in plan.decisions if d.purpose == "correction"]
    # day i (released at day i+1) is corrected at day i+1+3
    assert corrections == [
        (4, START, 2),
        (5, START + timedelta(days=1), 2),
        (6, START + timedelta(days=2), 2),
        (7, START + timedelta(days=3), 2),
    ]
    # once only
    plan, ledger = built(on, 8, ledger)
    assert [d.period_start for d in plan.decisions if d.purpose == "correction"] == [START + timedelta(days=4)]

    # a period first released after its correction age (a catch-up build) is not corrected
    plan, ledger = built(on, 10)
    plan, ledger = built(on, 11, ledger)
    assert [d.purpose for d in plan.decisions] == ["initial", "correction"]  # only day 10-14 (released at day 10)
    assert [d.period_start for d in plan.decisions if d.purpose == "correction"] == [START + timedelta(days=7)]


def test_a_correction_waits_for_a_complete_landing_and_never_takes_an_initial_periods_budget():
    on = policy(week__enabled=False, corrections={"enabled": True, "after_days": 2})
    plan, ledger = built(on, 1)
    # the landing stalls at day 2: the correction of day 0 (due at day 3) waits
    plan, ledger = built(on, 5, ledger, complete=2)
    assert [(d.period_start, d.purpose) for d in plan.decisions] == [(START + timedelta(days=1), "initial")]
    assert [h.period_start for h in plan.held] == [START + timedelta(days=i) for i in (2, 3, 4)]
    assert {h.reason for h in plan.held} == {"landing_incomplete"}
    plan, ledger = built(on, 5, ledger)
    assert [(d.period_start, d.purpose) for d in plan.decisions][-1] == (START, "correction")

    # a cap with room for the initial periods only: every correction is denied, publishes nothing, is final
    tight = policy(week__enabled=False, epsilon_cap=30 * 0.75, corrections={"enabled": True, "after_days": 2})
    ledger = empty_ledger()
    for day in range(1, 6):
        plan, ledger = built(tight, day, ledger)
    fixes = ledger[ledger["purpose"] == "correction"]
    assert len(fixes) and set(fixes["status"]) == {"denied"}
    assert set(ledger[ledger["purpose"] == "initial"]["status"]) == {"charged"}


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


def test_a_stalled_landing_holds_periods_without_changing_what_is_charged():
    """40 daily builds whose landing stalls from day 12 to day 25 (the watermark stays at day 12,
    then catches up) charge exactly what 40 daily builds on a complete landing and one build at
    day 40 charge, under a binding cap: held periods are undecided (reserved like periods not due
    yet), and complete periods are always a prefix of the canonical order."""
    p = policy(epsilon_cap=4.5)
    stalled, steady = empty_ledger(), empty_ledger()
    held_days = set()
    for day in range(1, 41):
        complete = 12 if 12 <= day < 25 else day
        plan, stalled = built(p, day, stalled, complete=complete, granularities=("day", "week"))
        held_days |= {h.period_start for h in plan.held}
        assert all(h.reason == "landing_incomplete" for h in plan.held)
        assert not {d.period_start for d in plan.decisions} & {h.period_start for h in plan.held}
        _, steady = built(p, day, steady, granularities=("day", "week"))
    one, _ = built(p, 40, granularities=("day", "week"))
    assert held_days == {START + timedelta(days=i) for i in range(12, 24)} | {START + timedelta(days=7)}
    assert (
        charged_set(stalled)
        == charged_set(steady)
        == {(d.granularity, d.period_start) for d in one.decisions if d.status == "charged"}
    )
    assert {r.status for r in stalled.itertuples()} == {"charged", "denied"}


def test_without_a_watermark_every_period_past_the_delay_is_held():
    p = policy()
    plan = plan_releases(p, empty_ledger(), set(), {}, START, None, cutoff_after(9))
    assert plan.empty and len(plan.held) == 9 + 1  # nine days and the first week
    assert {h.reason for h in plan.held} == {"landing_incomplete"}


def test_the_annual_cap_is_enforced_by_the_same_planner():
    """Off by default (a year of days and weeks is charged); 40 at most in any 365 days when set,
    with weeks keeping their priority."""
    year = 400
    assert policy().annual_epsilon_cap is None
    capped = policy(annual_epsilon_cap=40.0)
    plan = plan_releases(capped, empty_ledger(), set(), eligible_at(year), START)
    rows = plan.ledger_rows(capped, AS_OF, AS_OF)
    charges = [
        Charge(
            r.time_granularity, pd.Timestamp(r.release_period_start).date(), PERIOD_DAYS[r.time_granularity], r.epsilon
        )
        for r in rows.itertuples()
        if r.status == "charged"
    ]
    annual = BudgetLedger(365, 40.0, 0.0, charges)
    assert max(annual.worst_window(c)[1] for c in charges) <= 40.0 + 1e-9
    assert "(the annual cap)" in next(d.reason for d in plan.decisions if d.status == "denied")
    weeks = [d for d in plan.decisions if d.granularity == "week"]
    assert all(d.status == "charged" for d in weeks[:52])  # the days reserved the year's weeks
    free = plan_releases(policy(), empty_ledger(), set(), eligible_at(year), START)
    assert all(d.status == "charged" for d in free.decisions)
