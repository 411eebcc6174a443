"""Buyer exports of spots_insights_v1 (contract 000 §4.2, §5, §6, §7).

``run_export`` checks the request against the query policy, reads the released slice,
builds nested records, validates every record (JSON Schema + deny-list scan), writes a
temporary file, reads it back and validates what a buyer would read, and only then moves
it into place. Every export and every refusal is appended to ``audit.buyer_exports``.
A refused or invalid export writes no file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from privacy_insights.export import audit, writer
from privacy_insights.export.policy import (Enumerations, ExportPolicy, ExportRefused, ExportRequest,
                                            check_request, load_policy)
from privacy_insights.export.records import SELECT_COLUMNS, to_record
from privacy_insights.export.validate import ExportInvalid, RecordValidator
from privacy_insights.targets import Warehouse

__all__ = ["ExportInvalid", "ExportPolicy", "ExportRefused", "ExportRequest", "ExportResult", "load_policy",
           "purge_expired", "run_export"]


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    sha256: str
    audit_id: str


def _read_slice(warehouse: Warehouse, request: ExportRequest):
    where = ["time_granularity = ?", "time_bucket_start_utc >= ?", "time_bucket_start_utc < ?",
             "list_contains(?, geo_bucket_id)"]
    params: list = [request.granularity, request.start, request.end + timedelta(days=1), list(request.cities)]
    for column, values in (("segment_category", request.categories), ("segment_door_type", request.door_types),
                           ("segment_context", request.contexts)):
        if values:
            where.append(f"list_contains(?, {column})")
            params.append(list(values))
    if not request.include_suppressed:
        where.append("not privacy_suppressed")
    sql = (f"select {', '.join(SELECT_COLUMNS)} from {warehouse.qualify('outside_buyer', 'spots_insights_v1')} "
           f"where {' and '.join(where)} order by time_bucket_start_utc, geo_bucket_id, segment_door_type, "
           "segment_category, segment_context")
    return warehouse.connection.execute(sql, params).df()


def run_export(request: ExportRequest, policy: ExportPolicy, warehouse: Warehouse, seeds_dir: Path,
               forbidden: list[str], out_dir: Path, now: datetime | None = None) -> ExportResult:
    now = now or datetime.now(timezone.utc)
    entry = dict(buyer_id=request.buyer_id, requested_at=now, slice=request.slice(), file_format=request.fmt)
    try:
        check_request(request, policy, Enumerations.from_seeds(seeds_dir))
    except ExportRefused as refusal:
        audit.append(warehouse, audit.AuditEntry(**entry, row_count=0, file_name=None, file_sha256=None,
                                                 outcome="refused", reason=str(refusal)))
        raise

    records = [to_record(row) for row in _read_slice(warehouse, request).to_dict("records")]
    validator = RecordValidator(forbidden)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = (f"{request.buyer_id}_spots_insights_v1_{request.granularity}_{request.start:%Y%m%d}-{request.end:%Y%m%d}"
            f"_{now:%Y%m%dT%H%M%SZ}.{request.fmt}")
    final, temporary = out_dir / name, out_dir / f".{name}.partial"
    try:
        validator.check(records)
        writer.write(records, request.fmt, temporary)
        delivered = writer.read(request.fmt, temporary)
        if delivered != records:
            raise ExportInvalid(f"{request.fmt} file does not read back as the validated records")
        validator.check(delivered)
        digest = writer.sha256(temporary)
        os.replace(temporary, final)
    except Exception as failure:
        temporary.unlink(missing_ok=True)
        audit.append(warehouse, audit.AuditEntry(**entry, row_count=len(records), file_name=None, file_sha256=None,
                                                 outcome="failed", reason=str(failure)))
        raise
    audit_id = audit.append(warehouse, audit.AuditEntry(**entry, row_count=len(records), file_name=name,
                                                        file_sha256=digest, outcome="delivered"))
    return ExportResult(final, len(records), digest, audit_id)


def purge_expired(warehouse: Warehouse, export_dir: Path, months: int, now: datetime | None = None) -> dict[str, int]:
    """Retention (contract 000 §7.1): delete buyer files and audit rows older than ``months``."""
    if months < 1:
        raise ValueError(f"months: must be at least 1, got {months}")
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=round(months * 30.44))
    files = 0
    if export_dir.exists():
        for path in export_dir.iterdir():
            if path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) < cutoff:
                path.unlink()
                files += 1
    return {"files_deleted": files, "audit_rows_deleted": audit.purge(warehouse, cutoff)}
