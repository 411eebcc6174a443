"""Append-only audit of buyer exports and refusals, kept in the target warehouse (contract 000 §7.2).

Table ``audit.buyer_exports``: one row per request, delivered or refused; rows are only
ever inserted, and deleted by the documented 12-month retention operation.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from privacy_insights.targets import Warehouse

COLUMNS = [
    ("audit_id", "varchar"), ("buyer_id", "varchar"), ("requested_at", "timestamptz"), ("slice", "varchar"),
    ("row_count", "bigint"), ("file_format", "varchar"), ("file_name", "varchar"), ("file_sha256", "varchar"),
    ("outcome", "varchar"), ("reason", "varchar"),
]


@dataclass(frozen=True)
class AuditEntry:
    buyer_id: str
    requested_at: datetime
    slice: dict
    row_count: int
    file_format: str
    file_name: str | None
    file_sha256: str | None
    outcome: str                  # "delivered", "refused" or "failed"
    reason: str | None = None


def table(warehouse: Warehouse) -> str:
    return warehouse.qualify("audit", "buyer_exports")


def ensure_table(warehouse: Warehouse) -> None:
    con = warehouse.connection
    con.execute(f'create schema if not exists "{warehouse.catalog}"."{warehouse.schema("audit")}"')
    columns = ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS)
    con.execute(f"create table if not exists {table(warehouse)} ({columns})")


def append(warehouse: Warehouse, entry: AuditEntry) -> str:
    ensure_table(warehouse)
    audit_id = str(uuid.uuid4())
    warehouse.connection.execute(
        f"insert into {table(warehouse)} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [audit_id, entry.buyer_id, entry.requested_at, json.dumps(entry.slice, sort_keys=True), entry.row_count,
         entry.file_format, entry.file_name, entry.file_sha256, entry.outcome, entry.reason])
    return audit_id


def purge(warehouse: Warehouse, before: datetime) -> int:
    ensure_table(warehouse)
    n = warehouse.connection.execute(f"select count(*) from {table(warehouse)} where requested_at < ?",
                                     [before]).fetchone()[0]
    warehouse.connection.execute(f"delete from {table(warehouse)} where requested_at < ?", [before])
    return n
