"""Attribution dbt models: staging mirrors the landing zone; PostgreSQL marts are tenant-isolated
by RLS (post-hook); the snapshot keeps ledger state history."""

from __future__ import annotations

import psycopg
import pytest

from harness import REPO, DbtProject
from privacy_insights import postgres

MARTS = ["fct_attribution_revenue_daily", "fct_attribution_allocations_daily", "attribution_reconciliation_status"]


@pytest.mark.postgres
def test_postgres_marts_are_tenant_isolated_and_ledger_history_is_kept(postgres_project: DbtProject):
    db = postgres_project.pg_database
    postgres_project.generate("--events", "20000", "--seed", "4")
    with psycopg.connect(dbname=db, host="127.0.0.1", user="postgres", autocommit=True) as admin:
        postgres.install(admin, "attribution", REPO / "seeds")   # creates the application role
    postgres_project.dbt("build")

    tenants = {r[0] for r in postgres_project.query("select distinct tenant_id from attribution.fct_attribution_revenue_daily")}
    assert len(tenants) == 4
    with psycopg.connect(dbname=db, host="127.0.0.1", user="attribution_app", autocommit=True) as app:
        for mart in MARTS:
            assert app.execute(f"select count(*) from attribution.{mart}").fetchone()[0] == 0, f"{mart}: no tenant, no rows"
            for tenant in tenants:
                with app.transaction():
                    app.execute(f"set local app.current_tenant_id = '{tenant}'")
                    seen = app.execute(f"select distinct tenant_id from attribution.{mart}").fetchall()
                    visible = app.execute(f"select count(*) from attribution.{mart}").fetchone()[0]
                assert {r[0] for r in seen} <= {tenant}, f"{mart}: tenant {tenant} saw another tenant's rows"
                total = postgres_project.query(f"select count(*) from attribution.{mart} where tenant_id = '{tenant}'")[0][0]
                assert visible == total > 0, mart

    # Ledger state history: a state change in the source becomes a new snapshot version.
    ledger_id, state = postgres_project.query("select id, state from raw.revenue_ledger where state = 'pending' limit 1")[0]
    with psycopg.connect(dbname=db, host="127.0.0.1", user="postgres", autocommit=True) as admin:
        admin.execute("update raw.revenue_ledger set state = 'verified', updated_at = updated_at + interval '1 hour' "
                      "where id = %s", [ledger_id])
    postgres_project.dbt("snapshot")
    versions = postgres_project.query(
        f"select state, dbt_valid_to is null from snapshots.revenue_ledger_snapshot where id = '{ledger_id}' "
        "order by dbt_valid_from")
    assert versions == [("pending", False), ("verified", True)]


def test_staging_mirrors_dedupe_pii_quarantine_and_retention(dev_project: DbtProject):
    dev_project.generate("--events", "20000", "--seed", "4", "--attribution-pii-share", "0.05")
    dev_project.dbt("build", "--select", "staging.attribution", "--indirect-selection", "cautious")
    quarantined = dev_project.query("select rejection_reason from staging.stg_attribution__events_quarantine")
    keys = {r[0].split('"')[1] for r in quarantined}
    assert keys == {"email", "phone", "ssn", "ip_address", "first_name"}   # first key found in each payload kind
    assert dev_project.query("select count(*) from staging.stg_attribution__events_duplicates")[0][0] > 0
    oldest = dev_project.query("select min(created_at_utc) from staging.stg_attribution__events")[0][0]
    assert str(oldest) >= "2026-08-03", "nothing past the 90 days before as_of 2026-11-01"
    dup = dev_project.query("select count(*) from (select tenant_id, idempotency_key from "
                            "staging.stg_attribution__events group by 1, 2 having count(*) > 1)")[0][0]
    assert dup == 0
