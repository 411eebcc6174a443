"""Release integrity on real warehouses: one accounted decision per period, ledger first, safe
under concurrent builds, no key in any artifact, production budget never spent by a dev build.

Data is small (the accounting does not depend on data volume); every check reads the real
DuckDB file or the real PostgreSQL database the builds wrote.
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import psycopg
import pytest
import yaml

from harness import BIN, REPO, WITHOUT_DBT_TESTS, DbtProject, default_release
from privacy_insights.dp.budget import BudgetLedger, Charge
from privacy_insights.dp.dbt_entry import release_model
from privacy_insights.dp.plan import PERIOD_DAYS
from privacy_insights.targets import connect

pytestmark = pytest.mark.e2e

START = date(2026, 10, 5)  # a Monday
SPOTS = ["--selector", "spots_pipeline"]  # selectors.yml: the spots pipeline, its seeds and tests
GENERATE = [
    "--events",
    "3000",
    "--users",
    "300",
    "--cities",
    "jp-tyo",
    "--start",
    "2026-10-05",
    "--days",
    "50",
    "--outside-city-share",
    "0",
    "--seed",
    "5",
    "--tables",
    "spots",
]


def as_of(days: int) -> str:
    """The clock at which ``days`` days since START have passed their 72-hour delay."""
    return (datetime(2026, 10, 5, tzinfo=UTC) + timedelta(days=days + 3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_vars(days: int, **release) -> dict:
    return {"as_of": as_of(days), "release_start_date": "2026-10-05", "spots_release": default_release() | release}


def ledger(project: DbtProject) -> list[tuple]:
    return project.query(
        "select time_granularity, cast(release_period_start as date), release_version, purpose, status, epsilon, "
        "epsilon_cap from outside_buyer.spots_privacy_budget_ledger order by 1, 2, 3"
    )


def charged(rows: list[tuple]) -> set[tuple[str, date]]:
    return {(g, p) for g, p, _, _, status, *_ in rows if status == "charged"}


def assert_no_window_above(rows: list[tuple], cap: float, window: int = 30) -> None:
    charges = [Charge(g, p, PERIOD_DAYS[g], eps) for g, p, _, _, status, eps, _ in rows if status == "charged"]
    budget = BudgetLedger(window, cap, 0.0, charges)
    for c in charges:
        assert budget.worst_window(c)[1] <= cap + 1e-9, c


# ---- one decision point across builds ----------------------------------------------------


class This:
    """What dbt hands a Python model as ``dbt.this``."""

    def __init__(self, database: str, schema: str, identifier: str) -> None:
        self.database, self.schema, self.identifier = database, schema, identifier

    def __str__(self) -> str:
        return f'"{self.database}"."{self.schema}"."{self.identifier}"'


def release_step(warehouse, days: int, release: dict) -> int:
    """One daily run of the release step (the function the dbt Python model calls, with the
    model's own relations) on a real warehouse; returns the rows it appended as dbt would."""
    con, catalog = warehouse.connection, warehouse.catalog

    def rel(schema: str, table: str):
        return con.sql(f'select * from "{catalog}"."{schema}"."{table}"')

    dbt = SimpleNamespace(this=This(catalog, "outside_buyer", "spots_insights_v1_releases"), is_incremental=True)
    frame = release_model(
        dbt,
        con,
        cells=rel("intermediate", "int_spots__cell_aggregates"),
        ledger=rel("outside_buyer", "spots_privacy_budget_ledger"),
        completeness=rel("intermediate", "int_spots__landing_completeness"),
        spots_release=default_release() | release,
        reporting_delay_hours=72,
        as_of=as_of(days),
        release_start_date="2026-10-05",
        report=lambda _: None,
    )
    if len(frame):
        con.register("new_rows", frame)
        con.execute(f'insert into "{catalog}"."outside_buyer"."spots_insights_v1_releases" select * from new_rows')
        con.unregister("new_rows")
    return len(frame)


def daily_release_steps(project: DbtProject, release: dict, days: range) -> list[tuple]:
    """Build the cell aggregates for the last day's clock once (dbt), create the release table
    with nothing eligible (dbt), then run the release step once per day at that day's clock."""
    project.dbt(
        "build",
        "--select",
        "+int_spots__cell_aggregates",
        "+int_spots__late_arrivals",
        "--indirect-selection",
        "cautious",
        vars=build_vars(days[-1], **release),
    )
    project.dbt("run", "--select", "spots_insights_v1_releases", vars=build_vars(0, **release))
    warehouse = connect(project.target, env=project.env)
    try:
        for day in days:
            release_step(warehouse, day, release)
    finally:
        warehouse.close()
    return ledger(project)


def test_forty_daily_release_steps_keep_every_window_under_a_binding_cap(project: DbtProject):
    """40 consecutive days against one warehouse, each running the release step at its own
    as_of, with a cap that binds (4.5: 30 days x 0.75 + 6 weeks x 0.5 would be 25.5). The
    ledger's own dbt test (ledger_within_caps) and this test both check every window."""
    project.generate(*GENERATE)
    cap = {"epsilon_cap": 4.5}
    daily = daily_release_steps(project, cap, range(1, 41))
    project.dbt(
        "test",
        "--select",
        "spots_privacy_budget_ledger",
        "--indirect-selection",
        "cautious",
        vars=build_vars(40, **cap),
    )
    assert_no_window_above(daily, 4.5)
    assert {s for *_, s, _, _ in daily} == {"charged", "denied"}
    assert any(g == "week" and s == "charged" for g, _, _, _, s, *_ in daily)
    assert all(v == 1 and p == "initial" for _, _, v, p, *_ in daily)


def test_one_build_charges_what_forty_daily_builds_charge(dev_project: DbtProject, tmp_path, extension_dir):
    """The same data released in one build (one release step at day 40) and in 40 daily ones."""
    cap = {"epsilon_cap": 4.5}
    dev_project.generate(*GENERATE)
    daily = daily_release_steps(dev_project, cap, range(1, 41))
    once = DbtProject(tmp_path / "once", "dev", extension_dir)
    once.generate(*GENERATE)
    assert charged(daily_release_steps(once, cap, range(40, 41))) == charged(daily)
    assert len(ledger(once)) == len(daily)


# ---- concurrent builds --------------------------------------------------------------------


def start(project: DbtProject, workdir: Path, *args: str, vars: dict) -> subprocess.Popen:
    env = project.env | {"PRIVACY_INSIGHTS_PG_SCRATCH": str(workdir / "scratch.duckdb")}
    cmd = [
        str(BIN / "dbt"),
        *args,
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
        "--vars",
        yaml.safe_dump(vars, default_flow_style=True),
    ]
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.postgres
def test_two_builds_at_once_release_each_period_once(postgres_project: DbtProject, tmp_path):
    project = postgres_project
    project.generate(*GENERATE)
    vars = build_vars(9)
    first = start(project, tmp_path / "a", "build", *SPOTS, vars=vars)
    second = start(project, tmp_path / "b", "build", *SPOTS, vars=vars)
    outputs = [p.communicate(timeout=1800)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert any("waiting for the warehouse build lock" in out for out in outputs), (
        "the builds did not overlap: the test proves nothing"
    )
    third = project.dbt("build", *SPOTS, *WITHOUT_DBT_TESTS, vars=vars)
    assert "nothing new to release" in third.stdout

    rows = ledger(project)
    keys = [(g, p) for g, p, *_ in rows]
    assert len(keys) == len(set(keys)) and charged(rows) == (
        {("day", START + timedelta(days=i)) for i in range(9)} | {("week", START)}
    )
    values = project.query(
        "select time_granularity, time_bucket_start_utc, geo_bucket_id, release_level, "
        "segment_door_type, segment_category, segment_context, count(*) "
        "from outside_buyer.spots_insights_v1_releases group by 1, 2, 3, 4, 5, 6, 7 "
        "having count(*) > 1"
    )
    assert values == [], "a cell was released twice"


# ---- the key never leaves the process -----------------------------------------------------


def test_the_key_is_in_no_artifact_and_pseudonyms_are_unchanged(dev_project: DbtProject):
    key = "distinctive-key-" + "7f3a9c" * 4
    dev_project.env["SPOTS_PSEUDONYM_KEY"] = key
    dev_project.generate(*GENERATE)
    dev_project.dbt(
        "build", "--select", "+stg_spots__interaction_events", "--indirect-selection", "cautious", vars=build_vars(9)
    )
    dev_project.dbt("docs", "generate", vars=build_vars(9))
    files = [p for p in dev_project.workdir.rglob("*") if p.is_file() and not p.name.endswith(".duckdb")]
    assert any(p.name == "manifest.json" for p in files) and any(p.name == "dbt.log" for p in files)
    assert any(p.name == "catalog.json" for p in files) and any("compiled" in p.parts for p in files)
    leaks = [str(p) for p in files if key.encode() in p.read_bytes()]
    assert leaks == [], f"the pseudonym key is written in {leaks}"
    assert not list(REPO.glob("target/**/*")) or all(
        key.encode() not in p.read_bytes() for p in REPO.glob("target/**/*") if p.is_file()
    )

    # same pseudonyms as the previous implementation: sha256(key || '|' || user_id)
    con = duckdb.connect(dev_project.env["PRIVACY_INSIGHTS_DUCKDB"], read_only=True)
    try:
        users = {
            r[0]
            for r in con.sql("select user_id from raw.spots_interaction_events where user_id is not null").fetchall()
        }
        staged = {
            r[0]
            for r in con.sql("select distinct participant_key from staging.stg_spots__interaction_events").fetchall()
        }
    finally:
        con.close()
    expected = {hashlib.sha256(f"{key}|{u}".encode()).hexdigest() for u in users}
    assert staged and staged <= expected


def test_a_postgres_target_without_the_key_fails_naming_it(postgres_project: DbtProject):
    postgres_project.env.pop("SPOTS_PSEUDONYM_KEY")
    result = postgres_project.dbt("seed", "--select", "door_types", check=False)
    assert result.returncode != 0 and "SPOTS_PSEUDONYM_KEY: required on this target" in result.stdout + result.stderr


# ---- production is explicit -----------------------------------------------------------------


@pytest.mark.postgres
def test_a_dev_postgres_build_changes_nothing_in_production(postgres_project: DbtProject):
    project = postgres_project
    project.generate(*GENERATE)
    project.dbt("build", *SPOTS, *WITHOUT_DBT_TESTS, vars=build_vars(9))  # the dev build below runs them
    production_schemas = ("outside_buyer", "intermediate", "staging", "reference", "ops")

    def snapshot() -> dict:
        out = {}
        for schema in production_schemas:
            for table in project.tables(schema):
                out[(schema, table)] = sorted(map(repr, project.query(f'select * from "{schema}"."{table}"')))
        return out

    before = snapshot()
    dev = DbtProject(
        project.workdir.parent / "pg_dev", "pg_dev", project.extension_dir, pg_database=project.pg_database
    )
    dev.dbt("build", *SPOTS, vars=build_vars(12))  # a later as_of: it would freeze three more days
    assert snapshot() == before
    dev_ledger = project.query("select count(*) from dev_outside_buyer.spots_privacy_budget_ledger")[0][0]
    assert dev_ledger == 12 + 1  # its own ledger: 12 days and one week


# ---- typed ledger, ledger first ---------------------------------------------------------------


@pytest.mark.postgres
def test_caps_are_stored_exactly_and_a_failure_after_the_charge_is_repaired(postgres_project: DbtProject):
    project = postgres_project
    project.generate(*GENERATE)
    # the dbt tests run on the last build, the repaired one, not on the builds that set the stage
    project.dbt("build", *SPOTS, *WITHOUT_DBT_TESTS, vars=build_vars(2, epsilon_cap=100))
    project.dbt("build", *SPOTS, *WITHOUT_DBT_TESTS, vars=build_vars(3, epsilon_cap=12.25))
    caps = {(str(p), cap) for g, p, _, _, _, _, cap in ledger(project) if g == "day"}
    assert caps == {("2026-10-05", 100.0), ("2026-10-06", 100.0), ("2026-10-07", 12.25)}
    types = dict(
        project.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'outside_buyer' and table_name = 'spots_privacy_budget_ledger'"
        )
    )
    assert types["epsilon_cap"] == types["epsilon"] == "double precision" and types["release_version"] == "bigint"

    # Inject a failure between the charge and the release rows: PostgreSQL refuses the rows.
    with psycopg.connect(
        dbname=project.pg_database, host=project.env["PGHOST"], user=project.env["PGUSER"], autocommit=True
    ) as conn:
        conn.execute(
            "create function public.refuse_rows() returns trigger language plpgsql as "
            "$$ begin raise exception 'injected fault: release rows refused'; end $$"
        )
        conn.execute(
            "create trigger refuse_rows before insert on outside_buyer.spots_insights_v1_releases "
            "for each statement execute function public.refuse_rows()"
        )
    failed = project.dbt("build", *SPOTS, *WITHOUT_DBT_TESTS, vars=build_vars(4), check=False)
    assert failed.returncode != 0 and "injected fault" in failed.stdout
    orphan = [r for r in ledger(project) if str(r[1]) == "2026-10-08"]
    assert [(v, p, s) for _, _, v, p, s, _, _ in orphan] == [(1, "initial", "charged")]  # charged, never landed
    with psycopg.connect(
        dbname=project.pg_database, host=project.env["PGHOST"], user=project.env["PGUSER"], autocommit=True
    ) as conn:
        conn.execute("drop trigger refuse_rows on outside_buyer.spots_insights_v1_releases")

    project.dbt("build", *SPOTS, vars=build_vars(4))
    repaired = [r for r in ledger(project) if str(r[1]) == "2026-10-08"]
    assert [(v, p, s) for _, _, v, p, s, _, _ in repaired] == [(1, "initial", "charged"), (2, "retry", "charged")]
    versions = project.query(
        "select distinct release_version from outside_buyer.spots_insights_v1 "
        "where release_period_start = timestamp '2026-10-08'"
    )
    assert versions == [(2,)]
    # every published period and version has its charge (also checked by contract_releases_in_ledger)
    unaccounted = project.query(
        "select distinct r.time_granularity, r.release_period_start, r.release_version "
        "from outside_buyer.spots_insights_v1_releases r left join outside_buyer.spots_privacy_budget_ledger l "
        "using (time_granularity, release_period_start, release_version) where l.status is null"
    )
    assert unaccounted == []
