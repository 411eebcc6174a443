"""Releases an operator can trust (issue 28), on real warehouses.

- A stalled landing: the loader's watermark stops at 2026-10-28 while the clock reaches
  2026-11-10. No period that ends after the watermark less the grace is charged or
  published, the alert release_held_incomplete fires and `privacy-insights release` lists
  the held periods; when the rows land and the watermark moves on, the next build releases
  them, once. On DuckDB (through the release command) and on PostgreSQL.
- The ledger and the release table disagree (a deleted charge, an epsilon set to 0): the
  build stops before any charge, naming the periods.
- The release command on a full disk (a small tmpfs holding the PostgreSQL target's scratch
  file, where the release step's rows are staged after the ledger was charged) reports what
  was charged and did not land, and the recovery run what landed; on a read-only folder it
  prints its JSON line and logs the run in the fallback run log.

The tmpfs tests mount one (root, Linux); outside CI they skip when mounting is not permitted,
under CI=true (which runs as root on the same kind of machine) they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest

from harness import BIN, REPO, DbtProject
from privacy_insights.clock.policy import AS_OF_ENV

pytestmark = pytest.mark.e2e
IN_CI = os.environ.get("CI", "").lower() == "true"

# 40 days of activity from Monday 2026-10-05 (all three sources, so the release command's full
# build has every raw table); releases start 2026-10-01 (dbt_project.yml).
GENERATE = [
    *("--events", "3000", "--users", "300", "--cities", "jp-tyo", "--start", "2026-10-05", "--days", "40"),
    *("--outside-city-share", "0", "--seed", "5"),
]
STALLED_AT = datetime(2026, 10, 28)  # the loader's watermark stops here...
CAUGHT_UP = datetime(2026, 11, 15)  # ...and later catches up (the generator's window ends 11-14)
GRACE_HOURS = 1  # var landing_grace_hours
NOW = "2026-11-10T00:30:00Z"  # as_of 11-10 00:00: periods ending by 11-07 are past the 72-hour delay
NOW_NEXT_HOUR = "2026-11-10T01:30:00Z"
RELEASE_START = date(2026, 10, 1)


def period_end(granularity: str, start: date) -> datetime:
    return datetime.combine(start, datetime.min.time()) + timedelta(days=7 if granularity == "week" else 1)


def expected_held() -> set[tuple[str, str]]:
    """Periods past the delay at NOW that end after the watermark less the grace."""
    cutoff, complete = datetime(2026, 11, 7), STALLED_AT - timedelta(hours=GRACE_HOURS)
    days = [RELEASE_START + timedelta(days=i) for i in range(40)]
    weeks = [date(2026, 10, 5) + timedelta(days=7 * i) for i in range(6)]
    return {
        (g, str(start))
        for g, starts in (("day", days), ("week", weeks))
        for start in starts
        if complete < period_end(g, start) <= cutoff
    }


def execute(project: DbtProject, *statements: str) -> None:
    """Write to the target's warehouse (the raw landing tables) as a loader would."""
    if project.target == "dev":
        con = duckdb.connect(project.env["PRIVACY_INSIGHTS_DUCKDB"])
        try:
            for sql in statements:
                con.execute(sql)
        finally:
            con.close()
        return
    with psycopg.connect(
        dbname=project.pg_database, host=project.env["PGHOST"], user=project.env["PGUSER"], autocommit=True
    ) as conn:
        for sql in statements:
            conn.execute(sql)


def stall_the_landing(project: DbtProject) -> None:
    """The rows of 10-28 on have not landed yet, and the loader says so: its watermark stays at 10-28."""
    execute(
        project,
        "create table raw.spots_pending as select * from raw.spots_interaction_events "
        f"where occurred_at >= timestamptz '{STALLED_AT:%Y-%m-%d} 00:00:00+00'",
        "delete from raw.spots_interaction_events "
        f"where occurred_at >= timestamptz '{STALLED_AT:%Y-%m-%d} 00:00:00+00'",
        f"update raw.spots_load_watermark set loaded_through = timestamptz '{STALLED_AT:%Y-%m-%d} 00:00:00+00'",
    )


def catch_up(project: DbtProject) -> None:
    """The rest lands, then the loader moves its watermark on."""
    execute(
        project,
        "insert into raw.spots_interaction_events select * from raw.spots_pending",
        "drop table raw.spots_pending",
        f"update raw.spots_load_watermark set loaded_through = timestamptz '{CAUGHT_UP:%Y-%m-%d} 00:00:00+00'",
    )


def ledger(project: DbtProject) -> list[tuple[str, str, int, str, str, float]]:
    return [
        (g, str(p)[:10], v, purpose, status, eps)
        for g, p, v, purpose, status, eps in project.query(
            "select time_granularity, release_period_start, release_version, purpose, status, epsilon "
            "from outside_buyer.spots_privacy_budget_ledger order by 1, 2, 3"
        )
    ]


def published(project: DbtProject) -> set[tuple[str, str]]:
    return {
        (g, str(p)[:10])
        for g, p in project.query(
            "select distinct time_granularity, release_period_start from outside_buyer.spots_insights_v1_releases"
        )
    }


def alerts(project: DbtProject) -> dict[str, str]:
    return dict(project.query("select alert_key, details from ops.ops_alerts"))


def release_env(project: DbtProject, **extra: str) -> dict[str, str]:
    return project.env | {
        "DBT_TARGET_PATH": str(project.workdir / "target"),
        "DBT_LOG_PATH": str(project.workdir / "logs"),
        **extra,
    }


def release(project: DbtProject, now: str, **env: str) -> tuple[int, dict, str]:
    result = subprocess.run(
        [str(BIN / "privacy-insights"), "release", "--target", project.target, "--now", now],
        cwd=REPO,
        env=release_env(project, **env),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith('{"outcome"')]
    assert lines, f"no JSON line (exit {result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-3000:]}"
    return result.returncode, json.loads(lines[-1]), result.stderr


def pairs(entries: list[dict]) -> set[tuple[str, str]]:
    return {(e["time_granularity"], e["release_period_start"]) for e in entries}


def assert_held_and_nothing_charged(project: DbtProject, held: set[tuple[str, str]]) -> None:
    complete = STALLED_AT - timedelta(hours=GRACE_HOURS)
    rows = ledger(project)
    late = [r for r in rows if period_end(r[0], date.fromisoformat(r[1])) > complete]
    assert late == [], f"charged past the watermark: {late}"
    assert not {p for p in published(project) if period_end(p[0], date.fromisoformat(p[1])) > complete}
    assert {(g, p) for g, p, *_ in rows} and not held & {(g, p) for g, p, *_ in rows}
    fired = alerts(project)
    assert {"release_held_incomplete:day", "release_held_incomplete:week"} <= set(fired), fired
    assert (
        "complete through 2026-10-27 23:00:00 (loaded through 2026-10-28 00:00:00)"
        in fired["release_held_incomplete:day"]
    )
    holds = {
        (g, str(p)[:10])
        for g, p in project.query("select time_granularity, release_period_start from ops.ops_spots_release_holds")
    }
    assert holds == held


def assert_released_once(project: DbtProject, held: set[tuple[str, str]]) -> None:
    rows = ledger(project)
    keys = [(g, p) for g, p, *_ in rows]
    assert len(keys) == len(set(keys)), "a period was charged twice"
    assert held <= {(g, p) for g, p, v, purpose, status, _ in rows if (v, purpose, status) == (1, "initial", "charged")}
    assert held <= published(project)
    assert not [key for key in alerts(project) if key.startswith("release_held_incomplete")]
    assert project.query("select count(*) from ops.ops_spots_release_holds") == [(0,)]


# ---- a stalled landing, through the release command, on DuckDB --------------------------------


@pytest.fixture(scope="module")
def dev_warehouse(tmp_path_factory, extension_dir) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp("gate") / "dev", "dev", extension_dir)
    project.generate(*GENERATE)
    return project


def test_a_stalled_landing_is_held_then_released_once(dev_warehouse: DbtProject):
    project, held = dev_warehouse, expected_held()
    assert len(held) == 11 + 1  # the days 10-27 .. 11-06 and the week of 10-26
    stall_the_landing(project)

    code, outcome, err = release(project, NOW)
    assert code == 0 and outcome["outcome"] == "released", (outcome, err)
    assert pairs(outcome["held_periods"]) == held
    assert not pairs(outcome["released_periods"]) & held and outcome["charged_not_landed"] == []
    assert_held_and_nothing_charged(project, held)

    catch_up(project)
    code, outcome, err = release(project, NOW_NEXT_HOUR)
    assert code == 0 and outcome["outcome"] == "released", (outcome, err)
    assert pairs(outcome["released_periods"]) == held and outcome["held_periods"] == []
    assert {e["release_version"] for e in outcome["released_periods"]} == {1}
    assert_released_once(project, held)
    runs = project.query("select outcome, held_periods from audit.release_runs order by started_at")
    assert [o for o, _ in runs] == ["released", "released"] and pairs(json.loads(runs[0][1])) == held


# ---- the ledger and the release table must agree before any charge ----------------------------


def release_step(project: DbtProject, as_of: str) -> subprocess.CompletedProcess:
    """The release step alone, the clock from the environment (as the release command passes it:
    dbt keeps its partial parse)."""
    project.env[AS_OF_ENV] = as_of
    try:
        return project.dbt("run", "--select", "spots_insights_v1_releases", check=False)
    finally:
        project.env.pop(AS_OF_ENV)


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (
            "delete from outside_buyer.spots_privacy_budget_ledger where time_granularity = 'day' "
            "and release_period_start = timestamp '2026-10-05'",
            "day 2026-10-05 v1: released rows but no ledger row",
        ),
        (
            "update outside_buyer.spots_privacy_budget_ledger set epsilon = 0 where time_granularity = 'day' "
            "and release_period_start = timestamp '2026-10-06'",
            "day 2026-10-06 v1: charged with epsilon 0",
        ),
    ],
    ids=["deleted_charge", "epsilon_set_to_0"],
)
def test_a_tampered_ledger_stops_the_build_before_any_charge(dev_warehouse: DbtProject, tamper: str, named: str):
    project = dev_warehouse
    if "spots_privacy_budget_ledger" not in project.tables("outside_buyer") or not ledger(project):
        # run alone: release what the clock and the landing allow first
        project.dbt("build", "--selector", "spots_pipeline", vars={"as_of": "2026-11-10T00:00:00Z"})
    backup = project.workdir / f"before-{uuid.uuid4().hex[:6]}.duckdb"
    shutil.copyfile(project.env["PRIVACY_INSIGHTS_DUCKDB"], backup)
    try:
        before = ledger(project)
        assert ("day", "2026-10-05") in {(g, p) for g, p, *_ in before}
        execute(project, tamper)
        tampered = ledger(project)
        releases_before = project.query("select count(*) from outside_buyer.spots_insights_v1_releases")
        result = release_step(project, "2026-11-13T00:00:00Z")  # three more days would be due
        assert result.returncode != 0 and named in result.stdout, result.stdout[-3000:]
        assert "so this build charges and releases nothing" in result.stdout
        assert ledger(project) == tampered  # nothing charged
        assert project.query("select count(*) from outside_buyer.spots_insights_v1_releases") == releases_before
    finally:
        shutil.copyfile(backup, project.env["PRIVACY_INSIGHTS_DUCKDB"])


# ---- the same stalled landing on PostgreSQL, then a full disk under the release command -----


@contextmanager
def tmpfs(path: Path, size: str):
    """A tmpfs of ``size`` mounted at ``path`` (unmounted on the way out)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        reason = f"cannot mount a tmpfs (root on Linux needed): {mounted.stderr.decode().strip()}"
        if IN_CI:
            pytest.fail(f"CI=true runs as root and must mount: {reason}")
        pytest.skip(reason)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path, leave_bytes: int) -> None:
    """Fill the file system of ``folder`` up to ``leave_bytes`` free."""
    free = shutil.disk_usage(folder).free
    with open(folder / "filler", "wb") as handle:
        handle.write(b"\0" * max(free - leave_bytes, 0))


@pytest.mark.postgres
def test_postgres_stall_then_a_full_disk_is_reported_and_recovered(postgres_project: DbtProject, tmp_path):
    project, held = postgres_project, expected_held()
    project.generate(*GENERATE)
    stall_the_landing(project)
    # the spots pipeline without its data tests (the release command's builds below run every test)
    spots = (
        "build",
        "--selector",
        "spots_pipeline",
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
    )
    clock = {"as_of": "2026-11-10T00:00:00Z"}
    result = project.dbt(*spots, vars=clock)
    assert "release_held_incomplete: 11 period(s)" in result.stdout
    assert_held_and_nothing_charged(project, held)
    catch_up(project)
    project.dbt(*spots, vars=clock)
    assert_released_once(project, held)

    # Three days later the scratch file (where the release step's new rows are staged before they
    # are written to PostgreSQL) sits on a full disk: the ledger is charged, the rows never land.
    disk = tmp_path / "scratch_disk"
    with tmpfs(disk, "4m"):
        scratch = {"PRIVACY_INSIGHTS_PG_SCRATCH": str(disk / "scratch.duckdb")}
        fill(disk, 64 * 1024)
        code, failed, err = release(project, "2026-11-13T00:30:00Z", **scratch)
        new_days = {("day", d) for d in ("2026-11-07", "2026-11-08", "2026-11-09")} | {("week", "2026-11-02")}
        assert code == 1 and failed["outcome"] == "failed", (failed, err)
        assert failed["released_periods"] == []
        assert pairs(failed["charged_not_landed"]) == new_days, failed
        assert failed["run_log"] == "warehouse"
        logged = project.query("select outcome, charged_not_landed from audit.release_runs")
        assert [o for o, _ in logged] == ["failed"] and pairs(json.loads(logged[0][1])) == new_days

        (disk / "filler").unlink()  # space again: the next run releases them, as retries, and says so
        code, recovered, err = release(project, "2026-11-13T01:30:00Z", **scratch)
    assert code == 0 and recovered["outcome"] == "released", (recovered, err)
    assert {
        (e["time_granularity"], e["release_period_start"], e["release_version"]) for e in recovered["released_periods"]
    } == {(g, p, 2) for g, p in new_days}
    assert recovered["charged_not_landed"] == []
    assert {(g, p, v, purpose) for g, p, v, purpose, *_ in ledger(project) if (g, p) in new_days} == {
        (g, p, v, purpose) for g, p in new_days for v, purpose in ((1, "initial"), (2, "retry"))
    }


def test_a_read_only_warehouse_folder_gets_a_json_line_and_a_logged_run(dev_warehouse: DbtProject, tmp_path):
    project = dev_warehouse
    folder = tmp_path / "readonly"
    with tmpfs(folder, "64m"):
        warehouse = folder / "warehouse.duckdb"
        shutil.copyfile(project.env["PRIVACY_INSIGHTS_DUCKDB"], warehouse)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        run_log = tmp_path / "runs" / "release-runs.jsonl"
        env = {"PRIVACY_INSIGHTS_DUCKDB": str(warehouse), "PRIVACY_INSIGHTS_RELEASE_RUN_LOG": str(run_log)}
        code, outcome, err = release(project, "2026-11-13T00:30:00Z", **env)
    assert code == 1 and outcome["outcome"] == "failed", outcome
    assert "Read-only file system" in outcome["reason"] and "Traceback" not in err
    assert err.strip() == f"privacy-insights release: failed: {outcome['reason']}"
    assert outcome["run_log"] == str(run_log)
    logged = [json.loads(line) for line in run_log.read_text().splitlines()]
    assert [(r["outcome"], r["as_of"]) for r in logged] == [("failed", "2026-11-13T00:00:00")]
