"""``privacy-insights release``: the command a scheduler runs (cron, a systemd timer).

One run: read the job's timing policy; take the clock (``--now`` / ``PRIVACY_INSIGHTS_NOW``
or the real UTC clock) and set ``as_of`` to it truncated to the hour; refuse outside the
policy's window unless forced; take the per-warehouse lock (wait up to ``--wait``
seconds, else exit cleanly); skip when this cadence slot already ran successfully; run
``dbt build`` on the target with that ``as_of``; compare the release table and the budget
ledger before and after: ``released_periods`` are the versions that landed (rows in
``spots_insights_v1_releases``), ``charged_not_landed`` the charges whose rows did not land
(the next run retries them), ``held_periods`` what the build held for an incomplete landing
(ops_spots_release_holds); log the run in ``audit.release_runs``, or, when the warehouse
cannot take it, in the fallback run log (``runs.fallback_log``). Nothing new to release is a
success. Every outcome prints its JSON line, whatever failed (the lock folder, the
warehouse, the build).

Exit status: 0 released, nothing new, already done this slot, or another run holds the
lock; 1 the build (or the warehouse, or the lock folder) failed, with a one-line reason on
stderr; 2 bad input (job, clock, target); 4 refused: outside the policy's window.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from privacy_insights import targets
from privacy_insights.clock import runs
from privacy_insights.clock.lock import ReleaseLock, lock_path
from privacy_insights.clock.policy import (
    AS_OF_ENV,
    TimingPolicy,
    as_of_for,
    as_of_var,
    get_policy,
    now_from_environment,
)

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 4
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Outcome:
    outcome: str  # released | nothing_new | up_to_date | locked | refused | failed
    job_name: str
    target: str
    now: datetime
    as_of: datetime
    slot_start: datetime
    released_periods: list[runs.Period] = field(default_factory=list)  # versions that landed
    reason: str | None = None
    charged_not_landed: list[runs.Period] = field(default_factory=list)
    held_periods: list[tuple[str, str]] = field(default_factory=list)
    run_log: str | None = None  # where the run was logged: "warehouse", a file, or None (not logged)

    @property
    def exit_code(self) -> int:
        return {"failed": EXIT_FAILED, "refused": EXIT_REFUSED}.get(self.outcome, EXIT_OK)

    def as_json(self) -> str:
        return json.dumps(
            {
                "outcome": self.outcome,
                "job": self.job_name,
                "target": self.target,
                "now": f"{self.now:%Y-%m-%dT%H:%M:%SZ}",
                "as_of": as_of_var(self.as_of),
                "slot_start": f"{self.slot_start:%Y-%m-%dT%H:%M:%SZ}",
                "released_periods": runs.periods_json(self.released_periods),
                "charged_not_landed": runs.periods_json(self.charged_not_landed),
                "held_periods": [{"time_granularity": g, "release_period_start": p} for g, p in self.held_periods],
                "reason": self.reason,
                "run_log": self.run_log,
            }
        )


def local_duckdb_file(target: str) -> Path:
    """The DuckDB file a dbt run on ``target`` opens on this machine (profiles.yml.example)."""
    if target == "dev":
        return targets.duckdb_path()
    path = Path(os.environ.get("PRIVACY_INSIGHTS_PG_SCRATCH", f"data/{target}_scratch.duckdb"))
    return path if path.is_absolute() else targets.project_root() / path


def warehouse_identity(target: str) -> str:
    if target == "dev":
        return f"dev-{targets.duckdb_path()}"
    env = os.environ
    return (
        f"{target}-{env.get('PGDATABASE', 'privacy_insights')}@{env.get('PGHOST', '127.0.0.1')}-"
        f"{env.get('PGPORT', '5432')}"
    )


def dbt_executable() -> str:
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


def one_line(message: str) -> str:
    """dbt's first error message reduced to one line: what failed, then why."""
    lines = [ANSI.sub("", line).strip() for line in message.splitlines()]
    lines = [line for line in lines if line and not line.startswith(">") and line != "Encountered an error:"]
    return ": ".join(lines[:2])[:400] or "dbt build failed"


def run_dbt_build(target: str, as_of: datetime) -> tuple[int, str | None]:
    """``dbt build`` with the clock's as_of; dbt's log lines go to stdout as they come.

    The clock goes in the environment (``PRIVACY_INSIGHTS_AS_OF``, macro as_of_timestamp),
    not in ``--vars``: dbt reparses the whole project when a --vars value changes, but
    only the files that read a changed environment variable, so each scheduled run keeps
    partial parsing. Returns the exit status and, on failure, the first error as one line.
    """
    command = [dbt_executable(), "--log-format", "json", "build", "--target", target]
    env = os.environ | {AS_OF_ENV: as_of_var(as_of)}
    first_error: str | None = None
    with subprocess.Popen(
        command, cwd=targets.project_root(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            try:
                info = json.loads(raw)["info"]
            except (ValueError, KeyError, TypeError):
                print(raw, end="", flush=True)  # dbt's own usage errors are plain text
                if raw.startswith("Error") and first_error is None:
                    first_error = one_line(raw)
                continue
            message = ANSI.sub("", info.get("msg", ""))
            print(f"{info.get('ts', '')[11:19]}  {message}", flush=True)
            if info.get("level") == "error" and first_error is None:
                first_error = one_line(message)
        status = process.wait()
    if status != 0:
        return status, first_error or f"dbt build exited with status {status}"
    return 0, None


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def run(policy: TimingPolicy, target: str, now: datetime, wait_seconds: float = 0.0, force: bool = False) -> Outcome:
    as_of, slot = as_of_for(now), policy.slot_start(now)
    outcome = Outcome("refused", policy.job_name, target, now, as_of, slot)
    if not policy.in_window(now) and not force:
        outcome.reason = (
            f"job {policy.job_name}: {now:%H:%M} UTC is outside its window {policy.window_text()}; "
            "pass --force to run anyway"
        )
        return outcome

    started = datetime.now(UTC)
    lock = ReleaseLock(lock_path(local_duckdb_file(target), warehouse_identity(target)))
    try:
        acquired = lock.try_acquire(wait_seconds)
    except OSError as exc:  # a read-only or full lock folder: nothing built, the run is still reported
        outcome.outcome, outcome.reason = "failed", f"lock {lock.path}: {exc.strerror or exc}"
        _log(outcome, started)
        return outcome
    if not acquired:
        outcome.outcome = "locked"
        outcome.reason = f"another release holds {lock.path} ({lock.holder()}); nothing done"
        return outcome
    started = datetime.now(UTC)  # the run starts once it holds the lock
    try:
        try:
            _run_locked(outcome, policy, force)
        except Exception as exc:  # noqa: BLE001 -- whatever broke, the run ends with its JSON line and its log
            outcome.outcome, outcome.reason = "failed", f"release command: {one_line(repr(exc))}"
        if outcome.outcome != "up_to_date":
            _log(outcome, started)  # still under the lock: the next run starts after this one is logged
    finally:
        lock.release()
    return outcome


def _open(target: str) -> targets.Warehouse:
    return targets.connect(target)


def _state(target: str) -> tuple[set[runs.Period], set[runs.Period]]:
    """(charged versions in the ledger, versions with rows in the release table)."""
    warehouse = _open(target)
    try:
        return runs.charged_versions(warehouse), runs.landed_versions(warehouse)
    finally:
        warehouse.close()  # a DuckDB file takes one writer: dbt's


def _run_locked(outcome: Outcome, policy: TimingPolicy, force: bool) -> None:
    target = outcome.target
    try:
        warehouse = _open(target)
        try:
            if not force and runs.slot_done(warehouse, policy.job_name, target, _naive(outcome.slot_start)):
                outcome.outcome = "up_to_date"
                outcome.reason = f"this {policy.cadence_minutes}-minute slot already ran successfully"
                return
        finally:
            warehouse.close()
        charged_before, landed_before = _state(target)
    except Exception as exc:  # noqa: BLE001 -- any warehouse error ends the run with its reason
        outcome.outcome, outcome.reason = "failed", f"warehouse: {one_line(str(exc))}"
        return

    status, error = run_dbt_build(target, outcome.as_of)
    try:
        charged_after, landed_after = _state(target)
        warehouse = _open(target)
        try:
            outcome.held_periods = runs.held_periods(warehouse, _naive(outcome.as_of))
        finally:
            warehouse.close()
    except Exception as exc:  # noqa: BLE001
        outcome.outcome = "failed"
        outcome.reason = error or f"warehouse after the build: {one_line(str(exc))}"
        return
    outcome.released_periods = sorted(landed_after - landed_before)
    outcome.charged_not_landed = sorted((charged_after - charged_before) - landed_after)
    if status != 0:
        outcome.outcome, outcome.reason = "failed", error
    elif outcome.charged_not_landed:  # a build that succeeds lands all it charges; say so if not
        outcome.outcome = "failed"
        outcome.reason = "the build charged periods whose rows did not land; the next run releases them again"
    else:
        outcome.outcome = "released" if outcome.released_periods else "nothing_new"


def _log(outcome: Outcome, started: datetime) -> None:
    """Log the run in the warehouse (audit.release_runs), else in the fallback run log file."""
    record = runs.RunRecord(
        outcome.job_name,
        outcome.target,
        _naive(outcome.slot_start),
        _naive(outcome.as_of),
        started,
        datetime.now(UTC),
        outcome.outcome,
        outcome.released_periods,
        outcome.reason,
        outcome.charged_not_landed,
        outcome.held_periods,
    )
    try:
        warehouse = _open(outcome.target)
        try:
            runs.append(warehouse, record)
            outcome.run_log = "warehouse"
            return
        finally:
            warehouse.close()
    except Exception as exc:  # noqa: BLE001 -- read-only, full or unreachable: use the file
        problem = one_line(str(exc))
        record = replace(record, reason=f"{record.reason or ''} [warehouse run log refused: {problem}]".strip())
    path = runs.fallback_log()
    try:
        runs.append_to_file(record, path)
        outcome.run_log = str(path)  # the JSON line says where; the warehouse's error is the record's reason
    except OSError as exc:
        note = f"run not logged (warehouse: {problem}; {path}: {exc.strerror or exc})"
        outcome.reason = f"{outcome.reason}; {note}" if outcome.reason else note


def main(job_name: str, target: str, now_text: str | None, wait_seconds: float, force: bool) -> int:
    """The CLI entry: one JSON line on stdout at the end; a failure's reason on stderr."""
    if target not in targets.TARGETS:
        raise ValueError(f"target: unknown value {target!r}; expected one of {', '.join(targets.TARGETS)}")
    if wait_seconds < 0:
        raise ValueError(f"wait: must be >= 0 seconds; got {wait_seconds}")
    policy = get_policy(targets.project_root() / "seeds" / "timing_policies.csv", job_name)
    now = now_from_environment(now_text)
    outcome = run(policy, target, now, wait_seconds, force)
    print(outcome.as_json(), flush=True)
    if outcome.reason:  # a failure or refusal on stderr (cron mails it); a clean skip on stdout
        print(
            f"privacy-insights release: {outcome.outcome}: {outcome.reason}",
            file=sys.stderr if outcome.exit_code else sys.stdout,
        )
    return outcome.exit_code
