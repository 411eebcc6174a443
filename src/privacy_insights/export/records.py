"""The one mapping between the flat warehouse table spots_insights_v1 and the nested record
of contract 000 §4.2, derived from the record's JSON Schema.

Every leaf of the JSON Schema is one field. Its warehouse column follows the naming rule of
the model (``geo_bucket.id`` -> ``geo_bucket_id``, ``privacy.dp.epsilon`` ->
``privacy_dp_epsilon``, ``metrics.*`` keep their own names) unless the leaf names its column
with ``"x-warehouse-column"``. Its kind comes from the schema's ``type`` (and
``format: date-time`` for timestamps). Everything else (the SELECT list, records, CSV
columns and pandas dtypes, the Parquet schema, the data dictionary, the API's responses)
is derived from ``FIELDS``: adding a field to the record is one edit of the JSON Schema
(plus the column in the model).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

SCHEMA_FILE = "spots_insights_v1.record.schema.json"
UNPREFIXED_GROUPS = ("metrics",)  # their leaves keep their own names in the warehouse
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@lru_cache(maxsize=1)
def record_schema() -> dict:
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text())


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]  # ("privacy", "dp", "epsilon")
    column: str  # warehouse column: privacy_dp_epsilon
    kind: str  # string, integer, number, boolean, timestamp
    nullable: bool
    description: str
    values: tuple | None  # enumerated values (const or enum), without null

    @property
    def dotted(self) -> str:
        """The CSV column and the name a buyer reads in the data dictionary."""
        return ".".join(self.path)


def _kind(prop: dict) -> tuple[str, bool]:
    types = prop.get("type")
    if types is None:
        raise ValueError(f"{SCHEMA_FILE}: every leaf needs a 'type' (record fields are derived from it): {prop}")
    types = [types] if isinstance(types, str) else list(types)
    nullable = "null" in types
    kinds = [t for t in types if t != "null"]
    if len(kinds) != 1:
        raise ValueError(f"{SCHEMA_FILE}: a leaf has exactly one non-null type, got {types}")
    kind = kinds[0]
    if kind == "string" and prop.get("format") == "date-time":
        kind = "timestamp"
    return kind, nullable


def _fields(node: dict, path: tuple[str, ...]) -> list[Field]:
    out = []
    for name, prop in node["properties"].items():
        here = (*path, name)
        if prop.get("type") == "object":
            out += _fields(prop, here)
            continue
        kind, nullable = _kind(prop)
        parts = [p for p in here[:-1] if p not in UNPREFIXED_GROUPS] + [name]
        values = prop.get("enum", [prop["const"]] if "const" in prop else None)
        out.append(
            Field(
                here,
                prop.get("x-warehouse-column", "_".join(parts)),
                kind,
                nullable,
                prop.get("description", ""),
                None if values is None else tuple(v for v in values if v is not None),
            )
        )
    return out


FIELDS: list[Field] = _fields(record_schema(), ())
SELECT_COLUMNS: list[str] = [f.column for f in FIELDS]
DATASET: str = record_schema()["properties"]["dataset"]["const"]
SCHEMA_VERSION: str = record_schema()["properties"]["schema_version"]["const"]
# The order records are listed in, in files, snapshots and API responses (the cell key).
ORDER_BY = [
    "time_granularity",
    "time_bucket_start_utc",
    "geo_bucket_id",
    "segment_door_type",
    "segment_category",
    "segment_context",
]


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item") and not isinstance(v, (pd.Timestamp, datetime)):  # numpy scalars
        return v.item()
    return v


def timestamp_text(v: Any) -> str:
    """A bucket start as the record's UTC text (2026-10-05T00:00:00Z); naive values are UTC."""
    if isinstance(v, str):
        return v
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, datetime):
        return (v.astimezone(UTC) if v.tzinfo else v).strftime(TIMESTAMP_FORMAT)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day).strftime(TIMESTAMP_FORMAT)
    raise TypeError(f"time value: expected a timestamp, got {v!r}")


def leaf_value(field: Field, v: Any) -> Any:
    """A warehouse (or typed file) value as it appears in the JSON record."""
    v = _plain(v)
    if v is None:
        return None
    if field.kind == "timestamp":
        return timestamp_text(v)
    if field.kind == "integer":
        return int(v)
    if field.kind == "number":
        return float(v)
    if field.kind == "boolean":
        return bool(v)
    return str(v)


def _shape(fields: list[tuple[int, Field]], depth: int) -> list[tuple[str, Any]]:
    """The nesting of FIELDS: (name, index into a row) or (name, sub-shape), in schema order."""
    out: list[tuple[str, Any]] = []
    groups: dict[str, list[tuple[int, Field]]] = {}
    for i, f in fields:
        if len(f.path) == depth + 1:
            out.append((f.path[depth], i))
        else:
            if f.path[depth] not in groups:
                groups[f.path[depth]] = []
                out.append((f.path[depth], groups[f.path[depth]]))
            groups[f.path[depth]].append((i, f))
    return [(name, x if isinstance(x, int) else _shape(x, depth + 1)) for name, x in out]


_SHAPE = _shape(list(enumerate(FIELDS)), 0)


def _literal(shape: list) -> str:
    parts = (f"{name!r}: " + (f"r[{x}]" if isinstance(x, int) else _literal(x)) for name, x in shape)
    return "{" + ", ".join(parts) + "}"


# One tuple of leaf values (in FIELDS order) -> the nested record; generated from _SHAPE as a
# single dict display, which builds a record several times faster than walking the shape.
_build_record = eval(compile(f"lambda r: {_literal(_SHAPE)}", SCHEMA_FILE, "eval"))  # noqa: S307 - our own names


_NATIVE = {"string": str, "integer": int, "number": float, "boolean": bool}


def _column_values(field: Field, values: list) -> list:
    native = _NATIVE.get(field.kind)
    if native is not None and all(v is None or (type(v) is native and v == v) for v in values):
        return values  # already the record's type (Arrow and DuckDB give these)
    if field.kind == "timestamp":
        cache: dict = {}
        return [
            None if v is None else cache[v] if v in cache else cache.setdefault(v, timestamp_text(v)) for v in values
        ]
    return [leaf_value(field, v) for v in values]


def records_from_columns(columns: dict[str, list]) -> list[dict]:
    """Records from columns named by warehouse column (or dotted name), values as stored."""
    converted = [_column_values(f, columns[f.column] if f.column in columns else columns[f.dotted]) for f in FIELDS]
    return [_build_record(row) for row in zip(*converted, strict=True)]


def to_record(row: dict) -> dict:
    """One flat warehouse row (column -> value) as the nested §4.2 record."""
    return _build_record(tuple(leaf_value(f, row[f.column]) for f in FIELDS))


def leaf(record: dict, field: Field) -> Any:
    node = record
    for part in field.path:
        node = node[part]
    return node


def to_flat(record: dict) -> dict:
    """A record as warehouse columns (the inverse of to_record)."""
    return {field.column: leaf(record, field) for field in FIELDS}


def flatten(record: dict) -> dict:
    """Dotted keys for CSV (geo_bucket.id, privacy.dp.epsilon, ...): the same schema, one level."""
    return {field.dotted: leaf(record, field) for field in FIELDS}


def unflatten(values: dict) -> dict:
    """Dotted (CSV) keys back to a nested record, typed by FIELDS."""
    record: dict = {}
    for field in FIELDS:
        node = record
        for part in field.path[:-1]:
            node = node.setdefault(part, {})
        node[field.path[-1]] = leaf_value(field, values[field.dotted])
    return record
