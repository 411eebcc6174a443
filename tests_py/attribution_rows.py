"""Rows of the attribution landing zone created in the past, for the retention tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg


def add_aged(conn: psycopg.Connection, tenant: str, key: str, age_days: int, now: datetime | None = None) -> None:
    """One event created ``age_days`` ago, with an allocation, a ledger row moved to verified
    (so one transition) and a dead event of the same age, in one transaction with the tenant set."""
    created = (now or datetime.now(UTC)) - timedelta(days=age_days)
    with conn.transaction():
        conn.execute(f"set local app.current_tenant_id = '{tenant}'")
        event_id = conn.execute(
            "insert into public.attribution_events (tenant_id, idempotency_key, event_type, channel_code, "
            "occurred_at, created_at) values (%s, %s, 'conversion', 'email', %s, %s) returning id",
            [tenant, key, created, created],
        ).fetchone()[0]
        conn.execute(
            "insert into public.attribution_allocations (tenant_id, event_id, channel_code, "
            "allocated_revenue_cents, confidence_score, created_at) values (%s, %s, 'email', 10, 0.9, %s)",
            [tenant, event_id, created],
        )
        ledger = conn.execute(
            "insert into public.revenue_ledger (tenant_id, event_id, amount_cents, currency, created_at) "
            "values (%s, %s, 10, 'USD', %s) returning id",
            [tenant, event_id, created],
        ).fetchone()[0]
        conn.execute("update public.revenue_ledger set state = 'verified' where id = %s", [ledger])
        conn.execute(
            "insert into public.dead_events (tenant_id, error_reason, created_at) values (%s, 'x', %s)",
            [tenant, created],
        )
