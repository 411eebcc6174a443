"""The delivery store: buyers, API key hashes, query fingerprints and the audit of every
file export and API request (contract 000 §6.3, §7.2, §10).

It is deliberately *not* the DuckDB warehouse file: DuckDB allows one writer per file, and a
running ``dbt build`` holds it, so an audit kept there could not be written while a build
runs (or when the warehouse is locked, which must itself be audited). So:

- target ``dev``: a SQLite file, ``<delivery root>/dev/delivery.sqlite`` (WAL mode, many
  processes: the API server, exports and the ``buyers`` command at once);
- the PostgreSQL targets: schema ``audit`` of the PostgreSQL database (``dev_audit`` on
  ``pg_dev``, ``ci_audit`` on ``ci``: the targets' schema prefixes).

The delivery root is ``PRIVACY_INSIGHTS_DELIVERY_DIR``, by default ``delivery/`` beside the
DuckDB file (``data/delivery``), with one folder per target (locations.py). dbt reads the
audit through the thin Python staging model ``stg_audit__buyer_requests``. Audit rows are
only inserted (and deleted by retention).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from privacy_insights import targets
from privacy_insights.export.locations import legacy_store_error, sqlite_path

AUDIT_TABLE = "buyer_exports"  # every buyer delivery request, file or API (name kept from the file-only days)
AUDIT_COLUMNS = [
    ("audit_id", "text primary key"),
    ("channel", "text not null"),
    ("buyer_id", "text"),
    ("key_id", "text"),
    ("requested_at", "timestamptz not null"),
    ("endpoint", "text"),
    ("slice", "text"),
    ("fingerprint", "text"),
    ("row_count", "bigint"),
    ("file_format", "text"),
    ("file_name", "text"),
    ("file_sha256", "text"),
    ("file_path", "text"),  # where a delivered file went (its real folder): what retention deletes
    ("outcome", "text not null"),
    ("rule", "text"),
    ("reason", "text"),
    ("http_status", "integer"),
    ("latency_ms", "double precision"),
    # how many requests the row stands for: 1, except the API's requests without a valid key,
    # counted in one row per minute, endpoint, status and rule (audit.count_anonymous)
    ("requests", "bigint not null default 1"),
]
OUTCOMES = ("delivered", "refused", "throttled", "failed", "interrupted")

_DDL = [
    f"create table if not exists {{s}}{AUDIT_TABLE} ({', '.join(f'{n} {k}' for n, k in AUDIT_COLUMNS)})",
    f"create index if not exists {AUDIT_TABLE}_buyer_time on {{s}}{AUDIT_TABLE} (buyer_id, requested_at)",
    """create table if not exists {s}buyers (
        buyer_id text primary key, created_at timestamptz not null, revoked_at timestamptz,
        requests_per_minute integer not null, rows_per_day bigint not null,
        fingerprints_per_window integer not null)""",
    """create table if not exists {s}buyer_api_keys (
        key_id text primary key, buyer_id text not null, secret_sha256 text not null,
        granularities text not null, max_cities integer not null,
        created_at timestamptz not null, revoked_at timestamptz)""",
    """create table if not exists {s}query_fingerprints (
        buyer_id text not null, fingerprint text not null, slice text not null,
        first_seen_at timestamptz not null, last_seen_at timestamptz not null, requests bigint not null,
        primary key (buyer_id, fingerprint))""",
    # the rate limit's and the fingerprint budget's look-ups read an index, never the audit
    # rows (the work per request is bounded by what is in the window, not by the audit's size)
    f"create index if not exists {AUDIT_TABLE}_api_counted on {{s}}{AUDIT_TABLE} "
    "(buyer_id, requested_at) where channel = 'api' and outcome in ('delivered', 'refused')",
    "create index if not exists query_fingerprints_buyer_seen on {s}query_fingerprints (buyer_id, last_seen_at)",
    # rows delivered by the API per buyer and UTC day (the daily row quota), kept by
    # audit.insert in the transaction of the delivered row; backfilled from the audit when created
    """create table if not exists {s}api_rows_per_day (
        buyer_id text not null, day text not null, rows bigint not null, primary key (buyer_id, day))""",
]
# (day as YYYY-MM-DD text in UTC on both backends)
_DAY = {"sqlite": "substr(requested_at, 1, 10)", "postgres": "to_char(requested_at at time zone 'UTC', 'YYYY-MM-DD')"}
_BACKFILL_ROWS_PER_DAY = (
    "insert into {s}api_rows_per_day (buyer_id, day, rows) "
    "select buyer_id, {day}, sum(row_count) from {s}" + AUDIT_TABLE + " "
    "where channel = 'api' and outcome = 'delivered' and buyer_id is not null group by buyer_id, {day}"
)


class StoreUnavailable(RuntimeError):
    """The delivery store cannot be opened or written."""


class Store:
    """One store, usable from many threads (a connection per thread)."""

    def __init__(self, kind: str, schema: str = "audit", wait_seconds: float = 30.0):
        if kind not in ("sqlite", "postgres"):
            raise ValueError(f"store kind: must be sqlite or postgres, got {kind!r}")
        self.kind = kind
        # how long a statement waits for a lock another connection holds before StoreUnavailable
        # (the API server bounds it to seconds, then answers 503 with Retry-After)
        self.wait_seconds = wait_seconds
        self.schema = schema
        self.prefix = f"{schema}." if kind == "postgres" else ""
        self._local = threading.local()
        self._ready = False
        self._ready_lock = threading.Lock()

    # -- connections -------------------------------------------------------------------
    def _connect(self):
        if self.kind == "sqlite":
            path = sqlite_path()
            if legacy_store_error():
                raise StoreUnavailable(legacy_store_error())
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                con = sqlite3.connect(
                    str(path), timeout=self.wait_seconds, isolation_level=None, check_same_thread=False
                )
                con.execute("pragma journal_mode=wal")
                con.execute("pragma synchronous=normal")
            except (OSError, sqlite3.Error) as exc:
                raise StoreUnavailable(f"delivery store {path}: {exc}") from exc
            return con
        import psycopg

        try:
            wait_ms = max(1, round(self.wait_seconds * 1000))
            return psycopg.connect(
                targets.postgres_dsn(),
                autocommit=True,
                connect_timeout=max(2, min(10, round(self.wait_seconds))),
                options=f"-c lock_timeout={wait_ms} -c statement_timeout={max(wait_ms, 5000)}",
            )
        except psycopg.Error as exc:
            raise StoreUnavailable(f"delivery store (PostgreSQL schema {self.schema}): {exc}") from exc

    def _con(self):
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
        if not self._ready:
            with self._ready_lock:
                if not self._ready:
                    try:
                        self._create(con)
                    except (sqlite3.Error, _pg_error()) as exc:
                        raise StoreUnavailable(f"delivery store: {exc}") from exc
                    self._ready = True
        return con

    def _create(self, con) -> None:
        if self.kind == "postgres":
            con.execute(f'create schema if not exists "{self.schema}"')
        counted = self._exists(con, "api_rows_per_day")
        for ddl in _DDL:
            con.execute(ddl.replace("{s}", self.prefix).replace("timestamptz", self._ts_type))
        if "requests" not in self._columns(con, AUDIT_TABLE):  # a store from before the column
            con.execute(f"alter table {self.prefix}{AUDIT_TABLE} add column requests bigint not null default 1")
        if not counted:  # a store from before the counter: count what its audit delivered
            con.execute(_BACKFILL_ROWS_PER_DAY.replace("{s}", self.prefix).replace("{day}", _DAY[self.kind]))
        self._add_new_columns(con)

    def _add_new_columns(self, con) -> None:
        """Audit columns added since a store was created (``file_path``), added to it (nullable)."""
        table = f"{self.prefix}{AUDIT_TABLE}"
        if self.kind == "postgres":  # (an ALTER locks the table even when it changes nothing)
            present = {
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                    (self.schema, AUDIT_TABLE),
                ).fetchall()
            }
            for name, kind in AUDIT_COLUMNS:
                if name not in present:
                    con.execute(f"alter table {table} add column if not exists {name} {kind}")
            return
        if all(name in self._sqlite_columns(con) for name, _ in AUDIT_COLUMNS):
            return  # (no write lock taken when nothing is missing)
        con.execute("begin immediate")  # one process adds them; another then finds them
        try:
            present = self._sqlite_columns(con)
            for name, kind in AUDIT_COLUMNS:
                if name not in present:
                    con.execute(f"alter table {table} add column {name} {kind}")
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")

    @staticmethod
    def _sqlite_columns(con) -> set[str]:
        return {row[1] for row in con.execute(f"pragma table_info({AUDIT_TABLE})").fetchall()}

    def _exists(self, con, table: str) -> bool:
        if self.kind == "sqlite":
            return bool(con.execute("select 1 from sqlite_master where name = ?", (table,)).fetchall())
        return con.execute("select to_regclass(%s)", (f"{self.prefix}{table}",)).fetchone()[0] is not None

    def _columns(self, con, table: str) -> set[str]:
        if self.kind == "sqlite":
            return {row[1] for row in con.execute(f"pragma table_info({table})").fetchall()}
        rows = con.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (self.schema, table),
        ).fetchall()
        return {row[0] for row in rows}

    @property
    def _ts_type(self) -> str:
        return "text" if self.kind == "sqlite" else "timestamptz"

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- SQL helpers -----------------------------------------------------------------------
    def table(self, name: str) -> str:
        return self.prefix + name

    def ts(self, value: datetime) -> Any:
        """A timestamp as stored: ISO text in UTC (sorts correctly) on SQLite, timestamptz on PostgreSQL."""
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if self.kind == "sqlite" else value

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.kind == "postgres" else sql

    def execute(self, sql: str, params: tuple | list = ()) -> None:
        try:
            self._con().execute(self._sql(sql), params)
        except (sqlite3.Error, _pg_error()) as exc:
            raise StoreUnavailable(f"delivery store: {exc}") from exc

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        try:
            return list(self._con().execute(self._sql(sql), params).fetchall())
        except (sqlite3.Error, _pg_error()) as exc:
            raise StoreUnavailable(f"delivery store: {exc}") from exc

    def day(self, value: datetime) -> str:
        """A UTC day as stored in the per-day counters: YYYY-MM-DD."""
        return value.astimezone(UTC).strftime("%Y-%m-%d")

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[None]:
        """Statements that must land together (SQLite: one writer at a time). Inside another
        transaction of this thread's connection, the statements join it. ``lock`` (e.g. a buyer)
        also serializes, across connections and processes, the transactions that name it: on
        SQLite every write transaction already is (``begin immediate``), on PostgreSQL a
        transaction-level advisory lock is taken first; so a check and the row it counts land
        together (the API's exact quotas)."""
        con = self._con()
        if self._in_transaction(con):
            yield
        elif self.kind == "sqlite":
            try:
                con.execute("begin immediate")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"delivery store: {exc}") from exc
            try:
                yield
            except BaseException:
                con.execute("rollback")
                raise
            try:
                con.execute("commit")
            except sqlite3.Error as exc:
                con.execute("rollback")
                raise StoreUnavailable(f"delivery store: {exc}") from exc
        else:
            import psycopg

            try:
                with con.transaction():
                    if lock is not None:
                        con.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
                    yield
            except psycopg.Error as exc:
                raise StoreUnavailable(f"delivery store: {exc}") from exc

    def _in_transaction(self, con) -> bool:
        if self.kind == "sqlite":
            return con.in_transaction
        import psycopg

        return con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def _pg_error():
    try:
        import psycopg

        return psycopg.Error
    except ImportError:  # pragma: no cover
        return sqlite3.Error


_stores: dict[tuple, Store] = {}
_stores_lock = threading.Lock()


def open_store(target: str) -> Store:
    """The delivery store of a target (``dev``: SQLite; PostgreSQL targets: their audit schema)."""
    targets.check_target(target)
    kind = "postgres" if target in targets.POSTGRES_TARGETS else "sqlite"
    if kind == "sqlite" and legacy_store_error():  # before anything starts (a server, an export)
        raise StoreUnavailable(legacy_store_error())
    schema = targets.schema_prefix(target) + "audit"
    key = (kind, str(sqlite_path()) if kind == "sqlite" else targets.postgres_dsn(), schema)
    with _stores_lock:
        if key not in _stores:
            _stores[key] = Store(kind, schema)
        return _stores[key]


def read_only_rows(kind: str, sql_by_table: str, schema: str = "audit") -> tuple[list[str], list[tuple]]:
    """Rows for dbt's staging model, without creating anything: ([], []) when nothing was audited yet."""
    if kind == "sqlite":
        path = sqlite_path()
        if legacy_store_error():
            raise StoreUnavailable(legacy_store_error())
        if not path.exists():
            return [], []
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            if not con.execute("select 1 from sqlite_master where name = ?", (AUDIT_TABLE,)).fetchall():
                return [], []
            cursor = con.execute(sql_by_table.replace("{s}", ""))
            return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            con.close()
    import psycopg

    with psycopg.connect(targets.postgres_dsn(), connect_timeout=10) as con:
        if con.execute("select to_regclass(%s)", (f"{schema}.{AUDIT_TABLE}",)).fetchone()[0] is None:
            return [], []
        cursor = con.execute(sql_by_table.replace("{s}", f"{schema}."))
        return [d.name for d in cursor.description], cursor.fetchall()


def audit_table_for_dbt(kind: str, audit_schema: str = "audit"):
    """The audit as a typed Arrow table for dbt's staging model (no key hashes: the audit holds none)."""
    import json as _json

    import pyarrow as pa

    columns = pa.schema(
        [
            ("audit_id", pa.string()),
            ("channel", pa.string()),
            ("buyer_id", pa.string()),
            ("key_id", pa.string()),
            ("requested_at", pa.timestamp("us", tz="UTC")),
            ("endpoint", pa.string()),
            ("outcome", pa.string()),
            ("http_status", pa.int32()),
            ("rule", pa.string()),
            ("reason", pa.string()),
            ("fingerprint", pa.string()),
            ("row_count", pa.int64()),
            ("file_format", pa.string()),
            ("file_name", pa.string()),
            ("latency_ms", pa.float64()),
            ("requests", pa.int64()),
            ("slice_granularity", pa.string()),
            ("slice_start", pa.date32()),
            ("slice_end", pa.date32()),
            ("slice_cities", pa.int32()),
        ]
    )
    names, rows = read_only_rows(
        kind,
        "select * from {s}" + AUDIT_TABLE,  # by name: a store no new code has opened yet lacks `requests`
        audit_schema,
    )
    out: dict[str, list] = {f.name: [] for f in columns}
    for row in rows:
        values = dict(zip(names, row, strict=True))
        values["requests"] = values.get("requests") or 1
        at = values["requested_at"]
        values["requested_at"] = (
            at if isinstance(at, datetime) else datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        )
        try:
            requested = _json.loads(values.pop("slice") or "{}")
        except ValueError:
            requested = {}
        requested = requested if isinstance(requested, dict) else {}
        values["slice_granularity"] = (
            requested.get("granularity") if isinstance(requested.get("granularity"), str) else None
        )
        for key in ("start", "end"):
            try:
                values[f"slice_{key}"] = datetime.strptime(str(requested.get(key)), "%Y-%m-%d").date()
            except ValueError:
                values[f"slice_{key}"] = None
        cities = requested.get("cities")
        values["slice_cities"] = len(cities) if isinstance(cities, list) else None
        for name in out:
            out[name].append(values.get(name))
    return pa.table(out, schema=columns)
