"""Issue 12 point 1, for every component: each SECURITY DEFINER function pins its search path
to pg_catalog first and pg_temp explicitly last (with `search_path = ''` PostgreSQL still
resolves type and table names in the caller's pg_temp first), and client roles get no TEMP."""

from __future__ import annotations

import psycopg
import pytest

from harness import REPO
from privacy_insights import postgres

pytestmark = pytest.mark.postgres


def test_every_security_definer_function_searches_pg_temp_last(postgres_database):
    with psycopg.connect(dbname=postgres_database, host="127.0.0.1", user="postgres", autocommit=True) as conn:
        for component in postgres.COMPONENTS:
            postgres.install(conn, component, REPO / "seeds")
        definers = conn.execute(
            "select p.proname, p.proconfig from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace "
            "where n.nspname = 'public' and p.prosecdef order by 1"
        ).fetchall()
        assert {name for name, _ in definers} >= {"outreach_log_event", "fn_revenue_state_audit", "attribution_purge"}
        for name, config in definers:
            assert config == ["search_path=pg_catalog, pg_temp"], (name, config)
        for role in ("anon", "authenticated"):
            assert (
                conn.execute("select has_database_privilege(%s, current_database(), 'TEMP')", [role]).fetchone()[0]
                is False
            ), role
