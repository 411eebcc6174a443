"""The release run log ``audit.release_runs`` in the target warehouse, and the ledger reads.

One row per release run that reached the build: ``released`` (new periods charged),
``nothing_new`` (the build succeeded, no period was due) or ``failed`` (with the one-line
reason). The ops freshness alert compares the newest successful ``finished_at`` of a job
with its policy's ``max_staleness_hours``; the run command compares ``slot_start`` to
know whether this cadence slot already ran. Rows are only ever inserted.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

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
LEDGER = ("outside_buyer", "spots_privacy_budget_ledger")


@dataclass(frozen=True)
class RunRecord:
    job_name: str
    target: str
    slot_start: datetime  # naive UTC
    as_of: datetime  # naive UTC
    started_at: datetime
    finished_at: datetime
    outcome: str
    released_periods: list[tuple[str, str]]
    reason: str | None = None


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
    con.execute(f'create schema if not exists "{warehouse.catalog}"."audit"')
    columns = ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS)
    con.execute(f"create table if not exists {_table(warehouse)} ({columns})")


def slot_done(warehouse: Warehouse, job_name: str, target: str, slot_start: datetime) -> bool:
    """Whether a successful run of ``job_name`` on ``target`` already covered this slot."""
    if not _exists(warehouse, "audit", "release_runs"):
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
    warehouse.connection.execute(
        f"insert into {_table(warehouse)} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            json.dumps([{"time_granularity": g, "release_period_start": p} for g, p in record.released_periods]),
            record.reason,
            socket.gethostname(),
            os.getpid(),
        ],
    )


def ledger_periods(warehouse: Warehouse) -> set[tuple[str, str]]:
    """(time_granularity, release_period_start as YYYY-MM-DD) of every ledger row."""
    if not _exists(warehouse, *LEDGER):
        return set()
    rows = warehouse.connection.execute(
        f"select time_granularity, cast(release_period_start as date) from {warehouse.qualify(*LEDGER)}"
    ).fetchall()
    return {(granularity, start.isoformat()) for granularity, start in rows}
