"""spots_insights_v1 end to end on a real warehouse: build, rebuild, full refresh, advance.

Runs on the embedded DuckDB file and on a real PostgreSQL (``project`` fixture). The data
is one city with enough people that some cells clear k, so stability is checked on real
released values, not only on suppressed rows.
"""

from __future__ import annotations

import re

import pytest

from delivery_build import BUILD, GENERATE  # the shared 200,000-event data set
from harness import WITHOUT_DBT_TESTS, DbtProject, default_release

pytestmark = pytest.mark.e2e

# Releases start with the data on Monday 2026-10-05. as_of 10-17 puts the cutoff at 10-14 00:00:
# days 10-05..10-13 and the week of 10-05 are eligible; as_of 10-18 adds the day 10-14.
BUILD_NEXT = {"as_of": "2026-10-18T00:00:00Z", "release_start_date": "2026-10-05"}
RELEASES = ["spots_insights_v1_releases", "spots_insights_v1"]
SPOTS = ["--selector", "spots_pipeline"]
KEY = (
    "time_granularity, time_bucket_start_utc, geo_bucket_id, release_level, segment_door_type, segment_category, "
    "segment_context, release_version"
)
LEVELS = {"city", "city_door_type", "city_category", "city_segment"}
# contract 000 §5.1 and obvious equivalents, plus this project's internal keys
FORBIDDEN_COLUMNS = re.compile(
    r"(user_id|agent_id|ai_signature|latitude|longitude|lat|lon|lng|location_history|visited_locations|"
    r"current_location|device_id|advertising_id|ip_address|ip|message|text|transcript|embedding|vector|"
    r"session_id|participant_key|event_id|email|phone)",
    re.IGNORECASE,
)


def released_rows(project: DbtProject) -> dict[str, list[tuple]]:
    return {table: project.query(f"select * from outside_buyer.{table} order by {KEY}") for table in RELEASES}


def ledger(project: DbtProject) -> list[tuple]:
    return project.query(
        "select time_granularity, release_period_start, release_version, status, epsilon, charged_at "
        "from outside_buyer.spots_privacy_budget_ledger order by 1, 2, 3"
    )


def assert_no_mart_carries_identifiers_text_or_coordinates(project: DbtProject) -> None:
    """Every column and value of outside_buyer and ops against the raw identifiers, text and coordinates."""
    raw = project.query(
        "select user_id, agent_id, ai_signature, device_id, ip_address, event_id, message, "
        "latitude, longitude from raw.spots_interaction_events"
    )
    raw_strings = {v for row in raw for v in row[:7] if v is not None}
    raw_coordinates = {v for row in raw for v in row[7:] if v is not None}
    city_codes = {r[0] for r in project.query("select city_code from reference.city_definitions")}

    checked = 0
    for schema in ("outside_buyer", "ops"):
        for table in project.tables(schema):
            for column, _data_type in project.columns(schema, table):
                assert not FORBIDDEN_COLUMNS.fullmatch(column), f"{schema}.{table}.{column}: forbidden column name"
                values = {r[0] for r in project.query(f'select distinct "{column}" from {schema}.{table}')} - {None}
                checked += 1
                if isinstance(next(iter(values), None), str):
                    assert not values & raw_strings, f"{schema}.{table}.{column}: carries a raw identifier or text"
                    for value in values:
                        assert not re.search(r"@|\d+\.\d+\.\d+\.\d+|[0-9a-f]{8}-[0-9a-f]{4}-", value), (
                            f"{schema}.{table}.{column}: value {value!r} looks like an identifier"
                        )
                if isinstance(next(iter(values), None), float):
                    assert not values & raw_coordinates, f"{schema}.{table}.{column}: carries a raw coordinate"
                if column == "geo_bucket_id":
                    assert values <= city_codes, (
                        f"{schema}.{table}.{column}: geo finer than a city: {values - city_codes}"
                    )
    assert checked > 40


def test_release_is_stable_advances_and_carries_no_identifiers(project: DbtProject):
    """One warehouse through a build, a rebuild, a full refresh and one day more (incremental
    staging and aggregates on every target); the identifier scan runs on the first and the
    last state (it shares the builds: each costs a minute on PostgreSQL)."""
    project.generate(*GENERATE)
    project.dbt("build", vars=BUILD)
    assert_no_mart_carries_identifiers_text_or_coordinates(project)
    first, first_ledger = released_rows(project), ledger(project)

    released = project.query(
        "select time_granularity, release_level, count(*) from outside_buyer.spots_insights_v1 "
        "where not privacy_suppressed group by 1, 2 order by 1, 2"
    )
    for granularity in ("day", "week"):  # every level has released cells: stability is checked on real values
        levels = {level for g, level, n in released if g == granularity and n > 0}
        assert levels == LEVELS, f"{granularity}: released levels {levels}; the stability check would be vacuous"
    periods = {(g, str(p)[:10]) for g, p, *_ in first_ledger}
    assert periods == ({("day", f"2026-10-{d:02d}") for d in range(5, 14)} | {("week", "2026-10-05")})
    assert all(status == "charged" and version == 1 for _, _, version, status, _, _ in first_ledger)

    # Same as_of again: nothing changes, nothing is charged again. The rebuilds select the
    # spots pipeline (selectors.yml): outreach and attribution do not touch the release; the
    # dbt tests run on the first build and on the last, not on these two.
    project.dbt("build", *SPOTS, *WITHOUT_DBT_TESTS, vars=BUILD)
    assert released_rows(project) == first
    assert ledger(project) == first_ledger

    # --full-refresh does not rebuild released tables (full_refresh: false).
    project.dbt("build", "--full-refresh", *SPOTS, *WITHOUT_DBT_TESTS, vars=BUILD)
    assert released_rows(project) == first
    assert ledger(project) == first_ledger

    # One more day eligible: only its day period is released and charged.
    project.dbt("build", *SPOTS, vars=BUILD_NEXT)
    after = released_rows(project)
    for table in RELEASES:
        assert set(first[table]) <= set(after[table]), f"{table}: a released row changed or vanished"
        assert len(after[table]) > len(first[table])
    new_ledger = ledger(project)
    assert set(first_ledger) <= set(new_ledger)
    added = {(g, str(p)[:10]) for g, p, *_ in set(new_ledger) - set(first_ledger)}
    assert added == {("day", "2026-10-14")}
    new_rows = dict(
        project.query(
            "select release_level, count(*) from outside_buyer.spots_insights_v1 "
            "where time_granularity = 'day' and release_period_start = timestamp '2026-10-14' "
            "group by 1"
        )
    )
    cities = project.query("select count(*) from reference.city_definitions")[0][0]
    # every city gets its city row; only the city with data measures the finer levels
    assert new_rows == {"city": cities, "city_door_type": 3, "city_category": 9, "city_segment": 3 * 9 * 5}
    assert_no_mart_carries_identifiers_text_or_coordinates(project)


def test_budget_cap_denies_periods_and_says_why(dev_project: DbtProject):
    """With a cap too small for every period, later ones are published suppressed, charged nothing."""
    release = default_release() | {"epsilon_cap": 3.0}
    dev_project.generate("--events", "5000", "--start", "2026-10-05", "--days", "14", "--seed", "11")
    result = dev_project.dbt("build", vars=BUILD | {"spots_release": release})
    assert "budget_exhausted" in result.stdout and "of the cap 3 spent" in result.stdout

    rows = dev_project.query("select time_granularity, status, epsilon from outside_buyer.spots_privacy_budget_ledger")
    charged = sum(epsilon for _, status, epsilon in rows if status == "charged")
    assert charged <= 3.0 + 1e-9
    assert {status for _, status, _ in rows} == {"charged", "denied"}
    assert all(epsilon == 0 for _, status, epsilon in rows if status == "denied")
    denied_cells = dev_project.query(
        "select count(*), count(unique_participants_est) from outside_buyer.spots_insights_v1 "
        "where privacy_suppressed_reason = 'budget_exhausted'"
    )[0]
    assert denied_cells[0] > 0 and denied_cells[1] == 0
