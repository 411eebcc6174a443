"""The buyer API as an attacker meets it (issue 27): races on the quotas, keys pasted in the wrong
place, probing after a refusal, floods of bad keys, a locked delivery store, slow clients, odd
dates, a broken release. The real `privacy-insights serve` over a published release of the
shared delivery build (api_harness.py); each test has its own buyers and client address."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from api_harness import PATH, SLICE, add_buyer, audit_rows, auth, delivery_store, pi, server
from delivery_build import built_copy, delivery_dir
from harness import REPO
from privacy_insights.export.policy import load_policy

pytestmark = pytest.mark.e2e

POLICY = load_policy(REPO / "export_policy.yml")


def client_at(address: str) -> dict:
    """Headers of a request the reverse proxy forwarded for ``address``."""
    return {"X-Forwarded-For": address}


def test_fifty_concurrent_requests_of_one_key_are_counted_exactly(published_api):
    """Issue 27 point 3: a buyer limited to 5 requests per minute sends 50 at once, half of them
    refused by the policy: exactly 5 are answered, 45 throttled, whatever the interleaving."""
    api = published_api
    key = add_buyer(api.project, "burst", "--requests-per-minute", "5", "--fingerprints-per-window", "1000")
    slices = [
        {**SLICE, "categories": ["coffee", "food", "music", "art", "tech"][i % 5]}
        if i % 2
        else {**SLICE, "cities": "xx-atlantis"}  # refused by the policy (400): counts as well
        for i in range(50)
    ]

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=api.server.url, timeout=60) as client:
            return await asyncio.gather(*(client.get(PATH, params=p, headers=auth(key)) for p in slices))

    statuses = [r.status_code for r in asyncio.run(burst())]
    assert sum(s != 429 for s in statuses) == 5, statuses
    assert statuses.count(429) == 45
    rows = audit_rows(api.project, "buyer_id = ?", ("burst",))
    assert sorted(r["outcome"] for r in rows if r["outcome"] != "throttled") == sorted(
        "delivered" if s == 200 else "refused" for s in statuses if s != 429
    )
    assert sum(r["outcome"] == "throttled" for r in rows) == 45


def test_a_key_in_any_position_leaves_no_trace(published_api):
    """Issue 27 point 4: a valid key sent in the query string (any name), a parameter value, the
    path, the wrong header, a cookie, a body: its secret is nowhere in the delivery store's files,
    the server log or any response."""
    api = published_api
    key = add_buyer(api.project, "leaky", "--requests-per-minute", "1000")
    secret = key.split("_")[2]
    here = client_at("198.51.100.4")
    sent = []
    with httpx.Client(base_url=api.server.url, timeout=30, headers=here) as client:
        for name in ("api_key", "apikey", "key", "token", "access_token", "password", "auth", "signature"):
            sent.append(client.get(PATH, params={**SLICE, name: key}))
        for name in ("cities", "format", "start", "granularity", "categories", "include_suppressed"):
            sent.append(client.get(PATH, params={**SLICE, name: key}, headers=auth(key)))
            sent.append(client.get(PATH, params={**SLICE, name: secret}, headers=auth(key)))
            sent.append(client.get(PATH, params={**SLICE, name: key[:40]}, headers=auth(key)))  # cut short
        sent.append(client.get(f"{PATH}?{'&'.join(f'{k}={v}' for k, v in SLICE.items())}&api_key=pik%5F{key[4:]}"))
        for path in (f"/v1/{key}", f"{PATH}/{key}", f"/{secret}", f"/v1/schema/{key}"):
            sent.append(client.get(path))
        for headers in (
            {"Authorization": f"Bearer {key}"},
            {"authorization": f"bearer {key}"},
            {"Authorization": key},
            {"Authorization": f"Token {key}"},
            {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()},
            {"X-API-Key": key},
            {"Cookie": f"api_key={key}"},
        ):
            sent.append(client.get(PATH, params=SLICE, headers=headers))
        sent.append(client.post(PATH, params=SLICE, content=f"api_key={key}"))
        sent.append(client.request("PUT", PATH, json={"api_key": key}))
    assert {r.status_code for r in sent} >= {200, 400, 401, 404, 405}
    for response in sent:
        assert secret not in response.text and secret not in str(response.headers), response.request.url
    for path in delivery_store(api.project).parent.glob("delivery.sqlite*"):
        assert secret.encode() not in path.read_bytes(), path.name
    assert secret not in api.server.log()
    assert audit_rows(api.project, "buyer_id = 'leaky' and slice like '%redacted%'")


def _rows(client: httpx.Client, key: str, params: dict) -> int:
    response = client.get(PATH, params=params, headers=auth(key))
    assert response.status_code == 200, response.text
    return int(response.headers["x-rows"])


def _fingerprints(api, buyer: str) -> int:
    import sqlite3

    with sqlite3.connect(delivery_store(api.project)) as con:
        return con.execute("select count(*) from query_fingerprints where buyer_id = ?", (buyer,)).fetchone()[0]


def test_after_the_row_quota_nothing_depends_on_the_data(published_api):
    """Issue 27 point 5: once a buyer's rows of the day are used up, an empty slice, a small one and
    a big one get the same 429, spend no fingerprint and say nothing about their size; a slice
    larger than what is left is refused without naming its size, and spends its fingerprint."""
    api, client = published_api, published_api.client
    probe = add_buyer(api.project, "probe", "--fingerprints-per-window", "1000", "--requests-per-minute", "1000")
    small = {**SLICE, "end": "2026-10-05", "categories": "coffee", "door_types": "spot"}
    big = {**SLICE, "categories": "all"}
    empty = {**SLICE, "start": "2026-09-01", "end": "2026-09-02"}
    sizes = {name: _rows(client, probe, p) for name, p in (("small", small), ("big", big), ("empty", empty))}
    assert sizes["empty"] == 0 < sizes["small"] < sizes["big"], sizes

    spent = add_buyer(api.project, "spent", "--rows-per-day", str(sizes["small"]), "--fingerprints-per-window", "50")
    assert _rows(client, spent, small) == sizes["small"]
    refusals = [client.get(PATH, params=p, headers=auth(spent)) for p in (empty, big, {**SLICE, "contexts": "evening"})]
    assert [r.status_code for r in refusals] == [429] * 3
    bodies = [{k: v for k, v in r.json().items() if k not in ("message", "retry_after_seconds")} for r in refusals]
    assert bodies == [bodies[0]] * 3 and bodies[0]["rule"] == "rows_per_day"
    messages = {" ".join(w for w in r.json()["message"].split() if not w.isdigit()) for r in refusals}
    assert len(messages) == 1 and "no rows are left" in messages.pop()
    assert _fingerprints(api, "spent") == 1, "a refusal before the slice is read spends no fingerprint"

    partial = add_buyer(api.project, "partial", "--rows-per-day", str(sizes["small"] + 1))
    assert _rows(client, partial, small) == sizes["small"]
    too_big = client.get(PATH, params=big, headers=auth(partial))
    assert too_big.status_code == 429 and too_big.json()["rule"] == "rows_per_day"
    assert str(sizes["big"]) not in too_big.text
    assert _fingerprints(api, "partial") == 2, "the answer depended on the slice: its fingerprint is spent"


def test_401s_are_throttled_per_address_and_counted_in_one_row(published_api):
    """Issue 27 point 7: past the policy's 401s per minute, an address gets 429 (even with a valid
    key) while another address is untouched; the audit counts the 401s in one row."""
    api = published_api
    key = add_buyer(api.project, "neighbour")
    limit = POLICY.api_unauthenticated_per_minute
    wrong = "pik_0123456789abcdef_" + "0" * 48
    before = audit_rows(api.project, "buyer_id is null and rule = 'api_key'")
    with httpx.Client(base_url=api.server.url, timeout=30) as client:
        flood = client_at("203.0.113.7")
        statuses = [client.get(PATH, params=SLICE, headers={**flood, **auth(wrong)}).status_code for _ in range(limit)]
        assert statuses == [401] * limit
        throttled = client.get(PATH, params=SLICE, headers={**flood, **auth(wrong)})
        assert throttled.status_code == 429 and throttled.json()["rule"] == "rate_limit_unauthenticated"
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        assert client.get(PATH, params=SLICE, headers={**flood, **auth(key)}).status_code == 429
        other = client_at("203.0.113.8")
        assert client.get(PATH, params=SLICE, headers={**other, **auth(wrong)}).status_code == 401
        assert client.get(PATH, params=SLICE, headers={**other, **auth(key)}).status_code == 200
    after = audit_rows(api.project, "buyer_id is null and rule = 'api_key'")
    assert sum(r["requests"] for r in after) - sum(r["requests"] for r in before) == limit + 1
    assert len(after) - len(before) <= 1, "one row per minute, not one per request"
    assert all(r["endpoint"] == f"GET {PATH}" and r["slice"] is None for r in after)


LOCK_HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("begin immediate")
print("locked", flush=True)
sys.stdin.read()
con.execute("rollback")
"""


def test_a_locked_store_blocks_nothing_beyond_the_bound(published_api):
    """Issue 27 point 8: while another process holds the delivery store's write lock, /v1/health
    and /docs answer at once and a slice is answered 503 with Retry-After within the bound (2 s
    in the process's queue, 2 s for the lock), then served again once the lock is gone."""
    api = published_api
    key = add_buyer(api.project, "patient", "--requests-per-minute", "1000")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(delivery_store(api.project))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with httpx.Client(base_url=api.server.url, timeout=15) as client:
            started = time.perf_counter()
            assert client.get("/v1/health").status_code == 200
            assert client.get("/docs").status_code == 200
            assert time.perf_counter() - started < 1.0
            started = time.perf_counter()
            busy = client.get(PATH, params=SLICE, headers=auth(key))
            assert busy.status_code == 503 and int(busy.headers["retry-after"]) > 0
            assert busy.json()["rule"] == "store_unavailable"
            assert time.perf_counter() - started < 6.0
            assert client.get("/v1/health").json()["status"] == "degraded"
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    assert api.client.get(PATH, params=SLICE, headers=auth(key)).status_code == 200


def test_a_slow_client_is_cut_off(published_api):
    """Issue 27 point 8: a client sending one header line at a time never completes its request;
    the server closes the connection after its header timeout (1 s here, 10 s by default)."""
    host, port = published_api.server.url.removeprefix("http://").split(":")
    closed_after = None
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        started = time.perf_counter()
        sock.settimeout(0.3)
        while closed_after is None and time.perf_counter() - started < 4:
            try:
                answer = sock.recv(4096)  # the server's 408, or b"" when it closed
                assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer
                closed_after = time.perf_counter() - started
            except TimeoutError:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")  # one more header line, never the end of the headers
                except OSError:
                    closed_after = time.perf_counter() - started
            except OSError:
                closed_after = time.perf_counter() - started
    assert closed_after is not None and closed_after < 3, "the slow connection was never closed"


def test_days_outside_the_rule_are_400_naming_the_field(published_api):
    """Issue 27 point 14: an ISO week date, an ordinal date, other digits or 9999-12-31 (whose next
    day does not exist) is a 400 naming the field and the rule, never a 500."""
    api = published_api
    key = add_buyer(api.project, "calendar", "--requests-per-minute", "1000")
    for name, value in (
        ("start", "2026-W40-1"),
        ("end", "9999-12-31"),
        ("start", "2026-283"),
        ("end", "2026-10-1"),
        ("start", "２０２６-10-05"),
        ("end", "2026-02-30"),
        ("start", "1999-12-31"),
    ):
        response = api.client.get(PATH, params={**SLICE, name: value}, headers=auth(key))
        assert response.status_code == 400, (value, response.text)
        body = response.json()
        assert body["rule"] == "date_format" and body["field"] == name and "YYYY-MM-DD" in body["message"], value


def test_the_export_command_refuses_the_same_days_with_exit_2(published_api):
    """Issue 27 point 14, the export half: the same rule (export/policy.parse_day), exit 2."""
    for flag, value in (("--end", "9999-12-31"), ("--start", "2026-W40-1")):
        days = {"--start": "2026-10-05", "--end": "2026-10-06", flag: value}
        result = pi(
            published_api.project,
            "export",
            "--buyer-id",
            "acme",
            "--start",
            days["--start"],
            "--end",
            days["--end"],
            "--cities",
            "jp-tyo",
        )
        assert result.returncode == 2, result.stderr
        assert f"argument {flag}" in result.stderr and "YYYY-MM-DD" in result.stderr and "date_format" in result.stderr


def test_what_the_api_says_without_a_key_holds_nothing_internal(tmp_path_factory, extension_dir):
    """Issue 27 point 15: with a snapshot that cannot be loaded, /v1/health and every other answer
    anyone can get (the unauthenticated operations of the OpenAPI document, the docs pages, and
    a slice's 503) name no path and no parser error; the server log has the details."""
    project = built_copy(tmp_path_factory, extension_dir, "broken_release")
    assert pi(project, "publish").returncode == 0
    key = add_buyer(project, "acme")
    current = delivery_dir(project) / "published" / "spots_insights_v1" / "CURRENT"
    manifest = json.loads(current.read_text())
    (current.parent / manifest["file"]).unlink()  # the snapshot is gone
    current.write_text(json.dumps({**manifest, "release_id": "0" * 32}))  # a new release to load
    with server(project, require_release=False) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        spec = client.get("/openapi.json").json()
        public = [
            path
            for path, ops in spec["paths"].items()
            if "get" in ops and "security" not in ops["get"] and "{" not in path
        ]
        assert set(public) >= {"/v1/health", "/v1/schema", "/v1/dictionary"}
        answers = {path: client.get(path) for path in [*public, "/docs", "/redoc", "/openapi.json", "/v1/nothing"]}
        answers["slice"] = client.get(PATH, params=SLICE, headers=auth(key))
        assert answers["/v1/health"].status_code == 503 and answers["slice"].status_code == 503
        for name, response in answers.items():
            text = response.text
            for internal in (str(project.workdir), str(REPO), "No such file", "Errno", "Traceback", manifest["file"]):
                assert internal not in text, (name, internal)
        log = srv.log()
    assert "No such file" in log and str(project.workdir) in log


def test_dictionary_and_405_as_documented(published_api):
    """Issue 27 points 17 and 18 as a client sees them: the dictionary holds no template, a 405
    says which methods are allowed, /v1/schema is application/schema+json, the 401 body has the
    refusal shape, and start, end and cities are declared required."""
    client = published_api.client
    for params in ({}, {"format": "markdown"}):
        text = client.get("/v1/dictionary", params=params).text
        assert "{{" not in text and "{%" not in text and "doc(" not in text
    not_allowed = client.post("/v1/schema", headers=client_at("192.0.2.40"))
    assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "GET"
    assert client.get("/v1/schema").headers["content-type"] == "application/schema+json"
    unauthorized = client.get(PATH, params=SLICE, headers=client_at("192.0.2.41"))
    assert unauthorized.status_code == 401
    assert (
        set(unauthorized.json()) == {"error", "rule", "field", "message"} and unauthorized.json()["error"] == "refused"
    )
    spec = client.get("/openapi.json").json()
    required = {p["name"] for p in spec["paths"][PATH]["get"]["parameters"] if p.get("required")}
    assert required == {"start", "end", "cities"}
    assert "application/schema+json" in spec["paths"]["/v1/schema"]["get"]["responses"]["200"]["content"]
