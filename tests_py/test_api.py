"""The buyer API as a buyer's engineer meets it (issue 14): the real `privacy-insights serve`
process on 127.0.0.1, a real HTTP client, keys issued by `privacy-insights buyers`, a real
build of generated data published as the served snapshot, and a `dbt build` running against
the same warehouse while requests are answered."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from jsonschema import Draft202012Validator

from api_harness import PATH, SLICE, add_buyer, auth, pi, server
from delivery_build import BUILD, built_copy, delivery_dir
from harness import BIN, REPO, DbtProject
from privacy_insights.export import writer
from privacy_insights.export.records import record_schema

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(tmp_path_factory, extension_dir):
    project = built_copy(tmp_path_factory, extension_dir, "api")
    published = pi(project, "publish")
    assert published.returncode == 0, published.stderr
    keys = {
        "acme": add_buyer(project, "acme", "--requests-per-minute", "10000"),
        "slow": add_buyer(project, "slow", "--requests-per-minute", "3"),
        "thrifty": add_buyer(project, "thrifty", "--rows-per-day", "50"),
        "slicer": add_buyer(project, "slicer", "--fingerprints-per-window", "2"),
        "narrow": add_buyer(project, "narrow", "--granularities", "week", "--max-cities", "1"),
        "gone": add_buyer(project, "gone"),
    }
    with server(project) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        yield project, client, keys


def api_audit(project: DbtProject) -> list[tuple]:
    with sqlite3.connect(delivery_dir(project) / "delivery.sqlite") as con:
        return con.execute(
            "select buyer_id, outcome, rule, http_status, row_count, fingerprint, latency_ms, endpoint "
            "from buyer_exports where channel = 'api' order by requested_at, rowid"
        ).fetchall()


def to_records(fmt: str, body: bytes) -> list[dict]:
    """Parse a response the way a buyer's tools do, then back to the record form."""
    if fmt == "json":
        return json.loads(body)
    if fmt == "jsonl":
        return [json.loads(line) for line in body.decode().splitlines()]
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(body), dtype=writer.csv_dtypes(), parse_dates=writer.csv_timestamp_columns())
        assert frame["schema_version"].map(type).eq(str).all()
        return writer.decode("csv", body)
    table = pq.read_table(pa.BufferReader(body))
    assert table.schema.metadata[b"dataset"] == b"spots_insights_v1"
    assert pa.types.is_timestamp(table.schema.field("time_bucket_start_utc").type)
    return writer.decode("parquet", body)


def test_health_names_the_served_release_and_docs_are_up(api):
    project, client, _ = api
    health = client.get("/v1/health").json()
    manifest = json.loads((delivery_dir(project) / "published" / "spots_insights_v1" / "CURRENT").read_text())
    assert health["status"] == "ok" and health["release"]["release_id"] == manifest["release_id"]
    assert health["release"]["last_released_bucket"]["day"] == "2026-10-13T00:00:00Z"
    assert client.get("/docs").status_code == 200 and client.get("/redoc").status_code == 200
    assert f"{PATH}" in client.get("/openapi.json").json()["paths"]
    assert client.get("/v1/schema").json() == record_schema()
    fields = client.get("/v1/dictionary").json()["fields"]
    assert all(f["description"] for f in fields) and "privacy.dp.epsilon" in {f["field"] for f in fields}
    assert client.get("/v1/dictionary", params={"format": "markdown"}).text.startswith("# Data dictionary")


def anonymous_counts(project: DbtProject) -> tuple[int, int]:
    """Rows and requests of the audit's rows for requests without a valid key (rule api_key)."""
    with sqlite3.connect(delivery_dir(project) / "delivery.sqlite") as con:
        return con.execute(
            "select count(*), coalesce(sum(requests), 0) from buyer_exports "
            "where channel = 'api' and buyer_id is null and rule = 'api_key' and outcome = 'refused'"
        ).fetchone()


def test_without_a_valid_key_every_request_gets_the_same_401(api):
    project, client, keys = api
    rows_before, requests_before = anonymous_counts(project)
    wrong = "pik_" + keys["acme"][4:20] + "_" + "0" * 48  # a real key id, a wrong secret
    unknown = "pik_0123456789abcdef_" + "0" * 48
    answers = [
        client.get(PATH, params=SLICE),
        client.get(PATH, params=SLICE, headers=auth(wrong)),
        client.get(PATH, params=SLICE, headers=auth(unknown)),
        client.get(PATH, params=SLICE, headers=auth("not-a-key")),
        client.get(PATH, params=SLICE, headers={"Authorization": keys["acme"]}),
    ]  # no "Bearer"
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1 and answers[0].json()["rule"] == "api_key"
    assert answers[0].json()["error"] == "refused" and answers[0].json()["field"] == "Authorization"
    assert answers[0].headers["www-authenticate"].startswith("Bearer")
    rows, requests = anonymous_counts(project)
    assert requests - requests_before == 5 and rows - rows_before <= 1, "counted, in one row per minute"


def test_a_revoked_key_fails_on_the_next_request(api):
    project, client, keys = api
    assert client.get(PATH, params=SLICE, headers=auth(keys["gone"])).status_code == 200
    revoked = pi(project, "buyers", "revoke", "gone")
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["revoked_key_ids"]
    after = client.get(PATH, params=SLICE, headers=auth(keys["gone"]))
    assert after.status_code == 401 and after.json()["rule"] == "api_key"
    rotated = pi(project, "buyers", "rotate", "gone")
    new_key = json.loads(rotated.stdout)["api_key"]
    assert client.get(PATH, params=SLICE, headers=auth(new_key)).status_code == 200
    assert client.get(PATH, params=SLICE, headers=auth(keys["gone"])).status_code == 401
    listing = pi(project, "buyers", "list").stdout
    assert new_key[21:] not in listing and "secret" not in listing


@pytest.mark.parametrize(
    ("buyer", "params", "status", "rule", "field"),
    [
        ("acme", {"start": "2026-06-01"}, 400, "max_days_per_request", "date range"),
        (
            "acme",
            {"cities": "us-nyc,us-lax,us-chi,us-hou,us-sfo,us-sea,us-mia,us-atl,us-bos,us-den,ca-tor"},
            400,
            "max_cities_per_request",
            "cities",
        ),
        ("acme", {"cities": "xx-atlantis"}, 400, "enumerated_values", "cities"),
        ("acme", {"categories": "gambling"}, 400, "enumerated_values", "categories"),
        ("acme", {"contexts": "midnight"}, 400, "enumerated_values", "contexts"),
        ("acme", {"cities": ""}, 400, "cities_required", "cities"),
        ("acme", {"end": "2026-10-01"}, 400, "date_order", "end"),
        ("acme", {"end": "2026-13-01"}, 400, "date_format", "end"),
        ("acme", {"format": "xlsx"}, 400, "format", "format"),
        ("acme", {"granularity": "minute"}, 400, "granularity_enumerated", "granularity"),
        ("acme", {"granularity": "hour"}, 403, "hour_granularity_buyers", "granularity"),
        ("narrow", {"granularity": "day"}, 403, "key_scope_granularities", "granularity"),
        ("narrow", {"granularity": "week", "cities": "jp-tyo,us-nyc"}, 403, "key_scope_max_cities", "cities"),
    ],
)
def test_each_policy_refusal_names_its_rule(api, buyer, params, status, rule, field):
    project, client, keys = api
    response = client.get(PATH, params={**SLICE, **params}, headers=auth(keys[buyer]))
    assert response.status_code == status, response.text
    body = response.json()
    assert body["rule"] == rule and body["field"] == field and body["message"].startswith(field)
    assert api_audit(project)[-1][:4] == (buyer, "refused", rule, status)


def test_an_accept_header_naming_no_served_format_is_406(api):
    project, client, keys = api
    response = client.get(PATH, params=SLICE, headers={**auth(keys["acme"]), "Accept": "application/xml"})
    assert response.status_code == 406 and response.json()["rule"] == "format"


@pytest.mark.parametrize("how", ["format", "accept"])
def test_every_format_parses_back_validates_and_matches_the_file_export(api, how):
    project, client, keys = api
    validator = Draft202012Validator(record_schema())
    accept = {
        "json": "application/json",
        "jsonl": "application/x-ndjson",
        "csv": "text/csv",
        "parquet": "application/vnd.apache.parquet",
    }
    parsed = {}
    for fmt in writer.FORMATS:
        if how == "format":
            response = client.get(PATH, params={**SLICE, "format": fmt}, headers=auth(keys["acme"]))
        else:
            response = client.get(PATH, params=SLICE, headers={**auth(keys["acme"]), "Accept": accept[fmt]})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(accept[fmt])
        parsed[fmt] = to_records(fmt, response.content)
        assert all(not list(validator.iter_errors(r)) for r in parsed[fmt])
        assert int(response.headers["x-rows"]) == len(parsed[fmt]) > 0
    assert parsed["json"] == parsed["jsonl"] == parsed["csv"] == parsed["parquet"]
    exported = pi(
        project,
        "export",
        "--buyer-id",
        "acme",
        "--start",
        SLICE["start"],
        "--end",
        SLICE["end"],
        "--cities",
        "jp-tyo",
        "--format",
        "jsonl",
        "--output-dir",
        str(project.workdir / "out"),
    )
    assert exported.returncode == 0, exported.stderr
    body = client.get(PATH, params={**SLICE, "format": "jsonl"}, headers=auth(keys["acme"])).content
    assert body == Path(json.loads(exported.stdout)["file"]).read_bytes(), "one record mapping for files and API"


def test_the_rate_limit_answers_429_with_retry_after(api):
    project, client, keys = api
    statuses = [client.get(PATH, params=SLICE, headers=auth(keys["slow"])).status_code for _ in range(3)]
    limited = client.get(PATH, params=SLICE, headers=auth(keys["slow"]))
    assert statuses == [200, 200, 200] and limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["rule"] == "rate_limit_per_minute"
    assert api_audit(project)[-1][:4] == ("slow", "throttled", "rate_limit_per_minute", 429)


def test_the_daily_row_quota_answers_429_with_retry_after(api):
    project, client, keys = api
    small = {**SLICE, "end": "2026-10-05", "categories": "coffee", "door_types": "spot"}
    first = client.get(PATH, params=small, headers=auth(keys["thrifty"]))
    assert first.status_code == 200 and int(first.headers["x-rows"]) <= 50
    big = client.get(PATH, params=SLICE, headers=auth(keys["thrifty"]))
    assert big.status_code == 429 and big.json()["rule"] == "rows_per_day"
    assert 1 <= int(big.headers["retry-after"]) <= 86400
    assert api_audit(project)[-1][:4] == ("thrifty", "throttled", "rows_per_day", 429)


def test_the_fingerprint_budget_denies_a_new_slice_but_not_a_repeated_one(api):
    project, client, keys = api
    a = {**SLICE, "categories": "coffee"}
    b = {**SLICE, "categories": "coffee,food"}
    reordered_a = {**SLICE, "categories": "coffee,coffee", "format": "csv"}  # same normalised slice as a
    c = {**SLICE, "categories": "food"}
    statuses = [client.get(PATH, params=p, headers=auth(keys["slicer"])).status_code for p in (a, b, reordered_a)]
    denied = client.get(PATH, params=c, headers=auth(keys["slicer"]))
    assert statuses == [200, 200, 200]
    assert denied.status_code == 403 and denied.json()["rule"] == "query_fingerprint_budget"
    assert "different slices" in denied.json()["message"] and denied.json()["retry_after_seconds"] > 0
    rows = [r for r in api_audit(project) if r[0] == "slicer"]
    assert [r[1] for r in rows] == ["delivered", "delivered", "delivered", "refused"]
    assert rows[0][5] == rows[2][5] != rows[1][5]


def test_every_request_is_audited_with_status_and_latency(api):
    """A buyer's request is a row of its own; requests without a valid key are counted in a row
    per minute, endpoint, status and rule; /v1/health (no data, no store) is not audited."""
    project, client, keys = api
    before = len(api_audit(project))
    anonymous_before = anonymous_requests(project)
    statuses = [
        client.get(PATH, params=SLICE, headers=auth(keys["acme"])).status_code,
        client.get(PATH, params={**SLICE, "granularity": "hour"}, headers=auth(keys["acme"])).status_code,
        client.get(PATH, params=SLICE).status_code,
        client.get("/v1/health").status_code,
        client.get("/v1/no-such-endpoint").status_code,
    ]
    assert statuses == [200, 403, 401, 200, 404]
    rows = [r for r in api_audit(project)[before:] if r[0] == "acme"]
    assert [(r[1], r[3]) for r in rows] == [("delivered", 200), ("refused", 403)]
    assert rows[0][4] > 0 and all(r[6] is not None and r[6] >= 0 for r in rows)
    anonymous = anonymous_requests(project)
    assert anonymous[(f"GET {PATH}", 401)] - anonymous_before.get((f"GET {PATH}", 401), 0) == 1
    assert anonymous[("GET (no such path)", 404)] - anonymous_before.get(("GET (no such path)", 404), 0) == 1
    assert not [k for k in anonymous if "health" in k[0]]


def anonymous_requests(project: DbtProject) -> dict[tuple[str, int], int]:
    with sqlite3.connect(delivery_dir(project) / "delivery.sqlite") as con:
        rows = con.execute(
            "select endpoint, http_status, sum(requests) from buyer_exports "
            "where channel = 'api' and buyer_id is null group by 1, 2"
        ).fetchall()
    return {(e, s): n for e, s, n in rows}


def test_requests_succeed_during_a_dbt_build_and_a_released_cell_never_changes(api):
    """The last test of the module: a dbt build (of the spots pipeline: staging, the release and the buyer dataset)
    with a later as_of runs against the same warehouse, holding DuckDB's single-writer lock,
    while requests are answered; then the new
    release is published, the server switches to it, and the old slice is byte-identical."""
    project, client, keys = api
    bodies = {
        fmt: client.get(PATH, params={**SLICE, "format": fmt}, headers=auth(keys["acme"])).content
        for fmt in writer.FORMATS
    }
    old_release = client.get("/v1/health").json()["release"]["release_id"]
    vars_ = {**BUILD, "as_of": "2026-10-20T00:00:00Z"}
    build = subprocess.Popen(
        [
            str(BIN / "dbt"),
            "build",
            "--selector",
            "spots_pipeline",
            "--vars",
            json.dumps(vars_),
            "--target-path",
            str(project.workdir / "target"),
            "--log-path",
            str(project.workdir / "logs"),
        ],
        cwd=REPO,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    during = []
    while build.poll() is None:
        response = client.get(PATH, params=SLICE, headers=auth(keys["acme"]))
        during.append((response.status_code, response.content == bodies["json"]))
        time.sleep(0.5)
    output = build.stdout.read()
    assert build.returncode == 0, output[-3000:]
    assert len(during) >= 3 and all(ok == (200, True) for ok in during), during[:5]
    published = pi(project, "publish")
    assert published.returncode == 0 and json.loads(published.stdout)["changed"], published.stderr
    deadline = time.monotonic() + 60
    while client.get("/v1/health").json()["release"]["release_id"] == old_release:
        assert time.monotonic() < deadline, "the server did not switch to the new release"
        time.sleep(0.3)
    health = client.get("/v1/health").json()
    assert health["release"]["last_released_bucket"]["day"] == "2026-10-16T00:00:00Z"
    for fmt, body in bodies.items():
        assert client.get(PATH, params={**SLICE, "format": fmt}, headers=auth(keys["acme"])).content == body, fmt
    newer = client.get(PATH, params={**SLICE, "start": "2026-10-14", "end": "2026-10-16"}, headers=auth(keys["acme"]))
    assert newer.status_code == 200 and len(newer.json()) > 0
