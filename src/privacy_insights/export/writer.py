"""Write records as JSON Lines, Parquet or CSV (same schema), and read a file back to verify it."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from privacy_insights.export.records import flatten

_DP = pa.struct([("enabled", pa.bool_()), ("mechanism", pa.string()), ("epsilon", pa.float64()),
                 ("delta", pa.float64()), ("rho", pa.float64()), ("budget_window_days", pa.int64()),
                 ("post_processing", pa.string())])
PARQUET_SCHEMA = pa.schema([
    ("schema_version", pa.string()), ("dataset", pa.string()), ("time_bucket_start_utc", pa.string()),
    ("time_granularity", pa.string()), ("reporting_delay_hours", pa.int64()),
    ("geo_bucket", pa.struct([("type", pa.string()), ("id", pa.string())])),
    ("segment", pa.struct([("door_type", pa.string()), ("category", pa.string()), ("context", pa.string())])),
    ("metrics", pa.struct([("unique_participants_est", pa.int64()), ("doors_opened_est", pa.int64()),
                           ("repeat_rate_est", pa.float64()), ("trend_score_est", pa.float64())])),
    ("privacy", pa.struct([("k_min_enforced", pa.int64()), ("suppressed", pa.bool_()),
                           ("suppressed_reason", pa.string()), ("dp", _DP)])),
])


def _csv_columns() -> list[str]:
    def walk(fields, prefix=""):
        for f in fields:
            if pa.types.is_struct(f.type):
                yield from walk(list(f.type), f"{prefix}{f.name}.")
            else:
                yield f"{prefix}{f.name}", f.type
    return list(walk(PARQUET_SCHEMA))


def write(records: list[dict], fmt: str, path: Path) -> None:
    if fmt == "jsonl":
        with path.open("w") as handle:
            for record in records:
                handle.write(json.dumps(record, separators=(",", ":")) + "\n")
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(records, schema=PARQUET_SCHEMA), path)
    elif fmt == "csv":
        names = [name for name, _ in _csv_columns()]
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=names)
            writer.writeheader()
            for record in records:
                writer.writerow({k: ("" if v is None else v) for k, v in flatten(record).items()})
    else:
        raise ValueError(f"format: unknown {fmt!r}")


def _from_csv_value(text: str, kind: pa.DataType):
    if text == "":
        return None
    if pa.types.is_integer(kind):
        return int(text)
    if pa.types.is_floating(kind):
        return float(text)
    if pa.types.is_boolean(kind):
        return text == "True"
    return text


def read(fmt: str, path: Path) -> list[dict]:
    """The records as a buyer's reader would see them."""
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line]
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    records = []
    kinds = dict(_csv_columns())
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            record: dict = {}
            for dotted, text in row.items():
                *parents, leaf = dotted.split(".")
                node = record
                for p in parents:
                    node = node.setdefault(p, {})
                node[leaf] = _from_csv_value(text, kinds[dotted])
            records.append(record)
    return records


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
