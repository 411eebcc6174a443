"""Landing watermarks: the loader's own statement that a landing table is complete through a time.

A release may only read a period whose data is known complete (DESIGN.md §2.15), and that
knowledge comes from whoever lands the rows, never from the rows (a maximum event
timestamp is one person's value: a release decision reading it would be data-dependent).
Each source has one watermark table beside its landing tables, ``<source>_load_watermark``:

    table_name      varchar      the landing table the statement is about
    loaded_through  timestamptz  every row of that table whose event time (occurred_at,
                                 created_at) is before this instant has landed
    recorded_at     timestamptz  when the loader wrote the statement
    loader          varchar      who wrote it (the generator, a batch job, an RPC)

One row per landing table; ``loaded_through`` only moves forward, except when a loader
lands a table again from scratch (the generator recreating it), which replaces it. The
spots release step reads ``raw.spots_load_watermark`` (model stg_spots__load_watermark);
the outreach RPC and the attribution ingestion keep theirs beside their tables in
``public``. docs/landing.md says what a real loader writes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from privacy_insights.targets import Warehouse

SOURCES = ("spots", "outreach", "attribution")
COLUMNS = [
    ("table_name", "varchar"),
    ("loaded_through", "timestamptz"),
    ("recorded_at", "timestamptz"),
    ("loader", "varchar"),
]


def table_name(source: str) -> str:
    """The watermark table of ``source``: ``<source>_load_watermark``."""
    if source not in SOURCES:
        raise ValueError(f"source: must be one of {', '.join(SOURCES)}; got {source!r}")
    return f"{source}_load_watermark"


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset().total_seconds() != 0:
        raise ValueError(f"{field}: must be a UTC timestamp (with a zone of +00:00); got {value.isoformat()}")
    return value.astimezone(UTC)


def ensure_table(warehouse: Warehouse, source: str, schema: str = "raw") -> str:
    """Create the source's watermark table if it is missing; returns its qualified name."""
    qualified = warehouse.qualify(schema, table_name(source), prefixed=False)
    columns = ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS)
    warehouse.connection.execute(f'create schema if not exists "{warehouse.catalog}"."{schema}"')
    warehouse.connection.execute(f"create table if not exists {qualified} ({columns})")
    return qualified


def mark(
    warehouse: Warehouse,
    source: str,
    landing_table: str,
    loaded_through: datetime,
    loader: str,
    schema: str = "raw",
    reload: bool = False,
) -> datetime:
    """Record that ``landing_table`` is complete through ``loaded_through``; returns the watermark now held.

    The watermark never moves back (a late or replayed statement changes nothing) unless
    ``reload``: the table was landed again from scratch and its old statement no longer holds.
    """
    through = _utc(loaded_through, "loaded_through")
    qualified = ensure_table(warehouse, source, schema)
    con = warehouse.connection
    con.execute("begin transaction")
    try:
        rows = con.execute(
            f"select max(loaded_through) from {qualified} where table_name = ?", [landing_table]
        ).fetchone()
        current = rows[0].astimezone(UTC) if rows and rows[0] is not None else None
        if current is not None and current > through and not reload:
            through = current
        con.execute(f"delete from {qualified} where table_name = ?", [landing_table])
        con.execute(f"insert into {qualified} values (?, ?, ?, ?)", [landing_table, through, datetime.now(UTC), loader])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return through


def withdraw(warehouse: Warehouse, source: str, landing_tables: list[str], schema: str = "raw") -> None:
    """Take back the statements about ``landing_tables``: a loader about to land them again from
    scratch withdraws them first, so a load that fails half-way leaves no statement claiming
    the half-filled tables complete; it marks them again once every row has landed."""
    if not landing_tables:
        return
    qualified = ensure_table(warehouse, source, schema)
    placeholders = ", ".join("?" for _ in landing_tables)
    warehouse.connection.execute(f"delete from {qualified} where table_name in ({placeholders})", list(landing_tables))


def read(warehouse: Warehouse, source: str, schema: str = "raw") -> dict[str, datetime]:
    """``{landing table: loaded_through}`` of the source (empty when it has no watermark table)."""
    found = warehouse.connection.execute(
        "select count(*) from information_schema.tables where table_catalog = ? and table_schema = ? "
        "and table_name = ?",
        [warehouse.catalog, schema, table_name(source)],
    ).fetchone()[0]
    if not found:
        return {}
    qualified = warehouse.qualify(schema, table_name(source), prefixed=False)
    rows = warehouse.connection.execute(
        f"select table_name, max(loaded_through) from {qualified} group by 1"
    ).fetchall()
    return {name: value.astimezone(UTC) for name, value in rows if value is not None}
