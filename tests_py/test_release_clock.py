"""``privacy-insights release``: the scheduled release on a simulated clock.

The end-to-end test runs the real command (real dbt build, real DuckDB file) twice, one
simulated day apart, the second time as two overlapping invocations, and reads the
budget ledger: each newly eligible period is released and charged exactly once. The
other tests are unit tests of the clock, the timing policies and the lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from harness import BIN, REPO, DbtProject
from privacy_insights.clock.lock import ReleaseLock
from privacy_insights.clock.policy import TimingPolicy, as_of_for, load_policies, parse_now, parse_policy
from privacy_insights.clock.release import lock_path, one_line

UTC = UTC
# Data from Monday 2026-09-28; releases start 2026-10-01 (dbt_project.yml). At 10:37 on
# 10-06 the cutoff is 10-03 10:00: days 10-01 and 10-02 are eligible (hour releases are off
# by default), no week yet (the week of 09-28 starts before release_start_date). One day
# later 10-03 is.
DAY_1 = "2026-10-06T10:37:00Z"
DAY_2 = "2026-10-07T10:37:00Z"
DAY_2_NEXT_HOUR = "2026-10-07T11:05:00Z"
GENERATE = ["--events", "20000", "--cities", "jp-tyo", "--start", "2026-09-28", "--days", "14", "--seed", "3"]


def release_env(project: DbtProject) -> dict[str, str]:
    return project.env | {
        "DBT_TARGET_PATH": str(project.workdir / "target"),
        "DBT_LOG_PATH": str(project.workdir / "logs"),
    }


def start_release(project: DbtProject, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "privacy-insights"), "release", "--target", project.target, *args],
        cwd=REPO,
        env=release_env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, dict, str, str]:
    out, err = process.communicate(timeout=900)
    lines = [line for line in out.splitlines() if line.startswith('{"outcome"')]
    assert lines, f"no outcome line (exit {process.returncode}):\n{out[-4000:]}\n{err[-2000:]}"
    return process.returncode, json.loads(lines[-1]), out, err


def release(project: DbtProject, *args: str) -> tuple[int, dict, str, str]:
    return finish(start_release(project, *args))


def ledger_rows(project: DbtProject) -> list[tuple[str, str]]:
    return [
        (g, str(p)[:10])
        for g, p in project.query(
            "select time_granularity, release_period_start from outside_buyer.spots_privacy_budget_ledger order by 1, 2"
        )
    ]


def periods(outcome: dict) -> set[tuple[str, str]]:
    return {(p["time_granularity"], p["release_period_start"]) for p in outcome["released_periods"]}


def the_lock(project: DbtProject) -> ReleaseLock:
    warehouse = Path(project.env["PRIVACY_INSIGHTS_DUCKDB"])
    return ReleaseLock(lock_path(warehouse, f"dev-{warehouse}"))


@pytest.mark.e2e
def test_release_on_a_simulated_clock_charges_each_new_period_once(dev_project: DbtProject):
    dev_project.generate(*GENERATE)

    code, first, _, err = release(dev_project, "--now", DAY_1)
    assert code == 0, err
    assert first["outcome"] == "released" and first["as_of"] == "2026-10-06T10:00:00Z"
    day_1 = {("day", d) for d in ("2026-10-01", "2026-10-02")}
    assert periods(first) == day_1
    assert ledger_rows(dev_project) == sorted(day_1)

    # One simulated day later, two overlapping invocations: the first holds the lock and
    # releases day 10-03; the second (the next hour's run, started while the first is still
    # building) waits for it, then builds and finds nothing new: a success.
    lock = the_lock(dev_project)
    a = start_release(dev_project, "--now", DAY_2, "--wait", "900")
    deadline = time.monotonic() + 60
    while lock.try_acquire(0):  # until the first invocation holds the lock
        lock.release()
        assert time.monotonic() < deadline and a.poll() is None, "the first invocation never took the lock"
        time.sleep(0.05)
    b = start_release(dev_project, "--now", DAY_2_NEXT_HOUR, "--wait", "900")
    (code_a, out_a, log_a, err_a), (code_b, out_b, log_b, err_b) = finish(a), finish(b)
    assert (code_a, code_b) == (0, 0), err_a + err_b
    assert out_a["outcome"] == "released" and out_b["outcome"] == "nothing_new", (out_a, out_b)
    assert periods(out_a) == {("day", "2026-10-03")}
    assert periods(out_b) == set()
    # The new clock came through the environment: dbt parsed only what reads it, where a
    # changed --vars as_of made it reparse the whole project every run.
    for log in (log_a, log_b):
        assert "Unable to do partial parsing" not in log, log[:3000]

    # Again within an hour that already ran: nothing is built.
    code, again, out, _ = release(dev_project, "--now", DAY_2)
    assert code == 0 and again["outcome"] == "up_to_date" and "Done. PASS" not in out

    # Each (granularity, period) is in the ledger exactly once: nothing charged twice.
    rows = ledger_rows(dev_project)
    assert rows == sorted(day_1 | {("day", "2026-10-03")})
    assert len(rows) == len(set(rows)) == 3

    # While another process holds the lock, a run exits cleanly at once, --force or not.
    assert lock.try_acquire(0)
    try:
        for extra in ((), ("--force",)):
            code, held, out, err = release(dev_project, "--now", DAY_2, *extra)
            assert code == 0 and held["outcome"] == "locked" and err == ""
            assert "privacy-insights release: locked: another release holds" in out
    finally:
        lock.release()
    assert ledger_rows(dev_project) == rows

    runs = dev_project.query(
        "select slot_start, outcome, periods_released, started_at, finished_at from audit.release_runs order by 1"
    )
    assert [(str(s), o, n) for s, o, n, _, _ in runs] == [
        ("2026-10-06 10:00:00", "released", len(day_1)),
        ("2026-10-07 10:00:00", "released", 1),
        ("2026-10-07 11:00:00", "nothing_new", 0),
    ]
    assert runs[2][3] >= runs[1][4], "the overlapping run built while the first was still building"


def test_release_refuses_outside_the_window_and_a_future_clock(tmp_path):
    env = os.environ | {
        "PRIVACY_INSIGHTS_PROJECT_DIR": str(REPO),
        "PRIVACY_INSIGHTS_DUCKDB": str(tmp_path / "never_opened.duckdb"),
    }
    command = [str(BIN / "privacy-insights"), "release", "--job", "spots_insights_v1_nightly"]
    refused = subprocess.run([*command, "--now", "2026-10-06T10:37:00Z"], env=env, capture_output=True, text=True)
    assert refused.returncode == 4
    assert "outside its window 02:00-06:00 UTC; pass --force" in refused.stderr
    assert json.loads(refused.stdout.splitlines()[-1])["outcome"] == "refused"
    assert not (tmp_path / "never_opened.duckdb").exists()  # no build, no warehouse touched

    future = subprocess.run([*command, "--now", "2999-01-01T03:00:00Z"], env=env, capture_output=True, text=True)
    assert future.returncode == 2 and "now: must not be in the future" in future.stderr
    unknown = subprocess.run(
        [*command[:-1], "nope", "--now", "2026-10-06T03:00:00Z"], env=env, capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "no timing policy named 'nope'" in unknown.stderr


def test_a_failed_build_exits_1_with_a_one_line_reason_and_is_logged(tmp_path):
    (tmp_path / "profiles").mkdir()  # no profiles.yml: dbt cannot even start the build
    warehouse = tmp_path / "warehouse.duckdb"
    env = os.environ | {
        "PRIVACY_INSIGHTS_PROJECT_DIR": str(REPO),
        "PRIVACY_INSIGHTS_DUCKDB": str(warehouse),
        "DBT_PROFILES_DIR": str(tmp_path / "profiles"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    failed = subprocess.run(
        [str(BIN / "privacy-insights"), "release", "--now", "2026-10-06T10:37:00Z"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1
    assert len(failed.stderr.splitlines()) == 1, failed.stderr
    assert failed.stderr.startswith("privacy-insights release: failed: ") and "profile" in failed.stderr.lower()
    outcome = json.loads(failed.stdout.splitlines()[-1])
    assert outcome["outcome"] == "failed" and outcome["reason"] in failed.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.sql("select outcome, periods_released from audit.release_runs").fetchall() == [("failed", 0)]
    finally:
        con.close()


def policy(**overrides) -> TimingPolicy:
    row = {
        "job_name": "job",
        "cadence_minutes": "60",
        "window_start_hour_utc": "0",
        "window_end_hour_utc": "24",
        "max_staleness_hours": "3",
        "description": "",
    } | overrides
    return parse_policy(row, 2)


def test_policy_windows_slots_and_validation():
    at = lambda h, m=0: datetime(2026, 10, 6, h, m, tzinfo=UTC)  # noqa: E731
    assert all(policy().in_window(at(h)) for h in range(24))
    nightly = policy(
        window_start_hour_utc="2", window_end_hour_utc="6", cadence_minutes="1440", max_staleness_hours="30"
    )
    assert [h for h in range(24) if nightly.in_window(at(h))] == [2, 3, 4, 5]
    wrapping = policy(window_start_hour_utc="22", window_end_hour_utc="4")
    assert [h for h in range(24) if wrapping.in_window(at(h))] == [0, 1, 2, 3, 22, 23]
    assert nightly.slot_start(at(5, 59)) == at(0)
    assert policy(cadence_minutes="15").slot_start(at(10, 44)) == at(10, 30)
    assert as_of_for(at(10, 59)) == at(10)

    for field, value, rule in [
        ("cadence_minutes", "7", "must divide a day"),
        ("cadence_minutes", "x", "must be a whole number"),
        ("window_start_hour_utc", "24", "between 0 and 23"),
        ("window_end_hour_utc", "0", "between 1 and 24"),
        ("max_staleness_hours", "0", "between 1 and"),
        ("job_name", "Bad Name", "job_name: must match"),
    ]:
        with pytest.raises(ValueError, match=rule) as error:
            policy(**{field: value})
        assert field in str(error.value)
    with pytest.raises(ValueError, match="max_staleness_hours: must be at least one cadence"):
        policy(cadence_minutes="1440", max_staleness_hours="23")
    with pytest.raises(ValueError, match="must differ"):
        policy(window_start_hour_utc="5", window_end_hour_utc="5")

    shipped = load_policies(REPO / "seeds" / "timing_policies.csv")
    assert {"spots_insights_v1_hourly", "spots_insights_v1_nightly"} <= set(shipped)


def test_simulated_clock_is_utc_and_never_ahead():
    real = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert parse_now("2026-11-02T05:10:00Z", real) == datetime(2026, 11, 2, 5, 10, tzinfo=UTC)
    assert parse_now(None, real) == real
    with pytest.raises(ValueError, match="now: must be in UTC"):
        parse_now("2026-11-02T05:10:00+09:00", real)
    with pytest.raises(ValueError, match="now: must be an ISO 8601"):
        parse_now("yesterday", real)
    with pytest.raises(ValueError, match="now: must not be in the future"):
        parse_now("2026-11-25T09:00:01Z", real)


def test_lock_is_exclusive_between_processes(tmp_path):
    path = tmp_path / "release-x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from privacy_insights.clock.lock import ReleaseLock; "
                f"l = ReleaseLock(Path({str(path)!r})); assert l.try_acquire(0); print('held', flush=True); "
                "sys.stdin.readline()"
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = ReleaseLock(path)
        assert not lock.try_acquire(0)
        assert not lock.try_acquire(0.6)  # waits, then gives up
        assert lock.holder().startswith(f"pid {holder.pid} ")
    finally:
        holder.communicate("\n", timeout=30)  # the holder exits: the kernel frees its lock
    assert lock.try_acquire(0)
    lock.release()


def test_one_line_reason_from_a_dbt_error():
    message = (
        "Encountered an error:\nCompilation Error in model int_spots__cell_domain (models/x.sql)\n"
        "  var as_of: must not be in the future (got 2099-01-01T00:00:00Z)\n  \n  > in macro as_of_timestamp"
    )
    assert one_line(message) == (
        "Compilation Error in model int_spots__cell_domain (models/x.sql): "
        "var as_of: must not be in the future (got 2099-01-01T00:00:00Z)"
    )
    assert "\n" not in one_line("\x1b[31mDatabase Error\x1b[0m\nboom\nmore")
