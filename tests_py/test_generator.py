"""The synthetic raw-data generator: deterministic, streamed, and carrying every case staging must handle."""

from __future__ import annotations

import json

import duckdb
import pytest

from harness import REPO
from privacy_insights.synthetic import GeneratorConfig, generate, outreach, spots
from privacy_insights.synthetic.raw_tables import RAW_TABLES
from privacy_insights.targets import Warehouse


def warehouse_of(con: duckdb.DuckDBPyConnection) -> Warehouse:
    return Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev")


def build(path, **kwargs) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    cfg = GeneratorConfig(**({"events": 30_000, "chunk_rows": 10_000} | kwargs))
    counts = generate(cfg, warehouse_of(con), REPO / "seeds")
    assert counts["spots_interaction_events"] == cfg.events
    return con


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    con = build(tmp_path_factory.mktemp("gen") / "warehouse.duckdb", attribution_pii_share=0.05)
    yield con
    con.close()


def fingerprint(con, table: str) -> str:
    columns = ", ".join(f"coalesce(cast(\"{c}\" as varchar), '~')" for c, _ in RAW_TABLES[table])
    return con.sql(
        f"select md5(string_agg(concat_ws('|', {columns}), ',' order by concat_ws('|', {columns}))) from raw.{table}"
    ).fetchone()[0]


def test_same_seed_same_rows_other_seed_other_rows(raw, tmp_path):
    again = build(tmp_path / "again.duckdb", attribution_pii_share=0.05)
    other = build(tmp_path / "other.duckdb", seed=43)
    for table in RAW_TABLES:
        assert fingerprint(raw, table) == fingerprint(again, table), table
    assert fingerprint(raw, "spots_interaction_events") != fingerprint(other, "spots_interaction_events")


def test_spots_shape(raw):
    per_user = [
        r[0]
        for r in raw.sql(
            "select count(*) from raw.spots_interaction_events where user_id is not null "
            "group by user_id order by 1 desc"
        ).fetchall()
    ]
    median = per_user[len(per_user) // 2]
    # The busiest regular user (rank U^2 over 1,500 users) expects 30,000 / sqrt(1,497) = 775 events,
    # the median user about 15: a ratio near 50, so the bound sits at half of it (over 10 sd of the
    # busiest user's Poisson count below its mean).
    assert per_user[0] > 25 * median, "activity per user should be heavy-tailed"
    weekend, weekday = raw.sql(
        "select avg(case when isodow(occurred_at) >= 6 then 1.0 else 0 end), 1 "
        "from raw.spots_interaction_events where occurred_at is not null"
    ).fetchone()
    assert weekend > 2 / 7, "weekends should be busier than weekdays"
    cities = raw.sql(
        "select count(distinct round(latitude, 0) || round(longitude, 0)) from raw.spots_interaction_events"
    ).fetchone()[0]
    assert cities > 50
    with_text = raw.sql("select count(*) from raw.spots_interaction_events where message like '%@%'").fetchone()[0]
    assert with_text > 0, "some free text carries an email: staging must drop it"


def test_every_bad_kind_is_present(raw):
    counts = raw.sql("""
        select
            count(*) filter (where user_id is null),
            count(*) filter (where occurred_at is null),
            count(*) filter (where latitude > 90),
            count(*) filter (where door_type = 'portal'),
            count(*) filter (where category = 'gambling'),
            count(*) filter (where event_type = 'teleported')
        from raw.spots_interaction_events""").fetchone()
    assert all(c > 0 for c in counts), dict(zip(spots.BAD_KINDS.values(), counts, strict=True))
    share = sum(counts) / 30_000
    assert 0.005 < share < 0.015  # --bad-share 0.01


def test_outreach_cases(raw):
    burst = raw.sql(
        "select max(n) from (select count(*) n from raw.outreach_event_logs group by date_trunc('minute', created_at))"
    ).fetchone()[0]
    assert burst >= outreach.GLOBAL_BURST
    session_burst = raw.sql(
        "select max(n) from (select count(*) n from raw.outreach_event_logs "
        "group by session_id, date_trunc('hour', created_at))"
    ).fetchone()[0]
    assert session_burst >= outreach.SESSION_BURST
    dupes = raw.sql(
        "select count(*) from (select client_event_id from raw.outreach_event_logs "
        "where client_event_id is not null group by 1 having count(*) > 1)"
    ).fetchone()[0]
    assert dupes > 0
    invalid = raw.sql("""select count(*) filter (where event = 'click'), count(*) filter (where store = 'amazon_store'),
                         count(*) filter (where session_id like 'sess_%'), count(*) filter (where trim(page_key) = ''),
                         count(*) filter (where length(app_key) > 40),
                         count(*) filter (where length(utm_campaign) > 128)
                         from raw.outreach_event_logs""").fetchone()
    assert all(c > 0 for c in invalid), invalid
    sources = {r[0] for r in raw.sql("select distinct utm_source from raw.outreach_event_logs").fetchall()}
    assert {" FB ", "IG", "coolblog", "myspace", "   "} <= sources


def test_attribution_cases(raw):
    assert raw.sql("select count(distinct tenant_id) from raw.attribution_events").fetchone()[0] == 4
    dupes = raw.sql(
        "select count(*) from (select tenant_id, idempotency_key from raw.attribution_events "
        "group by 1, 2 having count(*) > 1)"
    ).fetchone()[0]
    assert dupes > 0
    payloads = [json.loads(r[0]) for r in raw.sql("select raw_payload from raw.attribution_events").fetchall()]

    def keys(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)
        elif isinstance(node, list):
            for v in node:
                yield from keys(v)

    pii = {"email", "phone", "ssn", "ip_address", "first_name", "last_name", "address"}
    found = set().union(*(set(keys(p)) & pii for p in payloads))
    assert found == pii, "every PII key appears in some payload"
    nested = sum(1 for p in payloads if (set(keys(p)) & pii) and not (set(p) & pii))
    assert nested > 0, "some PII keys sit below the top level"
    span = raw.sql("select date_diff('day', min(created_at), max(created_at)) from raw.attribution_events").fetchone()[
        0
    ]
    assert span > 90, "history must outlast the 90-day retention"
    moves = raw.sql(
        "select count(*) from raw.revenue_state_transitions t join raw.revenue_ledger l on t.ledger_id = l.id"
    ).fetchone()[0]
    assert moves > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"events": 10}, "events: must be at least 1,000"),
        ({"events": 5_000, "chunk_rows": 999}, "chunk_rows: must be at least 1,000"),
        ({"events": 5_000, "bad_share": 0.9}, "bad_share: must be a share between 0 and 0.5"),
        ({"events": 5_000, "days": 3}, "days: must be at least 7"),
        ({"events": 5_000, "tables": ("spots", "crm")}, "tables: unknown"),
    ],
)
def test_bad_config_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GeneratorConfig(**kwargs)


def test_unknown_city_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cities: unknown city codes"):
        build(tmp_path / "x.duckdb", cities=("xx-nowhere",))


def test_no_upper_bound_on_events():
    assert GeneratorConfig(events=100_000_000).events == 10**8
    assert GeneratorConfig(events=10**9).n_outreach == 10**8
