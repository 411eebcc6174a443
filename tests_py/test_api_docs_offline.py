"""/docs and /redoc render with no network (issue 27 point 16): a headless Chromium (Debian's
`chromium`, installed by .ci/run) loads each page from the real server with every host but
127.0.0.1 unresolvable, must show every operation of the OpenAPI document, and its net log
must show that the page asked for nothing but this server. The browser's own background
requests (update checks, autofill) are not the page's: a request is the page's when the page
started it (initiator = the server's origin) or it is the page itself (main frame)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.e2e
IN_CI = os.environ.get("CI", "").lower() == "true"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if IN_CI:
        pytest.fail("CI=true requires chromium (.ci/run installs it)")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def render(url: str, workdir) -> tuple[str, list[dict]]:
    """The page's DOM after scripts ran, and the net log's URL requests."""
    profile, netlog = workdir / "profile", workdir / "net.json"
    dom = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no network but this server
            f"--log-net-log={netlog}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    log = json.loads(netlog.read_text())
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    requests = [
        e["params"]
        for e in log["events"]
        if names.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in (e.get("params") or {})
    ]
    return dom.stdout, requests


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_render_every_operation_with_no_network(published_api, tmp_path, page):
    base = published_api.server.url
    dom, requests = render(base + page, tmp_path)
    operations = [path for path in published_api.client.get("/openapi.json").json()["paths"]]
    assert len(operations) >= 4
    for path in operations:
        assert path in dom, f"{page} does not show {path}"
    mine = [r for r in requests if r.get("initiator") == base or r.get("request_type") == "main frame"]
    assert any(r["url"].endswith("/openapi.json") for r in mine), "the page never loaded the document"
    elsewhere = [r["url"] for r in mine if not r["url"].startswith(base + "/")]
    assert not elsewhere, f"{page} asked for {elsewhere}"
