"""The occurred_at prefilter of incremental SPOTS staging keeps every row of the days it checks.

``spots_scope_prefilter`` (macros/spots/spots_checked_events.sql) turns the days a build
checks into a constant range of occurred_at, so a scan can filter before any check day is
computed. It may let rows of other days through (the check-day test after it drops them);
it must never drop a row of a checked day. Compiled by dbt from the project for three
scopes (two days with a gap between them, no day, a scope holding the bucket of invalid
timestamps) and evaluated over instants on and beside every day boundary, null, both
infinities and instants before the floor: in DuckDB, and through the postgres target's
scanner on a real PostgreSQL table, where the range must reach PostgreSQL as a WHERE (the
scan returns only the rows in range, not the table).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from harness import DbtProject, postgres_admin

DAYS = [datetime(2026, 10, 27, tzinfo=UTC) + timedelta(days=d) for d in range(10)]
MICROSECOND = timedelta(microseconds=1)
INSTANTS = [
    *(day + offset for day in DAYS for offset in (-MICROSECOND, timedelta(0), MICROSECOND, timedelta(hours=13))),
    datetime(1999, 12, 31, 23, 0, tzinfo=UTC),  # before spots_occurred_at_floor (2000-01-01)
]
SPECIAL = ["null", "'infinity'", "'-infinity'"]


def day(text: str) -> str:
    return f"cast('{text}' as timestamp)"


# The days checked, as stg_spots__interaction_events_days would mark them; 1999-12-31 is the
# bucket of missing, infinite and too early timestamps (the day before the floor).
SCOPES = {
    "two days apart": f"select {day('2026-10-30')} as check_day union all select {day('2026-11-02')}",
    "no day": f"select {day('2026-10-30')} as check_day where false",
    "the invalid bucket": f"select {day('1999-12-31')} as check_day union all select {day('2026-11-01')}",
}


def compiled(project: DbtProject) -> tuple[dict[str, str], str]:
    """({scope: prefilter}, check day) as SQL over the column occurred_at, compiled in one dbt
    call on the dev target (the postgres target runs the same DuckDB SQL)."""
    quoted = '| replace("\'", "\'\'") }}'
    prefilters = " ".join(
        f"union all select {n}, '{{{{ spots_scope_prefilter(\"{scope}\", 'occurred_at') {quoted}'"
        for n, scope in enumerate(SCOPES.values(), start=1)
    )
    inline = f"select 0 as n, '{{{{ spots_check_day('occurred_at') {quoted}' as sql {prefilters}"
    result = project.dbt("compile", "--inline", inline, "--output", "json", "--quiet")
    sql = json.loads(result.stdout)["compiled"]
    check_day, *prefilters = (text for (_, text) in duckdb.sql(f"select * from ({sql}) order by n").fetchall())
    return dict(zip(SCOPES, prefilters, strict=True)), check_day


def rows_sql() -> str:
    values = [f"({n}, '{instant.isoformat()}')" for n, instant in enumerate(INSTANTS)]
    values += [f"({len(INSTANTS) + n}, {special})" for n, special in enumerate(SPECIAL)]
    return ", ".join(values)


def selected(con: duckdb.DuckDBPyConnection, table: str, where: str) -> set[int]:
    return {n for (n,) in con.sql(f"select n from {table} where {where}").fetchall()}


def assert_superset_of_the_scope(con, table: str, prefilter: str, check_day: str, scope: str) -> set[int]:
    kept = selected(con, table, prefilter)
    in_scope = selected(con, table, f"{check_day} in ({scope})")
    assert in_scope <= kept, f"the prefilter drops rows of checked days: {sorted(in_scope - kept)}"
    return kept


def test_before_the_first_build_the_checked_rows_compile_without_a_prefilter(dev_project: DbtProject):
    """dbt compile (and the SQL lint) on a warehouse not built yet: the days table the range is
    read from does not exist, so the model compiles without it instead of failing."""
    dev_project.dbt("compile", "--select", "base_spots__interaction_events_to_check")
    compiled_model = next(dev_project.workdir.rglob("compiled/**/base_spots__interaction_events_to_check.sql"))
    assert "occurred_at >=" not in compiled_model.read_text()


def test_the_prefilter_keeps_every_row_of_the_checked_days_and_only_their_range(dev_project: DbtProject):
    con = duckdb.connect()
    con.execute("create table raw (n integer, occurred_at timestamp with time zone)")
    con.execute(f"insert into raw values {rows_sql()}")
    in_range = {
        n for n, instant in enumerate(INSTANTS) if DAYS[3] <= instant < DAYS[7]
    }  # [10-30, 11-03): the days between the two checked ones pass too

    prefilters, check_day = compiled(dev_project)
    prefilter = prefilters["two days apart"]
    assert "occurred_at >=" in prefilter  # a range on the stored column, which a scan can use
    kept = assert_superset_of_the_scope(con, "raw", prefilter, check_day, SCOPES["two days apart"])
    assert kept == in_range

    assert prefilters["no day"] == "false"
    assert assert_superset_of_the_scope(con, "raw", prefilters["no day"], check_day, SCOPES["no day"]) == set()

    assert prefilters["the invalid bucket"] == "true"
    kept = assert_superset_of_the_scope(
        con, "raw", prefilters["the invalid bucket"], check_day, SCOPES["the invalid bucket"]
    )
    assert len(kept) == len(INSTANTS) + len(SPECIAL)  # no filter at all


def scan_rows(con: duckdb.DuckDBPyConnection, sql: str, profile_path) -> int:
    """Rows the postgres scan of ``sql`` returned to DuckDB, from DuckDB's query profile."""
    con.execute("pragma enable_profiling = 'json'")
    con.execute(f"pragma profiling_output = '{profile_path}'")
    con.sql(sql).fetchall()
    con.execute("pragma disable_profiling")

    def scans(node):
        if "POSTGRES_SCAN" in str(node.get("operator_name", "")):
            yield node["operator_cardinality"]
        for child in node.get("children", []):
            yield from scans(child)

    found = list(scans(json.loads(profile_path.read_text())))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.postgres
def test_the_prefilter_reaches_postgresql_as_a_where(
    dev_project: DbtProject, postgres_database: str, extension_dir, tmp_path
):
    with postgres_admin(postgres_database) as pg:
        pg.execute("create table raw (n integer, occurred_at timestamptz)")
        pg.execute(f"insert into raw values {rows_sql()}")
        # the server and user the harness reaches (PGHOST, PGUSER)
        dsn = f"dbname={postgres_database} host={pg.info.host} port={pg.info.port} user={pg.info.user}"
    prefilters, check_day = compiled(dev_project)
    prefilter = prefilters["two days apart"]

    con = duckdb.connect(config={"extension_directory": str(extension_dir), "autoinstall_known_extensions": False})
    con.execute("load postgres")
    con.execute(f"attach '{dsn}' as pg (type postgres, read_only)")
    kept = assert_superset_of_the_scope(con, "pg.public.raw", prefilter, check_day, SCOPES["two days apart"])

    assert scan_rows(con, f"select n from pg.public.raw where {prefilter}", tmp_path / "profile.json") == len(kept)
    # the check-day test alone: PostgreSQL cannot be sent it, so the whole table crosses over
    everything = len(INSTANTS) + len(SPECIAL)
    assert (
        scan_rows(
            con,
            f"select n from pg.public.raw where {check_day} in ({SCOPES['two days apart']})",
            tmp_path / "profile_check_day.json",
        )
        == everything
    )
