"""The buyer API (contract 000 §4.1 "API endpoint returning precomputed slices", §6, §7.2, §10).

- ``GET /v1/spots_insights_v1``: a slice of the published release (API key required);
  JSON, JSON Lines, CSV or Parquet by ``format`` or ``Accept``.
- ``GET /v1/schema``: the record JSON Schema. ``GET /v1/dictionary``: the data dictionary.
- ``GET /v1/health``: which release is served (generic text only; details in the server log).

A slice request passes, in order: the API key (401), the buyer's rate limit (429), the query
policy shared with file exports and the key's scopes (400/403/406), the query-fingerprint
budget (403), the daily row quota (429); see delivery.py. Every other request to ``/v1/*`` is
audited too: a buyer's request is one row, requests without a valid key are counted per
minute, endpoint, status and rule, and a client address with too many of those refused is
answered 429 for a while (throttle.py). ``/v1/health`` and the docs pages are not audited.

Nothing touches the delivery store on the event loop: store calls run in worker threads, a
write waits at most ``STORE_WAIT_SECONDS`` for the store (in-process gate, then the store's
own lock timeout) and otherwise the answer is 503 with Retry-After, unaudited requests
(``/v1/health``, the docs) never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from privacy_insights.api import keys
from privacy_insights.api.delivery import Answer, Context, SliceQuery, answer_slice, error_answer
from privacy_insights.api.openapi import (
    ASSETS,
    DOCS_PATHS,
    PUBLIC_RESPONSES,
    SLICE_RESPONSES,
    Health,
    install_offline_docs,
    install_schema,
)
from privacy_insights.api.release import ReleaseHolder
from privacy_insights.api.throttle import AddressThrottle, AnonymousAudit
from privacy_insights.export import audit, dictionary
from privacy_insights.export.policy import Enumerations, ExportPolicy
from privacy_insights.export.records import DATASET, SCHEMA_VERSION, record_schema
from privacy_insights.export.redact import query_for_audit, redact
from privacy_insights.export.store import Store, StoreUnavailable

log = logging.getLogger(__name__)
STORE_WAIT_SECONDS = 2.0  # longest wait for the delivery store before 503
STORE_RETRY_AFTER = 5
UNAUDITED = (*DOCS_PATHS, "/v1/health")


@dataclass
class ServerConfig:
    target: str
    project_root: Path
    policy: ExportPolicy
    forbidden: list[str]
    store: Store
    poll_seconds: float = 1.0


class SchemaResponse(JSONResponse):
    media_type = "application/schema+json"


class StoreGate:
    """Writes to the delivery store, one at a time per lock (SQLite: one for the process; it
    has one writer anyway) and never longer than ``wait`` seconds in the queue; run in a worker
    thread. The store's own lock timeout bounds the wait for another process."""

    def __init__(self, store: Store, wait: float):
        self.wait, self.single = wait, store.kind == "sqlite"
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def run(self, key: str, fn, *args):
        lock = self.locks["" if self.single else key]
        try:
            await asyncio.wait_for(lock.acquire(), self.wait)
        except TimeoutError:
            raise StoreUnavailable(f"delivery store: busy for more than {self.wait} s in this process") from None
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            lock.release()


def _json(answer: Answer) -> Response:
    if isinstance(answer.body, dict):
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type, headers=answer.headers)


def _error(status: int, body: dict, retry_after: int | None = None, headers: dict | None = None) -> Response:
    response = _json(error_answer(status, body, retry_after))
    response.headers.update(headers or {})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="spots_insights_v1"'
    return response


UNAUTHORIZED = {
    "error": "refused",
    "rule": "api_key",
    "field": "Authorization",
    "message": "Authorization: a valid, unrevoked API key is required (Authorization: Bearer <key>)",
}
STORE_BUSY = {
    "error": "failed",
    "rule": "store_unavailable",
    "message": "the delivery store is busy or unavailable, so nothing is served unaudited; retry later",
}


def _store_busy() -> Response:
    return _error(503, STORE_BUSY, STORE_RETRY_AFTER)


def create_app(config: ServerConfig) -> FastAPI:
    app = FastAPI(
        title="spots_insights_v1 buyer API",
        version=SCHEMA_VERSION,
        description="Precomputed, differentially private slices of the outside-buyer dataset spots_insights_v1 "
        "(contract 000). Authenticate with `Authorization: Bearer <API key>`. Every request is audited. "
        "Reference: docs/buyer_api.md.",
        docs_url=None,
        redoc_url=None,
    )
    holder = ReleaseHolder(config.target, config.poll_seconds)
    enums = Enumerations.from_seeds(config.project_root / "seeds")
    store = config.store
    store.wait_seconds = STORE_WAIT_SECONDS
    gate = StoreGate(store, STORE_WAIT_SECONDS)
    throttle = AddressThrottle(config.policy.api_unauthenticated_per_minute)
    anonymous = AnonymousAudit(store)
    context = Context(store, config.policy, enums, holder)
    app.state.holder = holder
    app.state.store_failed_at = None
    install_offline_docs(app)
    install_schema(app, enums, config.policy)

    def audit_entry(request: Request, status: int) -> audit.AuditEntry:
        info = request.state.audit
        route = request.scope.get("route")
        outcome = info.get("outcome") or (
            "delivered" if status < 400 else "throttled" if status == 429 else "failed" if status >= 500 else "refused"
        )
        return audit.AuditEntry(
            channel="api",
            buyer_id=info.get("buyer_id"),
            key_id=info.get("key_id"),
            requested_at=request.state.requested_at,
            endpoint=f"{request.method} {getattr(route, 'path', '(no such path)')}",
            slice=info.get("slice"),
            fingerprint=None,
            row_count=0,
            file_format=None,
            file_name=None,
            file_sha256=None,
            outcome=outcome,
            rule=info.get("rule"),
            reason=info.get("reason"),
            http_status=status,
            latency_ms=round((time.perf_counter() - request.state.started) * 1000, 3),
        )

    def write_audit(entry: audit.AuditEntry) -> None:
        if entry.buyer_id is None:
            anonymous.write(entry)
        else:
            audit.insert(store, entry)

    def store_failed(exc: Exception, what: str) -> Response:
        app.state.store_failed_at = time.monotonic()
        log.warning("%s: %s; answered 503", what, exc)
        return _store_busy()

    @app.middleware("http")
    async def audit_every_request(request: Request, call_next):
        request.state.requested_at = datetime.now(UTC)
        request.state.started = time.perf_counter()
        request.state.audit = info = {}
        path = request.url.path
        if path in UNAUDITED or path.startswith(ASSETS + "/"):
            return await call_next(request)
        address = request.client.host if request.client else "unknown"
        retry = throttle.retry_after(address, time.monotonic())
        if retry is not None:
            info.update(
                outcome="throttled",
                rule="rate_limit_unauthenticated",
                reason="too many refused requests without a valid key from this address",
            )
            response = _error(
                429,
                {
                    "error": "refused",
                    "rule": "rate_limit_unauthenticated",
                    "message": f"requests: too many refused requests without a valid API key from this address in "
                    f"the last minute; retry in {retry} seconds",
                    "retry_after_seconds": retry,
                },
                retry,
            )
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # every failure is answered and audited; details only in the log
                log.exception("%s %s failed", request.method, path)
                info.update(outcome="failed", rule="internal_error", reason=type(exc).__name__)
                response = _error(
                    500,
                    {
                        "error": "failed",
                        "rule": "internal_error",
                        "message": "the request failed on the server; it has been logged",
                    },
                )
            if response.status_code == 401:
                throttle.refused(address, time.monotonic())
        if info.get("audited") or info.get("store_unavailable"):  # audited with the answer, or cannot be
            return response
        try:
            await gate.run(info.get("buyer_id") or "", write_audit, audit_entry(request, response.status_code))
        except StoreUnavailable as exc:
            return store_failed(exc, "audit row not written")
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", [])[1:]) or "request"
        message = redact(f"{field}: {first.get('msg', 'invalid')}")
        request.state.audit.update(rule="request_validation", reason=message)
        return _error(
            400, {"error": "refused", "rule": "request_validation", "field": redact(field), "message": message}
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        request.state.audit.update(rule="http", reason=str(exc.detail))
        return _error(
            exc.status_code,
            {"error": "refused" if exc.status_code < 500 else "failed", "rule": "http", "message": str(exc.detail)},
            headers=exc.headers,  # e.g. Allow with 405
        )

    @app.get("/v1/health", summary="Which release is served", response_model=None, responses={503: {"model": Health}})
    def health() -> Health | JSONResponse:
        release = holder.release
        if release is None:
            return JSONResponse({"status": "unavailable", "problem": holder.problem}, status_code=503)
        failed_at = app.state.store_failed_at
        problem = holder.problem
        if problem is None and failed_at is not None and time.monotonic() - failed_at < 60:
            problem = "the delivery store was busy or unavailable in the last minute (requests answered 503)"
        m = release.manifest
        return Health(
            status="ok" if problem is None else "degraded",
            dataset=DATASET,
            schema_version=SCHEMA_VERSION,
            problem=problem,
            release={
                k: m[k]
                for k in (
                    "release_id",
                    "published_at",
                    "rows",
                    "released_rows",
                    "last_released_bucket",
                    "source_target",
                )
            },
        )

    @app.get(
        "/v1/schema",
        summary="The record JSON Schema (contract 000 §4.2)",
        response_class=SchemaResponse,
        responses={200: {"content": {"application/schema+json": {"schema": {"type": "object"}}}}, **PUBLIC_RESPONSES},
    )
    def schema():
        return SchemaResponse(record_schema())

    @app.get(
        "/v1/dictionary",
        summary="The data dictionary (JSON, or Markdown with format=markdown or Accept: text/markdown)",
        responses={
            200: {
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/markdown": {"schema": {"type": "string"}},
                }
            },
            **PUBLIC_RESPONSES,
        },
    )
    def data_dictionary(
        request: Request,
        format: Annotated[
            str | None, Query(description="json (default) or markdown", pattern="^(json|markdown)$")
        ] = None,
    ):
        if format == "markdown" or (format is None and "text/markdown" in request.headers.get("accept", "")):
            return PlainTextResponse(dictionary.markdown(config.project_root), media_type="text/markdown")
        return JSONResponse(dictionary.dictionary(config.project_root))

    @app.get(f"/v1/{DATASET}", summary="A slice of spots_insights_v1", responses=SLICE_RESPONSES)
    async def slice_(
        request: Request,
        start: Annotated[str | None, Query()] = None,
        end: Annotated[str | None, Query()] = None,
        granularity: Annotated[str, Query()] = "day",
        cities: Annotated[list[str] | None, Query()] = None,
        categories: Annotated[list[str] | None, Query()] = None,
        door_types: Annotated[list[str] | None, Query()] = None,
        contexts: Annotated[list[str] | None, Query()] = None,
        include_suppressed: Annotated[str | None, Query()] = None,
        format: Annotated[str | None, Query()] = None,
    ):
        info = request.state.audit
        try:
            principal = await run_in_threadpool(keys.authenticate, store, request.headers.get("authorization"))
        except StoreUnavailable as exc:
            info["store_unavailable"] = True
            return store_failed(exc, "key check failed")
        if principal is None:
            info.update(rule="api_key", reason="no valid, unrevoked API key")
            return _error(401, UNAUTHORIZED)
        info.update(buyer_id=principal.buyer.buyer_id, key_id=principal.key_id)
        query = SliceQuery(
            start,
            end,
            granularity,
            tuple(cities or ()),
            tuple(categories or ()),
            tuple(door_types or ()),
            tuple(contexts or ()),
            include_suppressed,
            format,
            request.headers.get("accept"),
        )
        try:
            answer = await gate.run(
                principal.buyer.buyer_id,
                answer_slice,
                context,
                principal,
                query,
                query_for_audit(list(request.query_params.multi_items())),
                f"{request.method} {request.url.path}",
                request.state.requested_at,
                request.state.started,
            )
        except StoreUnavailable as exc:
            info["store_unavailable"] = True
            return store_failed(exc, f"slice for buyer {principal.buyer.buyer_id} not answered")
        info["audited"] = True
        return _json(answer)

    return app
