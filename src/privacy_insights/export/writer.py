"""Records as JSON Lines, JSON, CSV or Parquet bytes (one schema, derived from records.FIELDS),
and back, so every file and every API response can be read back and checked.

- Parquet: nested structs as in the record, ``time_bucket_start_utc`` a UTC timestamp, each
  field's description in its Arrow metadata, and schema metadata naming the dataset, the
  schema version and the record JSON Schema.
- CSV: one dotted column per leaf (``privacy.dp.epsilon``), ``true``/``false`` booleans,
  empty for null; read it with ``pandas.read_csv(f, dtype=csv_dtypes(),
  parse_dates=csv_timestamp_columns())`` to get the documented types back.
- JSON Lines / JSON: the record exactly (compact separators, fields in schema order).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from privacy_insights.export.records import (
    DATASET,
    FIELDS,
    SCHEMA_VERSION,
    Field,
    leaf,
    record_schema,
    records_from_columns,
    unflatten,
)

FORMATS = ("jsonl", "json", "csv", "parquet")
FILE_FORMATS = ("jsonl", "parquet", "csv")
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
_ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
_PANDAS = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}


def _arrow_fields(fields: list[Field], depth: int) -> list[pa.Field]:
    out, groups = [], {}
    for f in fields:
        if len(f.path) == depth + 1:
            out.append(
                pa.field(f.path[depth], _ARROW[f.kind], nullable=f.nullable, metadata={"description": f.description})
            )
        else:
            if f.path[depth] not in groups:
                groups[f.path[depth]] = []
                out.append(f.path[depth])  # placeholder keeps the schema's order
            groups[f.path[depth]].append(f)
    return [
        pa.field(x, pa.struct(_arrow_fields(groups[x], depth + 1)), nullable=False) if isinstance(x, str) else x
        for x in out
    ]


def arrow_schema() -> pa.Schema:
    return pa.schema(
        _arrow_fields(FIELDS, 0),
        metadata={
            "dataset": DATASET,
            "schema_version": SCHEMA_VERSION,
            "record_schema": record_schema()["$id"],
            "description": record_schema()["description"],
        },
    )


def csv_columns() -> list[str]:
    return [f.dotted for f in FIELDS]


def csv_dtypes() -> dict[str, str]:
    """pandas dtypes of the CSV columns (timestamps: see csv_timestamp_columns)."""
    return {f.dotted: _PANDAS[f.kind] for f in FIELDS if f.kind != "timestamp"}


def csv_timestamp_columns() -> list[str]:
    return [f.dotted for f in FIELDS if f.kind == "timestamp"]


def json_line(record: dict) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_line(record: dict) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_csv_text(leaf(record, f)) for f in FIELDS])
    return buffer.getvalue().encode()


def csv_header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(csv_columns())
    return buffer.getvalue().encode()


def _typed(record: dict) -> dict:
    """The record with timestamps as datetimes, for Arrow."""
    out = json.loads(json.dumps(record))
    for f in FIELDS:
        if f.kind == "timestamp":
            node = out
            for part in f.path[:-1]:
                node = node[part]
            text = node[f.path[-1]]
            node[f.path[-1]] = (
                None if text is None else datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            )
    return out


def parquet_bytes(records: list[dict]) -> bytes:
    table = pa.Table.from_pylist([_typed(r) for r in records], schema=arrow_schema())
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def encode(records: list[dict], fmt: str) -> bytes:
    if fmt == "jsonl":
        return b"".join(json_line(r) + b"\n" for r in records)
    if fmt == "json":
        return b"[" + b",".join(json_line(r) for r in records) + b"]"
    if fmt == "csv":
        return csv_header() + b"".join(csv_line(r) for r in records)
    if fmt == "parquet":
        return parquet_bytes(records)
    raise ValueError(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}")


def decode(fmt: str, data: bytes) -> list[dict]:
    """The records as a buyer's reader sees them, converted back to the JSON record form."""
    if fmt == "jsonl":
        return [json.loads(line) for line in data.decode().splitlines() if line]
    if fmt == "json":
        return json.loads(data)
    if fmt == "parquet":
        table = pq.read_table(pa.BufferReader(data))
        if table.schema.metadata is None or table.schema.metadata.get(b"dataset") != DATASET.encode():
            raise ValueError("parquet: schema metadata does not name the dataset")
        while any(pa.types.is_struct(f.type) for f in table.schema):
            table = table.flatten()
        return records_from_columns({name: table.column(name).to_pylist() for name in table.column_names})
    if fmt == "csv":
        rows = csv.DictReader(io.StringIO(data.decode()))
        if rows.fieldnames != csv_columns():
            raise ValueError(f"csv: header {rows.fieldnames} is not {csv_columns()}")
        out = []
        for row in rows:
            values = {}
            for f in FIELDS:
                text = row[f.dotted]
                values[f.dotted] = None if text == "" else (text == "true") if f.kind == "boolean" else text
            out.append(unflatten(values))
        return out
    raise ValueError(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}")


def read(fmt: str, path: Path) -> list[dict]:
    return decode(fmt, path.read_bytes())


def sha256(content: bytes | Path) -> str:
    """SHA-256 of bytes, or of a file's content."""
    if isinstance(content, bytes):
        return hashlib.sha256(content).hexdigest()
    digest = hashlib.sha256()
    with content.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = [
    "FILE_FORMATS",
    "FORMATS",
    "MEDIA_TYPES",
    "arrow_schema",
    "csv_dtypes",
    "csv_timestamp_columns",
    "decode",
    "encode",
    "read",
    "sha256",
]
