"""Load benchmark of the buyer API (a script, never a timed test; docs/benchmark.md "Buyer API").

    python -m privacy_insights.api.loadtest --target dev --clients 20 --duration 60

Needs a built and published release (``dbt build && privacy-insights publish``). It issues
one key per client (buyers ``bench-00`` ...; re-running rotates them), starts
``privacy-insights serve`` on a free port of 127.0.0.1, and runs ``--clients`` concurrent
clients, each asking for 7-day x 5-city day slices as JSON for ``--duration`` seconds (at
most 60; loopback only; it stops by itself). Then it measures the 401 latency of a wrong
secret, an unknown key id and a malformed key, stops the server and counts the audit rows
of the run. Prints Markdown and writes the figures as JSON (``--output``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from privacy_insights import targets
from privacy_insights.api import keys
from privacy_insights.export.policy import load_policy
from privacy_insights.export.publish import current_manifest, published_dir
from privacy_insights.export.store import AUDIT_TABLE, open_store

MAX_SECONDS = 60
PATH = "/v1/spots_insights_v1"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _busiest_cities(target: str, manifest: dict, n: int) -> tuple[list[str], date]:
    table = pq.read_table(published_dir(target) / manifest["file"]).flatten()
    rows = table.select(["time_granularity", "geo_bucket.id", "privacy.suppressed"]).to_pylist()
    counts: dict[str, int] = {}
    for r in rows:
        if r["time_granularity"] == "day" and not r["privacy.suppressed"]:
            counts[r["geo_bucket.id"]] = counts.get(r["geo_bucket.id"], 0) + 1
    cities = sorted(counts, key=lambda c: (-counts[c], c))[:n]
    if len(cities) < n:  # pad with any city: the slice still has n cities
        cities += [c for c in sorted({r["geo_bucket.id"] for r in rows}) if c not in cities][: n - len(cities)]
    last = date.fromisoformat(manifest["last_released_bucket"]["day"][:10])
    return cities, last


def _issue_keys(target: str, clients: int) -> dict[str, str]:
    store = open_store(target)
    policy = load_policy(targets.project_root() / "export_policy.yml")
    issued = {}
    for i in range(clients):
        buyer = f"bench-{i:02d}"
        try:
            key, _ = keys.add_buyer(
                store, policy, buyer, requests_per_minute=1_000_000, rows_per_day=10**12, fingerprints_per_window=10_000
            )
        except ValueError:
            key, _, _ = keys.rotate(store, policy, buyer)
        issued[buyer] = key
    return issued


def _start_server(target: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "privacy_insights.cli", "serve", "--target", target, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    ready, _, _ = select.select([proc.stdout], [], [], 180)
    if not ready:
        proc.kill()
        raise RuntimeError("the server did not start within 180 s")
    return proc, json.loads(proc.stdout.readline())["listening"]


async def _client(url: str, key: str, slices: list[dict], deadline: float, out: list) -> None:
    """One client on one keep-alive connection, requests back to back until the deadline.

    A minimal HTTP/1.1 client on asyncio streams (like wrk): the load generator shares the 2
    cores with the server, and a full client library spends more CPU per 0.7 MB answer than
    the server does. The first answer to each slice is parsed as JSON and checked against
    ``X-Rows``; the rest are read whole (``Content-Length``) and counted."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer_ = await asyncio.open_connection(host, int(port))
    checked: set[int] = set()
    i = 0
    try:
        while time.perf_counter() < deadline:
            k = i % len(slices)
            i += 1
            target = f"{PATH}?{httpx.QueryParams(slices[k])}"
            started = time.perf_counter()
            writer_.write(
                f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                "Accept: application/json\r\n\r\n".encode()
            )
            await writer_.drain()
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(head[0].split()[1])
            headers = {h.split(":", 1)[0].lower(): h.split(":", 1)[1].strip() for h in head[1:] if ":" in h}
            body = await reader.readexactly(int(headers["content-length"]))
            elapsed = time.perf_counter() - started
            rows = int(headers.get("x-rows", 0))
            if status == 200 and k not in checked:
                if len(json.loads(body)) != rows:
                    raise AssertionError(f"X-Rows {rows} does not match the body")
                checked.add(k)
            out.append((elapsed, status, rows, len(body)))
    except (OSError, asyncio.IncompleteReadError) as exc:
        out.append((time.perf_counter() - started, type(exc).__name__, 0, 0))
    finally:
        writer_.close()


async def _load(url: str, issued: dict[str, str], slices: list[dict], seconds: float) -> tuple[list, float]:
    results: list = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _client(url, key, slices[i % 7 :] + slices[: i % 7], deadline, results)
            for i, key in enumerate(issued.values())
        )
    )
    return results, time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc), including server start-up."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _unauthorized_timings(url: str, valid_key: str, n: int) -> dict[str, dict]:
    kinds = {
        "wrong secret of a real key id": valid_key[:-8] + "00000000",
        "unknown key id": "pik_0123456789abcdef_" + "0" * 48,
        "malformed key": "not-a-key",
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(n):
            for j, (kind, key) in enumerate(kinds.items()):
                # each 401 from its own client address (RFC 2544's benchmark range, as the proxy
                # would forward it), so the per-address throttle of 401s does not answer 429
                address = f"198.18.{(3 * i + j) // 250}.{(3 * i + j) % 250 + 1}"
                started = time.perf_counter()
                response = client.get(
                    PATH,
                    params={"start": "2026-10-05", "end": "2026-10-05", "cities": "jp-tyo"},
                    headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": address},
                )
                times[kind].append(time.perf_counter() - started)
                assert response.status_code == 401
    return {
        k: {"median_ms": round(statistics.median(v) * 1000, 3), "p90_ms": round(_quantile(v, 0.9) * 1000, 3)}
        for k, v in times.items()
    }


def run(target: str, clients: int, seconds: float, cities_per_slice: int, unauthorized: int) -> dict:
    manifest = current_manifest(target)
    if manifest is None:
        raise RuntimeError(
            f"no published release: run `dbt build` and `privacy-insights publish --target {target}` first"
        )
    cities, last = _busiest_cities(target, manifest, cities_per_slice)
    slices = [
        {
            "start": (last - timedelta(days=6 + k)).isoformat(),
            "end": (last - timedelta(days=k)).isoformat(),
            "granularity": "day",
            "cities": ",".join(cities),
            "format": "json",
        }
        for k in range(7)
    ]
    issued = _issue_keys(target, clients)
    began = datetime.now(UTC)
    proc, url = _start_server(target)
    try:
        results, elapsed = asyncio.run(_load(url, issued, slices, seconds))
        load_cpu = {"server": _cpu_seconds(proc.pid), "load_generator": _own_cpu_seconds()}
        timings = _unauthorized_timings(url, next(iter(issued.values())), unauthorized)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    store = open_store(target)
    audited = store.query(
        f"select count(*) from {store.table(AUDIT_TABLE)} where buyer_id in "
        f"({', '.join('?' * len(issued))}) and channel = 'api' and requested_at >= ?",
        [*issued, store.ts(began)],
    )[0][0]
    audited_401 = store.query(  # counted in one row per minute (requests), not a row each
        f"select coalesce(sum(requests), 0) from {store.table(AUDIT_TABLE)} where buyer_id is null and "
        "rule = 'api_key' and channel = 'api' and requested_at >= ?",
        [store.ts(began)],
    )[0][0]
    latencies = [r[0] for r in results]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[1])] = statuses.get(str(r[1]), 0) + 1
    return {
        "target": target,
        "release_id": manifest["release_id"],
        "clients": clients,
        "seconds": round(elapsed, 1),
        "slice": f"7 days x {len(cities)} cities ({', '.join(cities)}), day granularity, JSON, released rows only",
        "requests": len(results),
        "requests_per_second": round(len(results) / elapsed, 1),
        "p50_ms": round(_quantile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(_quantile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "statuses": statuses,
        "errors": sum(n for s, n in statuses.items() if s != "200"),
        "server_errors_5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
        "mean_rows": round(statistics.mean(r[2] for r in results), 1) if results else 0,
        "mean_bytes": round(statistics.mean(r[3] for r in results)) if results else 0,
        "audited_requests": audited,
        "unauthorized_401_latency": timings,
        "unauthorized_requests": 3 * unauthorized,
        "unauthorized_audited": audited_401,
        "cpu_seconds_during_load": {k: round(v, 1) for k, v in load_cpu.items()},
        "cpu_cores": os.cpu_count(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def markdown(r: dict) -> str:
    lines = [
        "| clients | seconds | requests | requests/s | p50 | p99 | max | non-200 | 5xx | audited |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {r['clients']} | {r['seconds']} | {r['requests']:,} | **{r['requests_per_second']}** | "
        f"{r['p50_ms']} ms | **{r['p99_ms']} ms** | {r['max_ms']} ms | {r['errors']} | {r['server_errors_5xx']} | "
        f"{r['audited_requests']:,} of {r['requests']:,} |",
        "",
        f"Slice: {r['slice']}; {r['mean_rows']} records and {r['mean_bytes']:,} bytes per response on average. "
        f"CPU seconds until the end of the load: server {r['cpu_seconds_during_load']['server']} (with start-up), "
        f"load generator {r['cpu_seconds_during_load']['load_generator']}; load average after: "
        f"{r['load_average_after']}.",
        "",
        f"401 timing ({r['unauthorized_requests']:,} requests, {r['unauthorized_audited']:,} audited):",
        "",
        "| 401 for | median | p90 |",
        "|---|---|---|",
    ]
    for kind, t in r["unauthorized_401_latency"].items():
        lines.append(f"| {kind} | {t['median_ms']} ms | {t['p90_ms']} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=targets.TARGETS, default="dev")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60, help=f"seconds of load, at most {MAX_SECONDS}")
    parser.add_argument("--cities", type=int, default=5, help="cities per slice")
    parser.add_argument("--unauthorized", type=int, default=300, help="401 requests of each kind timed")
    parser.add_argument("--output", default="data/benchmark/api_load.json")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_SECONDS:
        parser.error(f"--duration: must be in (0, {MAX_SECONDS}] seconds")
    result = run(args.target, args.clients, args.duration, args.cities, args.unauthorized)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(markdown(result))
    print(f"\nfigures: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
