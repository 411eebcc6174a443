"""Operations marts and alerts (contract 000 §10, 032 and 038) on real builds.

Each alert is forced by a real condition and checked not to fire otherwise:
- budget_above_threshold and budget_exhausted: full builds with a low epsilon_cap, where the
  release step itself binds (periods denied), fire; the default cap does not. A rerun of the
  ops models against the same ledger with caps on either side of the alert share checks the
  boundary.
- release_stale: after a build at as_of T, the ops models alone rerun at a later as_of (no
  release runs, so the day releases fall behind) fire once the overdue time passes the
  release job's max_staleness_hours (3 h for spots_insights_v1_hourly), not before.
One DuckDB build per condition and one PostgreSQL build (target ci) per module; small data.
"""

from __future__ import annotations

import pytest

from harness import DbtProject, default_release, scratch_database

pytestmark = pytest.mark.e2e

GENERATE = (
    "--events 3000 --users 300 --cities jp-tyo --start 2026-10-05 --days 20 --outside-city-share 0 --seed 5 "
    "--tables spots"
).split()
AS_OF = "2026-10-22T00:00:00Z"  # days 10-05..10-18 and weeks 10-05, 10-12 eligible (72 h delay)
OPS = ["ops_spots_budget_usage", "ops_spots_release_freshness", "ops_spots_release_holds", "ops_alerts"]
BUILD = ["build", "--select", "+ops_alerts", "+ops_buyer_export_stats", "--indirect-selection", "cautious"]


def build_vars(as_of: str = AS_OF, **release) -> dict:
    return {"as_of": as_of, "release_start_date": "2026-10-05", "spots_release": default_release() | release}


def alerts(project: DbtProject, schema: str = "ops") -> dict[str, tuple]:
    rows = project.query(
        f"select alert_key, alert_type, subject, observed, threshold, detected_at, details from {schema}.ops_alerts"
    )
    return {r[0]: r[1:] for r in rows}


def busiest_open_window(project: DbtProject) -> float:
    return project.query("select max(window_share_spent) from ops.ops_spots_budget_usage where window_open")[0][0]


def rerun_ops(project: DbtProject, as_of: str = AS_OF, **release) -> dict[str, tuple]:
    """The ops models alone (no release step) at another clock or cap, against the same ledger."""
    project.dbt("run", "--select", *OPS, vars=build_vars(as_of, **release))
    return alerts(project)


@pytest.fixture(scope="module")
def default_cap(extension_dir, tmp_path_factory) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp("ops_default") / "dev", "dev", extension_dir)
    project.generate(*GENERATE)
    project.dbt(*BUILD, vars=build_vars())
    return project


def built_with_cap(extension_dir, tmp_path_factory, cap: float) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp(f"ops_cap_{cap:g}") / "dev", "dev", extension_dir)
    project.generate(*GENERATE)
    project.dbt(*BUILD, vars=build_vars(epsilon_cap=cap))
    return project


@pytest.fixture(scope="module")
def cap_spent(extension_dir, tmp_path_factory) -> DbtProject:
    """Cap 1.0: weeks 10-05 and 10-12 (0.5 each) fill it; every day is denied."""
    return built_with_cap(extension_dir, tmp_path_factory, 1.0)


@pytest.fixture(scope="module")
def cap_reserved(extension_dir, tmp_path_factory) -> DbtProject:
    """Cap 3.0: the release step holds 2.5 for the five weeks of a window, so every day (0.75) is
    denied while only 1.0 is spent (a third of the cap, under the alert share)."""
    return built_with_cap(extension_dir, tmp_path_factory, 3.0)


def test_no_alert_fires_on_a_fresh_release_under_the_default_cap(default_cap: DbtProject):
    assert alerts(default_cap) == {}
    # 14 days x 0.75 + 2 weeks x 0.5 in the busiest window: 11.5 of 30
    assert busiest_open_window(default_cap) == pytest.approx(11.5 / 30)
    freshness = default_cap.query(
        "select time_granularity, cast(last_released_period_start as date), cast(last_eligible_period_start as date), "
        "periods_behind, hours_overdue, is_stale from ops.ops_spots_release_freshness order by 1"
    )
    assert [(g, str(r), str(e), n, h, s) for g, r, e, n, h, s in freshness] == [
        ("day", "2026-10-18", "2026-10-18", 0, 0.0, False),
        ("week", "2026-10-12", "2026-10-12", 0, 0.0, False),
    ]


def test_budget_usage_matches_the_ledger(default_cap: DbtProject):
    """Spent per window and granularity is the ledger's charges overlapping the window; projected
    adds every undecided period at its configured epsilon (day 0.75, week 0.5)."""
    rows = default_cap.query(
        "select cast(window_start as date), time_granularity, periods_charged, periods_pending, epsilon_spent, "
        "epsilon_projected, window_epsilon_spent, window_epsilon_remaining from ops.ops_spots_budget_usage "
        "where window_start = timestamp '2026-10-05'"
    )
    by_granularity = {g: rest for _, g, *rest in rows}
    # window 10-05..11-03: days 10-05..10-18 charged, 10-19..11-03 pending; weeks 10-05, 10-12 charged,
    # 10-19, 10-26, 11-02 pending
    assert by_granularity["day"] == [
        14,
        16,
        pytest.approx(10.5),
        pytest.approx(22.5),
        pytest.approx(11.5),
        pytest.approx(18.5),
    ]
    assert by_granularity["week"] == [
        2,
        3,
        pytest.approx(1.0),
        pytest.approx(2.5),
        pytest.approx(11.5),
        pytest.approx(18.5),
    ]
    ledger_total = default_cap.query(
        "select sum(epsilon) from outside_buyer.spots_privacy_budget_ledger where status = 'charged'"
    )[0][0]
    assert ledger_total == pytest.approx(11.5)


def denied(project: DbtProject) -> int:
    return project.query("select count(*) from outside_buyer.spots_privacy_budget_ledger where status = 'denied'")[0][0]


def test_budget_alerts_fire_when_a_low_cap_is_spent(cap_spent: DbtProject):
    assert denied(cap_spent) == 14, "the cap did not bind: the condition is not forced"
    fired = alerts(cap_spent)
    window_key = "budget_above_threshold:2026-09-20..2026-10-19"  # the earliest busiest open window
    assert sorted(fired) == [window_key, "budget_exhausted:day"], fired
    alert_type, subject, observed, threshold, detected_at, details = fired[window_key]
    assert (observed, threshold, str(detected_at)) == (1.0, 0.9, "2026-10-22 00:00:00")
    assert observed == pytest.approx(busiest_open_window(cap_spent))
    assert "epsilon 1.0 of the cap 1.0" in details
    # the subject is the busiest open window (the earliest of equals), first..last day
    first, last = subject.split("..")
    share = cap_spent.query(
        f"select max(window_share_spent), bool_and(window_open) from ops.ops_spots_budget_usage "
        f"where window_start = timestamp '{first}' and cast(window_end as date) = date '{last}' + 1"
    )
    assert share == [(1.0, True)]
    # the busiest open window holds all 14 denied days
    assert fired["budget_exhausted:day"][2] == 14.0
    # denied periods are published (suppressed): the release is not stale
    assert not [k for k in fired if k.startswith("release_stale:")]


def test_budget_exhausted_fires_below_the_share_when_weeks_hold_the_budget(cap_reserved: DbtProject):
    assert denied(cap_reserved) == 14
    assert busiest_open_window(cap_reserved) == pytest.approx(1.0 / 3)
    fired = alerts(cap_reserved)
    assert list(fired) == ["budget_exhausted:day"], fired
    assert fired["budget_exhausted:day"][2:4] == (14.0, 0.0)


def test_budget_alert_threshold_boundary(default_cap: DbtProject):
    """The same ledger (11.5 in the busiest open window) under a lowered cap: 11.5 / 12.5 = 0.92
    fires, 11.5 / 13 = 0.88 does not at the default share 0.9, and does at a share of 0.85."""
    fired = rerun_ops(default_cap, epsilon_cap=12.5)
    assert [v[0] for v in fired.values()] == ["budget_above_threshold"]
    assert next(iter(fired.values()))[2:4] == (pytest.approx(11.5 / 12.5), 0.9)
    assert rerun_ops(default_cap, epsilon_cap=13.0) == {}
    default_cap.dbt("run", "--select", *OPS, vars={**build_vars(epsilon_cap=13.0), "ops_budget_alert_share": 0.85})
    assert [v[0] for v in alerts(default_cap).values()] == ["budget_above_threshold"]


def test_release_stale_fires_past_the_policy_and_not_before(default_cap: DbtProject):
    """No release after T: day 10-19 becomes eligible at 10-23 00:00 (its end + 72 h). At 02:00 it
    is 2 h overdue (policy spots_insights_v1_hourly: max 3 h), at 04:00 4 h: stale. Week 10-19 is
    not eligible before 10-29, so the week stays fresh."""
    assert rerun_ops(default_cap, "2026-10-23T02:00:00Z") == {}
    fired = rerun_ops(default_cap, "2026-10-23T04:00:00Z")
    assert list(fired) == ["release_stale:day"]
    alert_type, subject, observed, threshold, detected_at, details = fired["release_stale:day"]
    assert (alert_type, subject, observed, threshold) == ("release_stale", "day", 4.0, 3.0)
    assert str(detected_at) == "2026-10-23 04:00:00"
    assert "1 eligible day period(s) not released" in details and "spots_insights_v1_hourly" in details
    # the nightly policy tolerates 30 h
    default_cap.dbt(
        "run",
        "--select",
        *OPS,
        vars={**build_vars("2026-10-23T04:00:00Z"), "ops_release_job": "spots_insights_v1_nightly"},
    )
    assert alerts(default_cap) == {}
    # two days later: three days behind, still fresh weekly
    fired = rerun_ops(default_cap, "2026-10-25T00:00:00Z")
    assert list(fired) == ["release_stale:day"] and fired["release_stale:day"][2] == 48.0
    assert default_cap.query(
        "select periods_behind from ops.ops_spots_release_freshness where time_granularity = 'day'"
    ) == [(3,)]


def test_buyer_export_stats_count_the_audit_by_outcome_and_rule(default_cap: DbtProject):
    """No request yet: the stats are empty, typed and keyed (the per-request audit is ops_buyer_request_log)."""
    assert default_cap.query("select count(*) from ops.ops_buyer_export_stats") == [(0,)]
    assert [c for c, _ in default_cap.columns("ops", "ops_buyer_export_stats")] == [
        "buyer_id",
        "request_day",
        "channel",
        "outcome",
        "rule",
        "requests",
        "rows_delivered",
        "max_latency_ms",
    ]


# ---- PostgreSQL (target ci, prefixed schemas, its own database) -----------------------------


@pytest.fixture(scope="module")
def on_postgres(postgres_available, extension_dir, tmp_path_factory) -> DbtProject:
    with scratch_database() as name:
        project = DbtProject(tmp_path_factory.mktemp("ops_pg") / "postgres", "ci", extension_dir, pg_database=name)
        project.generate(*GENERATE)
        project.dbt(*BUILD, vars=build_vars())
        yield project


@pytest.mark.postgres
def test_ops_marts_build_on_postgres_and_alerts_are_readable(on_postgres: DbtProject):
    assert {"ops_alerts", "ops_buyer_export_stats", "ops_spots_budget_usage", "ops_spots_release_freshness"} <= set(
        on_postgres.tables("ci_ops")
    )
    assert on_postgres.query("select count(*) from ci_ops.ops_alerts") == [(0,)]
    busiest = on_postgres.query("select max(window_share_spent) from ci_ops.ops_spots_budget_usage where window_open")
    assert busiest[0][0] == pytest.approx(11.5 / 30)
    # primary keys reach PostgreSQL (publish_primary_key)
    keys = on_postgres.query(
        "select conrelid::regclass::text from pg_constraint where contype = 'p' "
        "and connamespace = 'ci_ops'::regnamespace order by 1"
    )
    assert {
        "ci_ops.ops_alerts",
        "ci_ops.ops_spots_budget_usage",
        "ci_ops.ops_spots_release_freshness",
        "ci_ops.ops_buyer_export_stats",
    } <= {k for (k,) in keys}
    # the stale alert on PostgreSQL too: the ops models alone at a later clock
    on_postgres.dbt("run", "--select", *OPS, vars=build_vars("2026-10-23T04:00:00Z"))
    assert [r[0] for r in on_postgres.query("select alert_key from ci_ops.ops_alerts")] == ["release_stale:day"]
