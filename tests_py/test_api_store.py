"""The delivery store on both backends (SQLite for dev, a real PostgreSQL for the postgres target):
buyers and key hashes, authentication that does the same work whatever is wrong, quotas,
query fingerprints, the audit, retention and the table dbt reads. Fast: no dbt build."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from privacy_insights.api import keys, quotas
from privacy_insights.export import audit, fingerprints
from privacy_insights.export.policy import ExportPolicy, ExportRefused, ExportRequest, check_buyer_id
from privacy_insights.export.store import AUDIT_TABLE, Store, audit_table_for_dbt

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
POLICY = ExportPolicy(hour_granularity_buyers=("insider",))


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path, monkeypatch) -> Store:
    monkeypatch.setenv("PRIVACY_INSIGHTS_DELIVERY_DIR", str(tmp_path / "delivery"))
    if request.param == "postgres":
        database = request.getfixturevalue("postgres_database")
        monkeypatch.setenv("PGDATABASE", database)
    s = Store(request.param)
    yield s
    s.close()


def entry(
    buyer: str,
    at: datetime,
    outcome: str = "delivered",
    rows: int = 10,
    fingerprint: str | None = None,
    channel: str = "api",
) -> audit.AuditEntry:
    return audit.AuditEntry(
        buyer_id=buyer,
        requested_at=at,
        slice={"granularity": "day", "start": "2026-10-05", "end": "2026-10-06", "cities": ["jp-tyo"]},
        row_count=rows,
        file_format="json",
        file_name=None,
        file_sha256=None,
        outcome=outcome,
        channel=channel,
        fingerprint=fingerprint,
        http_status=200,
        latency_ms=1.5,
    )


def test_key_lifecycle_and_the_key_is_never_stored(store):
    key, key_id = keys.add_buyer(store, POLICY, "acme", max_cities=3, now=NOW)
    principal = keys.authenticate(store, f"Bearer {key}")
    assert principal.buyer.buyer_id == "acme" and principal.key_id == key_id
    assert principal.scopes.granularities == ("day", "week") and principal.scopes.max_cities == 3
    stored = store.query(f"select * from {store.table('buyer_api_keys')}")
    assert key.split("_")[2] not in repr(stored), "the secret is stored only as a hash"
    assert keys.authenticate(store, f"Bearer {key[:-1]}{'0' if key[-1] != '0' else '1'}") is None
    new_key, new_id, revoked = keys.rotate(store, POLICY, "acme", now=NOW)
    assert revoked == [key_id] and keys.authenticate(store, f"Bearer {key}") is None
    assert keys.authenticate(store, f"Bearer {new_key}").scopes.max_cities == 3
    assert keys.revoke(store, "acme") == [new_id] and keys.authenticate(store, f"Bearer {new_key}") is None
    listing = keys.list_buyers(store)
    assert [k["key_id"] for k in listing[0]["keys"]] == [key_id, new_id] and "secret" not in repr(listing)
    with pytest.raises(ValueError, match="already exists"):
        keys.add_buyer(store, POLICY, "acme")


def test_buyer_ids_and_scopes_are_checked_when_a_key_is_issued(store):
    for bad in ("ａｃｍｅ", "Acme", "a" * 64, "-acme", "ac me", ""):
        with pytest.raises(ExportRefused, match="ASCII slug"):
            keys.add_buyer(store, POLICY, bad)
    with pytest.raises(ValueError, match="hour is allowed only for buyers listed"):
        keys.add_buyer(store, POLICY, "acme", granularities=["hour"])
    keys.add_buyer(store, POLICY, "insider", granularities=["hour", "day"])
    with pytest.raises(ValueError, match="max_cities: must be 1 to 10"):
        keys.add_buyer(store, POLICY, "wide", max_cities=11)
    check_buyer_id("a" * 63)


def test_authentication_does_the_same_work_whatever_is_wrong(store, monkeypatch):
    """Every path looks the key id up and compares a hash in constant time: no early return
    that a client could time (the benchmark measures the 401 latencies, docs/benchmark.md)."""
    key, _ = keys.add_buyer(store, POLICY, "acme", now=NOW)
    revoked_key, _ = keys.add_buyer(store, POLICY, "gone", now=NOW)
    keys.revoke(store, "gone")
    calls, lookups = [], []
    real_compare, real_query = keys.hmac.compare_digest, store.query
    monkeypatch.setattr(keys.hmac, "compare_digest", lambda a, b: calls.append(1) or real_compare(a, b))
    monkeypatch.setattr(store, "query", lambda sql, params=(): lookups.append(1) or real_query(sql, params))
    for header in (
        None,
        "Bearer nonsense",
        f"Bearer pik_0123456789abcdef_{'0' * 48}",
        f"Bearer {key[:-4]}0000",
        f"Bearer {revoked_key}",
        f"Bearer {key}",
    ):
        keys.authenticate(store, header)
    assert calls == [1] * 6 and lookups == [1] * 6


def test_rate_and_daily_rows_quotas(store):
    buyer = keys.Buyer("acme", requests_per_minute=2, rows_per_day=100, fingerprints_per_window=5)
    audit.insert(store, entry("acme", NOW - timedelta(seconds=50)))
    quotas.check_rate(store, buyer, NOW)
    audit.insert(store, entry("acme", NOW - timedelta(seconds=10), outcome="refused", rows=0))
    audit.insert(store, entry("acme", NOW - timedelta(seconds=5), outcome="throttled", rows=0))
    with pytest.raises(ExportRefused) as limited:
        quotas.check_rate(store, buyer, NOW)
    assert limited.value.status == 429 and limited.value.retry_after == 10
    quotas.check_rate(store, buyer, NOW + timedelta(seconds=11))
    audit.insert(store, entry("acme", NOW - timedelta(hours=13), rows=500))  # yesterday (UTC)
    quotas.check_rows(store, buyer, 90, NOW)
    with pytest.raises(ExportRefused) as rows:
        quotas.check_rows(store, buyer, 91, NOW)
    assert rows.value.rule == "rows_per_day" and rows.value.retry_after == 12 * 3600


def test_the_daily_row_counter_is_backfilled_for_a_store_from_before_it(store, tmp_path):
    """A store written before ``api_rows_per_day`` existed: the rows its audit delivered
    today still count when the new code opens it (and a later delivery adds to them)."""
    buyer = keys.Buyer("acme", requests_per_minute=60, rows_per_day=100, fingerprints_per_window=5)
    audit.insert(store, entry("acme", NOW - timedelta(hours=1), rows=60))
    audit.insert(store, entry("acme", NOW - timedelta(hours=2), rows=30, channel="file"))  # not the API
    store.execute(f"drop table {store.table('api_rows_per_day')}")  # as an older version left it
    store.close()
    reopened = Store(store.kind, store.schema)
    quotas.check_rows(reopened, buyer, 40, NOW)
    with pytest.raises(ExportRefused):
        quotas.check_rows(reopened, buyer, 41, NOW)
    with reopened.transaction():  # the API's delivery transaction: the counter joins it
        audit.insert(reopened, entry("acme", NOW, rows=40))
    with pytest.raises(ExportRefused):
        quotas.check_rows(reopened, buyer, 1, NOW)
    assert audit.purge(reopened, NOW + timedelta(days=1)) == 3
    quotas.check_rows(reopened, buyer, 100, NOW)  # retention removes the day's count too
    reopened.close()


def test_the_fingerprint_budget_counts_distinct_slices_in_the_window(store):
    def request(*categories: str) -> ExportRequest:
        return ExportRequest(
            "acme", date(2026, 10, 5), date(2026, 10, 6), "day", ("jp-tyo",), "json", categories=categories
        )

    a, b, c = request("coffee"), request("coffee", "food"), request("food")
    assert request("food", "coffee", "coffee").fingerprint() == b.fingerprint()
    assert replace(a, fmt="csv").fingerprint() == a.fingerprint() != replace(a, include_suppressed=True).fingerprint()
    for i, r in enumerate((a, b, a)):
        fingerprints.check_budget(store, r, 2, 24, NOW)
        with store.transaction():
            audit.insert(store, entry("acme", NOW - timedelta(hours=3 - i), fingerprint=r.fingerprint()))
            fingerprints.record(store, r, NOW - timedelta(hours=3 - i))
    fingerprints.check_budget(store, a, 2, 24, NOW)
    with pytest.raises(ExportRefused) as denied:
        fingerprints.check_budget(store, c, 2, 24, NOW)
    assert denied.value.status == 403 and denied.value.rule == "query_fingerprint_budget"
    # a was asked again 1 hour ago, so b (2 hours ago) is the first to leave the window
    assert denied.value.retry_after == 22 * 3600
    with pytest.raises(ExportRefused):
        fingerprints.check_budget(store, c, 2, 24, NOW + timedelta(hours=21, minutes=30))
    fingerprints.check_budget(store, c, 2, 24, NOW + timedelta(hours=22))
    counts = dict(store.query(f"select fingerprint, requests from {store.table('query_fingerprints')}"))
    assert counts == {a.fingerprint(): 2, b.fingerprint(): 1}


def test_retention_and_the_table_dbt_reads(store):
    assert audit_table_for_dbt(store.kind).num_rows == 0, "nothing audited: an empty, typed table"
    store.query(f"select count(*) from {store.table(AUDIT_TABLE)}")  # creates the tables
    audit.insert(store, entry("acme", NOW - timedelta(days=400), channel="file"))
    audit.insert(store, entry("acme", NOW, fingerprint="f" * 64))
    table = audit_table_for_dbt(store.kind)
    assert table.num_rows == 2 and str(table.schema.field("requested_at").type) == "timestamp[us, tz=UTC]"
    row = table.to_pylist()[1]
    assert row["requested_at"] == NOW and row["slice_start"] == date(2026, 10, 5) and row["slice_cities"] == 1
    assert audit.purge(store, NOW - timedelta(days=365)) == 1
    assert audit_table_for_dbt(store.kind).num_rows == 1


def test_a_new_record_field_is_one_edit_of_the_json_schema():
    """The lead's coming columns (release_level, a noise scale per metric, a release threshold)
    need only the JSON Schema: warehouse column, CSV column, Parquet type and dictionary entry
    are derived from it."""
    import copy

    from privacy_insights.export import records
    from privacy_insights.export import writer as w

    schema = copy.deepcopy(records.record_schema())
    schema["properties"]["release_level"] = {
        "type": "string",
        "enum": ["city", "city_door_type"],
        "description": "Level of the cell.",
    }
    schema["properties"]["metrics"]["properties"]["unique_participants_noise_scale"] = {
        "type": ["number", "null"],
        "description": "Noise scale.",
    }
    schema["properties"]["privacy"]["properties"]["release_threshold"] = {
        "type": "integer",
        "description": "Threshold.",
        "x-warehouse-column": "privacy_threshold",
    }
    fields = {f.dotted: f for f in records._fields(schema, ())}
    assert fields["release_level"].column == "release_level" and fields["release_level"].values == (
        "city",
        "city_door_type",
    )
    assert fields["metrics.unique_participants_noise_scale"].column == "unique_participants_noise_scale"
    assert fields["metrics.unique_participants_noise_scale"].nullable
    assert fields["privacy.release_threshold"].column == "privacy_threshold"
    arrow = w._arrow_fields(list(fields.values()), 0)
    metrics = next(f for f in arrow if f.name == "metrics")
    assert str(metrics.type.field("unique_participants_noise_scale").type) == "double"


def test_concurrent_requests_of_one_key_are_counted_exactly(store):
    """Issue 27 point 3 on both backends: 50 threads (each its own connection, as the server's
    worker threads and other server processes have) answer requests of one key limited to 5 per
    minute, every one refused by the policy: the rate check and the audit row it counts land in
    one transaction that names the buyer, so exactly 5 are answered and 45 throttled."""
    from concurrent.futures import ThreadPoolExecutor
    from time import perf_counter
    from types import SimpleNamespace

    from harness import REPO
    from privacy_insights.api.delivery import Context, SliceQuery, answer_slice
    from privacy_insights.export.policy import Enumerations

    key, _ = keys.add_buyer(store, POLICY, "burst", requests_per_minute=5, now=NOW)
    principal = keys.authenticate(store, f"Bearer {key}")
    context = Context(store, POLICY, Enumerations.from_seeds(REPO / "seeds"), SimpleNamespace(release=None))
    query = SliceQuery("2026-10-05", "2026-10-06", "day", ("xx-atlantis",))

    def one(_: int) -> int:
        try:
            return answer_slice(context, principal, query, {}, "GET /v1/spots_insights_v1", NOW, perf_counter()).status
        finally:
            store.close()  # this thread's connection

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert sorted(statuses) == [400] * 5 + [429] * 45
    outcomes = store.query(f"select outcome, count(*) from {store.table(AUDIT_TABLE)} group by outcome")
    assert dict(outcomes) == {"refused": 5, "throttled": 45}


def test_a_store_from_before_the_requests_column_is_read_and_migrated(store):
    """The audit's `requests` column (issue 27: requests without a valid key counted per row):
    dbt reads a store no new code has opened yet as 1 per row, and opening it adds the column."""
    audit.insert(store, entry("acme", NOW))
    store.execute(f"alter table {store.table(AUDIT_TABLE)} drop column requests")  # as an older version left it
    assert audit_table_for_dbt(store.kind).column("requests").to_pylist() == [1]
    store.close()
    reopened = Store(store.kind, store.schema)
    audit_id = audit.insert(reopened, entry(None, NOW, outcome="refused"))
    assert audit.add_request(reopened, audit_id, 3.0) and audit.add_request(reopened, audit_id, 1.0)
    rows = reopened.query(f"select requests, latency_ms from {reopened.table(AUDIT_TABLE)} order by requests")
    assert rows == [(1, 1.5), (3, 3.0)]
    reopened.close()
