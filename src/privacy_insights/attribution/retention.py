"""Retention for the attribution landing zone (contract 003: analytics rows live 90 days).

Calls ``public.attribution_purge(days)`` (installed by ``privacy-insights postgres install
attribution``), which deletes, in one statement, rows created before now - ``days``:
events, their allocations and ledger rows (and the ledger rows' transitions), and dead
events, and returns the count per table. Safe to run daily: a second run the same day
deletes nothing.

Why a function: row-level security is forced on these tables, also for their owner, and the
database owner does not own them (``privacy_insights_owner`` does), so a plain DELETE would
remove nothing. The function is SECURITY DEFINER and runs as the NOLOGIN owner role, whose
own RLS policy shows it exactly the rows past 90 days. The database owner has EXECUTE on it
(granted to ``pg_database_owner``); anything else is a clear error, never a silent no-op.
``privacy_insights.postgres.retention`` runs it with the other parts' purges.
"""

from __future__ import annotations

import psycopg

RETENTION_DAYS = 90  # contract 003: the floor
MAX_RETENTION_DAYS = 3650  # ten years: anything longer is a typo, not a retention policy


def check_days(days: object) -> int:
    """``days`` as a whole number in [90, 3650], else ValueError naming the field and the rule."""
    if isinstance(days, bool) or not isinstance(days, int) or not RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise ValueError(
            f"days: must be a whole number of days between {RETENTION_DAYS} (contract 003 "
            f"retention) and {MAX_RETENTION_DAYS}, got {days!r}"
        )
    return days


def purge(conn: psycopg.Connection, days: int = RETENTION_DAYS) -> dict[str, int]:
    """Delete rows older than ``days``; the count per table. RuntimeError when this role cannot purge."""
    check_days(days)
    try:
        with conn.transaction():
            rows = conn.execute("select table_name, deleted from public.attribution_purge(%s)", [days]).fetchall()
    except psycopg.errors.UndefinedFunction as exc:
        raise RuntimeError(
            "retention: public.attribution_purge does not exist in database "
            f"{conn.info.dbname}; run `privacy-insights postgres install attribution` first"
        ) from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RuntimeError(
            f"retention: role {conn.info.user} cannot purge the attribution tables: "
            f"{exc.diag.message_primary}; run it as the database owner or grant EXECUTE on "
            "public.attribution_purge(int) to this role"
        ) from exc
    return {table: int(deleted) for table, deleted in rows}
