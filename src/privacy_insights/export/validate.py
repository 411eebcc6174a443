"""Validation run on every export before delivery: JSON Schema of the record and a deny-list scan."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, Iterable

from jsonschema import Draft202012Validator

SCHEMA_FILE = "spots_insights_v1.record.schema.json"
VALUE_PATTERNS = {
    "an email address": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    "an IPv4 address": re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])"),
    # full eight groups, or a compressed form with '::' (a time like 12:00:00 is neither)
    "an IPv6 address": re.compile(r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{0,4}::[0-9A-Fa-f:]*"),
    "a UUID": re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"),
    "a phone number": re.compile(r"\+?[0-9][0-9 ().-]{7,}[0-9]"),
    "a decimal coordinate": re.compile(r"(?<![0-9.])-?[0-9]{1,3}\.[0-9]{2,}"),
}
# Strings whose form the schema pins exactly (a UTC hour timestamp; the fixed disclosure text):
# a date like 2026-10-05 would otherwise read as a phone number. Every other string is scanned.
SCHEMA_PINNED_KEYS = {"time_bucket_start_utc", "post_processing"}


class ExportInvalid(ValueError):
    """A record failed validation; the export is aborted and no file is left behind."""


def record_schema() -> dict:
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text())


def _is_forbidden(key: str, forbidden: Iterable[str]) -> str | None:
    lowered = key.lower()
    for name in forbidden:
        if lowered == name or lowered.startswith(name + "_") or lowered.endswith("_" + name):
            return name
    return None


def deny_list_violations(record: Any, forbidden: Iterable[str], path: str = "$") -> list[str]:
    """Forbidden keys at any depth and identifier-looking string values."""
    forbidden = list(forbidden)
    found = []
    if isinstance(record, dict):
        for key, value in record.items():
            hit = _is_forbidden(str(key), forbidden)
            if hit:
                found.append(f"{path}.{key}: forbidden field ({hit})")
            if isinstance(value, str) and key not in SCHEMA_PINNED_KEYS:
                for label, pattern in VALUE_PATTERNS.items():
                    if pattern.search(value):
                        found.append(f"{path}.{key}: value looks like {label}")
            found += deny_list_violations(value, forbidden, f"{path}.{key}")
    elif isinstance(record, list):
        for i, value in enumerate(record):
            found += deny_list_violations(value, forbidden, f"{path}[{i}]")
    return found


class RecordValidator:
    def __init__(self, forbidden: Iterable[str]):
        self.schema = Draft202012Validator(record_schema())
        self.forbidden = list(forbidden)

    def check(self, records: Iterable[dict]) -> int:
        """Raise ExportInvalid on the first bad record; returns how many were checked."""
        n = 0
        for n, record in enumerate(records, start=1):
            errors = sorted(self.schema.iter_errors(record), key=lambda e: list(e.absolute_path))
            if errors:
                e = errors[0]
                where = ".".join(str(p) for p in e.absolute_path) or "(record)"
                raise ExportInvalid(f"record {n}: {where}: {e.message} (schema {SCHEMA_FILE})")
            violations = deny_list_violations(record, self.forbidden)
            if violations:
                raise ExportInvalid(f"record {n}: {violations[0]} (contract 000 §5 deny-list)")
        return n
