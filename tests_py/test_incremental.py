"""Incremental builds by period (docs/analytics_engineer.md, "Incremental builds"), through the real dbt models.

A warehouse built day after day (as_of advancing one day per build, with late rows of an
old day landing in between, stamped with an old ingested_at, a late copy of an event
already staged, and a raw row deleted before the last build) must hold exactly what one
full build at the last clock holds: the same staged events and the same exact cell
aggregates for every eligible period, the same per-day summaries, which also equal a
recount of the raw table, and the same first-copy table (the copy kept per event_id), which
agrees with the raw, staging and summary tables. Only the bookkeeping columns (when a row
was written, at which clock a day was checked) may differ. The builds with nothing added take their counts from
the stored summaries (docs/incremental_builds.md) and read no raw row.
"""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from harness import PSEUDONYM_KEY, DbtProject, postgres_admin, scratch_database

pytestmark = pytest.mark.e2e

GENERATE = ("--events", "20000", "--start", "2026-10-01", "--days", "20", "--seed", "11")
SELECT = (
    "--select",
    "+int_spots__cell_aggregates",
    "stg_spots__interaction_events_quarantine",
    "stg_spots__interaction_events_duplicates",
    "stg_spots__interaction_events_day_counts",
    "stg_spots__interaction_events_first_copies",
    "--indirect-selection",
    "cautious",
)
RELEASE_START = "2026-10-01"
LATE_DAY = "2026-10-06"  # a day every build after the first has already staged and aggregated
# The late rows land after several builds but carry an arrival stamp older than rows staged
# before them (a replayed file, a device's wrong clock): what is new must not be read off
# ingested_at.
LATE_INGESTED_AT = "2026-10-07 00:00:00"

STAGED = (
    "select participant_key, event_type, counts_as_door_opened, door_type, category, geohash3, city_code, "
    "context, hour_start, day_start, week_start, ingested_hour_start from staging.stg_spots__interaction_events"
)
QUARANTINE = (
    "select event_id, ingested_at, rejection_reason, occurred_day from staging.stg_spots__interaction_events_quarantine"
)
DUPLICATES = "select event_id, ingested_at, reason, occurred_day from staging.stg_spots__interaction_events_duplicates"
FIRST_COPIES = "select event_id, ingested_at, occurred_day from staging.stg_spots__interaction_events_first_copies"
# A copy of an event staged on an early day (ORIGINAL_DAY, there from the first build) lands
# with the late rows: it occurred on LATE_DAY but carries an earlier ingested_at, so it is
# now the copy kept and the original on ORIGINAL_DAY becomes a duplicate.
ORIGINAL_DAY = "2026-10-05"  # the Monday of LATE_DAY's week: no earlier period is recomputed
# An event whose first copy (by ingested_at) occurs on FUTURE_DAY 12:00 with a door type not in
# the seed: while it is after as_of it breaks only the clock's rule, so it is the copy kept
# (quarantined as after as_of) and its valid copy on PROMOTED_DAY is a duplicate. Once the
# clock passes it (the build at 10-15, which takes its counts from the summaries), it breaks
# the door type rule and is no longer kept: the copy on PROMOTED_DAY is staged, as a full
# build stages it, although nothing landed on PROMOTED_DAY.
FUTURE_DAY = "2026-10-14"
PROMOTED_DAY = "2026-10-03"  # no other row lands on it or its week
NOTHING_CHECKED = "select bool_or(raw_counted), bool_or(to_check) from staging.stg_spots__interaction_events_days"
DAY_COUNTS = (
    "select check_day, raw_rows, staged_rows, quarantined_rows, duplicate_rows, held_back_rows, future_rows, "
    "last_staged_hour from staging.stg_spots__interaction_events_day_counts"
)
# The raw rows per check day, counted here without the project's macros (the UTC day of
# occurred_at; one bucket, the day before the 2000-01-01 floor, for missing, infinite or too
# early timestamps): SQL DuckDB and PostgreSQL both run.
CHECK_DAY = """case
            when occurred_at is null or not isfinite(occurred_at) or occurred_at < timestamptz '2000-01-01 00:00:00+00'
                then timestamp '1999-12-31 00:00:00'
            else date_trunc('day', occurred_at at time zone 'UTC')
        end"""
RAW_RECOUNT = f"""
    select {CHECK_DAY} as check_day,
        count(*)
    from raw.spots_interaction_events
    group by 1"""
# The first-copy table against the raw and staging tables, in SQL DuckDB and PostgreSQL both
# run: each row names a raw row (same event_id, ingested_at and check day); every listed
# duplicate's event_id has a first copy that arrived no later (nulls last). Returns the rows
# breaking either. (Which copy comes first among equal
# arrivals is compared with the full build's table, above it in the test.)
FIRST_COPY_RECOUNT = f"""
    with raw_days as (
        select event_id, ingested_at, {CHECK_DAY} as check_day
        from raw.spots_interaction_events
    )
    select 'no such raw row', f.event_id from staging.stg_spots__interaction_events_first_copies as f
    where not exists (
        select 1 from raw_days as r where r.event_id = f.event_id and r.check_day = f.occurred_day
            and r.ingested_at is not distinct from f.ingested_at
    )
    union all
    select 'a duplicate without an earlier first copy', d.event_id
    from staging.stg_spots__interaction_events_duplicates as d
    left join staging.stg_spots__interaction_events_first_copies as f on d.event_id = f.event_id
    where f.event_id is null or f.ingested_at > d.ingested_at
        or (f.ingested_at is null and d.ingested_at is not null)"""
AGGREGATES = (
    "select granularity, period_start, level, time_bucket_start_utc, geo_bucket_type, geo_bucket_id, door_type, "
    "category, context, participants, doors_opened, repeaters from intermediate.int_spots__cell_aggregates"
)


def build_vars(as_of_day: int) -> dict:
    return {"as_of": f"2026-10-{as_of_day:02d}T00:00:00Z", "release_start_date": RELEASE_START}


def run_sql(project: DbtProject, sql: str) -> None:
    if project.target == "dev":
        con = duckdb.connect(project.env["PRIVACY_INSIGHTS_DUCKDB"])
        try:
            con.execute(sql)
        finally:
            con.close()
    else:
        with postgres_admin(project.pg_database) as conn:
            conn.execute(sql)


def land_original(project: DbtProject) -> None:
    """One valid event on ORIGINAL_DAY, there from the first build, and the two copies of
    'future-event' (FUTURE_DAY, PROMOTED_DAY) (SQL both engines run)."""
    run_sql(
        project,
        f"""
        insert into raw.spots_interaction_events values ('copied-event', 'usr_copied', 'agt_c', 'sig_c', 'dev_c',
            '10.0.0.3', 'door_opened', 'spot', 'coffee', timestamptz '{ORIGINAL_DAY} 09:00:00+00', 35.68, 139.69,
            null, timestamptz '{ORIGINAL_DAY} 09:10:00+00'),
        ('future-event', 'usr_future', 'agt_f', 'sig_f', 'dev_f', '10.0.0.4', 'door_opened', 'no-such-door',
            'coffee', timestamptz '{FUTURE_DAY} 12:00:00+00', 35.68, 139.69, null,
            timestamptz '{PROMOTED_DAY} 08:00:00+00'),
        ('future-event', 'usr_future', 'agt_f', 'sig_f', 'dev_f', '10.0.0.4', 'door_opened', 'spot',
            'coffee', timestamptz '{PROMOTED_DAY} 12:00:00+00', 35.68, 139.69, null,
            timestamptz '{PROMOTED_DAY} 13:00:00+00')""",
    )


def land_late_rows(project: DbtProject, ingested_at: str) -> None:
    """30 valid door opens of one participant in Tokyo on LATE_DAY, stamped ingested_at, and
    a copy of the event land_original landed, on LATE_DAY, stamped before it (SQL that
    DuckDB and PostgreSQL both run)."""
    sql = f"""
        insert into raw.spots_interaction_events
        select 'late-' || i, 'usr_late_arrival', 'agt_l', 'sig_l', 'dev_l', '10.0.0.2', 'door_opened',
            'spot', 'coffee', timestamptz '{LATE_DAY} 09:00:00+00' + i * interval '7 minute',
            35.68, 139.69, null, timestamptz '{ingested_at}+00'
        from generate_series(0, 29) as t(i)
        union all
        select 'copied-event', 'usr_copied', 'agt_c', 'sig_c', 'dev_c', '10.0.0.3', 'door_opened', 'spot',
            'coffee', timestamptz '{LATE_DAY} 10:00:00+00', 35.68, 139.69, null,
            timestamptz '{ORIGINAL_DAY} 09:00:00+00'"""
    run_sql(project, sql)


def delete_raw_row(project: DbtProject) -> None:
    """Deletes one raw row of 2026-10-08 (staged by the first daily build, in the week the late
    rows recompute anyway) whose event_id has no other copy: the same row in both warehouses
    (same generator seed)."""
    run_sql(
        project,
        """
        delete from raw.spots_interaction_events
        where event_id = (
            select min(e.event_id) from raw.spots_interaction_events as e
            where e.occurred_at >= timestamptz '2026-10-08 00:00:00+00'
                and e.occurred_at < timestamptz '2026-10-09 00:00:00+00'
                and e.event_id not in (
                    select d.event_id from raw.spots_interaction_events as d
                    where d.event_id is not null group by d.event_id having count(*) > 1
                )
        )""",
    )


def as_bag(rows: list[tuple]) -> dict[tuple, int]:
    bag: dict[tuple, int] = {}
    for row in rows:
        bag[row] = bag.get(row, 0) + 1
    return bag


def assert_same_rows(daily: DbtProject, full: DbtProject, sql: str, what: str) -> int:
    """EXCEPT ALL both ways, as multisets; returns the row count."""
    daily_rows, full_rows = as_bag(daily.query(sql)), as_bag(full.query(sql))
    only_daily = {r: n for r, n in daily_rows.items() if full_rows.get(r, 0) != n}
    only_full = {r: n for r, n in full_rows.items() if daily_rows.get(r, 0) != n}
    assert not only_daily and not only_full, (
        f"{what}: {len(only_daily)} rows differ in the daily builds, {len(only_full)} in the full build; "
        f"e.g. {sorted(only_daily.items())[:3]} / {sorted(only_full.items())[:3]}"
    )
    return sum(full_rows.values())


def daily_and_full(daily: DbtProject, full: DbtProject, days: range, late_before: int) -> list[bool]:
    """The daily builds and the full build; returns, per daily build, whether it counted the
    raw rows (False: it took them from the stored per-day summaries)."""
    for project in (daily, full):
        project.generate(*GENERATE)
        land_original(project)
        project.dbt("seed")
    raw_counted = []
    for day in days:
        if day == late_before:
            land_late_rows(daily, LATE_INGESTED_AT)
        if day == days[-1]:
            delete_raw_row(daily)
        daily.dbt("build", *SELECT, vars=build_vars(day))
        counted = daily.query("select bool_and(raw_counted) from staging.stg_spots__interaction_events_days")
        raw_counted.append(counted[0][0])
    land_late_rows(full, LATE_INGESTED_AT)
    delete_raw_row(full)
    full.dbt("build", *SELECT, vars=build_vars(days[-1]))
    return raw_counted


def assert_incremental_equals_full(daily: DbtProject, full: DbtProject) -> None:
    staged = assert_same_rows(daily, full, STAGED, "staged events")
    cells = assert_same_rows(daily, full, AGGREGATES, "cell aggregates")
    quarantined = assert_same_rows(daily, full, QUARANTINE, "quarantine")
    duplicates = assert_same_rows(daily, full, DUPLICATES, "duplicates")
    assert assert_same_rows(daily, full, FIRST_COPIES, "first copies") > 10_000
    assert quarantined > 0 and duplicates > 0
    # the per-day summaries: the daily builds stored what one full build stores, and both
    # equal a recount of the raw table and of the staging tables
    assert assert_same_rows(daily, full, DAY_COUNTS, "per-day summaries") > 15
    for project in (daily, full):
        summary = {day: counts for day, *counts in project.query(DAY_COUNTS)}
        assert {day: counts[0] for day, counts in summary.items()} == dict(project.query(RAW_RECOUNT))
        for column, (table, day_column) in {
            1: ("stg_spots__interaction_events", "day_start"),
            2: ("stg_spots__interaction_events_quarantine", "occurred_day"),
            3: ("stg_spots__interaction_events_duplicates", "occurred_day"),
        }.items():
            recount = dict(project.query(f"select {day_column}, count(*) from staging.{table} group by 1"))
            assert {day: c[column] for day, c in summary.items() if c[column]} == recount, table
        # the first-copy table: one row per event kept (staged + held back + after as_of) on
        # each day, one per event_id, each naming a raw row that no listed duplicate precedes
        kept = {day: c[1] + c[4] + c[5] for day, c in summary.items() if c[1] + c[4] + c[5]}
        first_per_day = "select occurred_day, count(*) from staging.stg_spots__interaction_events_first_copies"
        assert dict(project.query(first_per_day + " group by 1")) == kept
        unique = "select count(*), count(distinct event_id) from staging.stg_spots__interaction_events_first_copies"
        rows, event_ids = project.query(unique)[0]
        assert rows == event_ids > 10_000, (rows, event_ids)
        assert project.query(FIRST_COPY_RECOUNT) == []
    # the original, staged by the first daily builds, became a duplicate when its earlier copy landed
    moved = daily.query(
        "select cast(occurred_day as date) from staging.stg_spots__interaction_events_duplicates "
        "where event_id = 'copied-event'"
    )
    assert [str(d) for (d,) in moved] == [ORIGINAL_DAY], moved
    first = daily.query(
        "select cast(occurred_day as date) from staging.stg_spots__interaction_events_first_copies "
        "where event_id = 'copied-event'"
    )
    assert [str(d) for (d,) in first] == [LATE_DAY], first
    promoted = daily.query(
        "select cast(occurred_day as date) from staging.stg_spots__interaction_events_first_copies "
        "where event_id = 'future-event'"
    )
    assert [str(d) for (d,) in promoted] == [PROMOTED_DAY], promoted
    periods = full.query("select distinct granularity, period_start from intermediate.int_spots__cell_aggregates")
    assert staged > 10_000 and cells > 0 and len(periods) > 5
    late_participant = hashlib.sha256(f"{PSEUDONYM_KEY}|usr_late_arrival".encode()).hexdigest()
    late = daily.query(
        "select count(*) from staging.stg_spots__interaction_events "
        f"where participant_key = '{late_participant}' and day_start = timestamp '{LATE_DAY}'"
    )
    assert late == [(30,)], "the late rows of an old day were not restaged by the daily builds"
    # the daily builds really were incremental: the earliest periods were written by an earlier run
    runs = daily.query("select count(distinct aggregated_at) from intermediate.int_spots__cell_aggregates")
    assert runs[0][0] > 1, "every period was recomputed by the last build: nothing was incremental"
    # and the last one re-validated a few days only (held back, late, displaced), not all of them
    checked = daily.query("select count(*) from staging.stg_spots__interaction_events_days where to_check")
    days = daily.query("select count(*) from staging.stg_spots__interaction_events_days")
    assert 0 < checked[0][0] < days[0][0] // 2, (checked, days)


def test_daily_builds_equal_one_full_build_on_duckdb(tmp_path, extension_dir):
    daily = DbtProject(tmp_path / "daily", "dev", extension_dir)
    full = DbtProject(tmp_path / "full", "dev", extension_dir)
    # five daily builds, 10-13 .. 10-17; late rows of 10-06 land before the fourth, a raw row
    # of 10-08 is deleted before the fifth
    raw_counted = daily_and_full(daily, full, range(13, 18), late_before=16)
    assert_incremental_equals_full(daily, full)
    # the first build counts; the next two (only the clock moved) read the stored summaries;
    # the late rows and the deletion change the raw table's row count, so those builds count
    assert raw_counted == [True, False, False, True, True], raw_counted

    # the weekly full check counts every raw row per day, reconciles every day and compares
    # every day's stored summary with the recount: on these builds' warehouse it passes
    daily.dbt("build", *SELECT, vars={**build_vars(17), "full_check": True})
    assert daily.query("select bool_and(raw_counted) from staging.stg_spots__interaction_events_days") == [(True,)]
    refused = daily.dbt(
        "compile", "--select", "stg_spots__interaction_events_days", check=False, vars={"full_check": "weekly"}
    )
    assert "var full_check: must be true or false" in refused.stdout, refused.stdout[-2000:]

    # a build that restages without the first-copy table drops it (a stale one would pick the
    # wrong copy); the next build that builds it checks every day and writes the same rows
    daily.dbt(
        "run", "--select", "stg_spots__interaction_events_days", "stg_spots__interaction_events", vars=build_vars(17)
    )
    assert "stg_spots__interaction_events_first_copies" not in daily.tables("staging")
    daily.dbt("build", *SELECT, vars=build_vars(17))
    assert daily.query("select bool_and(to_check) from staging.stg_spots__interaction_events_days") == [(True,)]
    assert_same_rows(daily, full, FIRST_COPIES, "first copies rebuilt")

    # a stored summary that no longer adds up (a day the last build checked, at the same
    # clock) is found by the next build with nothing new, which checks no day and reads no raw
    # row: reconcile_spots_staging compares the whole tables' counts with the summaries
    run_sql(
        daily,
        """
        update staging.stg_spots__interaction_events_day_counts set held_back_rows = held_back_rows + 1
        where check_day = (
            select min(check_day) from staging.stg_spots__interaction_events_day_counts
            where counted_at = (select max(counted_at) from staging.stg_spots__interaction_events_day_counts)
        )""",
    )
    rebuilt = daily.dbt("build", *SELECT, vars=build_vars(17), check=False)
    failed = "Failure in test reconcile_spots_staging"
    assert rebuilt.returncode != 0 and failed in rebuilt.stdout, rebuilt.stdout[-3000:]
    assert daily.query(NOTHING_CHECKED) == [(False, False)]


@pytest.mark.postgres
def test_daily_builds_equal_one_full_build_on_postgres(tmp_path, extension_dir, postgres_database):
    """The same on PostgreSQL (delete+insert through the attach), with two daily builds and a
    third with nothing new: the incremental path, the late rows and the comparison are the
    same, a build costs more."""
    full = DbtProject(tmp_path / "full", "prod", extension_dir, pg_database=postgres_database)
    with scratch_database() as second:
        daily = DbtProject(tmp_path / "daily", "prod", extension_dir, pg_database=second)
        assert daily_and_full(daily, full, range(16, 18), late_before=17) == [True, True]
        assert_incremental_equals_full(daily, full)
        # once more at the same clock, nothing added: the counts come from the stored
        # summaries (whole-table counts through the attach), no day is checked, nothing changes
        daily.dbt("build", *SELECT, vars=build_vars(17))
        assert daily.query(NOTHING_CHECKED) == [(False, False)]
        assert_same_rows(daily, full, STAGED, "staged events")
        assert_same_rows(daily, full, DAY_COUNTS, "per-day summaries")


OUTREACH_SELECT = ("--select", "+path:models/staging/outreach", "fct_outreach_events_daily")
OUTREACH_TABLES = {
    "daily facts": "select * from outreach.fct_outreach_events_daily",
    "staged": "select * from staging.stg_outreach__event_logs",
    "quarantine": "select * from staging.stg_outreach__event_logs_quarantine",
    "duplicates": "select * from staging.stg_outreach__event_logs_duplicates",
}


def land_outreach_rows(project: DbtProject) -> None:
    """Rows landing after a build: a copy of the last valid event's client_event_id stamped
    ten days before it (now the row kept; the original and its duplicates change days), a
    valid new event and a rejected one on an old day (DuckDB SQL)."""
    run_sql(
        project,
        """
        insert into raw.outreach_event_logs
        select '00000000-0000-4000-8000-000000000001', event, app_key, page_key, utm_campaign, utm_source,
            utm_medium, source_id_resolved, store, session_id, country, ui_locale, client_event_id,
            created_at - interval 10 day
        from raw.outreach_event_logs
        where id = (
            select outreach_event_id from staging.stg_outreach__event_logs
            where client_event_id is not null order by created_at_utc desc, outreach_event_id limit 1
        );
        insert into raw.outreach_event_logs
        select '00000000-0000-4000-8000-00000000000' || i, 'page_view', 'kinly-web', 'home', 'late', 'google',
            'cpc', 'unknown', 'web', 'anon_latearrival0000001', 'DE', 'de-DE',
            case when i = 2 then '00000000-0000-4000-8000-0000000000aa' end,
            case when i = 2 then timestamptz '2026-10-04 08:00:00+00' else timestamptz '2026-10-05 08:00:00+00' end
        from generate_series(2, 3) as t(i);
        update raw.outreach_event_logs set event = 'click' where id = '00000000-0000-4000-8000-000000000003'
        """,
    )


def test_daily_outreach_builds_equal_one_full_build_on_duckdb(tmp_path, extension_dir):
    """Outreach staging and its daily facts (incremental by UTC day of created_at): a build,
    rows landing on old days (one a copy of an event that now comes first), a second build,
    and one full build of the same rows hold the same daily facts, staged rows, quarantine
    and duplicates."""
    daily = DbtProject(tmp_path / "daily", "dev", extension_dir)
    full = DbtProject(tmp_path / "full", "dev", extension_dir)
    for project in (daily, full):
        project.generate(*GENERATE, "--tables", "outreach")
        project.dbt("seed")
        project.dbt("build", *OUTREACH_SELECT, vars=build_vars(17))
        land_outreach_rows(project)
    daily.dbt("build", *OUTREACH_SELECT, vars=build_vars(18))
    full.dbt("build", *OUTREACH_SELECT, "--full-refresh", vars=build_vars(18))
    for what, sql in OUTREACH_TABLES.items():
        assert assert_same_rows(daily, full, sql, what) > 0
    kept = full.query(
        "select count(*) from staging.stg_outreach__event_logs_duplicates "
        "where kept_outreach_event_id = '00000000-0000-4000-8000-000000000001'"
    )
    assert kept[0][0] >= 1, "the landed copy did not become the row kept for its client_event_id"
    checked = daily.query("select count(*) from staging.stg_outreach__event_logs_days where to_check")
    days = daily.query("select count(*) from staging.stg_outreach__event_logs_days")
    assert 0 < checked[0][0] < days[0][0], (checked, days)
