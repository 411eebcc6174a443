"""Where generated chunks go: a target's raw schema, or a folder of Parquet files.

A sink gets ``begin`` (the contracts about to be landed), ``write`` once per table and
chunk (each a separate commit), ``write_query`` for rows computed without a chunk, and
``finish`` once every chunk is written. The landing watermark (``landing.py``) is
withdrawn in ``begin`` and written in ``finish`` only: a run that fails half-way leaves
no statement that its tables are complete.

- ``WarehouseSink``: ``insert into raw.<table> select ... from chunk`` through the target's
  DuckDB connection; on PostgreSQL targets DuckDB's postgres extension sends each chunk
  with one binary ``COPY ... FROM STDIN``.
- ``ParquetSink``: one ``part-NNNNN.parquet`` per chunk in a hidden folder per table,
  renamed to ``<folder>/<table>`` when the run finishes (never a partial table folder).
"""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from privacy_insights import landing
from privacy_insights.folders import replace_folder
from privacy_insights.synthetic.config import GeneratorConfig
from privacy_insights.synthetic.raw_tables import RAW_TABLES, TABLES_BY_CONTRACT, create_table_sql
from privacy_insights.targets import Warehouse

LOADER = "privacy-insights generate"


def _through(cfg: GeneratorConfig):
    """The generator is the loader of its tables: they are complete through the end of its
    window; the few SPOTS events its local-time shift puts after that instant are beyond
    the statement."""
    return cfg.start + timedelta(days=cfg.days)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, chunk: pa.Table | None = None) -> int:
    """Run an ``insert`` or ``copy`` over the chunk registered as ``chunk``; returns its row count."""
    if chunk is None:
        return int(con.execute(sql).fetchone()[0])
    con.register("chunk", chunk)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.unregister("chunk")


class WarehouseSink:
    def __init__(self, warehouse: Warehouse, schema: str = "raw"):
        self.warehouse = warehouse
        self.schema = schema

    def table(self, name: str) -> str:
        return self.warehouse.qualify(self.schema, name, prefixed=False)

    def begin(self, contracts: list[str]) -> None:
        con = self.warehouse.connection
        con.execute(f'create schema if not exists "{self.warehouse.catalog}"."{self.schema}"')
        for contract in contracts:
            landing.withdraw(self.warehouse, contract, list(TABLES_BY_CONTRACT[contract]), self.schema)
            for name in TABLES_BY_CONTRACT[contract]:
                con.execute(f"drop table if exists {self.table(name)}")
                con.execute(create_table_sql(self.table(name), name))

    def write(self, name: str, chunk: pa.Table, select_sql: str) -> int:
        return _rows(self.warehouse.connection, f"insert into {self.table(name)} {select_sql}", chunk)

    def write_query(self, name: str, select_sql: str) -> int:
        return _rows(self.warehouse.connection, f"insert into {self.table(name)} {select_sql}")

    def finish(self, cfg: GeneratorConfig, contracts: list[str]) -> None:
        """A table generated again is landed again from scratch: its old statement was withdrawn."""
        for contract in contracts:
            for name in TABLES_BY_CONTRACT[contract]:
                landing.mark(self.warehouse, contract, name, _through(cfg), LOADER, self.schema, reload=True)

    def abort(self) -> None:
        """Nothing to undo: the committed chunks stay, without a watermark claiming them complete."""


def _typed(name: str, select_sql: str) -> str:
    """The select with every column cast to the raw table's type, as an insert would store it."""
    columns = ", ".join(f'"{column}"::{kind} as "{column}"' for column, kind in RAW_TABLES[name])
    return f"select {columns} from ({select_sql})"


class ParquetSink:
    """Parquet files per table under ``folder``; DuckDB (in memory) turns chunks into rows."""

    def __init__(self, folder: Path, memory_limit: str | None = None):
        from privacy_insights.targets import offline_config

        self.folder = folder
        config = offline_config() | ({"memory_limit": memory_limit} if memory_limit else {})
        self.con = duckdb.connect(config=config)
        self.run = uuid.uuid4().hex[:8]
        self.writing: dict[str, Path] = {}
        self.parts: dict[str, int] = {}

    def _folder_for(self, name: str) -> Path:
        if name not in self.writing:
            path = self.folder / f".{name}.writing-{self.run}"
            path.mkdir()
            self.writing[name] = path
            self.parts[name] = 0
        return self.writing[name]

    def _copy(self, name: str, select_sql: str, chunk: pa.Table | None = None) -> int:
        folder = self._folder_for(name)
        part = folder / f"part-{self.parts[name]:05d}.parquet"
        self.parts[name] += 1
        return _rows(self.con, f"copy ({_typed(name, select_sql)}) to '{part}' (format parquet)", chunk)

    def begin(self, contracts: list[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for contract in contracts:
            watermark = self.folder / landing.table_name(contract)
            if watermark.exists():
                shutil.rmtree(watermark)
            for name in TABLES_BY_CONTRACT[contract]:
                self._folder_for(name)

    def write(self, name: str, chunk: pa.Table, select_sql: str) -> int:
        return self._copy(name, select_sql, chunk)

    def write_query(self, name: str, select_sql: str) -> int:
        return self._copy(name, select_sql)

    def finish(self, cfg: GeneratorConfig, contracts: list[str]) -> None:
        """Put every table in place, then write each source's watermark, last."""
        for name, path in self.writing.items():
            replace_folder(path, self.folder / name)
        self.writing = {}
        warehouse = Warehouse(self.con, self.con.sql("select current_database()").fetchone()[0], "dev")
        for contract in contracts:
            for name in TABLES_BY_CONTRACT[contract]:
                landing.mark(warehouse, contract, name, _through(cfg), LOADER, reload=True)
            watermark = landing.table_name(contract)
            path = self.folder / f".{watermark}.writing-{self.run}"
            path.mkdir()
            self.con.execute(
                f"copy (select * from {warehouse.qualify('raw', watermark, prefixed=False)}) "
                f"to '{path / 'part-00000.parquet'}' (format parquet)"
            )
            replace_folder(path, self.folder / watermark)
        self.con.close()

    def abort(self) -> None:
        """Remove every table folder still being written; the folder's earlier tables stay as they were."""
        for path in self.writing.values():
            shutil.rmtree(path, ignore_errors=True)
        self.writing = {}
        self.con.close()
