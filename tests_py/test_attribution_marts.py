"""Attribution dbt models: staging mirrors the landing zone; PostgreSQL marts are tenant-isolated
by RLS (post-hook); the snapshot keeps ledger state history."""

from __future__ import annotations

import duckdb
import psycopg
import pytest

from harness import REPO, DbtProject
from pii_key_cases import CASES as PII_CASES
from pii_key_cases import payload_json
from privacy_insights import postgres

MARTS = ["fct_attribution_revenue_daily", "fct_attribution_allocations_daily", "attribution_reconciliation_status"]


@pytest.mark.postgres
def test_postgres_marts_are_tenant_isolated_and_ledger_history_is_kept(postgres_project: DbtProject):
    db = postgres_project.pg_database
    postgres_project.generate("--events", "20000", "--seed", "4")
    with psycopg.connect(dbname=db, host="127.0.0.1", user="postgres", autocommit=True) as admin:
        postgres.install(admin, "attribution", REPO / "seeds")  # creates the application role
    postgres_project.dbt("build")

    tenants = {
        r[0] for r in postgres_project.query("select distinct tenant_id from attribution.fct_attribution_revenue_daily")
    }
    assert len(tenants) == 4
    with psycopg.connect(dbname=db, host="127.0.0.1", user="attribution_app", autocommit=True) as app:
        for mart in MARTS:
            assert app.execute(f"select count(*) from attribution.{mart}").fetchone()[0] == 0, (
                f"{mart}: no tenant, no rows"
            )
            for tenant in tenants:
                with app.transaction():
                    app.execute(f"set local app.current_tenant_id = '{tenant}'")
                    seen = app.execute(f"select distinct tenant_id from attribution.{mart}").fetchall()
                    visible = app.execute(f"select count(*) from attribution.{mart}").fetchone()[0]
                assert {r[0] for r in seen} <= {tenant}, f"{mart}: tenant {tenant} saw another tenant's rows"
                total = postgres_project.query(f"select count(*) from attribution.{mart} where tenant_id = '{tenant}'")[
                    0
                ][0]
                assert visible == total > 0, mart

    # Ledger state history: a state change in the source becomes a new snapshot version.
    ledger_id, state = postgres_project.query(
        "select id, state from raw.revenue_ledger where state = 'pending' limit 1"
    )[0]
    with psycopg.connect(dbname=db, host="127.0.0.1", user="postgres", autocommit=True) as admin:
        admin.execute(
            "update raw.revenue_ledger set state = 'verified', updated_at = updated_at + interval '1 hour' "
            "where id = %s",
            [ledger_id],
        )
    postgres_project.dbt("snapshot")
    versions = postgres_project.query(
        f"select state, dbt_valid_to is null from snapshots.revenue_ledger_snapshot where id = '{ledger_id}' "
        "order by dbt_valid_from"
    )
    assert versions == [("pending", False), ("verified", True)]


def test_staging_mirrors_dedupe_pii_quarantine_and_retention(dev_project: DbtProject):
    dev_project.generate("--events", "20000", "--seed", "4", "--attribution-pii-share", "0.05")
    # The shared PII-key case table (issue 12 point 2), as raw rows of this same build.
    case_rows = [
        (f"pii-case-{i}-{nested}", payload_json(key_json, nested), expected)
        for i, (_, key_json, expected) in enumerate(PII_CASES)
        for nested in (False, True)
    ]
    con = duckdb.connect(dev_project.env["PRIVACY_INSIGHTS_DUCKDB"])
    con.executemany(
        "insert into raw.attribution_events (id, tenant_id, idempotency_key, event_type, channel_code, "
        "revenue_cents, raw_payload, processing_status, occurred_at, created_at) values "
        "(?, 'aaaaaaaa-0000-4000-a000-000000000001', ?, 'click', 'email', 0, ?, 'processed', "
        "timestamptz '2026-10-20 00:00:00+00', timestamptz '2026-10-20 00:00:00+00')",
        [(row_id, row_id, payload) for row_id, payload, _ in case_rows],
    )
    con.close()
    dev_project.dbt("build", "--select", "staging.attribution", "--indirect-selection", "cautious")
    reasons = dict(
        dev_project.query("select event_id, rejection_reason from staging.stg_attribution__events_quarantine")
    )
    staged = {r[0] for r in dev_project.query("select event_id from staging.stg_attribution__events")}
    for (row_id, _, expected), (name, _, _) in zip(case_rows, [c for c in PII_CASES for _ in (0, 1)], strict=True):
        if expected is None:
            assert row_id in staged and row_id not in reasons, (name, reasons.get(row_id))
        else:
            assert reasons.get(row_id) == f'raw_payload: PII key "{expected}" is not allowed', (
                name,
                reasons.get(row_id),
            )
    keys = {reason.split('"')[1] for row_id, reason in reasons.items() if not row_id.startswith("pii-case-")}
    assert keys == {"email", "phone", "ssn", "ip_address", "first_name"}  # first key found in each payload kind
    assert dev_project.query("select count(*) from staging.stg_attribution__events_duplicates")[0][0] > 0
    oldest = dev_project.query("select min(created_at_utc) from staging.stg_attribution__events")[0][0]
    assert str(oldest) >= "2026-08-03", "nothing past the 90 days before as_of 2026-11-01"
    dup = dev_project.query(
        "select count(*) from (select tenant_id, idempotency_key from "
        "staging.stg_attribution__events group by 1, 2 having count(*) > 1)"
    )[0][0]
    assert dup == 0
