"""Retention of a target's deliveries (contract 000 §7.1): files and audit rows past the retention.

Driven by the target's own audit, never by what happens to lie in a folder: every file an
export delivered is looked for where its audit row says it went (``file_path``, the folder's
real path, wherever ``--output-dir`` put it) and deleted only while it is still the file the
audit wrote: a regular file (not a symlink) whose SHA-256 is the audited one. So nothing an
export did not deliver is ever deleted (a buyer's own file, another target's file, the data
dictionary), and a file changed since its delivery is kept and counted.

Rows written before the audit had ``file_path`` name the file only; those files are looked
for in the export folder of that time (``export_dir`` of export_policy.yml, the default then).
A file that cannot be deleted keeps its audit row, so the next run tries again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from privacy_insights.export import audit, files, writer
from privacy_insights.export.store import AUDIT_TABLE, Store


def purge_expired(
    store: Store, months: int, legacy_dir: Path | None = None, now: datetime | None = None
) -> dict[str, int | list[str]]:
    """Delete the delivered files and the audit rows older than ``months`` (one month: 30.44 days)."""
    if months < 1:
        raise ValueError(f"months: must be at least 1, got {months}")
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=round(months * 30.44))
    rows = store.query(
        f"select audit_id, file_name, file_path, file_sha256 from {store.table(AUDIT_TABLE)} "
        "where channel = 'file' and outcome = 'delivered' and file_name is not null and requested_at < ?",
        [store.ts(cutoff)],
    )
    counts = {"files_deleted": 0, "files_missing": 0, "files_changed_kept": 0}
    failed: list[str] = []
    kept: list[str] = []
    for audit_id, name, recorded, digest in rows:
        path = Path(recorded) if recorded else _legacy_path(legacy_dir, name)
        if path is None or not files.is_regular_file(path):
            counts["files_missing"] += 1
            continue
        if not digest or writer.sha256(path) != digest:
            counts["files_changed_kept"] += 1
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            counts["files_missing"] += 1
            continue
        except OSError as exc:
            kept.append(audit_id)
            failed.append(f"{path}: {exc.strerror or exc}")
            continue
        counts["files_deleted"] += 1
    return {**counts, "audit_rows_deleted": audit.purge(store, cutoff, tuple(kept)), "files_not_deleted": failed}


def _legacy_path(legacy_dir: Path | None, name: str) -> Path | None:
    if legacy_dir is None or Path(name).name != name or name in ("", ".", ".."):
        return None
    return legacy_dir / name
