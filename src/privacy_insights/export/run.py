"""One file export, from request to delivered file, with every outcome audited.

Order: the buyer registry and the query policy with the buyer's key scopes (the same
functions as the API: ``keys.registered`` and ``check_request``), the fingerprint budget ->
the output folder (its real path; never another target's; stale partial files of killed
exports are removed first) -> the warehouse (opened read-only; a locked one is a clear
failure) -> records -> validation (JSON Schema + deny-list) -> a new temporary
``.<name>.<pid>.<random>.partial`` file (files.py: created exclusively, never through a
symlink) -> read back and validated again -> the data dictionary of the schema version beside
it -> the audit row (its id is in the file name, so no two deliveries share a name) -> linked
into place (never replacing anything).
Whatever happens (refused, failed, interrupted
by SIGTERM/SIGINT) no partial file stays in the delivery folder and one audit row says why;
a SIGKILLed export leaves its partial, which the next export into that folder removes and
audits as ``interrupted``.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from privacy_insights import targets
from privacy_insights.api import keys
from privacy_insights.export import audit, dictionary, files, fingerprints, locations, writer
from privacy_insights.export.policy import (
    BUYER_ID_PATTERN,
    Enumerations,
    ExportPolicy,
    ExportRefused,
    ExportRequest,
    check_request,
)
from privacy_insights.export.records import DATASET, ORDER_BY, SCHEMA_VERSION, SELECT_COLUMNS, to_record
from privacy_insights.export.store import Store, StoreUnavailable, open_store
from privacy_insights.export.validate import ExportInvalid, RecordValidator
from privacy_insights.targets import Warehouse


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


FILE_INFIX = f"_{DATASET}_"


def file_name(request: ExportRequest, now: datetime, audit_id: str) -> str:
    """Unique per delivery: the id of the audit row that delivers it is part of the name."""
    return (
        f"{request.buyer_id}{FILE_INFIX}{request.granularity}_{request.start:%Y%m%d}-{request.end:%Y%m%d}"
        f"_{now:%Y%m%dT%H%M%SZ}_{audit_id}.{request.fmt}"
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


def prepare_output_dir(out_dir: Path, store: Store, now: datetime, target: str, export_dir: str) -> Path:
    """Create the delivery folder and remove partial files of exports that no longer run.
    Returns the folder's real path (a symlinked folder is resolved once; files go there)."""
    foreign = locations.foreign_folder(out_dir, target, export_dir)
    if foreign is not None:
        raise ExportFailed(
            "output_dir_target",
            f"output dir {out_dir}: inside {foreign}, which belongs to target {foreign.name}; "
            f"an export of {target} writes only {target}'s folders",
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportFailed("output_dir", f"output dir {out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportFailed("output_dir", f"output dir {out_dir}: cannot be created ({exc.strerror})") from exc
    real = out_dir.resolve()
    for path in sorted(real.iterdir()):
        match = files.PARTIAL.match(path.name)
        # only regular files named as this code names them: nothing else in the folder is ours
        if not match or not _ours(match["name"]) or _alive(int(match["pid"])) or not files.is_regular_file(path):
            continue
        delivered = real / match["name"]
        completed = files.is_regular_file(delivered) and os.path.samefile(path, delivered)
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # another export cleaned it first
        except OSError as exc:
            raise ExportFailed(
                "output_dir", f"output dir {out_dir}: stale partial file {path.name} cannot be removed ({exc.strerror})"
            ) from exc
        if completed:  # killed after the delivery was linked into place: its own row says delivered
            continue
        buyer = match["name"].split(FILE_INFIX)[0]
        audit.insert(
            store,
            audit.AuditEntry(
                buyer_id=buyer if BUYER_ID_PATTERN.fullmatch(buyer) else None,
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
    return real


def _ours(name: str) -> bool:
    """A name this code gives a file: a delivery (``<buyer id>_spots_insights_v1_...``) or the dictionary."""
    buyer, infix, _ = name.partition(FILE_INFIX)
    return bool(infix and BUYER_ID_PATTERN.fullmatch(buyer)) or name == dictionary_name()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def _write_validated(
    records: list[dict], request: ExportRequest, validator: RecordValidator, temporary: Path
) -> tuple[str, os.stat_result]:
    """Validate, write ``temporary`` (created here, exclusively), read it back and validate again.
    Removes the file it created if anything fails."""
    validator.check(records)
    try:
        status, written = files.write_new(temporary, writer.encode(records, request.fmt))
    except OSError as exc:
        raise ExportFailed("output_dir", f"output dir {temporary.parent}: cannot write ({exc.strerror})") from exc
    try:
        delivered = writer.decode(request.fmt, written)
        if delivered != records:
            raise ExportInvalid(f"{request.fmt} file does not read back as the validated records")
        validator.check(delivered)
        return writer.sha256(written), status
    except BaseException:
        with suppress(OSError):
            temporary.unlink()
        raise


def dictionary_name() -> str:
    return f"{DATASET}_{SCHEMA_VERSION}.dictionary.md"


def write_dictionary(out_dir: Path, project_root: Path) -> Path:
    """The data dictionary of this schema version, beside the exports (replaced atomically, so
    it is never partial; shared by every export of the same schema version in the folder)."""
    path = out_dir / dictionary_name()
    text = dictionary.markdown(project_root)
    if files.is_regular_file(path) and path.read_text() == text:
        return path
    try:
        files.replace_atomically(path, text.encode())
    except OSError as exc:
        raise ExportFailed("output_dir", f"output dir {out_dir}: cannot write ({exc.strerror or exc})") from exc
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
    *,
    target: str,
) -> ExportResult:
    """Deliver one file of ``target`` (its store, its folders); raises ExportRefused, ExportFailed,
    ExportInvalid or ExportInterrupted, each after its audit row is written.

    The audit row ``delivered`` is written before the file is linked into place, so a
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
        principal = keys.registered(store, request.buyer_id)
        check_request(request, policy, Enumerations.from_seeds(seeds_dir), principal.scopes)
        fingerprints.check_budget(
            store, request, principal.buyer.fingerprints_per_window, policy.fingerprint_window_hours, now
        )
    except ExportRefused as refusal:
        fail("refused", refusal.rule, str(refusal))
        raise

    audit_id = str(uuid.uuid4())
    name = file_name(request, now, audit_id)
    final = temporary = None  # temporary: set once the file is created (and so ours to remove)
    records: list[dict] = []
    warehouse = None
    delivered_row = None
    try:
        real_dir = prepare_output_dir(out_dir, store, now, target, policy.export_dir)
        final = real_dir / name
        warehouse = open_warehouse() if callable(open_warehouse) else open_warehouse
        records = read_slice(warehouse, request)
        planned = files.temporary_path(final)
        digest, status = _write_validated(records, request, RecordValidator(forbidden), planned)
        temporary = planned
        if os.path.lexists(final):  # the id makes the name unique: only something planted can be there
            raise ExportFailed(
                "output_dir",
                f"output dir {out_dir}: {name} exists (a file or a symbolic link); a delivery never replaces anything",
            )
        dictionary_path = write_dictionary(real_dir, project_root)
        _Interrupts.deferred = True  # from here a signal waits: audit row, then the link into place
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
                    audit_id=audit_id,
                    file_path=str(final),
                ),
            )
            fingerprints.record(store, request, now)
        try:
            files.link_into_place(temporary, final, status)
        except OSError as exc:
            why = "the name is taken (never replaced)" if isinstance(exc, FileExistsError) else exc.strerror or exc
            raise ExportFailed(
                "output_dir",
                f"output dir {out_dir}: the validated file could not be moved into place ({why}); "
                f"delivery {delivered_row} withdrawn",
            ) from exc
    except BaseException as exc:
        _Interrupts.deferred = False
        if temporary is not None:
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
        request,
        policy,
        warehouse,
        seeds_dir,
        forbidden,
        out_dir,
        store or open_store(warehouse.target),
        now,
        target=warehouse.target,
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
