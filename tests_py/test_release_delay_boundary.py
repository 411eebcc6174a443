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
    project.dbt("run", "--select", "stg_spots__interaction_events", "int_spots__cell_domain", vars={"as_of": as_of})
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
