"""Outreach (contract 004): the PostgreSQL RPC and the dbt staging agree on every crafted case;
rate limits, idempotency and access control on a real PostgreSQL; aggregate-only marts."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import duckdb
import psycopg
import pytest

from harness import REPO, DbtProject
from outreach_cases import CASES, inputs, session
from privacy_insights import postgres

# Contract 004's input names; PostgREST turns a JSON body's keys into named arguments like these.
ARGS = [
    "event",
    "app_key",
    "page_key",
    "utm_campaign",
    "utm_source",
    "utm_medium",
    "session_id",
    "store",
    "country",
    "ui_locale",
    "client_event_id",
]
RPC = "select public.outreach_log_event(" + ", ".join(f"{a} => %s" for a in ARGS) + ")"
TABLES = ["outreach_event_logs", "outreach_sources", "outreach_source_aliases", "outreach_rate_limits"]


@pytest.fixture
def rpc_db(postgres_database):
    with psycopg.connect(dbname=postgres_database, host="127.0.0.1", user="postgres", autocommit=True) as conn:
        postgres.install(conn, "outreach", REPO / "seeds")
        postgres.install(conn, "outreach", REPO / "seeds")  # idempotent: a second run changes nothing
        yield conn


def call(conn, values: dict, client_event_id=None, role: str = "anon") -> dict:
    """The RPC with named arguments, as the client role (the way PostgREST calls it)."""
    values = values | ({"client_event_id": str(client_event_id)} if client_event_id else {})
    conn.execute(f"set role {role}")
    try:
        return conn.execute(RPC, [values[a] for a in ARGS]).fetchone()[0]
    finally:
        conn.execute("reset role")


def wait_for_fresh(unit: str, needed_seconds: float) -> None:
    """Sleep past the next minute/hour boundary if fewer than ``needed_seconds`` are left in this one."""
    now = datetime.now(UTC)
    start = now.replace(second=0, microsecond=0) if unit == "minute" else now.replace(minute=0, second=0, microsecond=0)
    end = start + (timedelta(minutes=1) if unit == "minute" else timedelta(hours=1))
    if (end - now).total_seconds() < needed_seconds:
        time.sleep((end - now).total_seconds() + 0.5)


@pytest.mark.postgres
def test_rpc_outcome_of_every_case(rpc_db):
    for i, (name, overrides, expect) in enumerate(CASES):
        result = call(rpc_db, inputs(i, overrides))
        if isinstance(expect, str):
            assert result["ok"] is False and result["code"] == expect, (name, result)
        else:
            assert result["ok"] is True, (name, result)
            row = rpc_db.execute("select * from public.outreach_event_logs where id = %s", [result["id"]])
            stored = dict(zip([c.name for c in row.description], row.fetchone(), strict=True))
            for field, value in expect.items():
                assert stored[field] == value, (name, field, stored[field])


@pytest.mark.postgres
def test_rpc_takes_the_contract_argument_names_the_way_postgrest_calls_it(rpc_db):
    """Issue 12 point 4: a Supabase client posts a JSON body with contract 004's input names;
    PostgREST turns its keys into named arguments, in any order, as the anon role."""
    body = {
        "session_id": session(900),
        "utm_medium": "CPC",
        "utm_source": "IG",
        "utm_campaign": "Spring",
        "page_key": "/",
        "app_key": "kinly-web",
        "event": "cta_click",
        "store": "web",
    }
    columns = ", ".join(f'"{k}" text' for k in body)
    named = ", ".join(f'"{k}" := body."{k}"' for k in body)
    rpc_db.execute("set role anon")
    try:
        result = rpc_db.execute(
            f"select public.outreach_log_event({named}) from json_to_record(%s::json) as body({columns})",
            [json.dumps(body)],
        ).fetchone()[0]
        minimal = rpc_db.execute(
            "select public.outreach_log_event(event => 'page_view', app_key => 'kinly-web', page_key => '/', "
            "utm_campaign => 'c', utm_source => 's', utm_medium => 'm', session_id => %s, "
            "client_event_id => %s)",
            [session(901), str(uuid.uuid4())],
        ).fetchone()[0]
    finally:
        rpc_db.execute("reset role")
    assert result["ok"] is True and minimal["ok"] is True, (result, minimal)
    stored = rpc_db.execute(
        "select event, utm_source, utm_medium, source_id_resolved, store from public.outreach_event_logs where id = %s",
        [result["id"]],
    ).fetchone()
    assert stored == ("cta_click", "ig", "cpc", "instagram", "web")
    names = rpc_db.execute("select proargnames from pg_proc where proname = 'outreach_log_event'").fetchall()
    assert names == [(ARGS,)], "exactly one signature, with the contract's names"


def test_dbt_staging_gives_the_same_outcomes(dev_project: DbtProject):
    dev_project.generate("--events", "1000", "--seed", "5")
    created = datetime(2026, 9, 10, tzinfo=UTC)
    rows = [
        (
            str(uuid.UUID(int=i + 1)),
            *[inputs(i, o)[a] for a in ["event", "app_key", "page_key", "utm_campaign", "utm_source", "utm_medium"]],
            "unknown",
            inputs(i, o)["store"],
            inputs(i, o)["session_id"],
            inputs(i, o)["country"],
            inputs(i, o)["ui_locale"],
            inputs(i, o)["client_event_id"],
            created + timedelta(minutes=i),
        )
        for i, (_, o, _) in enumerate(CASES)
    ]
    con = duckdb.connect(dev_project.env["PRIVACY_INSIGHTS_DUCKDB"])
    con.execute("delete from raw.outreach_event_logs")
    con.executemany("insert into raw.outreach_event_logs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    dev_project.dbt(
        "build",
        "--select",
        "+stg_outreach__event_logs_quarantine",
        "+stg_outreach__event_logs",
        "--indirect-selection",
        "cautious",
    )

    codes = dict(
        dev_project.query("select outreach_event_id, error_code from staging.stg_outreach__event_logs_quarantine")
    )
    accepted = {
        r[0]: r
        for r in dev_project.query(
            "select outreach_event_id, utm_campaign, utm_source, utm_medium, source_id_resolved, store, country, "
            "ui_locale "
            "from staging.stg_outreach__event_logs"
        )
    }
    fields = ["utm_campaign", "utm_source", "utm_medium", "source_id_resolved", "store", "country", "ui_locale"]
    for i, (name, _, expect) in enumerate(CASES):
        row_id = str(uuid.UUID(int=i + 1))
        if isinstance(expect, str):
            assert codes.get(row_id) == expect, (name, codes.get(row_id))
        else:
            assert row_id in accepted, (name, codes.get(row_id))
            stored = dict(zip(fields, accepted[row_id][1:], strict=True))
            for field, value in expect.items():
                assert stored[field] == value, (name, field, stored[field])


@pytest.mark.postgres
def test_rpc_global_limit_rejects_the_501st_event_in_a_minute(rpc_db):
    wait_for_fresh("minute", 40)
    results = [call(rpc_db, inputs(1000 + i, {})) for i in range(501)]
    assert all(r["ok"] for r in results[:500])
    assert results[500] == {"ok": False, "code": "RATE_LIMIT_GLOBAL", "message": "more than 500 events this minute"}
    assert rpc_db.execute("select count(*) from public.outreach_event_logs").fetchone()[0] == 500
    keys = [r[0] for r in rpc_db.execute("select k from public.outreach_rate_limits").fetchall()]
    assert all(len(k) == 64 and not k.startswith("anon_") for k in keys), "rate-limit keys are hashed"


@pytest.mark.postgres
def test_purge_deletes_the_buckets_whose_window_ended_and_keeps_the_current_ones(rpc_db):
    """Issue 26 (contract 004: the service role cleans up outreach_rate_limits). 600 calls with
    fresh session ids leave 501 buckets (the minute's global bucket and 500 session buckets; the
    last 100 calls hit the global limit first) that nothing else ever deletes. Once their windows
    have ended (moved two hours back), the purge deletes exactly them and keeps the buckets of
    three later calls; a global bucket is stale after its minute, a session bucket after its hour."""
    results = [call(rpc_db, inputs(2000 + i, {})) for i in range(600)]
    accepted = sum(r["ok"] for r in results)  # 500, or more when the calls straddle a minute
    global_key = hashlib.sha256(b"global").hexdigest()
    buckets = "select k, bucket_start from public.outreach_rate_limits"
    keys = [k for k, _ in rpc_db.execute(buckets).fetchall()]
    minutes = keys.count(global_key)
    assert accepted >= 500 and len(keys) == accepted + minutes, "one bucket per accepted session, one per minute"
    assert len(keys) == 501 or minutes > 1
    rpc_db.execute("update public.outreach_rate_limits set bucket_start = bucket_start - interval '2 hours'")
    ended = set(rpc_db.execute(buckets).fetchall())
    calls_hour = rpc_db.execute("select date_trunc('hour', now())").fetchone()[0]
    assert all(call(rpc_db, inputs(3000 + i, {}))["ok"] for i in range(3))
    rpc_db.execute(  # the global bucket of the past minute; a session bucket of this hour
        "insert into public.outreach_rate_limits (k, bucket_start, n) values "
        "(%s, date_trunc('minute', now()) - interval '1 minute', 1), (%s, date_trunc('hour', now()), 1) "
        "on conflict do nothing",
        [global_key, hashlib.sha256(b"session:anon_past_minute_0000").hexdigest()],
    )
    before = set(rpc_db.execute(buckets).fetchall())
    with rpc_db.transaction():
        rpc_db.execute("set local role service_role")
        deleted = rpc_db.execute("select public.outreach_purge_rate_limits()").fetchone()[0]
        minute, hour = rpc_db.execute("select date_trunc('minute', now()), date_trunc('hour', now())").fetchone()
    stale = {(k, start) for k, start in before if start < (minute if k == global_key else hour)}
    assert ended <= stale and len(stale) >= len(ended) + 1, "the aged buckets and the past minute's global bucket"
    assert deleted == len(stale)
    assert set(rpc_db.execute(buckets).fetchall()) == before - stale
    if hour == calls_hour:  # (unless an hour ended between the calls and the purge)
        assert len(before - stale) >= 4, "the current buckets of the later calls (and this hour's session) stay"


@pytest.mark.postgres
def test_rpc_session_limit_rejects_the_101st_event_in_an_hour(rpc_db):
    wait_for_fresh("hour", 30)
    values = inputs(7, {})
    results = [call(rpc_db, values) for _ in range(101)]
    assert all(r["ok"] for r in results[:100])
    assert results[100]["code"] == "RATE_LIMIT_SESSION"
    assert call(rpc_db, inputs(8, {}))["ok"], "another session is not limited"


@pytest.mark.postgres
def test_rpc_duplicate_client_event_id_returns_existing_id(rpc_db):
    client_id = uuid.uuid4()
    first = call(rpc_db, inputs(1, {}), client_id)
    second = call(rpc_db, inputs(1, {"page_key": "/other"}), client_id)
    assert first["ok"] and second == {"ok": True, "id": first["id"], "duplicate": True}
    assert (
        rpc_db.execute(
            "select count(*) from public.outreach_event_logs where client_event_id = %s", [client_id]
        ).fetchone()[0]
        == 1
    )


@pytest.mark.postgres
@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_client_roles_cannot_touch_tables_but_can_call_the_rpc(rpc_db, role):
    for table in TABLES:
        for statement in (f"select * from public.{table}", f"delete from public.{table}"):
            rpc_db.execute(f"set role {role}")
            try:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    rpc_db.execute(statement)
            finally:
                rpc_db.execute("reset role")
    rpc_db.execute(f"set role {role}")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            rpc_db.execute(
                "insert into public.outreach_event_logs (event, app_key, page_key, utm_campaign, "
                "utm_source, utm_medium, session_id) values ('page_view', 'a', 'b', 'c', 'd', 'e', %s)",
                [session(1)],
            )
    finally:
        rpc_db.execute("reset role")
    assert call(rpc_db, inputs(2, {}), role=role)["ok"]
    function = rpc_db.execute(
        "select prosecdef, proconfig from pg_proc where proname = 'outreach_log_event'"
    ).fetchone()
    assert function == (True, ["search_path=pg_catalog, pg_temp"])
    rls = rpc_db.execute("select relname, relrowsecurity from pg_class where relname = any(%s)", [TABLES]).fetchall()
    assert dict(rls) == {t: True for t in TABLES}


def test_staging_flags_rate_limits_and_duplicates_and_marts_hold_no_sessions(dev_project: DbtProject):
    dev_project.generate("--events", "20000", "--seed", "9")
    dev_project.dbt(
        "build",
        "--select",
        "+stg_outreach__event_logs+",
        "+ops_outreach_rejections_daily",
        "--indirect-selection",
        "cautious",
    )
    limited = dict(
        dev_project.query(
            "select rate_limit_code, count(*) from staging.stg_outreach__event_logs "
            "where rate_limit_code is not null group by 1"
        )
    )
    assert limited.get("RATE_LIMIT_GLOBAL", 0) > 0 and limited.get("RATE_LIMIT_SESSION", 0) > 0
    over = dev_project.query(
        "select max(n) from (select count(*) n from staging.stg_outreach__event_logs where rate_limit_code is null "
        "group by date_trunc('minute', created_at_utc))"
    )[0][0]
    assert over == 500
    per_session = dev_project.query(
        "select max(n) from (select count(*) n from staging.stg_outreach__event_logs where rate_limit_code is null "
        "group by session_id, date_trunc('hour', created_at_utc))"
    )[0][0]
    assert per_session <= 100
    assert dev_project.query("select count(*) from staging.stg_outreach__event_logs_duplicates")[0][0] > 0

    sessions = {r[0] for r in dev_project.query("select distinct session_id from raw.outreach_event_logs")}
    for table in dev_project.tables("outreach"):
        for column, _ in dev_project.columns("outreach", table):
            assert "session" not in column or column == "distinct_sessions", (table, column)
            values = {str(r[0]) for r in dev_project.query(f'select distinct "{column}" from outreach.{table}')}
            assert not values & sessions, f"outreach.{table}.{column} carries a session id"


@pytest.mark.postgres
def test_events_logged_through_the_rpc_reach_the_marts(postgres_project: DbtProject):
    """RPC on PostgreSQL -> public.outreach_event_logs -> dbt (postgres target) -> aggregate marts."""
    postgres_project.generate("--events", "1000", "--seed", "2")  # the other raw sources
    with psycopg.connect(
        dbname=postgres_project.pg_database, host="127.0.0.1", user="postgres", autocommit=True
    ) as conn:
        postgres.install(conn, "outreach", REPO / "seeds")
        outcomes = [call(conn, inputs(i, {"utm_source": "IG"}))["ok"] for i in range(3)]
        outcomes.append(call(conn, inputs(9, {"event": "click"}))["ok"])
    assert outcomes == [True, True, True, False]
    postgres_project.dbt(
        "build",
        "--select",
        "+fct_outreach_events_daily",
        "--indirect-selection",
        "cautious",
        vars={"outreach_schema": "public"},
    )
    rows = postgres_project.query(
        "select source_id_resolved, sum(events), sum(distinct_sessions) "
        "from outreach.fct_outreach_events_daily group by 1"
    )
    assert rows == [("instagram", 3, 3)]


@pytest.mark.postgres
def test_each_logged_event_moves_the_landing_watermark_forward(rpc_db):
    """The RPC states how far its landing is complete (privacy_insights.landing): the transaction
    time of the last event it logged; a rejected or duplicate call leaves it (issue 28 point 1)."""

    def watermark():
        return rpc_db.execute(
            "select loaded_through, loader from public.outreach_load_watermark where table_name = 'outreach_event_logs'"
        ).fetchall()

    assert watermark() == []
    client_id = uuid.uuid4()
    assert call(rpc_db, inputs(1, {}), client_id)["ok"]
    ((first, loader),) = watermark()
    assert loader == "outreach_log_event" and first <= rpc_db.execute("select now()").fetchone()[0]
    assert call(rpc_db, inputs(1, {}), client_id)["duplicate"]
    assert watermark() == [(first, loader)]
    assert call(rpc_db, inputs(2, {}))["ok"]
    assert watermark()[0][0] >= first
    for role in ("anon", "authenticated"):
        assert (
            rpc_db.execute(
                "select has_table_privilege(%s, 'public.outreach_load_watermark', 'select')", [role]
            ).fetchone()[0]
            is False
        )
