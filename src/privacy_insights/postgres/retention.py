"""The daily retention job on PostgreSQL: ``privacy-insights postgres retention``.

Runs the purge of every installed part, each in its own transaction, as the database owner
(who has EXECUTE on both functions; neither needs a superuser):

- attribution (contract 003: analytics rows live 90 days): ``public.attribution_purge(days)``,
  see ``privacy_insights.attribution.retention``;
- outreach (contract 004: the service role cleans up ``outreach_rate_limits``):
  ``public.outreach_purge_rate_limits()`` deletes every rate-limit bucket whose window has
  ended (the global minute, a session's hour); the RPC only counts in the current one.

A part that is not installed is listed under ``not_installed``; nothing installed at all is an
error, never a silent "0 deleted".
"""

from __future__ import annotations

import psycopg

from privacy_insights.attribution.retention import purge as purge_attribution

ATTRIBUTION_PURGE = "public.attribution_purge(integer)"
RATE_LIMIT_PURGE = "public.outreach_purge_rate_limits()"


def _installed(conn: psycopg.Connection, signature: str) -> bool:
    return conn.execute("select pg_catalog.to_regprocedure(%s) is not null", [signature]).fetchone()[0]


def purge_rate_limits(conn: psycopg.Connection) -> int:
    """Delete the rate-limit buckets whose window has ended; how many. RuntimeError when this role may not."""
    try:
        with conn.transaction():
            return int(conn.execute(f"select {RATE_LIMIT_PURGE}").fetchone()[0])
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RuntimeError(
            f"retention: role {conn.info.user} cannot purge outreach_rate_limits: {exc.diag.message_primary}; "
            "run it as the database owner or as a member of service_role"
        ) from exc


def run(conn: psycopg.Connection, days: int) -> dict:
    """Purge every installed part; the rows deleted per table, and the parts not installed."""
    deleted: dict[str, int] = {}
    missing: list[str] = []
    if _installed(conn, ATTRIBUTION_PURGE):
        deleted |= purge_attribution(conn, days)
    else:
        missing.append("attribution")
    if _installed(conn, RATE_LIMIT_PURGE):
        deleted["outreach_rate_limits"] = purge_rate_limits(conn)
    else:
        missing.append("outreach")
    if len(missing) == 2:
        raise RuntimeError(
            f"retention: neither public.attribution_purge nor public.outreach_purge_rate_limits exists in database "
            f"{conn.info.dbname}; run `privacy-insights postgres install attribution outreach` first"
        )
    return {"retention_days": days, "deleted": deleted, "not_installed": missing}
