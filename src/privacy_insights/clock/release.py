"""``privacy-insights release``: the command a scheduler runs (cron, a systemd timer).

One run: read the job's timing policy; take the clock (``--now`` / ``PRIVACY_INSIGHTS_NOW``
or the real UTC clock) and set ``as_of`` to it truncated to the hour; refuse outside the
policy's window unless forced; take the per-warehouse lock (wait up to ``--wait``
seconds, else exit cleanly); skip when this cadence slot already ran successfully; run
``dbt build`` on the target with that ``as_of``; report the newly charged ledger periods
and log the run in ``audit.release_runs``. Nothing new to release is a success.

Exit status: 0 released, nothing new, already done this slot, or another run holds the
lock; 1 the build (or the warehouse) failed, with a one-line reason on stderr; 2 bad
input (job, clock, target); 4 refused: outside the policy's window.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
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
    released_periods: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None

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
                "released_periods": [
                    {"time_granularity": g, "release_period_start": p} for g, p in self.released_periods
                ],
                "reason": self.reason,
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

    lock = ReleaseLock(lock_path(local_duckdb_file(target), warehouse_identity(target)))
    if not lock.try_acquire(wait_seconds):
        outcome.outcome = "locked"
        outcome.reason = f"another release holds {lock.path} ({lock.holder()}); nothing done"
        return outcome
    try:
        return _run_locked(outcome, policy, force)
    finally:
        lock.release()


def _open(target: str) -> targets.Warehouse:
    return targets.connect(target)


def _run_locked(outcome: Outcome, policy: TimingPolicy, force: bool) -> Outcome:
    target, started = outcome.target, datetime.now(UTC)
    try:
        warehouse = _open(target)
        try:
            if not force and runs.slot_done(warehouse, policy.job_name, target, _naive(outcome.slot_start)):
                outcome.outcome = "up_to_date"
                outcome.reason = f"this {policy.cadence_minutes}-minute slot already ran successfully"
                return outcome
            before = runs.ledger_periods(warehouse)
        finally:
            warehouse.close()  # a DuckDB file takes one writer: dbt's
    except Exception as exc:  # noqa: BLE001 -- any warehouse error ends the run with its reason
        outcome.outcome, outcome.reason = "failed", f"warehouse: {one_line(str(exc))}"
        return outcome

    status, error = run_dbt_build(target, outcome.as_of)
    try:
        warehouse = _open(target)
        try:
            after = runs.ledger_periods(warehouse)
            outcome.released_periods = sorted(after - before)
            if status != 0:
                outcome.outcome, outcome.reason = "failed", error
            else:
                outcome.outcome = "released" if outcome.released_periods else "nothing_new"
            runs.append(
                warehouse,
                runs.RunRecord(
                    policy.job_name,
                    target,
                    _naive(outcome.slot_start),
                    _naive(outcome.as_of),
                    started,
                    datetime.now(UTC),
                    outcome.outcome,
                    outcome.released_periods,
                    outcome.reason,
                ),
            )
        finally:
            warehouse.close()
    except Exception as exc:  # noqa: BLE001
        outcome.outcome = "failed"
        outcome.reason = error or f"warehouse after the build: {one_line(str(exc))}"
    return outcome


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
