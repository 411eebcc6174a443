"""Validation run on every record before delivery (file or API): JSON Schema of the record and a deny-list scan."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from privacy_insights.export.records import FIELDS, SCHEMA_FILE, record_schema

VALUE_PATTERNS = {
    "an email address": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    "an IPv4 address": re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])"),
    # full eight groups, or a compressed form with '::' (a time like 12:00:00 is neither)
    "an IPv6 address": re.compile(r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{0,4}::[0-9A-Fa-f:]*"),
    "a UUID": re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"),
    "a phone number": re.compile(r"\+?[0-9][0-9 ().-]{7,}[0-9]"),
    "a decimal coordinate": re.compile(r"(?<![0-9.])-?[0-9]{1,3}\.[0-9]{2,}"),
}
# Strings whose form the schema pins exactly (UTC timestamps, enumerated values, the fixed
# disclosure text): a date like 2026-10-05 would otherwise read as a phone number. Every
# other string is scanned. Derived from the record's JSON Schema, like every other field list.
SCHEMA_PINNED_KEYS = {f.path[-1] for f in FIELDS if f.kind == "timestamp" or f.values} | {"post_processing"}


class ExportInvalid(ValueError):
    """A record failed validation; the export is aborted and no file is left behind."""


@lru_cache(maxsize=4096)
def _forbidden_key(key: str, forbidden: tuple[str, ...]) -> str | None:
    lowered = key.lower()
    for name in forbidden:
        if lowered == name or lowered.startswith(name + "_") or lowered.endswith("_" + name):
            return name
    return None


@lru_cache(maxsize=65536)
def _identifier_labels(value: str) -> tuple[str, ...]:
    """What a string value looks like (cached: enumerated values repeat in every record)."""
    return tuple(label for label, pattern in VALUE_PATTERNS.items() if pattern.search(value))


def deny_list_violations(record: Any, forbidden: Iterable[str], path: str = "$") -> list[str]:
    """Forbidden keys at any depth and identifier-looking string values."""
    forbidden = tuple(forbidden)
    found = []
    if isinstance(record, dict):
        for key, value in record.items():
            hit = _forbidden_key(str(key), forbidden)
            if hit:
                found.append(f"{path}.{key}: forbidden field ({hit})")
            if isinstance(value, str) and key not in SCHEMA_PINNED_KEYS:
                for label in _identifier_labels(value):
                    found.append(f"{path}.{key}: value looks like {label}")
            found += deny_list_violations(value, forbidden, f"{path}.{key}")
    elif isinstance(record, list):
        for i, value in enumerate(record):
            found += deny_list_violations(value, forbidden, f"{path}[{i}]")
    return found


def _compiled_schema():
    """The same JSON Schema compiled to Python by fastjsonschema (about 10x faster than the
    reference validator), used as the gate; a record it rejects is re-checked by jsonschema's
    Draft 2020-12 validator for the error message. The schema only uses keywords whose meaning
    is the same in draft 7, which fastjsonschema implements."""
    schema = copy.deepcopy(record_schema())
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(schema)


class RecordValidator:
    """JSON Schema + deny-list check of records, shared by file exports, snapshots and the API."""

    def __init__(self, forbidden: Iterable[str]):
        self.schema = Draft202012Validator(record_schema())
        self.fast = _compiled_schema()
        self.forbidden = tuple(forbidden)

    def _schema_error(self, n: int, record: dict) -> ExportInvalid:
        errors = sorted(self.schema.iter_errors(record), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            where = ".".join(str(p) for p in e.absolute_path) or "(record)"
            return ExportInvalid(f"record {n}: {where}: {e.message} (schema {SCHEMA_FILE})")
        return ExportInvalid(f"record {n}: rejected by the compiled schema {SCHEMA_FILE}")

    def check(self, records: Iterable[dict]) -> int:
        """Raise ExportInvalid on the first bad record; returns how many were checked."""
        n = 0
        for n, record in enumerate(records, start=1):
            try:
                self.fast(record)
            except fastjsonschema.JsonSchemaException:
                raise self._schema_error(n, record) from None
            violations = deny_list_violations(record, self.forbidden)
            if violations:
                raise ExportInvalid(f"record {n}: {violations[0]} (contract 000 §5 deny-list)")
        return n
