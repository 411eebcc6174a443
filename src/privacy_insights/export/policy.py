"""Buyer export requests and the query policy they must satisfy (contract 000 §6)."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import yaml

FORMATS = ("jsonl", "parquet", "csv")
GRANULARITIES = ("hour", "day", "week")


class ExportRefused(ValueError):
    """The request breaks the query policy; nothing is written. The message says why."""


@dataclass(frozen=True)
class ExportPolicy:
    max_days_per_request: int = 90
    max_cities_per_request: int = 10
    hour_granularity_buyers: tuple[str, ...] = ()
    export_dir: str = "exports"
    retention_months: int = 12


def load_policy(path: Path) -> ExportPolicy:
    raw = yaml.safe_load(path.read_text()) or {}
    unknown = set(raw) - set(ExportPolicy.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{path.name}: unknown settings {sorted(unknown)}")
    raw["hour_granularity_buyers"] = tuple(raw.get("hour_granularity_buyers") or ())
    return ExportPolicy(**raw)


@dataclass(frozen=True)
class ExportRequest:
    buyer_id: str
    start: date                       # first time_bucket_start_utc day (inclusive)
    end: date                         # last day (inclusive)
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


@dataclass(frozen=True)
class Enumerations:
    cities: frozenset[str]
    categories: frozenset[str]
    door_types: frozenset[str]
    contexts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_seeds(cls, seeds: Path) -> "Enumerations":
        def column(name: str, col: str) -> frozenset[str]:
            with (seeds / f"{name}.csv").open(newline="") as handle:
                return frozenset(row[col] for row in csv.DictReader(handle))
        return cls(column("city_definitions", "city_code"), column("categories", "category") | {"all"},
                   column("door_types", "door_type"), column("contexts", "context") | {"all"})


def check_request(request: ExportRequest, policy: ExportPolicy, enums: Enumerations) -> None:
    """Raise ExportRefused naming the field and the rule when the request breaks the policy."""
    if not request.buyer_id or not request.buyer_id.replace("_", "").replace("-", "").isalnum():
        raise ExportRefused("buyer_id: must be letters, digits, '-' or '_'")
    if request.fmt not in FORMATS:
        raise ExportRefused(f"format: must be one of {', '.join(FORMATS)}, got {request.fmt!r}")
    if request.granularity not in GRANULARITIES:
        raise ExportRefused(f"granularity: must be one of {', '.join(GRANULARITIES)}, got {request.granularity!r}")
    if request.granularity == "hour" and request.buyer_id not in policy.hour_granularity_buyers:
        raise ExportRefused(f"granularity: hour is not allowed for buyer {request.buyer_id!r} by the export policy "
                            "(too-fine time windows, contract 000 §6.2); use day or week")
    if request.end < request.start:
        raise ExportRefused(f"end: {request.end} is before start {request.start}")
    days = (request.end - request.start).days + 1
    if days > policy.max_days_per_request:
        raise ExportRefused(f"date range: {days} days requested, at most {policy.max_days_per_request} per request "
                            "(contract 000 §6.1)")
    if not request.cities:
        raise ExportRefused("cities: name at least one city code")
    if len(request.cities) > policy.max_cities_per_request:
        raise ExportRefused(f"cities: {len(request.cities)} requested, at most {policy.max_cities_per_request} per "
                            "request (contract 000 §6.1)")
    for name, values, allowed in (("cities", request.cities, enums.cities),
                                  ("categories", request.categories, enums.categories),
                                  ("door_types", request.door_types, enums.door_types),
                                  ("contexts", request.contexts, enums.contexts)):
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise ExportRefused(f"{name}: {unknown} not enumerated values (contract 000 §6.1: enumerated only)")
