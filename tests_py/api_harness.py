"""The real buyer API for tests: `privacy-insights serve` on 127.0.0.1 over a published copy of
the shared delivery build (delivery_build.py), keys issued by `privacy-insights buyers`.

conftest's ``published_api`` is one server per pytest worker, shared by the modules that only read the
release (hardening, docs offline, conformance): each test names its own buyers and, for
requests without a valid key, its own client address (``X-Forwarded-For``, which the server
trusts from 127.0.0.1 as it would from its reverse proxy), so the tests do not share quotas.
"""

from __future__ import annotations

import json
import select
import sqlite3
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from delivery_build import built_copy, delivery_dir
from harness import BIN, REPO, DbtProject

SLICE = {"start": "2026-10-05", "end": "2026-10-13", "granularity": "day", "cities": "jp-tyo"}
PATH = "/v1/spots_insights_v1"


def pi(project: DbtProject, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "privacy-insights"), *args], cwd=REPO, env=project.env, capture_output=True, text=True
    )


def add_buyer(project: DbtProject, buyer: str, *options: str) -> str:
    result = pi(project, "buyers", "add", buyer, *options)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["api_key"]


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    stderr: Path

    def log(self) -> str:
        """What the server wrote to its log (stderr) so far."""
        return self.stderr.read_text()


@contextmanager
def server(project: DbtProject, *options: str, require_release: bool = True):
    """`privacy-insights serve` on a free port; its log goes to a file of the project folder."""
    log = project.workdir / f"server-{len(list(project.workdir.glob('server-*.log')))}.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [str(BIN / "privacy-insights"), "serve", "--port", "0", "--poll-seconds", "0.3", *options],
            cwd=REPO,
            env=project.env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "server did not start within 120 s"
        line = json.loads(proc.stdout.readline())
        assert line["listening"].startswith("http://127.0.0.1:"), line
        assert line["release_id"] or not require_release, line
        yield Server(line["listening"], proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def delivery_store(project: DbtProject) -> Path:
    return delivery_dir(project) / "delivery.sqlite"


def audit_rows(project: DbtProject, where: str = "1 = 1", params: tuple = ()) -> list[dict]:
    with sqlite3.connect(delivery_store(project)) as con:
        con.row_factory = sqlite3.Row
        return [
            dict(r)
            for r in con.execute(
                f"select * from buyer_exports where channel = 'api' and {where} order by requested_at, rowid", params
            )
        ]


def published(tmp_path_factory, extension_dir):
    """One published release and server (`--header-timeout 1`: the slow-client test needs no long
    wait), for conftest's session fixture ``published_api``."""
    project = built_copy(tmp_path_factory, extension_dir, "published_api")
    result = pi(project, "publish")
    assert result.returncode == 0, result.stderr
    with server(project, "--header-timeout", "1") as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        yield PublishedApi(project, srv, client)


@dataclass
class PublishedApi:
    project: DbtProject
    server: Server
    client: httpx.Client
