"""Append-only audit of every buyer request, file export or API call (contract 000 §7.2).

One row per request and outcome, in the delivery store (``buyer_exports``, see store.py):
who (buyer, key id), when, which slice (and its fingerprint), how many rows, what was
delivered (format, file, SHA-256), the outcome (``delivered``, ``refused``, ``throttled``,
``failed``, ``interrupted``), the rule and reason, and for the API the HTTP status and
latency. Rows are only inserted, and deleted by the documented 12-month retention; the one
update is ``add_request``, which counts API requests without a valid key in the row of their
minute (api/throttle.py), so a flood of bad keys does not grow the audit. What a caller
supplied (buyer id when it is not a valid slug, endpoint, slice, reason) passes through
``redact`` first: no key or token is ever stored.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from privacy_insights.export.policy import BUYER_ID_PATTERN
from privacy_insights.export.redact import redact
from privacy_insights.export.store import AUDIT_COLUMNS, AUDIT_TABLE, OUTCOMES, Store

MAX_TEXT = 512  # an audited value a caller supplied (a 250-character buyer id) is kept, cut at this length


@dataclass(frozen=True)
class AuditEntry:
    buyer_id: str | None
    requested_at: datetime
    slice: dict | None
    row_count: int
    file_format: str | None
    file_name: str | None
    file_sha256: str | None
    outcome: str
    reason: str | None = None
    rule: str | None = None
    channel: str = "file"
    key_id: str | None = None
    endpoint: str | None = None
    fingerprint: str | None = None
    http_status: int | None = None
    latency_ms: float | None = None
    audit_id: str | None = None  # given when the row's id must be known before (a file name holds it)
    file_path: str | None = None  # where a delivered file went: what retention deletes


def _cut(text: str | None) -> str | None:
    """A caller-supplied value as audited: no credential (export/redact.py), at most MAX_TEXT characters."""
    return None if text is None else redact(text)[:MAX_TEXT]


def _buyer(buyer_id: str | None) -> str | None:
    return buyer_id if buyer_id is None or BUYER_ID_PATTERN.fullmatch(buyer_id) else _cut(buyer_id)


def insert(store: Store, entry: AuditEntry) -> str:
    """Insert one row (inside the caller's transaction, if any); returns its audit id. A row
    the API delivered also counts its rows against the buyer's day (``api_rows_per_day``,
    read by the daily row quota), in the same transaction."""
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"outcome: must be one of {', '.join(OUTCOMES)}, got {entry.outcome!r}")
    audit_id = entry.audit_id or str(uuid.uuid4())
    values = {
        "audit_id": audit_id,
        "channel": entry.channel,
        "buyer_id": _buyer(entry.buyer_id),
        "key_id": entry.key_id,
        "requested_at": store.ts(entry.requested_at),
        "endpoint": _cut(entry.endpoint),
        "slice": None if entry.slice is None else _cut(json.dumps(entry.slice, sort_keys=True)),
        "fingerprint": entry.fingerprint,
        "row_count": entry.row_count,
        "file_format": _cut(entry.file_format),
        "file_name": entry.file_name,
        "file_sha256": entry.file_sha256,
        "file_path": entry.file_path,
        "outcome": entry.outcome,
        "rule": entry.rule,
        "reason": _cut(entry.reason),
        "http_status": entry.http_status,
        "latency_ms": entry.latency_ms,
        "requests": 1,
    }
    names = [name for name, _ in AUDIT_COLUMNS]
    with store.transaction():
        store.execute(
            f"insert into {store.table(AUDIT_TABLE)} ({', '.join(names)}) values ({', '.join('?' * len(names))})",
            [values[n] for n in names],
        )
        if entry.channel == "api" and entry.outcome == "delivered" and entry.buyer_id is not None:
            table = store.table("api_rows_per_day")
            store.execute(
                f"insert into {table} (buyer_id, day, rows) values (?, ?, ?) on conflict (buyer_id, day) "
                f"do update set rows = {table.split('.')[-1]}.rows + excluded.rows",
                [values["buyer_id"], store.day(entry.requested_at), entry.row_count],
            )
    return audit_id


append = insert


def add_request(store: Store, audit_id: str, latency_ms: float | None) -> bool:
    """Count one more request in an existing row (the API's requests without a valid key,
    aggregated per minute); False when the row is gone (purged)."""
    table = store.table(AUDIT_TABLE)
    with store.transaction():
        store.execute(
            f"update {table} set requests = requests + 1, latency_ms = max(latency_ms, ?) where audit_id = ?"
            if store.kind == "sqlite"
            else f"update {table} set requests = requests + 1, latency_ms = greatest(latency_ms, ?) where audit_id = ?",
            [latency_ms, audit_id],
        )
        return bool(store.query(f"select 1 from {table} where audit_id = ?", [audit_id]))


def purge(store: Store, before: datetime, keep: tuple[str, ...] = ()) -> int:
    """Delete the rows older than ``before``, except the audit ids in ``keep``."""
    table = store.table(AUDIT_TABLE)
    kept = f" and audit_id not in ({', '.join('?' * len(keep))})" if keep else ""
    with store.transaction():
        params = [store.ts(before), *keep]
        n = store.query(f"select count(*) from {table} where requested_at < ?{kept}", params)[0][0]
        store.execute(f"delete from {table} where requested_at < ?{kept}", params)
        store.execute(f"delete from {store.table('api_rows_per_day')} where day < ?", [store.day(before)])
    return n
