"""Contract 003 on a real PostgreSQL, connected as the application role (not a superuser)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from attribution_rows import add_aged
from harness import REPO
from privacy_insights import postgres
from privacy_insights.attribution.ingest import AttributionEvent, ingest, strip_pii
from privacy_insights.attribution.retention import purge

pytestmark = pytest.mark.postgres

TENANT_A = "aaaaaaaa-0000-4000-a000-000000000001"
TENANT_B = "bbbbbbbb-0000-4000-a000-000000000002"
NOW = datetime.now(UTC)


@pytest.fixture
def admin(postgres_database):
    with psycopg.connect(dbname=postgres_database, host="127.0.0.1", user="postgres", autocommit=True) as conn:
        postgres.install(conn, "attribution", REPO / "seeds")
        postgres.install(conn, "attribution", REPO / "seeds")  # idempotent
        yield conn


@pytest.fixture
def app(admin, postgres_database):
    with psycopg.connect(dbname=postgres_database, host="127.0.0.1", user="attribution_app", autocommit=True) as conn:
        yield conn


def event(tenant: str, key: str | None = "k1", **kw) -> AttributionEvent:
    return AttributionEvent(
        tenant_id=tenant,
        event_type=kw.pop("event_type", "click"),
        channel_code=kw.pop("channel_code", "email"),
        occurred_at=kw.pop("occurred_at", NOW),
        idempotency_key=key,
        **kw,
    )


def as_tenant(conn, tenant: str, statement: str, params=None):
    with conn.transaction():
        conn.execute(f"set local app.current_tenant_id = '{tenant}'")
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def test_application_role_cannot_bypass_rls(app):
    assert app.execute("select rolsuper, rolbypassrls from pg_roles where rolname = current_user").fetchone() == (
        False,
        False,
    )
    forced = app.execute(
        "select relname, relrowsecurity and relforcerowsecurity from pg_class where relname = any(%s)",
        [
            [
                "attribution_events",
                "attribution_allocations",
                "revenue_ledger",
                "dead_events",
                "reconciliation_runs",
                "revenue_state_transitions",
            ]
        ],
    ).fetchall()
    assert all(on for _, on in forced) and len(forced) == 6
    policies = app.execute("select tablename from pg_policies where policyname = 'tenant_isolation_policy'").fetchall()
    assert len(policies) == 6


def test_duplicate_insert_is_a_no_op(app):
    first = ingest(app, event(TENANT_A))
    second = ingest(app, event(TENANT_A))
    assert first.status == "inserted" and second.status == "duplicate" and second.event_id == first.event_id
    assert as_tenant(app, TENANT_A, "select count(*) from public.attribution_events")[0][0] == 1
    assert ingest(app, event(TENANT_B)).status == "inserted", "the same key in another tenant is another event"


def test_generated_key_is_stable_and_never_null(app):
    e = event(TENANT_A, key=None, revenue_cents=5)
    assert e.key() == event(TENANT_A, key=None, revenue_cents=5).key() and e.key().startswith("auto_")
    assert [ingest(app, e).status for _ in range(2)] == ["inserted", "duplicate"]


def test_without_a_tenant_nothing_is_visible(app):
    ingest(app, event(TENANT_A))
    ingest(app, event(TENANT_B))
    for table in (
        "attribution_events",
        "revenue_ledger",
        "dead_events",
        "attribution_allocations",
        "reconciliation_runs",
        "revenue_state_transitions",
    ):
        assert app.execute(f"select count(*) from public.{table}").fetchone()[0] == 0, table


def test_tenant_a_never_sees_tenant_b(app):
    for i in range(3):
        ingest(app, event(TENANT_A, key=f"a{i}"))
        ingest(app, event(TENANT_B, key=f"b{i}"))
    assert {r[0] for r in as_tenant(app, TENANT_A, "select tenant_id::text from public.attribution_events")} == {
        TENANT_A
    }
    assert (
        as_tenant(app, TENANT_A, "select count(*) from public.attribution_events where tenant_id = %s", [TENANT_B])[0][
            0
        ]
        == 0
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # cannot write into another tenant either
        as_tenant(
            app,
            TENANT_A,
            "insert into public.attribution_events (tenant_id, idempotency_key, event_type, "
            "channel_code, occurred_at) values (%s, 'x', 'click', 'email', now())",
            [TENANT_B],
        )


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "a@example.com"},
        {"customer": {"contact": {"email": "a@example.com"}}},
        {"items": [{"sku": "A"}, {"meta": {"Email": "a@example.com"}}]},
        {"deep": [[{"x": {"y": {"ssn": "000"}}}]]},
        {"ip_address": "203.0.113.9"},
    ],
)
def test_pii_key_at_any_depth_is_rejected_by_the_trigger(app, payload):
    with pytest.raises(psycopg.errors.CheckViolation, match=r'raw_payload: PII key "\w+" is not allowed'):
        as_tenant(
            app,
            TENANT_A,
            "insert into public.attribution_events (tenant_id, idempotency_key, event_type, "
            "channel_code, raw_payload, occurred_at) values (%s, 'p', 'click', 'email', %s, now())",
            [TENANT_A, json.dumps(payload)],
        )
    as_tenant(
        app,
        TENANT_A,
        "insert into public.attribution_events (tenant_id, idempotency_key, event_type, "
        "channel_code, raw_payload, occurred_at) values (%s, 'ok', 'click', 'email', %s, now())",
        [TENANT_A, json.dumps({"event_type": "click", "emails_sent": 3})],
    )


def test_ingestion_strips_pii_before_insert(app):
    payload = {"campaign": "x", "customer": {"email": "a@example.com", "tier": "gold"}, "items": [{"phone": "1"}]}
    result = ingest(app, event(TENANT_A, payload=payload))
    assert result.status == "inserted" and set(result.pii_removed) == {"$.customer.email", "$.items[0].phone"}
    stored = as_tenant(app, TENANT_A, "select raw_payload from public.attribution_events")[0][0]
    assert stored == {"campaign": "x", "customer": {"tier": "gold"}, "items": [{}]}
    assert strip_pii({"a": 1})[1] == []


def test_invalid_events_go_to_dead_events_with_a_reason(app):
    result = ingest(app, event(TENANT_A, revenue_cents=-5, event_type="purchase"))
    assert result.status == "dead"
    assert "revenue_cents: must not be negative" in result.reason and "event_type: must be one of" in result.reason
    rows = as_tenant(app, TENANT_A, "select error_reason from public.dead_events")
    assert rows == [(result.reason,)]
    assert as_tenant(app, TENANT_A, "select count(*) from public.attribution_events")[0][0] == 0


def test_ledger_state_update_creates_exactly_one_transition(app):
    ledger_id = as_tenant(
        app,
        TENANT_A,
        "insert into public.revenue_ledger (tenant_id, amount_cents, currency) values (%s, 1000, 'USD') returning id",
        [TENANT_A],
    )[0][0]
    with app.transaction():
        app.execute(f"set local app.current_tenant_id = '{TENANT_A}'")
        app.execute("set local app.transition_reason = 'payment_verified'")
        app.execute("update public.revenue_ledger set state = 'verified' where id = %s", [ledger_id])
    as_tenant(
        app, TENANT_A, "update public.revenue_ledger set state = 'verified' where id = %s", [ledger_id]
    )  # no change
    rows = as_tenant(
        app,
        TENANT_A,
        "select from_state, to_state, reason from public.revenue_state_transitions where ledger_id = %s",
        [ledger_id],
    )
    assert rows == [("pending", "verified", "payment_verified")]
    assert as_tenant(app, TENANT_B, "select count(*) from public.revenue_state_transitions")[0][0] == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_tenant(
            app,
            TENANT_A,
            "insert into public.revenue_state_transitions (ledger_id, from_state, to_state, "
            "reason) values (%s, 'a', 'b', 'manual')",
            [ledger_id],
        )


def test_retention_removes_only_rows_past_90_days(admin):
    add_aged(admin, TENANT_A, "old1", 120, NOW)
    add_aged(admin, TENANT_A, "old2", 91, NOW)
    add_aged(admin, TENANT_A, "new1", 89, NOW)
    add_aged(admin, TENANT_A, "new2", 1, NOW)
    counts = purge(admin)
    assert counts == {
        "revenue_state_transitions": 2,
        "attribution_allocations": 2,
        "revenue_ledger": 2,
        "dead_events": 2,
        "attribution_events": 2,
    }
    keys = {r[0] for r in admin.execute("select idempotency_key from public.attribution_events")}
    assert keys == {"new1", "new2"}
    assert purge(admin) == dict.fromkeys(counts, 0), "a second run the same day deletes nothing"


def test_ingestion_queries_use_the_contract_indexes(admin, app):
    tenants = [str(uuid.UUID(int=i + 1)) for i in range(4)]
    admin.execute(
        "insert into public.attribution_events (tenant_id, idempotency_key, event_type, channel_code, "
        "processing_status, processed_at, occurred_at) "
        "select (%s::uuid[])[1 + i %% 4], 'key_' || i, 'click', 'email', "
        "case when i %% 10 = 0 then 'pending' else 'processed' end, now() - i * interval '1 second', now() "
        "from generate_series(1, 100000) as i",
        [tenants],
    )
    admin.execute("analyze public.attribution_events")
    assert admin.execute("select count(*) from public.attribution_events").fetchone()[0] >= 100_000

    def plan(query: str, params=None) -> str:
        rows = as_tenant(app, tenants[0], "explain (format json) " + query, params)
        return json.dumps(rows[0][0])

    q2 = plan(
        "select * from public.attribution_events where processing_status = 'pending' order by processed_at limit 100"
    )
    q4 = plan("select * from public.attribution_events where idempotency_key = %s", ["key_4242"])
    assert '"Index Name": "idx_events_processing_status"' in q2, q2
    assert '"Index Name": "idx_events_idempotency"' in q4, q4


# --- Issue 12 point 8: what PostgreSQL would refuse with a raw error goes to dead_events ------------


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"payload": {"note": "a\x00b"}}, "raw_payload: must not contain NUL characters"),
        ({"payload": {"a\x00": 1}}, "raw_payload: must not contain NUL characters"),
        ({"channel_code": "em\x00ail"}, "channel_code: must not contain NUL characters"),
        ({"key": "k\x00"}, "idempotency_key: must not contain NUL characters"),
        ({"payload": {"score": float("nan")}}, "raw_payload: numbers must be finite"),
        ({"payload": {"deep": [{"x": float("inf")}]}}, "raw_payload: numbers must be finite"),
        ({"revenue_cents": 2**63}, "revenue_cents: must be at most 9223372036854775807 (bigint)"),
        ({"revenue_cents": 12.5}, "revenue_cents: must be a whole number of cents"),
        ({"key": "k" * 300}, "idempotency_key: must be at most 200 characters, got 300"),
        ({"channel_code": "\u00a0\t"}, "channel_code: must not be blank"),
        (
            {"occurred_at": datetime(9999, 12, 31, tzinfo=UTC)},
            "occurred_at: must not be more than 1 day in the future",
        ),
        ({"occurred_at": datetime(1, 1, 1, tzinfo=UTC)}, "occurred_at: must not be before 2000-01-01"),
        ({"payload": {"when": datetime(2026, 1, 1)}}, "raw_payload: must be JSON"),
    ],
)
def test_unstorable_events_go_to_dead_events_with_field_and_rule(app, overrides, reason):
    fields = {"key": "k-dead"} | overrides
    result = ingest(app, event(TENANT_A, key=fields.pop("key"), **fields))
    assert result.status == "dead" and reason in result.reason, result
    rows = as_tenant(app, TENANT_A, "select error_reason from public.dead_events")
    assert rows == [(result.reason,)]
    assert as_tenant(app, TENANT_A, "select count(*) from public.attribution_events")[0][0] == 0


# --- Issue 12 point 9: transitions keep their order; no ledger row skips the audit -------------------


def test_transitions_in_one_transaction_keep_their_order(app):
    ledger_id = as_tenant(
        app,
        TENANT_A,
        "insert into public.revenue_ledger (tenant_id, amount_cents, currency) values (%s, 1000, 'USD') returning id",
        [TENANT_A],
    )[0][0]
    with app.transaction():
        app.execute(f"set local app.current_tenant_id = '{TENANT_A}'")
        for state in ("verified", "settled", "refunded"):
            app.execute("update public.revenue_ledger set state = %s where id = %s", [state, ledger_id])
    rows = as_tenant(
        app,
        TENANT_A,
        "select from_state, to_state from public.revenue_state_transitions where ledger_id = %s order by seq",
        [ledger_id],
    )
    assert rows == [("pending", "verified"), ("verified", "settled"), ("settled", "refunded")]


@pytest.mark.parametrize("state", ["verified", "settled", "refunded"])
def test_ledger_row_inserted_past_pending_is_rejected(app, state):
    with pytest.raises(psycopg.errors.CheckViolation, match="state: a new revenue_ledger row must start as pending"):
        as_tenant(
            app,
            TENANT_A,
            "insert into public.revenue_ledger (tenant_id, amount_cents, currency, state) values (%s, 1000, 'USD', %s)",
            [TENANT_A, state],
        )
    assert as_tenant(app, TENANT_A, "select count(*) from public.revenue_ledger")[0][0] == 0


def test_each_landed_event_moves_the_landing_watermark_forward(app, admin):
    """The ingestion path states how far its landing is complete (privacy_insights.landing): the
    transaction time of each event it lands, never moving back (issue 28 point 1)."""
    assert admin.execute("select count(*) from public.attribution_load_watermark").fetchone()[0] == 0
    before = admin.execute("select now()").fetchone()[0]
    ingest(app, event(TENANT_A, key="w1"))
    (first,) = admin.execute(
        "select loaded_through from public.attribution_load_watermark where table_name = 'attribution_events'"
    ).fetchone()
    assert first >= before
    ingest(app, event(TENANT_A, key="w1"))  # a duplicate still lands (nothing new) and moves it on
    (second,) = admin.execute("select loaded_through from public.attribution_load_watermark").fetchone()
    assert second >= first
    admin.execute("update public.attribution_load_watermark set loaded_through = loaded_through + interval '1 day'")
    ingest(app, event(TENANT_B, key="w3"))
    (third,) = admin.execute("select loaded_through from public.attribution_load_watermark").fetchone()
    assert third == second + timedelta(days=1)  # never back
    assert app.execute("select has_table_privilege('attribution_load_watermark', 'delete')").fetchone()[0] is False
