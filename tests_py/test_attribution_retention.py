"""Issue 12 point 6 (and issue 26): retention works for the roles a real deployment has.

The landing zone (and the outreach tables) are installed by a database owner who is not a
superuser; every object is owned by the NOLOGIN owner role, RLS is forced on the landing
tables (the owner too), and retention is run through the real CLI as the database owner, as
docs/outreach_attribution.md says. Rows past 90 days go, younger rows stay; stale rate-limit buckets go too; a
role that cannot purge, or a purge that could not see the tables, fails loudly; absurd --days
are refused cleanly.
"""

from __future__ import annotations

import json
import os
import subprocess

import psycopg
import pytest

from attribution_rows import add_aged
from harness import BIN, REPO, owned_scratch_database
from privacy_insights import postgres

pytestmark = pytest.mark.postgres

TENANT = "aaaaaaaa-0000-4000-a000-000000000001"
TABLES = ["attribution_events", "attribution_allocations", "revenue_ledger", "revenue_state_transitions", "dead_events"]


@pytest.fixture
def owned_database(postgres_available):
    """(database, owner): installed by its non-superuser owner, rows written by the application role."""
    with owned_scratch_database() as (database, owner):
        with psycopg.connect(dbname=database, host="127.0.0.1", user=owner, autocommit=True) as conn:
            assert conn.execute(
                "select rolsuper, rolbypassrls from pg_roles where rolname = current_user"
            ).fetchone() == (
                False,
                False,
            )
            for component in ("attribution", "outreach"):
                postgres.install(conn, component, REPO / "seeds")
        with psycopg.connect(dbname=database, host="127.0.0.1", user="attribution_app", autocommit=True) as app:
            for age_days, key in [(200, "old"), (91, "old2"), (10, "young")]:
                add_aged(app, TENANT, key, age_days)
        yield database, owner


def counts(database: str) -> dict[str, int]:
    with psycopg.connect(dbname=database, host="127.0.0.1", user="postgres") as admin:
        return {t: admin.execute(f"select count(*) from public.{t}").fetchone()[0] for t in TABLES}


def retention(database: str, user: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {
        "PGHOST": "127.0.0.1",
        "PGUSER": user,
        "PGDATABASE": database,
        "PRIVACY_INSIGHTS_PROJECT_DIR": str(REPO),
    }
    return subprocess.run(
        [str(BIN / "privacy-insights"), "postgres", "retention", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_retention_as_the_non_superuser_owner_deletes_rows_past_90_days(owned_database):
    database, owner = owned_database
    assert counts(database) == dict.fromkeys(TABLES, 3)
    with psycopg.connect(dbname=database, host="127.0.0.1", user="postgres", autocommit=True) as admin:
        admin.execute(  # a bucket whose hour has ended, one whose window has not
            "insert into public.outreach_rate_limits (k, bucket_start, n) values "
            "('stale', date_trunc('hour', now()) - interval '1 hour', 1), "
            "('current', date_trunc('hour', now()) + interval '1 hour', 1)"
        )
    run = retention(database, owner, "--days", "90")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["deleted"] == dict.fromkeys(TABLES, 2) | {"outreach_rate_limits": 1}, run.stdout
    assert result["not_installed"] == []
    assert counts(database) == dict.fromkeys(TABLES, 1), "only the 10-day-old rows are left"
    again = retention(database, owner, "--days", "90")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["deleted"] == dict.fromkeys(TABLES, 0) | {"outreach_rate_limits": 0}


@pytest.mark.parametrize("days", ["1000000", "30", "89", "0", "-5"])
def test_retention_refuses_days_outside_90_to_3650(owned_database, days):
    database, owner = owned_database
    run = retention(database, owner, "--days", days)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "days: must be a whole number of days between 90 (contract 003 retention) and 3650" in run.stderr
    assert "Traceback" not in run.stderr
    assert counts(database) == dict.fromkeys(TABLES, 3), "nothing deleted"


def test_retention_fails_loudly_when_it_cannot_purge(owned_database):
    database, owner = owned_database
    app = retention(database, "attribution_app", "--days", "90")
    assert app.returncode == 2 and "Traceback" not in app.stderr, app.stderr
    assert "retention: role attribution_app cannot purge the attribution tables" in app.stderr
    with psycopg.connect(dbname=database, host="127.0.0.1", user="postgres", autocommit=True) as admin:
        admin.execute("drop policy retention_purge on public.dead_events")
    blind = retention(database, owner, "--days", "90")
    assert blind.returncode == 2 and "Traceback" not in blind.stderr, blind.stderr
    assert "policy retention_purge is missing on public.dead_events" in blind.stderr
    assert counts(database) == dict.fromkeys(TABLES, 3), "nothing deleted"
