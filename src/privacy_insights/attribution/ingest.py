"""Ingest attribution events the way contract 003 (B0.4 responsibilities) requires.

- every event gets a non-null idempotency key (given, or derived from its content);
- PII keys are stripped from the payload at any depth before insert (the database
  trigger stays the last line of defence);
- the tenant is set with ``SET LOCAL app.current_tenant_id`` inside the transaction, so
  row-level security applies and nothing leaks into the next transaction;
- a unique violation on the idempotency key is a successful retry, not an error;
- an event that fails validation goes to ``dead_events`` with the field and the rule.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

PII_KEYS = frozenset({"email", "phone", "ssn", "ip_address", "first_name", "last_name", "address"})
EVENT_TYPES = ("click", "view", "conversion")


def strip_pii(payload: Any) -> tuple[Any, list[str]]:
    """A copy of ``payload`` without PII keys at any depth, and the paths removed."""
    removed: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            kept = {}
            for key, value in node.items():
                if str(key).lower() in PII_KEYS:
                    removed.append(f"{path}.{key}")
                else:
                    kept[key] = walk(value, f"{path}.{key}")
            return kept
        if isinstance(node, list):
            return [walk(value, f"{path}[{i}]") for i, value in enumerate(node)]
        return node

    return walk(payload, "$"), removed


@dataclass(frozen=True)
class AttributionEvent:
    tenant_id: str
    event_type: str
    channel_code: str
    occurred_at: datetime
    revenue_cents: int = 0
    payload: dict = field(default_factory=dict)
    idempotency_key: str | None = None

    def key(self) -> str:
        """The given key, or a hash of the event's content (stable across retries)."""
        if self.idempotency_key:
            return self.idempotency_key
        content = json.dumps({"tenant": self.tenant_id, "type": self.event_type, "channel": self.channel_code,
                              "at": self.occurred_at.isoformat(), "revenue": self.revenue_cents,
                              "payload": self.payload}, sort_keys=True, default=str)
        return "auto_" + hashlib.sha256(content.encode()).hexdigest()


def problems(event: AttributionEvent) -> list[str]:
    """What is wrong with the event, each as '<field>: <rule>'."""
    found = []
    try:
        uuid.UUID(str(event.tenant_id))
    except ValueError:
        found.append("tenant_id: must be a UUID")
    if event.event_type not in EVENT_TYPES:
        found.append(f"event_type: must be one of {', '.join(EVENT_TYPES)}")
    if not event.channel_code or not event.channel_code.strip():
        found.append("channel_code: must not be blank")
    if event.revenue_cents < 0:
        found.append("revenue_cents: must not be negative")
    if event.occurred_at.tzinfo is None:
        found.append("occurred_at: must carry a time zone")
    return found


@dataclass(frozen=True)
class IngestResult:
    status: str                 # "inserted", "duplicate" or "dead"
    idempotency_key: str
    event_id: str | None = None
    reason: str | None = None
    pii_removed: tuple[str, ...] = ()


def _set_tenant(conn: psycopg.Connection, tenant_id: str) -> None:
    conn.execute(sql.SQL("set local app.current_tenant_id = {}").format(sql.Literal(str(uuid.UUID(tenant_id)))))


def ingest(conn: psycopg.Connection, event: AttributionEvent) -> IngestResult:
    """Insert one event for its tenant; safe to retry."""
    payload, removed = strip_pii(event.payload)
    key = event.key()
    issues = problems(event)
    with conn.transaction():
        if issues:
            tenant = str(uuid.UUID(event.tenant_id)) if "tenant_id: must be a UUID" not in issues else None
            if tenant is None:
                raise ValueError("; ".join(issues))   # no tenant to file a dead event under
            _set_tenant(conn, tenant)
            conn.execute("insert into public.dead_events (tenant_id, raw_payload, error_reason) values (%s, %s, %s)",
                         (tenant, json.dumps(payload), "; ".join(issues)))
            return IngestResult("dead", key, reason="; ".join(issues), pii_removed=tuple(removed))
        _set_tenant(conn, event.tenant_id)
        try:
            with conn.transaction():   # savepoint: a unique violation must not abort the tenant setting
                row = conn.execute(
                    "insert into public.attribution_events (tenant_id, idempotency_key, event_type, channel_code, "
                    "revenue_cents, raw_payload, occurred_at) values (%s, %s, %s, %s, %s, %s, %s) returning id",
                    (event.tenant_id, key, event.event_type, event.channel_code, event.revenue_cents,
                     json.dumps(payload), event.occurred_at)).fetchone()
        except psycopg.errors.UniqueViolation:
            existing = conn.execute("select id from public.attribution_events where idempotency_key = %s",
                                    (key,)).fetchone()
            return IngestResult("duplicate", key, str(existing[0]) if existing else None, pii_removed=tuple(removed))
        return IngestResult("inserted", key, str(row[0]), pii_removed=tuple(removed))
