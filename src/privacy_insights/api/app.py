"""The buyer API (contract 000 §4.1 "API endpoint returning precomputed slices", §6, §7.2, §10).

- ``GET /v1/spots_insights_v1``: a slice of the published release (API key required);
  JSON, JSON Lines, CSV or Parquet by ``format`` or ``Accept``.
- ``GET /v1/schema``: the record JSON Schema. ``GET /v1/dictionary``: the data dictionary.
- ``GET /v1/health``: which release is served.

A slice request passes, in order: the API key (401), the query policy shared with file
exports and the key's scopes (400/403), the rate limit (429), the query-fingerprint budget
(403), the daily row quota (429). Every request to the API (not the docs pages) gets one
audit row in the delivery store: who, when, slice, fingerprint, rows, status, latency.
The slice endpoint runs on the event loop: its store calls are sub-millisecond (SQLite in
WAL mode, or one PostgreSQL round trip each), and one thread avoids handing every request to
a thread pool. For one buyer, checks and audit row are written under a lock, so quotas are
exact within the server process (run one process; see docs/benchmark.md).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from privacy_insights.api import keys, quotas
from privacy_insights.api.release import ReleaseHolder
from privacy_insights.export import audit, dictionary, fingerprints, writer
from privacy_insights.export.policy import Enumerations, ExportPolicy, ExportRefused, ExportRequest, check_request
from privacy_insights.export.records import DATASET, SCHEMA_VERSION, record_schema
from privacy_insights.export.store import Store, StoreUnavailable

UNAUDITED_PATHS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")
ACCEPT = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/parquet": "parquet",
}


@dataclass
class ServerConfig:
    target: str
    project_root: Path
    policy: ExportPolicy
    forbidden: list[str]
    store: Store
    poll_seconds: float = 1.0


def _error(status: int, body: dict, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None and status == 429 else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="spots_insights_v1"'
    return JSONResponse(body, status_code=status, headers=headers)


def _unauthorized() -> JSONResponse:
    return _error(
        401,
        {
            "error": "unauthorized",
            "rule": "api_key",
            "message": "Authorization: a valid, unrevoked API key is required (Authorization: Bearer <key>)",
        },
    )


def _split(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return tuple(out)


def _date(name: str, text: str | None) -> date:
    if not text:
        raise ExportRefused("date_format", name, "required, as YYYY-MM-DD")
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad_date(name, text)
    except ValueError:
        return _bad_date(name, text)


def _bad_date(name: str, text: str) -> date:
    raise ExportRefused("date_format", name, f"expected a date as YYYY-MM-DD, got {text[:40]!r}")


def _format(fmt: str | None, accept: str | None) -> str:
    if fmt:
        if fmt not in writer.FORMATS:
            raise ExportRefused("format", "format", f"must be one of {', '.join(writer.FORMATS)}, got {fmt[:40]!r}")
        return fmt
    if not accept:
        return "json"
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ACCEPT:
            return ACCEPT[media]
        if media in ("*/*", "application/*"):
            return "json"
    raise ExportRefused(
        "format",
        "Accept",
        f"none of {accept[:80]!r} is served; use one of {', '.join(sorted(ACCEPT))} or the format parameter",
        status=406,
    )


def _bool(name: str, text: str | None) -> bool:
    if text is None or text.lower() in ("false", "0", "no", ""):
        return False
    if text.lower() in ("true", "1", "yes"):
        return True
    raise ExportRefused("boolean", name, f"expected true or false, got {text[:40]!r}")


def create_app(config: ServerConfig) -> FastAPI:
    app = FastAPI(
        title="spots_insights_v1 buyer API",
        version=SCHEMA_VERSION,
        description="Precomputed, differentially private slices of the outside-buyer dataset spots_insights_v1 "
        "(contract 000). Authenticate with `Authorization: Bearer <API key>`. Every request is audited.",
    )
    holder = ReleaseHolder(config.target, config.poll_seconds)
    enums = Enumerations.from_seeds(config.project_root / "seeds")
    store = config.store
    buyer_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    app.state.holder = holder

    def write_audit(request: Request, status: int, started: float) -> None:
        info = request.state.audit
        if info.get("audited"):
            return
        outcome = info.get("outcome") or (
            "delivered" if status < 400 else "throttled" if status == 429 else "failed" if status >= 500 else "refused"
        )
        audit.insert(
            store,
            audit.AuditEntry(
                channel="api",
                buyer_id=info.get("buyer_id"),
                key_id=info.get("key_id"),
                requested_at=request.state.requested_at,
                endpoint=f"{request.method} {request.url.path}",
                slice=info.get("slice") or (dict(request.query_params) or None),
                fingerprint=info.get("fingerprint"),
                row_count=info.get("rows", 0),
                file_format=info.get("format"),
                file_name=None,
                file_sha256=None,
                outcome=outcome,
                rule=info.get("rule"),
                reason=info.get("reason"),
                http_status=status,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
            ),
        )

    @app.middleware("http")
    async def audit_every_request(request: Request, call_next):
        started = time.perf_counter()
        request.state.requested_at = datetime.now(UTC)
        request.state.started = started
        request.state.audit = {}
        if request.url.path in UNAUDITED_PATHS:
            return await call_next(request)
        try:
            response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - every failure is answered and audited
            request.state.audit.update(
                outcome="failed",
                rule="internal_error",
                reason=f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500],
            )
            response = _error(
                500,
                {
                    "error": "failed",
                    "rule": "internal_error",
                    "message": "the request failed on the server; it has been logged",
                },
            )
        try:
            write_audit(request, response.status_code, started)
        except StoreUnavailable:
            return _error(
                503,
                {
                    "error": "failed",
                    "rule": "audit_unavailable",
                    "message": "the audit store is unavailable, so nothing is served; retry later",
                },
            )
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", [])[1:]) or "request"
        request.state.audit.update(rule="request_validation", reason=f"{field}: {first.get('msg', '')}")
        return _error(
            400,
            {
                "error": "refused",
                "rule": "request_validation",
                "field": field,
                "message": f"{field}: {first.get('msg', 'invalid')}",
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        request.state.audit.update(rule="http", reason=str(exc.detail))
        return _error(
            exc.status_code,
            {"error": "refused" if exc.status_code < 500 else "failed", "rule": "http", "message": str(exc.detail)},
        )

    @app.get("/v1/health", summary="Which release is served")
    def health():
        release = holder.release
        if release is None:
            return _error(503, {"status": "unavailable", "reason": holder.error})
        m = release.manifest
        return {
            "status": "ok" if holder.error is None else "degraded",
            "dataset": DATASET,
            "schema_version": SCHEMA_VERSION,
            "problem": holder.error,
            "release": {
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
        }

    @app.get("/v1/schema", summary="The record JSON Schema (contract 000 §4.2)")
    def schema():
        return JSONResponse(record_schema(), media_type="application/schema+json")

    @app.get("/v1/dictionary", summary="The data dictionary (JSON, or Markdown with format=markdown)")
    def data_dictionary(request: Request, format: Annotated[str | None, Query(description="json or markdown")] = None):
        if format == "markdown" or (format is None and "text/markdown" in request.headers.get("accept", "")):
            return PlainTextResponse(dictionary.markdown(config.project_root), media_type="text/markdown")
        return dictionary.dictionary(config.project_root)

    @app.get(
        f"/v1/{DATASET}",
        summary="A slice of spots_insights_v1",
        responses={
            200: {"content": {m: {} for m in writer.MEDIA_TYPES.values()}},
            400: {"description": "invalid request (rule named)"},
            401: {"description": "no valid API key"},
            403: {"description": "not allowed for this buyer or key (rule named)"},
            406: {"description": "Accept names no served format"},
            429: {"description": "rate limit or daily row quota (Retry-After)"},
        },
    )
    async def slice_(
        request: Request,
        start: Annotated[str | None, Query(description="first bucket day, YYYY-MM-DD (UTC)")] = None,
        end: Annotated[str | None, Query(description="last bucket day, YYYY-MM-DD (UTC, inclusive)")] = None,
        granularity: Annotated[str, Query(description="hour, day or week")] = "day",
        cities: Annotated[list[str] | None, Query(description="city codes, comma-separated or repeated")] = None,
        categories: Annotated[list[str] | None, Query(description="categories (default: all)")] = None,
        door_types: Annotated[list[str] | None, Query(description="door types (default: all)")] = None,
        contexts: Annotated[list[str] | None, Query(description="contexts (default: all)")] = None,
        include_suppressed: Annotated[str | None, Query(description="also suppressed cells")] = None,
        format: Annotated[
            str | None, Query(description="json, jsonl, csv or parquet (default: from Accept, else json)")
        ] = None,
    ):
        info = request.state.audit
        principal = keys.authenticate(store, request.headers.get("authorization"))
        if principal is None:
            info.update(rule="api_key", reason="no valid, unrevoked API key")
            return _unauthorized()
        buyer = principal.buyer
        info.update(buyer_id=buyer.buyer_id, key_id=principal.key_id)
        async with buyer_locks[buyer.buyer_id]:
            now = datetime.now(UTC)
            try:
                fmt = _format(format, request.headers.get("accept"))
                info["format"] = fmt
                req = ExportRequest(
                    buyer.buyer_id,
                    _date("start", start),
                    _date("end", end),
                    granularity,
                    _split(cities),
                    fmt,
                    _split(categories),
                    _split(door_types),
                    _split(contexts),
                    _bool("include_suppressed", include_suppressed),
                )
                info.update(slice=req.slice(), fingerprint=req.fingerprint())
                check_request(req, config.policy, enums, principal.scopes, formats=writer.FORMATS)
                quotas.check_rate(store, buyer, now)
                fingerprints.check_budget(
                    store, req, buyer.fingerprints_per_window, config.policy.fingerprint_window_hours, now
                )
                release = holder.release
                if release is None:
                    info.update(outcome="failed", rule="no_release", reason=holder.error)
                    return _error(503, {"error": "failed", "rule": "no_release", "message": holder.error})
                body, rows = release.body(req)
                quotas.check_rows(store, buyer, rows, now)
            except ExportRefused as refusal:
                info.update(rule=refusal.rule, reason=str(refusal))
                return _error(refusal.status, refusal.body(), refusal.retry_after)
            info.update(rows=rows)
            with store.transaction():
                write_audit(request, 200, request.state.started)
                fingerprints.record(store, req, now)
            info["audited"] = True
        return Response(
            body,
            media_type=writer.MEDIA_TYPES[fmt],
            headers={
                "X-Release-Id": release.manifest["release_id"],
                "X-Rows": str(rows),
                "X-Schema-Version": SCHEMA_VERSION,
            },
        )

    return app
