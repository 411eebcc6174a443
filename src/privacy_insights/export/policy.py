"""The query policy (contract 000 §6), one implementation for file exports and the API.

``check_request`` refuses a request that breaks a rule with ``ExportRefused``, which names
the rule, the field and the HTTP status the API answers with: 400 when the request is
invalid for every buyer (dates, range, city count, enumerated values), 403 when it is valid
but not allowed for this buyer (hour granularity, the key's scopes, the fingerprint budget).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import yaml

from privacy_insights.export.writer import FILE_FORMATS, FORMATS

GRANULARITIES = ("hour", "day", "week")
# Buyer ids: a lower-case ASCII slug (letters a-z, digits, '-' and '_', starting with a letter
# or digit), at most 63 characters. Look-alikes (fullwidth 'ａｃｍｅ', Cyrillic letters) and
# ids too long for a file name are refused everywhere a buyer id enters.
BUYER_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
BUYER_ID_RULE = "lower-case ASCII slug: a-z, 0-9, '-' or '_', starting with a letter or digit, at most 63 characters"
# Request days (start, end; API and file exports alike): YYYY-MM-DD in ASCII digits, a real calendar
# day within these bounds (far beyond any release; the bounds keep "the day after end" representable).
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
DAY_RULE = f"a UTC day as YYYY-MM-DD from {FIRST_DAY} to {LAST_DAY}"


class ExportRefused(ValueError):
    """The request breaks the query policy; nothing is delivered. The message says which rule."""

    def __init__(self, rule: str, field: str, message: str, status: int = 400, retry_after: int | None = None):
        super().__init__(f"{field}: {message} [rule {rule}]")
        self.rule, self.field, self.message, self.status, self.retry_after = rule, field, message, status, retry_after

    def body(self) -> dict:
        body = {"error": "refused", "rule": self.rule, "field": self.field, "message": f"{self.field}: {self.message}"}
        if self.retry_after is not None:
            body["retry_after_seconds"] = self.retry_after
        return body


def check_buyer_id(buyer_id: str) -> str:
    if not isinstance(buyer_id, str) or not BUYER_ID_PATTERN.fullmatch(buyer_id):
        shown = buyer_id if len(buyer_id or "") <= 40 else f"{buyer_id[:40]}... ({len(buyer_id)} characters)"
        raise ExportRefused("buyer_id_slug", "buyer_id", f"{shown!r} is not a {BUYER_ID_RULE}")
    return buyer_id


def parse_day(name: str, text: str | None) -> date:
    """A request day (``start``, ``end``) from text, for the API and the export command alike;
    ExportRefused (rule ``date_format``, naming the field) for anything but a YYYY-MM-DD day
    in range (ISO week dates such as 2026-W40-1, ordinal dates, other digits, 9999-12-31)."""
    if not text:
        raise ExportRefused("date_format", name, f"required, {DAY_RULE}")
    shown = text if len(text) <= 40 else f"{text[:40]}..."
    try:
        day = date.fromisoformat(text) if DAY_PATTERN.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise ExportRefused("date_format", name, f"expected {DAY_RULE}, got {shown!r}")
    return day


@dataclass(frozen=True)
class ExportPolicy:
    max_days_per_request: int = 90
    max_cities_per_request: int = 10
    hour_granularity_buyers: tuple[str, ...] = ()
    export_dir: str = "exports"
    retention_months: int = 12
    # API defaults for a new buyer (``buyers add`` may set others per buyer)
    api_requests_per_minute: int = 60
    api_rows_per_day: int = 500_000
    fingerprint_window_hours: int = 24
    max_distinct_fingerprints_per_window: int = 100
    # API answers 401 (no valid key) per client address and minute; past it, 429 for that address
    api_unauthenticated_per_minute: int = 30

    def __post_init__(self) -> None:
        for name in (
            "max_days_per_request",
            "max_cities_per_request",
            "retention_months",
            "api_requests_per_minute",
            "api_rows_per_day",
            "fingerprint_window_hours",
            "max_distinct_fingerprints_per_window",
            "api_unauthenticated_per_minute",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"export policy: {name} must be a positive integer, got {value!r}")
        for buyer in self.hour_granularity_buyers:
            try:
                check_buyer_id(buyer)
            except ExportRefused as exc:
                raise ValueError(f"export policy: hour_granularity_buyers: {exc.message}") from None


def load_policy(path: Path) -> ExportPolicy:
    raw = yaml.safe_load(path.read_text()) or {}
    unknown = set(raw) - set(ExportPolicy.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{path.name}: unknown settings {sorted(unknown)}")
    raw["hour_granularity_buyers"] = tuple(raw.get("hour_granularity_buyers") or ())
    return ExportPolicy(**raw)


@dataclass(frozen=True)
class KeyScopes:
    """What one API key may ask for (narrower than or equal to the policy)."""

    granularities: tuple[str, ...] = ("day", "week")
    max_cities: int = 10


@dataclass(frozen=True)
class ExportRequest:
    buyer_id: str
    start: date  # first time_bucket_start_utc day (inclusive)
    end: date  # last day (inclusive)
    granularity: str
    cities: tuple[str, ...]
    fmt: str
    categories: tuple[str, ...] = ()  # empty: all
    door_types: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    include_suppressed: bool = False

    def slice(self) -> dict:
        """The request as plain data, for the audit log."""
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data

    def normalised_slice(self) -> dict:
        """What the request selects, independent of format, order and repetition of values."""
        return {
            "granularity": self.granularity,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "cities": sorted(set(self.cities)),
            "categories": sorted(set(self.categories)),
            "door_types": sorted(set(self.door_types)),
            "contexts": sorted(set(self.contexts)),
            "include_suppressed": bool(self.include_suppressed),
        }

    def fingerprint(self) -> str:
        """The query fingerprint (contract 000 §10 ``outside_buyer_query_fingerprints``)."""
        canonical = json.dumps(self.normalised_slice(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Enumerations:
    cities: frozenset[str]
    categories: frozenset[str]
    door_types: frozenset[str]
    contexts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_seeds(cls, seeds: Path) -> Enumerations:
        def column(name: str, col: str) -> frozenset[str]:
            with (seeds / f"{name}.csv").open(newline="") as handle:
                return frozenset(row[col] for row in csv.DictReader(handle))

        return cls(
            column("city_definitions", "city_code"),
            column("categories", "category") | {"all"},
            column("door_types", "door_type"),
            column("contexts", "context") | {"all"},
        )


def check_request(
    request: ExportRequest,
    policy: ExportPolicy,
    enums: Enumerations,
    scopes: KeyScopes | None = None,
    formats: tuple[str, ...] = FILE_FORMATS,
) -> None:
    """Raise ExportRefused naming the rule and the field when the request breaks the policy
    (or, for an API key, its scopes)."""
    check_buyer_id(request.buyer_id)
    if request.fmt not in formats or request.fmt not in FORMATS:
        raise ExportRefused("format", "format", f"must be one of {', '.join(formats)}, got {request.fmt!r}")
    if request.granularity not in GRANULARITIES:
        raise ExportRefused(
            "granularity_enumerated",
            "granularity",
            f"must be one of {', '.join(GRANULARITIES)}, got {request.granularity!r}",
        )
    if request.granularity == "hour" and request.buyer_id not in policy.hour_granularity_buyers:
        raise ExportRefused(
            "hour_granularity_buyers",
            "granularity",
            f"hour is not allowed for buyer {request.buyer_id!r} by the export policy "
            "(too-fine time windows, contract 000 §6.2); use day or week",
            status=403,
        )
    if scopes is not None and request.granularity not in scopes.granularities:
        raise ExportRefused(
            "key_scope_granularities",
            "granularity",
            f"{request.granularity} is outside this API key's scope ({', '.join(scopes.granularities)})",
            status=403,
        )
    if request.end < request.start:
        raise ExportRefused("date_order", "end", f"{request.end} is before start {request.start}")
    days = (request.end - request.start).days + 1
    if days > policy.max_days_per_request:
        raise ExportRefused(
            "max_days_per_request",
            "date range",
            f"{days} days requested, at most {policy.max_days_per_request} per request (contract 000 §6.1)",
        )
    if not request.cities:
        raise ExportRefused("cities_required", "cities", "name at least one city code")
    if len(request.cities) > policy.max_cities_per_request:
        raise ExportRefused(
            "max_cities_per_request",
            "cities",
            f"{len(request.cities)} requested, at most {policy.max_cities_per_request} per request (contract 000 §6.1)",
        )
    if scopes is not None and len(set(request.cities)) > scopes.max_cities:
        raise ExportRefused(
            "key_scope_max_cities",
            "cities",
            f"{len(set(request.cities))} requested, this API key allows at most {scopes.max_cities}",
            status=403,
        )
    for name, values, allowed in (
        ("cities", request.cities, enums.cities),
        ("categories", request.categories, enums.categories),
        ("door_types", request.door_types, enums.door_types),
        ("contexts", request.contexts, enums.contexts),
    ):
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise ExportRefused(
                "enumerated_values", name, f"{unknown} not enumerated values (contract 000 §6.1: enumerated only)"
            )
