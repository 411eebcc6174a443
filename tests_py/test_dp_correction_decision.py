"""Whether a period is corrected must not depend on its data (issue 28 point 2).

Corrections used to be decided on an exact late-event count against min_late_events: 99 late
events of a day meant no second release, 100 a visible version 2 and a ledger charge, a
decision with unbounded privacy loss (one person's late event flips it). They now follow a
schedule that reads the ledger, the clock and the loader's watermark only, so neighbouring
data sets give exactly the same decision: the test builds one warehouse, copies it, lands 99
late events of a released day in one copy and 100 in the other (the old threshold), builds
both with corrections on and compares every ledger decision. Before the fix (min_late_events
100) the copies differed: one corrected the day, the other did not.
"""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from harness import DbtProject, default_release

pytestmark = pytest.mark.e2e

SPOTS = ["--selector", "spots_pipeline", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
GENERATE = [
    *("--events", "3000", "--users", "300", "--cities", "jp-tyo", "--start", "2026-10-05", "--days", "20"),
    *("--outside-city-share", "0", "--seed", "5", "--tables", "spots"),
]
CORRECTIONS = default_release() | {"corrections": {"enabled": True, "after_days": 3}}


def build_vars(as_of: str, **release) -> dict:
    return {"as_of": as_of, "release_start_date": "2026-10-05", "spots_release": default_release() | release}


def land_late_events(project: DbtProject, day: str, count: int) -> None:
    """``count`` door-open events of ``day`` that arrive now, after the day was released."""
    con = duckdb.connect(project.env["PRIVACY_INSIGHTS_DUCKDB"])
    try:
        con.execute(f"""insert into raw.spots_interaction_events
            select * replace (event_id || '-late' as event_id, now() + interval 2 hour as ingested_at,
                              timestamptz '{day} 12:00:00+00' as occurred_at, 'door_opened' as event_type)
            from raw.spots_interaction_events where user_id is not null and latitude between -90 and 90
                and door_type in ('spot', 'event', 'community') and category != 'gambling' limit {count}""")
    finally:
        con.close()


def decisions(project: DbtProject) -> list[tuple]:
    return project.query(
        "select time_granularity, cast(release_period_start as date), release_version, purpose, status, epsilon "
        "from outside_buyer.spots_privacy_budget_ledger order by 1, 2, 3"
    )


def test_neighbouring_late_counts_get_the_same_correction_decision(dev_project: DbtProject, tmp_path, extension_dir):
    project = dev_project
    project.generate(*GENERATE)
    project.dbt("build", *SPOTS, vars=build_vars("2026-10-13T00:00:00Z"))  # days 10-05 .. 10-09 released
    frozen = project.query("select * from outside_buyer.spots_insights_v1 order by all")

    # late data is counted against the frozen release, never folded into it
    land_late_events(project, "2026-10-06", 40)
    project.dbt("build", *SPOTS, vars=build_vars("2026-10-13T00:00:00Z"))
    assert project.query("select * from outside_buyer.spots_insights_v1 order by all") == frozen
    late = project.query(
        "select cast(period_start as date), late_events from ops.ops_spots_late_events "
        "where granularity = 'day' and late_events > 0"
    )
    assert late == [(date(2026, 10, 6), 40)]

    # neighbours at the old threshold: 99 and 100 late events of 2026-10-07
    copies = {}
    for count in (99, 100):
        copy = DbtProject(tmp_path / f"late_{count}", "dev", extension_dir)
        shutil.copyfile(project.env["PRIVACY_INSIGHTS_DUCKDB"], copy.env["PRIVACY_INSIGHTS_DUCKDB"])
        land_late_events(copy, "2026-10-07", count)
        copy.dbt("build", *SPOTS, vars=build_vars("2026-10-16T00:00:00Z") | {"spots_release": CORRECTIONS})
        copies[count] = decisions(copy)
    assert copies[99] == copies[100]
    corrected = [(d, v, s) for g, d, v, purpose, s, _ in copies[100] if purpose == "correction"]
    # released at the cutoff 10-10, less than 3 days after their end: 10-07, 10-08, 10-09, due by the
    # new cutoff 10-13 (10-05 and 10-06 were already 3 days old when released: no correction)
    assert corrected == [(date(2026, 10, 7 + i), 2, "charged") for i in range(3)]
