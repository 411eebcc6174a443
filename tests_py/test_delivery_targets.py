"""Each target delivers only its own releases (issue 27 point 1): dev (DuckDB) and prod (a real
PostgreSQL) publish into their own folders, a running server of each keeps serving its own
release while the other target publishes, a server refuses a snapshot of another target, an
export never writes into another target's folders, and a dev store of the old shared layout
stops with what to move. Both warehouses are small builds of the spots pipeline."""

from __future__ import annotations

import json
import select
import shutil
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from harness import BIN, REPO, DbtProject, scratch_database

BUILD = {"as_of": "2026-10-17T00:00:00Z", "release_start_date": "2026-10-05"}
GENERATE = [
    *("--events", "20000", "--users", "2000", "--cities", "jp-tyo", "--start", "2026-10-05", "--days", "14"),
    *("--outside-city-share", "0", "--seed", "11", "--tables", "spots"),
]
SLICE = {"start": "2026-10-05", "end": "2026-10-13", "granularity": "day", "cities": "jp-tyo"}
EXPORT = ["--buyer-id", "acme", "--start", "2026-10-05", "--end", "2026-10-13", "--cities", "jp-tyo"]


def published(root: Path, target: str) -> Path:
    return root / target / "published" / "spots_insights_v1"


@pytest.fixture(scope="module")
def operator(tmp_path_factory, extension_dir, postgres_available):
    """One project folder as an operator has it: the dev DuckDB warehouse and the prod PostgreSQL
    database, both built; every command below runs with the same environment."""
    root = tmp_path_factory.mktemp("targets")
    with scratch_database() as database:
        dev = DbtProject(root / "dev", "dev", extension_dir)
        prod = DbtProject(root / "prod", "prod", extension_dir, pg_database=database)
        for project in (dev, prod):
            project.generate(*GENERATE)
            # the pipeline's own tests run elsewhere; here only its tables matter
            project.dbt(
                "build", "--selector", "spots_pipeline", "--exclude-resource-type", "test", "unit_test", vars=BUILD
            )
        env = {**dev.env, **{k: prod.env[k] for k in ("PGDATABASE", "PGHOST", "PGUSER")}}
        yield env, root / "dev" / "delivery", database


def pi(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "privacy-insights"), *args], cwd=REPO, env=env, capture_output=True, text=True)


@contextmanager
def server(env: dict, *target: str):
    proc = subprocess.Popen(
        [str(BIN / "privacy-insights"), "serve", *target, "--port", "0", "--poll-seconds", "0.2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "server did not start within 120 s"
        with httpx.Client(base_url=json.loads(proc.stdout.readline())["listening"], timeout=60) as client:
            yield client, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def wait_for(check, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return value


def test_each_server_serves_its_own_target_while_the_other_publishes(operator):
    """Regression: `publish --target prod` and `publish` both wrote
    data/delivery/published/spots_insights_v1/CURRENT, and a running `serve --target prod`
    switched to the dev release (a release charged to dev's ledger only) within seconds."""
    env, root, database = operator
    prod_release = json.loads(pi(env, "publish", "--target", "prod").stdout)
    prod_key = json.loads(pi(env, "buyers", "--target", "prod", "add", "acme").stdout)["api_key"]
    dev_key = json.loads(pi(env, "buyers", "add", "acme").stdout)["api_key"]
    with server(env, "--target", "prod") as (prod, prod_proc), server(env) as (dev, _):
        assert prod.get("/v1/health").json()["release"]["release_id"] == prod_release["release_id"]
        assert dev.get("/v1/health").status_code == 503, "dev has published nothing: it serves nothing"

        dev_release = json.loads(pi(env, "publish").stdout)
        assert dev_release["release_id"] != prod_release["release_id"]
        wait_for(lambda: dev.get("/v1/health").status_code == 200, "the dev server did not load dev's release")
        time.sleep(1)  # five polls of the prod server after dev published
        health = {name: client.get("/v1/health").json()["release"] for name, client in (("prod", prod), ("dev", dev))}
        assert (health["prod"]["release_id"], health["prod"]["source_target"]) == (prod_release["release_id"], "prod")
        assert (health["dev"]["release_id"], health["dev"]["source_target"]) == (dev_release["release_id"], "dev")
        for name, client, key, release in (("prod", prod, prod_key, prod_release), ("dev", dev, dev_key, dev_release)):
            answer = client.get("/v1/spots_insights_v1", params=SLICE, headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == 200 and answer.headers["x-release-id"] == release["release_id"], name
        wrong = prod.get("/v1/spots_insights_v1", params=SLICE, headers={"Authorization": f"Bearer {dev_key}"})
        assert wrong.status_code == 401, "dev's buyers are not prod's"

        # a dev snapshot copied into prod's folder is refused, logged, and prod keeps its release
        planted, own = published(root, "prod"), published(root, "prod") / "CURRENT.own"
        shutil.copy(planted / "CURRENT", own)
        shutil.copy(published(root, "dev") / dev_release["file"], planted / dev_release["file"])
        # swapped in whole, as publish does: a CURRENT copied in place can be read half written,
        # which the server reports as a load failure, not as another target's snapshot
        shutil.copy(published(root, "dev") / "CURRENT", planted / "CURRENT.planted")
        (planted / "CURRENT.planted").replace(planted / "CURRENT")
        wait_for(lambda: prod.get("/v1/health").json()["status"] == "degraded", "prod did not refuse dev's snapshot")
        assert prod.get("/v1/health").json()["release"]["release_id"] == prod_release["release_id"]
        own.replace(planted / "CURRENT")
    log = prod_proc.stderr.read()
    assert "refused the published snapshot" in log and "published from target 'dev'" in log, log[-2000:]
    assert not (root / "published").exists(), "nothing is published outside a target's folder"
    # each snapshot names its target and the ledger its releases were charged to
    assert (prod_release["source_target"], dev_release["source_target"]) == ("prod", "dev")
    assert prod_release["ledger"].endswith(f"/{database} outside_buyer.spots_privacy_budget_ledger")
    assert dev_release["ledger"].startswith("duckdb:") and dev_release["ledger"].endswith(
        " outside_buyer.spots_privacy_budget_ledger"
    )


def test_an_export_writes_its_own_target_and_never_another_targets_folder(operator, tmp_path):
    env, root, database = operator
    pi(env, "buyers", "add", "acme", "--target", "prod")  # (already there when the test above ran first)
    delivered = pi(env, "export", "--target", "prod", *EXPORT, "--output-dir", str(tmp_path / "prod_files"))
    assert delivered.returncode == 0, delivered.stderr
    audit_id = json.loads(delivered.stdout)["audit_id"]
    with psycopg.connect(dbname=database, host=env["PGHOST"], user=env["PGUSER"]) as con:
        assert con.execute("select outcome from audit.buyer_exports where audit_id = %s", [audit_id]).fetchall() == [
            ("delivered",)
        ], "prod's export is in prod's audit"
    with sqlite3.connect(root / "dev" / "delivery.sqlite") as con:
        assert not con.execute("select 1 from buyer_exports where audit_id = ?", [audit_id]).fetchall()
    pi(env, "buyers", "add", "acme")
    into_prod = root / "prod" / "files"
    refused = pi(env, "export", *EXPORT, "--output-dir", str(into_prod))
    assert refused.returncode == 4 and "[rule output_dir_target]" in refused.stderr and not into_prod.exists()


def test_a_dev_store_of_the_shared_layout_stops_with_what_to_move(tmp_path, monkeypatch):
    """Before delivery folders were per target, dev's store was <delivery root>/delivery.sqlite.
    Opening the store then says what to move (nothing starts a second, empty store beside it);
    once moved, the store opens with its buyers and audit, and gains the audit's new columns."""
    from privacy_insights.export import open_store
    from privacy_insights.export.locations import legacy_store_path, sqlite_path
    from privacy_insights.export.store import Store, StoreUnavailable

    monkeypatch.setenv("PRIVACY_INSIGHTS_DELIVERY_DIR", str(tmp_path / "delivery"))
    legacy_store_path().parent.mkdir(parents=True)
    with sqlite3.connect(legacy_store_path()) as con:
        con.execute(  # the audit table as the old version created it (no file_path)
            "create table buyer_exports (audit_id text primary key, channel text not null, buyer_id text, "
            "key_id text, requested_at text not null, endpoint text, slice text, fingerprint text, row_count bigint, "
            "file_format text, file_name text, file_sha256 text, outcome text not null, rule text, reason text, "
            "http_status integer, latency_ms double precision)"
        )
        con.execute(
            "insert into buyer_exports (audit_id, channel, requested_at, outcome) values ('a', 'file', 'x', 'x')"
        )
    with pytest.raises(StoreUnavailable, match="move it") as stopped:
        Store("sqlite").query("select 1")
    assert str(sqlite_path().parent) in str(stopped.value) and not sqlite_path().exists()
    serving = subprocess.run(  # a server does not even start
        [str(BIN / "privacy-insights"), "serve", "--port", "0"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert serving.returncode == 2 and str(stopped.value) in serving.stderr, serving.stderr
    command = str(stopped.value).split("(", 1)[1].rsplit(")", 1)[0]
    subprocess.run(command, shell=True, check=True)  # the operator follows the message
    store = open_store("dev")
    assert store.query("select audit_id, file_path from buyer_exports") == [("a", None)]
