"""Retention for the attribution landing zone (contract 003: analytics rows live 90 days).

Deletes, in one transaction, rows created before now - ``days``: events, their
allocations and ledger rows (and the ledger rows' transitions), and dead events; returns
the count per table. Safe to run daily: a second run the same day deletes nothing.
Run it as the database owner (a role that row-level security does not restrict); the
application role cannot delete.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg

RETENTION_DAYS = 90


def purge(conn: psycopg.Connection, days: int = RETENTION_DAYS, now: datetime | None = None) -> dict[str, int]:
    if days < 1:
        raise ValueError(f"days: must be at least 1, got {days}")
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    counts: dict[str, int] = {}
    with conn.transaction():
        conn.execute("create temporary table retention_events on commit drop as "
                     "select id from public.attribution_events where created_at < %s", (cutoff,))
        conn.execute("create temporary table retention_ledger on commit drop as "
                     "select id from public.revenue_ledger where created_at < %s "
                     "or event_id in (select id from retention_events)", (cutoff,))
        steps = [
            ("revenue_state_transitions", "delete from public.revenue_state_transitions "
                                          "where ledger_id in (select id from retention_ledger)"),
            ("attribution_allocations", "delete from public.attribution_allocations where created_at < %(cutoff)s "
                                        "or event_id in (select id from retention_events)"),
            ("revenue_ledger", "delete from public.revenue_ledger where id in (select id from retention_ledger)"),
            ("dead_events", "delete from public.dead_events where created_at < %(cutoff)s"),
            ("attribution_events", "delete from public.attribution_events where id in (select id from retention_events)"),
        ]
        for table, statement in steps:
            counts[table] = conn.execute(statement, {"cutoff": cutoff}).rowcount
    return counts
