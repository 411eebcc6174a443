"""``privacy-insights serve``: the buyer API on 127.0.0.1 under uvicorn (one process).

The socket is bound here (port 0 picks a free one) and the address printed as one JSON
line on stdout before serving, so scripts and tests know where to connect.
"""

from __future__ import annotations

import json
import socket
import sys

import uvicorn

from privacy_insights import targets
from privacy_insights.api.app import ServerConfig, create_app
from privacy_insights.export.policy import load_policy
from privacy_insights.export.store import open_store

HOST = "127.0.0.1"  # loopback only; put a TLS-terminating reverse proxy in front to publish it


def serve(target: str, port: int, poll_seconds: float = 1.0) -> int:
    root = targets.project_root()
    config = ServerConfig(
        target=target,
        project_root=root,
        policy=load_policy(root / "export_policy.yml"),
        forbidden=targets.project_vars()["contract_forbidden_fields"],
        store=open_store(target),
        poll_seconds=poll_seconds,
    )
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(2048)
    release = app.state.holder.release
    print(
        json.dumps(
            {
                "listening": f"http://{HOST}:{sock.getsockname()[1]}",
                "docs": f"http://{HOST}:{sock.getsockname()[1]}/docs",
                "target": target,
                "release_id": release.manifest["release_id"] if release else None,
                "problem": app.state.holder.error,
            }
        ),
        flush=True,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5))
    server.run(sockets=[sock])
    sys.stdout.flush()
    return 0
