"""One file export, from request to delivered file, with every outcome audited.

Order: the query policy (and the buyer's fingerprint budget) -> the output folder (stale
partial files of killed exports are removed first) -> the warehouse (opened read-only; a
locked one is a clear failure) -> records -> validation (JSON Schema + deny-list) -> a
temporary ``.<name>.<pid>.partial`` file -> read back and validated again -> the data
dictionary of the schema version beside it -> the audit row -> renamed into place.
Whatever happens (refused, failed, interrupted
by SIGTERM/SIGINT) no partial file stays in the delivery folder and one audit row says why;
a SIGKILLed export leaves its partial, which the next export into that folder removes and
audits as ``interrupted``.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from privacy_insights import targets
from privacy_insights.export import audit, dictionary, fingerprints, writer
from privacy_insights.export.policy import Enumerations, ExportPolicy, ExportRefused, ExportRequest, check_request
from privacy_insights.export.records import DATASET, ORDER_BY, SCHEMA_VERSION, SELECT_COLUMNS, to_record
from privacy_insights.export.store import Store, StoreUnavailable, open_store
from privacy_insights.export.validate import ExportInvalid, RecordValidator
from privacy_insights.targets import Warehouse

PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.partial$")


class ExportFailed(RuntimeError):
    """The export could not be delivered; nothing was left behind. ``rule`` names the cause."""

    def __init__(self, rule: str, message: str):
        super().__init__(f"{message} [rule {rule}]")
        self.rule = rule


class ExportInterrupted(BaseException):
    """SIGTERM or SIGINT arrived during an export (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signal_name: str, exit_code: int):
        super().__init__(f"interrupted by {signal_name}")
        self.signal_name, self.exit_code = signal_name, exit_code


class _Interrupts:
    """SIGTERM/SIGINT become ExportInterrupted, except while a delivery is being committed
    (file renamed, audit row written): a signal then waits until the commit is done."""

    deferred = False
    pending: int | None = None


def install_interrupt_handlers() -> Callable[[], int | None]:
    """Install the handlers; returns a function that restores the old ones and tells whether a
    signal arrived during the commit (the export then completed)."""
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum, frame):
        if _Interrupts.deferred:
            _Interrupts.pending = signum
            return
        for s in old:
            signal.signal(s, signal.SIG_IGN)  # cleanup and audit run to the end
        raise ExportInterrupted(signal.Signals(signum).name, 128 + signum)

    for s in old:
        signal.signal(s, handler)

    def restore() -> int | None:
        for s, h in old.items():
            signal.signal(s, h)
        pending, _Interrupts.pending = _Interrupts.pending, None
        return pending

    return restore


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    sha256: str
    audit_id: str
    dictionary: Path | None = None


def file_name(request: ExportRequest, now: datetime) -> str:
    return (
        f"{request.buyer_id}_spots_insights_v1_{request.granularity}_{request.start:%Y%m%d}-{request.end:%Y%m%d}"
        f"_{now:%Y%m%dT%H%M%SZ}.{request.fmt}"
    )


def read_slice(warehouse: Warehouse, request: ExportRequest) -> list[dict]:
    where = [
        "time_granularity = ?",
        "time_bucket_start_utc >= ?",
        "time_bucket_start_utc < ?",
        "list_contains(?, geo_bucket_id)",
    ]
    params: list = [request.granularity, request.start, request.end + timedelta(days=1), list(request.cities)]
    for column, values in (
        ("segment_category", request.categories),
        ("segment_door_type", request.door_types),
        ("segment_context", request.contexts),
    ):
        if values:
            where.append(f"list_contains(?, {column})")
            params.append(list(values))
    if not request.include_suppressed:
        where.append("not privacy_suppressed")
    sql = (
        f"select {', '.join(SELECT_COLUMNS)} from {warehouse.qualify('outside_buyer', 'spots_insights_v1')} "
        f"where {' and '.join(where)} order by {', '.join(ORDER_BY)}"
    )
    cursor = warehouse.connection.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [to_record(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def open_warehouse_read_only(target: str) -> Warehouse:
    """The target's warehouse for reading; a locked or missing DuckDB file is an ExportFailed."""
    if target != "dev":
        try:
            return targets.connect(target)
        except (duckdb.Error, RuntimeError) as exc:
            raise ExportFailed("warehouse_unavailable", f"warehouse ({target}): {_one_line(exc)}") from exc
    path = targets.duckdb_path()
    if not path.exists():
        raise ExportFailed("warehouse_unavailable", f"warehouse {path}: no such file; run `dbt build` first")
    try:
        con = duckdb.connect(str(path), read_only=True, config=targets.offline_config())
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise ExportFailed(
                "warehouse_locked",
                f"warehouse {path} is locked by another process (a running dbt "
                "build or another writer); export again when it has finished",
            ) from exc
        raise ExportFailed("warehouse_unavailable", f"warehouse {path}: {_one_line(exc)}") from exc
    return Warehouse(con, con.sql("select current_database()").fetchone()[0], target)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def prepare_output_dir(out_dir: Path, store: Store, now: datetime) -> None:
    """Create the delivery folder and remove partial files of exports that no longer run."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportFailed("output_dir", f"output dir {out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportFailed("output_dir", f"output dir {out_dir}: cannot be created ({exc.strerror})") from exc
    for path in sorted(out_dir.iterdir()):
        match = PARTIAL.match(path.name)
        if not match or _alive(int(match["pid"])):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # another export cleaned it first
        except OSError as exc:
            raise ExportFailed(
                "output_dir", f"output dir {out_dir}: stale partial file {path.name} cannot be removed ({exc.strerror})"
            ) from exc
        buyer = match["name"].split("_spots_insights_v1_")[0]
        audit.insert(
            store,
            audit.AuditEntry(
                buyer_id=buyer,
                requested_at=now,
                slice=None,
                row_count=0,
                file_format=None,
                file_name=match["name"],
                file_sha256=None,
                outcome="interrupted",
                rule="stale_partial",
                reason=f"partial file {path.name} of export process {match['pid']}, which no longer runs (killed), "
                "removed",
            ),
        )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_validated(records: list[dict], request: ExportRequest, validator: RecordValidator, temporary: Path) -> str:
    validator.check(records)
    try:
        writer.write(records, request.fmt, temporary)
    except OSError as exc:
        raise ExportFailed("output_dir", f"output dir {temporary.parent}: cannot write ({exc.strerror})") from exc
    delivered = writer.read(request.fmt, temporary)
    if delivered != records:
        raise ExportInvalid(f"{request.fmt} file does not read back as the validated records")
    validator.check(delivered)
    return writer.sha256(temporary)


def write_dictionary(out_dir: Path, project_root: Path) -> Path:
    """The data dictionary of this schema version, beside the exports (replaced atomically, so
    it is never partial; shared by every export of the same schema version in the folder)."""
    path = out_dir / f"{DATASET}_{SCHEMA_VERSION}.dictionary.md"
    text = dictionary.markdown(project_root)
    if path.exists() and path.read_text() == text:
        return path
    temporary = out_dir / f".{path.name}.{os.getpid()}.partial"
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise ExportFailed("output_dir", f"output dir {out_dir}: cannot write ({exc.strerror})") from exc
    finally:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
    return path


def export_file(
    request: ExportRequest,
    policy: ExportPolicy,
    open_warehouse: Callable[[], Warehouse] | Warehouse,
    seeds_dir: Path,
    forbidden: list[str],
    out_dir: Path,
    store: Store,
    now: datetime | None = None,
    project_root: Path | None = None,
) -> ExportResult:
    """Deliver one file; raises ExportRefused, ExportFailed, ExportInvalid or ExportInterrupted,
    each after its audit row is written.

    The audit row ``delivered`` is written before the file is renamed into place, so a
    delivered file always has its row (a SIGKILL between the two leaves the row and a partial
    file, which the next export removes with an ``interrupted`` row naming the same file)."""
    now = now or datetime.now(UTC)
    project_root = project_root or targets.project_root()
    entry = dict(buyer_id=request.buyer_id, requested_at=now, slice=request.slice(), file_format=request.fmt)

    def fail(outcome: str, rule: str | None, reason: str, rows: int = 0, name: str | None = None) -> None:
        audit.insert(
            store,
            audit.AuditEntry(
                **entry,
                row_count=rows,
                file_name=name,
                file_sha256=None,
                outcome=outcome,
                rule=rule,
                reason=reason,
                fingerprint=_safe_fingerprint(request),
            ),
        )

    try:
        check_request(request, policy, Enumerations.from_seeds(seeds_dir))
        fingerprints.check_budget(
            store, request, _fingerprint_limit(store, request.buyer_id, policy), policy.fingerprint_window_hours, now
        )
    except ExportRefused as refusal:
        fail("refused", refusal.rule, str(refusal))
        raise

    name = file_name(request, now)
    final, temporary = out_dir / name, out_dir / f".{name}.{os.getpid()}.partial"
    records: list[dict] = []
    warehouse = None
    delivered_row = None
    try:
        prepare_output_dir(out_dir, store, now)
        warehouse = open_warehouse() if callable(open_warehouse) else open_warehouse
        records = read_slice(warehouse, request)
        digest = _write_validated(records, request, RecordValidator(forbidden), temporary)
        dictionary_path = write_dictionary(out_dir, project_root)
        _Interrupts.deferred = True  # from here a signal waits: audit row, then the rename
        with store.transaction():
            delivered_row = audit.insert(
                store,
                audit.AuditEntry(
                    **entry,
                    row_count=len(records),
                    file_name=name,
                    file_sha256=digest,
                    outcome="delivered",
                    fingerprint=request.fingerprint(),
                ),
            )
            fingerprints.record(store, request, now)
        try:
            os.replace(temporary, final)
        except OSError as exc:
            raise ExportFailed(
                "output_dir",
                f"output dir {out_dir}: the validated file could not be moved into "
                f"place ({exc.strerror}); delivery {delivered_row} withdrawn",
            ) from exc
    except BaseException as exc:
        _Interrupts.deferred = False
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        if isinstance(exc, (ExportInterrupted, KeyboardInterrupt)):
            fail(
                "interrupted",
                "interrupted",
                f"export {str(exc) or 'interrupted by SIGINT'}; nothing delivered",
                len(records),
            )
            raise
        rule = (
            exc.rule
            if isinstance(exc, ExportFailed)
            else "record_validation"
            if isinstance(exc, ExportInvalid)
            else "store_unavailable"
            if isinstance(exc, StoreUnavailable)
            else "internal_error"
        )
        message = str(exc) if isinstance(exc, (ExportFailed, ExportInvalid)) else _one_line(exc)
        if not isinstance(exc, StoreUnavailable):
            fail("failed", rule, message, len(records), name if delivered_row else None)
        if isinstance(exc, (ExportFailed, ExportInvalid, StoreUnavailable)):
            raise
        raise ExportFailed(rule, f"{type(exc).__name__}: {_one_line(exc)}") from exc
    finally:
        _Interrupts.deferred = False
        if warehouse is not None and callable(open_warehouse):
            warehouse.close()
    return ExportResult(final, len(records), digest, delivered_row, dictionary_path)


def _safe_fingerprint(request: ExportRequest) -> str | None:
    try:
        return request.fingerprint()
    except Exception:  # a malformed request that was refused before it could be normalised
        return None


def _fingerprint_limit(store: Store, buyer_id: str, policy: ExportPolicy) -> int:
    rows = store.query(f"select fingerprints_per_window from {store.table('buyers')} where buyer_id = ?", [buyer_id])
    return rows[0][0] if rows else policy.max_distinct_fingerprints_per_window


def run_export(
    request: ExportRequest,
    policy: ExportPolicy,
    warehouse: Warehouse,
    seeds_dir: Path,
    forbidden: list[str],
    out_dir: Path,
    now: datetime | None = None,
    store: Store | None = None,
) -> ExportResult:
    """Deliver one file from an open warehouse (audit in the target's delivery store)."""
    return export_file(
        request, policy, warehouse, seeds_dir, forbidden, out_dir, store or open_store(warehouse.target), now
    )


__all__ = [
    "ExportFailed",
    "ExportInterrupted",
    "ExportResult",
    "StoreUnavailable",
    "export_file",
    "install_interrupt_handlers",
    "open_warehouse_read_only",
    "run_export",
]
