"""One slice request of an authenticated buyer, from its query parameters to its audited answer.

Runs in a worker thread (never on the event loop), inside one delivery-store transaction that
names the buyer: the checks, in order rate limit, query policy and the key's scopes,
fingerprint budget, rows left today, rows of the slice, and the audit row of the outcome land
together. So every request a buyer's key makes is counted exactly, whatever is wrong with it
and however many arrive at once (quotas.py). Refusal messages pass through ``redact``: a key
pasted into a parameter is never echoed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from privacy_insights.api import keys, quotas
from privacy_insights.export import audit, fingerprints, writer
from privacy_insights.export.policy import (
    Enumerations,
    ExportPolicy,
    ExportRefused,
    ExportRequest,
    check_request,
    parse_day,
)
from privacy_insights.export.records import SCHEMA_VERSION
from privacy_insights.export.redact import redact
from privacy_insights.export.store import Store

ACCEPT = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/parquet": "parquet",
}


@dataclass(frozen=True)
class SliceQuery:
    """The slice endpoint's parameters as sent (text; validated here, after the key)."""

    start: str | None = None
    end: str | None = None
    granularity: str = "day"
    cities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    door_types: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    include_suppressed: str | None = None
    format: str | None = None
    accept: str | None = None


@dataclass
class Answer:
    status: int
    body: bytes | dict
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    store: Store
    policy: ExportPolicy
    enums: Enumerations
    holder: object  # anything with ``release`` and ``problem`` (release.ReleaseHolder)


def split(values) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return tuple(out)


def parse_format(fmt: str | None, accept: str | None) -> str:
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


def parse_bool(name: str, text: str | None) -> bool:
    if text is None or text == "false":
        return False
    if text == "true":
        return True
    raise ExportRefused("boolean", name, f"expected true or false, got {text[:40]!r}")


def refusal_answer(refusal: ExportRefused) -> Answer:
    body = {k: redact(v) if isinstance(v, str) else v for k, v in refusal.body().items()}
    return error_answer(refusal.status, body, refusal.retry_after)


def error_answer(status: int, body: dict, retry_after: int | None = None) -> Answer:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None and status in (429, 503) else {}
    return Answer(status, body, headers=headers)


def answer_slice(
    ctx: Context,
    principal: keys.Principal,
    query: SliceQuery,
    audited_query: dict,
    endpoint: str,
    requested_at: datetime,
    started: float,
) -> Answer:
    """The answer to one slice request, its audit row (and fingerprint) written in the same transaction."""
    store, buyer = ctx.store, principal.buyer
    seen: dict = {"slice": audited_query or None, "fingerprint": None, "format": None, "rows": 0}

    def write_audit(outcome: str, status: int, rule: str | None = None, reason: str | None = None) -> None:
        audit.insert(
            store,
            audit.AuditEntry(
                channel="api",
                buyer_id=buyer.buyer_id,
                key_id=principal.key_id,
                requested_at=requested_at,
                endpoint=endpoint,
                slice=seen["slice"],
                fingerprint=seen["fingerprint"],
                row_count=seen["rows"],
                file_format=seen["format"],
                file_name=None,
                file_sha256=None,
                outcome=outcome,
                rule=rule,
                reason=reason,
                http_status=status,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
            ),
        )

    with store.transaction(lock=f"buyer:{buyer.buyer_id}"):
        try:
            quotas.check_rate(store, buyer, requested_at)  # first: every request of the key counts
            fmt = seen["format"] = parse_format(query.format, query.accept)
            request = ExportRequest(
                buyer.buyer_id,
                parse_day("start", query.start),
                parse_day("end", query.end),
                query.granularity,
                split(query.cities),
                fmt,
                split(query.categories),
                split(query.door_types),
                split(query.contexts),
                parse_bool("include_suppressed", query.include_suppressed),
            )
            seen.update(slice=request.slice(), fingerprint=request.fingerprint())
            check_request(request, ctx.policy, ctx.enums, principal.scopes, formats=writer.FORMATS)
            fingerprints.check_budget(
                store, request, buyer.fingerprints_per_window, ctx.policy.fingerprint_window_hours, requested_at
            )
            quotas.check_rows_left(store, buyer, requested_at)  # used up: refused before the slice is read
            release = ctx.holder.release
            if release is None:
                write_audit("failed", 503, "no_release", ctx.holder.problem)
                return error_answer(503, {"error": "failed", "rule": "no_release", "message": ctx.holder.problem}, 30)
            body, rows = release.body(request)
            seen["rows"] = rows
            try:
                quotas.check_rows(store, buyer, rows, requested_at)
            except ExportRefused:
                fingerprints.record(store, request, requested_at)  # the answer depended on the slice
                raise
        except ExportRefused as refusal:
            write_audit("throttled" if refusal.status == 429 else "refused", refusal.status, refusal.rule, str(refusal))
            return refusal_answer(refusal)
        write_audit("delivered", 200)
        fingerprints.record(store, request, requested_at)
    return Answer(
        200,
        body,
        media_type=writer.MEDIA_TYPES[fmt],
        headers={
            "X-Release-Id": release.manifest["release_id"],
            "X-Rows": str(rows),
            "X-Schema-Version": SCHEMA_VERSION,
        },
    )
