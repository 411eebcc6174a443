"""``privacy-insights serve``: the buyer API on 127.0.0.1 under uvicorn (one process).

The socket is bound here (port 0 picks a free one) and the address printed as one JSON
line on stdout before serving, so scripts and tests know where to connect.

Limits against slow or too many clients (a reverse proxy in front is still expected; see
docs/buyer_api.md "Deployment"): a request's headers must arrive within ``header_timeout``
seconds of its first byte (uvicorn has no such timeout of its own, hence the protocol
subclass), an idle keep-alive connection is closed after ``keep_alive`` seconds, and past
``max_connections`` open connections (or requests in flight) uvicorn answers 503 at once.
``X-Forwarded-For`` is trusted from 127.0.0.1 only (the proxy), as the client address the
throttle of requests without a key counts by. Log records pass through ``redact``.
"""

from __future__ import annotations

import json
import socket
import sys

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from privacy_insights import targets
from privacy_insights.api.app import ServerConfig, create_app
from privacy_insights.export.policy import load_policy
from privacy_insights.export.redact import redact_logs
from privacy_insights.export.store import open_store

HOST = "127.0.0.1"  # loopback only; put a TLS-terminating reverse proxy in front to publish it
HEADER_TIMEOUT = 10.0
KEEP_ALIVE = 5
MAX_CONNECTIONS = 256


def header_timeout_protocol(seconds: float) -> type[HttpToolsProtocol]:
    class HeaderTimeoutProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, closing a connection whose request headers are not
        complete ``seconds`` after the connection opened or the request's first byte arrived."""

        _header_timer = None

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(seconds, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                if self.cycle is None or self.cycle.response_complete:
                    self.transport.write(
                        b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                self.transport.close()

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


def serve(
    target: str,
    port: int,
    poll_seconds: float = 1.0,
    header_timeout: float = HEADER_TIMEOUT,
    keep_alive: int = KEEP_ALIVE,
    max_connections: int = MAX_CONNECTIONS,
) -> int:
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
                "problem": app.state.holder.error,  # the operator's terminal: details
            }
        ),
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
            http=header_timeout_protocol(header_timeout),
            timeout_keep_alive=keep_alive,
            limit_concurrency=max_connections,
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
        )
    )
    redact_logs()  # after uvicorn configured its handlers
    server.run(sockets=[sock])
    sys.stdout.flush()
    return 0
