"""The release run log ``audit.release_runs`` in the target warehouse, and the ledger reads.

One row per release run that took the lock: ``released`` (new versions landed),
``nothing_new`` (the build succeeded, nothing new landed), ``up_to_date`` is not logged,
``failed`` (with the one-line reason, what it charged without landing, and what was held).
The ops freshness alert compares the newest successful ``finished_at`` of a job with its
policy's ``max_staleness_hours``; the run command compares ``slot_start`` to know whether
this cadence slot already ran. Rows are only ever inserted. When the warehouse cannot take
the row (read-only, full, unreachable), the run goes to a JSON Lines file instead
(``fallback_log``): ``PRIVACY_INSIGHTS_RELEASE_RUN_LOG``, else ``release-runs.jsonl`` in
dbt's log folder (``DBT_LOG_PATH``, else ``logs/`` in the project).
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from privacy_insights import targets
from privacy_insights.targets import Warehouse

SUCCESS = ("released", "nothing_new")
COLUMNS = [
    ("run_id", "varchar"),
    ("job_name", "varchar"),
    ("target", "varchar"),
    ("slot_start", "timestamp"),
    ("as_of", "timestamp"),
    ("started_at", "timestamptz"),
    ("finished_at", "timestamptz"),
    ("outcome", "varchar"),
    ("periods_released", "integer"),
    ("released_periods", "varchar"),
    ("reason", "varchar"),
    ("host", "varchar"),
    ("pid", "integer"),
]
# Added since the first version of the table: ensure_table adds them to an older one.
LATER_COLUMNS = [("charged_not_landed", "varchar"), ("held_periods", "varchar")]
LEDGER = ("outside_buyer", "spots_privacy_budget_ledger")
RELEASES = ("outside_buyer", "spots_insights_v1_releases")
HOLDS = ("ops", "ops_spots_release_holds")
RUN_LOG_ENV = "PRIVACY_INSIGHTS_RELEASE_RUN_LOG"

Period = tuple[str, str, int]  # (time_granularity, release_period_start YYYY-MM-DD, release_version)


@dataclass(frozen=True)
class RunRecord:
    job_name: str
    target: str
    slot_start: datetime  # naive UTC
    as_of: datetime  # naive UTC
    started_at: datetime
    finished_at: datetime
    outcome: str
    released_periods: list[Period]
    reason: str | None = None
    charged_not_landed: list[Period] = field(default_factory=list)
    held_periods: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "job_name": self.job_name,
            "target": self.target,
            "slot_start": self.slot_start.isoformat(),
            "as_of": self.as_of.isoformat(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "outcome": self.outcome,
            "released_periods": periods_json(self.released_periods),
            "charged_not_landed": periods_json(self.charged_not_landed),
            "held_periods": [{"time_granularity": g, "release_period_start": p} for g, p in self.held_periods],
            "reason": self.reason,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }


def periods_json(periods: list[Period]) -> list[dict]:
    return [{"time_granularity": g, "release_period_start": p, "release_version": v} for g, p, v in periods]


def _table(warehouse: Warehouse) -> str:
    return warehouse.qualify("audit", "release_runs")


def _exists(warehouse: Warehouse, schema: str, table: str) -> bool:
    return (
        warehouse.connection.execute(
            "select count(*) from information_schema.tables where table_catalog = ? and table_schema = ? "
            "and table_name = ?",
            [warehouse.catalog, schema, table],
        ).fetchone()[0]
        > 0
    )


def ensure_table(warehouse: Warehouse) -> None:
    con = warehouse.connection
    con.execute(f'create schema if not exists "{warehouse.catalog}"."{warehouse.schema("audit")}"')
    columns = ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS)
    con.execute(f"create table if not exists {_table(warehouse)} ({columns})")
    for name, kind in LATER_COLUMNS:
        con.execute(f'alter table {_table(warehouse)} add column if not exists "{name}" {kind}')


def slot_done(warehouse: Warehouse, job_name: str, target: str, slot_start: datetime) -> bool:
    """Whether a successful run of ``job_name`` on ``target`` already covered this slot."""
    if not _exists_in(warehouse, "audit", "release_runs"):
        return False
    outcomes = ", ".join(f"'{o}'" for o in SUCCESS)
    return (
        warehouse.connection.execute(
            f"select count(*) from {_table(warehouse)} where job_name = ? and target = ? and slot_start = ? "
            f"and outcome in ({outcomes})",
            [job_name, target, slot_start],
        ).fetchone()[0]
        > 0
    )


def append(warehouse: Warehouse, record: RunRecord) -> None:
    ensure_table(warehouse)
    names = ", ".join(f'"{name}"' for name, _ in COLUMNS + LATER_COLUMNS)
    data = record.as_dict()
    warehouse.connection.execute(
        f"insert into {_table(warehouse)} ({names}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            str(uuid.uuid4()),
            record.job_name,
            record.target,
            record.slot_start,
            record.as_of,
            record.started_at,
            record.finished_at,
            record.outcome,
            len(record.released_periods),
            json.dumps(data["released_periods"]),
            record.reason,
            data["host"],
            data["pid"],
            json.dumps(data["charged_not_landed"]),
            json.dumps(data["held_periods"]),
        ],
    )


def fallback_log() -> Path:
    """Where a run goes when the warehouse cannot take it (module docstring)."""
    configured = os.environ.get(RUN_LOG_ENV, "").strip()
    if configured:
        return Path(configured)
    folder = os.environ.get("DBT_LOG_PATH", "").strip()
    return Path(folder) / "release-runs.jsonl" if folder else targets.project_root() / "logs" / "release-runs.jsonl"


def append_to_file(record: RunRecord, path: Path) -> None:
    """One JSON line, written whole (one write of one line, flushed to disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record.as_dict() | {"run_id": str(uuid.uuid4())}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _exists_in(warehouse: Warehouse, schema: str, table: str) -> bool:
    return _exists(warehouse, warehouse.schema(schema), table)


def charged_versions(warehouse: Warehouse) -> set[Period]:
    """Every charged (granularity, period, version) of the budget ledger."""
    if not _exists_in(warehouse, *LEDGER):
        return set()
    rows = warehouse.connection.execute(
        "select time_granularity, cast(release_period_start as date), release_version "
        f"from {warehouse.qualify(*LEDGER)} where status = 'charged'"
    ).fetchall()
    return {(g, start.isoformat(), int(v)) for g, start, v in rows}


def landed_versions(warehouse: Warehouse) -> set[Period]:
    """Every (granularity, period, version) with rows in the release table: what was published."""
    if not _exists_in(warehouse, *RELEASES):
        return set()
    rows = warehouse.connection.execute(
        "select distinct time_granularity, cast(release_period_start as date), release_version "
        f"from {warehouse.qualify(*RELEASES)}"
    ).fetchall()
    return {(g, start.isoformat(), int(v)) for g, start, v in rows}


def held_periods(warehouse: Warehouse, as_of: datetime) -> list[tuple[str, str]]:
    """The periods the build at ``as_of`` held for an incomplete landing (ops_spots_release_holds)."""
    if not _exists_in(warehouse, *HOLDS):
        return []
    rows = warehouse.connection.execute(
        f"select time_granularity, cast(release_period_start as date) from {warehouse.qualify(*HOLDS)} "
        "where as_of = ? order by 2, 1",
        [as_of],
    ).fetchall()
    return [(g, start.isoformat()) for g, start in rows]
