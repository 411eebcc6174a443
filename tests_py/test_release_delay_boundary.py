"""The 72-hour delay at its boundary, through the real dbt models (DuckDB and PostgreSQL).

A bucket ending exactly reporting_delay_hours before as_of is released; with as_of one
second earlier it is not. Checked on the staged hour buckets and the eligible periods.
"""

from __future__ import annotations

import pytest

from harness import DbtProject

pytestmark = pytest.mark.e2e

DAY_END = "2026-10-14 00:00:00"  # end of the day 2026-10-13 and of its last hour


def _latest(project: DbtProject, as_of: str) -> tuple:
    project.dbt("run", "--select", "stg_spots__interaction_events", "+int_spots__cell_domain", vars={"as_of": as_of})
    hour = project.query("select max(hour_start) from staging.stg_spots__interaction_events")[0][0]
    day = project.query("select max(period_start) from intermediate.int_spots__cell_domain where granularity = 'day'")[
        0
    ][0]
    return str(hour), str(day)


def test_bucket_ending_exactly_at_the_delay_is_released_one_second_later_is_not(project: DbtProject):
    project.generate("--events", "20000", "--start", "2026-10-01", "--days", "20", "--seed", "3")
    project.dbt("seed")
    assert _latest(project, "2026-10-17T00:00:00Z") == ("2026-10-13 23:00:00", "2026-10-13 00:00:00")
    assert _latest(project, "2026-10-16T23:59:59Z") == ("2026-10-13 22:00:00", "2026-10-12 00:00:00")


@pytest.mark.parametrize("delay", ["71", "24", "0", "-5", "seventy-two"])
def test_delay_below_contract_minimum_is_refused(dev_project: DbtProject, delay: str):
    result = dev_project.dbt(
        "compile", "--select", "stg_spots__interaction_events", vars={"reporting_delay_hours": delay}, check=False
    )
    assert result.returncode != 0
    assert "reporting_delay_hours" in result.stdout and ">= 72" in result.stdout


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("next tuesday", "var as_of: must be a UTC timestamp"),
        ("2999-01-01T00:00:00Z", "var as_of: must not be in the future"),
    ],
)
def test_bad_as_of_is_refused(dev_project: DbtProject, as_of: str, message: str):
    result = dev_project.dbt("compile", "--select", "stg_spots__interaction_events", vars={"as_of": as_of}, check=False)
    assert result.returncode != 0
    assert message in result.stdout


def test_a_clock_given_twice_differently_is_refused_before_any_node_runs(dev_project: DbtProject):
    """PRIVACY_INSIGHTS_AS_OF (what the scheduler sets) and --vars as_of must agree. The
    selection is the release model alone, which reads its clock from its config, not
    from the macro; the check (at parse, and in the on-run-start hook whatever partial
    parsing skipped) refuses the run before any node runs."""
    dev_project.env["PRIVACY_INSIGHTS_AS_OF"] = "2026-10-20T00:00:00Z"
    twice = dev_project.dbt(
        "run", "--select", "spots_insights_v1_releases", vars={"as_of": "2026-10-21T00:00:00Z"}, check=False
    )
    assert twice.returncode != 0
    assert (
        "as_of given twice and differently: --vars as_of '2026-10-21T00:00:00Z' and "
        "PRIVACY_INSIGHTS_AS_OF '2026-10-20T00:00:00Z'; give the clock one way"
    ) in twice.stdout
    assert "START python" not in twice.stdout

    # the same clock both ways is accepted; the environment's clock is validated like the var
    agreed = dev_project.dbt(
        "compile", "--select", "stg_spots__interaction_events", vars={"as_of": "2026-10-20T00:00:00Z"}, check=False
    )
    assert agreed.returncode == 0, agreed.stdout[-3000:]
    dev_project.env["PRIVACY_INSIGHTS_AS_OF"] = "next tuesday"
    bad = dev_project.dbt("compile", "--select", "stg_spots__interaction_events", check=False)
    assert bad.returncode != 0 and "PRIVACY_INSIGHTS_AS_OF: must be a UTC timestamp" in bad.stdout
