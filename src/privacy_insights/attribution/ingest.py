"""Ingest attribution events the way contract 003 (B0.4 responsibilities) requires.

- every event gets a non-null idempotency key (given, or derived from its content);
- PII keys are stripped from the payload at any depth before insert (the database
  trigger stays the last line of defence);
- the tenant is set with ``SET LOCAL app.current_tenant_id`` inside the transaction, so
  row-level security applies and nothing leaks into the next transaction;
- a unique violation on the idempotency key is a successful retry, not an error;
- each event landed (inserted, a duplicate, or dead) moves the landing's watermark
  (``public.attribution_load_watermark``, privacy_insights.landing) to its transaction's time,
  in the same transaction, so a stalled ingestion shows as a watermark that stops;
- an event that fails validation goes to ``dead_events`` with the field and the rule:
  also what PostgreSQL would refuse with a raw error (NUL characters, NaN or infinite
  numbers in the payload, revenue beyond bigint, an idempotency key over 200 characters)
  and timestamps no real event has (more than a day in the future, or before 2000).

PII keys are those of ``privacy_insights.attribution.pii_keys`` (contract 003's list plus
documented equivalents, compared after Unicode normalisation), the same definition the
PostgreSQL trigger and the dbt staging models use.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from privacy_insights.attribution import pii_keys
from privacy_insights.textrules import is_blank

PII_KEYS = frozenset(pii_keys.CONTRACT_KEYS)
EVENT_TYPES = ("click", "view", "conversion")
MAX_KEY_LENGTH = 200  # attribution_events.idempotency_key check
MAX_REVENUE_CENTS = 2**63 - 1  # bigint
EARLIEST_OCCURRED_AT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_CLOCK_SKEW = timedelta(days=1)  # how far in the future a client clock may be


def strip_pii(payload: Any) -> tuple[Any, list[str]]:
    """A copy of ``payload`` without PII keys (``pii_keys.contract_key``) at any depth, and the paths removed."""
    removed: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            kept = {}
            for key, value in node.items():
                if pii_keys.contract_key(str(key)) is not None:
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
        content = json.dumps(
            {
                "tenant": self.tenant_id,
                "type": self.event_type,
                "channel": self.channel_code,
                "at": self.occurred_at.isoformat(),
                "revenue": self.revenue_cents,
                "payload": self.payload,
            },
            sort_keys=True,
            default=str,
        )
        return "auto_" + hashlib.sha256(content.encode()).hexdigest()


def _payload_problems(payload: Any) -> list[str]:
    """What PostgreSQL's jsonb would refuse in the payload, as '<field>: <rule>'."""
    found: list[str] = []
    if not isinstance(payload, dict):
        return ["raw_payload: must be a JSON object"]
    nul = non_finite = False
    stack: list[Any] = [payload]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            nul = nul or any("\x00" in str(k) for k in node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            nul = nul or "\x00" in node
        elif isinstance(node, float):
            non_finite = non_finite or not math.isfinite(node)
    if nul:
        found.append("raw_payload: must not contain NUL characters (PostgreSQL text cannot hold them)")
    if non_finite:
        found.append("raw_payload: numbers must be finite (NaN and Infinity are not JSON)")
    if not found:
        try:
            json.dumps(payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            found.append(f"raw_payload: must be JSON (objects, arrays, strings, finite numbers, booleans, null): {exc}")
    return found


def _text_problems(name: str, value: Any, max_length: int | None = None, required: bool = True) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, str):
        return [f"{name}: must be text"]
    if "\x00" in value:
        return [f"{name}: must not contain NUL characters"]
    if required and is_blank(value):
        return [f"{name}: must not be blank"]
    if max_length is not None and len(value) > max_length:
        return [f"{name}: must be at most {max_length} characters, got {len(value)}"]
    return []


def problems(event: AttributionEvent, now: datetime | None = None) -> list[str]:
    """What is wrong with the event, each as '<field>: <rule>'."""
    found = []
    try:
        uuid.UUID(str(event.tenant_id))
    except ValueError:
        found.append("tenant_id: must be a UUID")
    if event.event_type not in EVENT_TYPES:
        found.append(f"event_type: must be one of {', '.join(EVENT_TYPES)}")
    found += _text_problems("channel_code", event.channel_code, max_length=200)
    found += _text_problems("idempotency_key", event.idempotency_key, max_length=MAX_KEY_LENGTH, required=False)
    revenue = event.revenue_cents
    if isinstance(revenue, bool) or not isinstance(revenue, int):
        found.append(f"revenue_cents: must be a whole number of cents, got {revenue!r}")
    elif revenue < 0:
        found.append("revenue_cents: must not be negative")
    elif revenue > MAX_REVENUE_CENTS:
        found.append(f"revenue_cents: must be at most {MAX_REVENUE_CENTS} (bigint), got {revenue}")
    occurred = event.occurred_at
    if not isinstance(occurred, datetime):
        found.append("occurred_at: must be a timestamp")
    elif occurred.tzinfo is None:
        found.append("occurred_at: must carry a time zone")
    else:
        latest = (now or datetime.now(UTC)) + MAX_CLOCK_SKEW
        if occurred > latest:
            found.append(
                f"occurred_at: must not be more than {MAX_CLOCK_SKEW.days} day in the future, "
                f"got {occurred.isoformat()}"
            )
        elif occurred < EARLIEST_OCCURRED_AT:
            found.append(f"occurred_at: must not be before {EARLIEST_OCCURRED_AT.date()}, got {occurred.isoformat()}")
    found += _payload_problems(event.payload)
    return found


@dataclass(frozen=True)
class IngestResult:
    status: str  # "inserted", "duplicate" or "dead"
    idempotency_key: str
    event_id: str | None = None
    reason: str | None = None
    pii_removed: tuple[str, ...] = ()


def _set_tenant(conn: psycopg.Connection, tenant_id: str) -> None:
    conn.execute(sql.SQL("set local app.current_tenant_id = {}").format(sql.Literal(str(uuid.UUID(tenant_id)))))


def _mark_loaded(conn: psycopg.Connection) -> None:
    """The landing is complete through this transaction's time (it commits with the event)."""
    conn.execute(
        "insert into public.attribution_load_watermark as w (table_name, loaded_through, recorded_at, loader) "
        "values ('attribution_events', now(), clock_timestamp(), 'privacy_insights.attribution.ingest') "
        "on conflict (table_name) do update set loaded_through = greatest(w.loaded_through, excluded.loaded_through), "
        "recorded_at = excluded.recorded_at, loader = excluded.loader"
    )


def ingest(conn: psycopg.Connection, event: AttributionEvent) -> IngestResult:
    """Insert one event for its tenant; safe to retry."""
    issues = problems(event)
    payload_ok = not any(i.startswith("raw_payload:") for i in issues)
    payload, removed = strip_pii(event.payload) if payload_ok else ({}, [])
    try:
        key = event.key()
    except (AttributeError, TypeError, ValueError):  # only for events that are dead anyway
        key = ""
    with conn.transaction():
        if issues:
            tenant = str(uuid.UUID(str(event.tenant_id))) if "tenant_id: must be a UUID" not in issues else None
            if tenant is None:
                raise ValueError("; ".join(issues))  # no tenant to file a dead event under
            _set_tenant(conn, tenant)
            # A payload PostgreSQL cannot store is not kept; the reason says why.
            conn.execute(
                "insert into public.dead_events (tenant_id, raw_payload, error_reason) values (%s, %s, %s)",
                (tenant, json.dumps(payload) if payload_ok else "{}", "; ".join(issues)),
            )
            _mark_loaded(conn)
            return IngestResult("dead", key, reason="; ".join(issues), pii_removed=tuple(removed))
        _set_tenant(conn, event.tenant_id)
        try:
            with conn.transaction():  # savepoint: a unique violation must not abort the tenant setting
                row = conn.execute(
                    "insert into public.attribution_events (tenant_id, idempotency_key, event_type, channel_code, "
                    "revenue_cents, raw_payload, occurred_at) values (%s, %s, %s, %s, %s, %s, %s) returning id",
                    (
                        event.tenant_id,
                        key,
                        event.event_type,
                        event.channel_code,
                        event.revenue_cents,
                        json.dumps(payload),
                        event.occurred_at,
                    ),
                ).fetchone()
        except psycopg.errors.UniqueViolation:
            existing = conn.execute(
                "select id from public.attribution_events where idempotency_key = %s", (key,)
            ).fetchone()
            _mark_loaded(conn)
            return IngestResult("duplicate", key, str(existing[0]) if existing else None, pii_removed=tuple(removed))
        _mark_loaded(conn)
        return IngestResult("inserted", key, str(row[0]), pii_removed=tuple(removed))
