"""Immutable published snapshots of the frozen release, which the API serves.

Why: DuckDB allows one writer per file and a running ``dbt build`` holds the warehouse, so a
server reading the warehouse would fail (or make the build fail) while a build runs. Instead,
``privacy-insights publish`` runs after a green ``dbt build`` (``dbt build && privacy-insights
publish``): it reads ``outside_buyer.spots_insights_v1`` once, validates every record (JSON
Schema + deny-list), and writes ``<delivery root>/<target>/published/spots_insights_v1/<release
id>.parquet`` plus its manifest. The release id is the first 32 hexadecimal digits (128 bits)
of the SHA-256 of the records, so a rebuild that changed nothing publishes nothing new.
``CURRENT`` (replaced atomically) names the snapshot to serve; the server of the same target
reloads it when it changes, never touching the warehouse. Released cells are frozen, so their
records, and so the API's bytes, are identical across rebuilds.

Each target publishes into its own folder, and a manifest names the target it was published
from (``source_target``) and the budget ledger its releases were charged to (``ledger``): a
server serves only snapshots of its own target (api/release.py), so a dev release, charged to
dev's ledger only, never reaches prod's buyers, and prod's never reaches dev's.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from privacy_insights import targets
from privacy_insights.export import files, writer
from privacy_insights.export.locations import published_dir
from privacy_insights.export.records import DATASET, ORDER_BY, SCHEMA_VERSION, SELECT_COLUMNS, records_from_columns
from privacy_insights.export.run import open_warehouse_read_only
from privacy_insights.export.validate import RecordValidator

KEEP_SNAPSHOTS = 5


def ledger_of(target: str) -> str:
    """The budget ledger a target's releases are charged to (its warehouse and schema)."""
    table = f"{targets.schema_prefix(target)}outside_buyer.spots_privacy_budget_ledger"
    if target == "dev":
        return f"duckdb:{targets.duckdb_path()} {table}"
    env = os.environ
    where = f"{env.get('PGHOST', '127.0.0.1')}:{env.get('PGPORT', '5432')}/{env.get('PGDATABASE', 'privacy_insights')}"
    return f"postgresql://{where} {table}"


def release_id(records: list[dict]) -> str:
    digest = hashlib.sha256()
    for record in records:
        digest.update(writer.json_line(record) + b"\n")
    return digest.hexdigest()[:32]


def read_release(target: str) -> list[dict]:
    warehouse = open_warehouse_read_only(target)
    try:
        sql = (
            f"select {', '.join(SELECT_COLUMNS)} from {warehouse.qualify('outside_buyer', DATASET)} "
            f"order by {', '.join(ORDER_BY)}"
        )
        table = warehouse.connection.execute(sql).fetch_arrow_table()
        return records_from_columns({name: table.column(name).to_pylist() for name in table.column_names})
    finally:
        warehouse.close()


def publish(target: str, forbidden: list[str], now: datetime | None = None) -> dict:
    """Publish the warehouse's current release if it differs from the one being served."""
    now = now or datetime.now(UTC)
    records = read_release(target)
    RecordValidator(forbidden).check(records)
    rid = release_id(records)
    folder = published_dir(target)
    folder.mkdir(parents=True, exist_ok=True)
    current = current_manifest(target)
    if current and current["release_id"] == rid and (folder / current["file"]).exists():
        return {**current, "changed": False}
    last = {}
    for r in records:
        if not r["privacy"]["suppressed"]:
            g = r["time_granularity"]
            last[g] = max(last.get(g, ""), r["time_bucket_start_utc"])
    manifest = {
        "release_id": rid,
        "dataset": DATASET,
        "schema_version": SCHEMA_VERSION,
        "file": f"{rid}.parquet",
        "rows": len(records),
        "released_rows": sum(not r["privacy"]["suppressed"] for r in records),
        "last_released_bucket": dict(sorted(last.items())),
        "published_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_target": target,
        "ledger": ledger_of(target),
    }
    files.replace_atomically(folder / manifest["file"], writer.parquet_bytes(records))
    files.replace_atomically(folder / f"{rid}.json", json.dumps(manifest, indent=2).encode())
    files.replace_atomically(folder / "CURRENT", json.dumps(manifest, indent=2).encode())
    _prune(folder, keep=rid)
    return {**manifest, "changed": True}


def current_manifest(target: str) -> dict | None:
    path = published_dir(target) / "CURRENT"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def _prune(folder: Path, keep: str) -> None:
    manifests = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in manifests[KEEP_SNAPSHOTS:]:
        rid = old.stem
        if rid != keep:
            (folder / f"{rid}.parquet").unlink(missing_ok=True)
            old.unlink(missing_ok=True)


def load_snapshot(target: str, manifest: dict) -> tuple[list[dict], list[bytes]]:
    """The records of a snapshot published in ``target``'s folder and their JSON lines. Every
    record was validated before it was published; the content hash proves these are the same records."""
    data = (published_dir(target) / Path(manifest["file"]).name).read_bytes()
    records = writer.decode("parquet", data)
    lines = [writer.json_line(r) for r in records]
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line + b"\n")
    if digest.hexdigest()[:32] != manifest["release_id"]:
        raise ValueError(f"snapshot {manifest['file']}: content does not match its release id (not as published)")
    return records, lines


__all__ = ["current_manifest", "ledger_of", "load_snapshot", "publish", "published_dir"]
