"""Deterministic synthetic raw data for all three contracts, streamed in chunks.

``generate(config, warehouse)`` (re)creates the raw tables in the target's ``raw`` schema
and fills them chunk by chunk: numpy draws one chunk's numbers, DuckDB turns them into
rows (ids, text) and appends them, and the chunk is dropped, so memory does not grow with
the row count. The same seed gives the same rows on either target.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from privacy_insights import landing
from privacy_insights.geo import City, read_cities
from privacy_insights.synthetic import attribution, outreach, spots
from privacy_insights.synthetic.common import chunks
from privacy_insights.synthetic.config import GeneratorConfig
from privacy_insights.synthetic.raw_tables import TABLES_BY_CONTRACT, create_table_sql
from privacy_insights.targets import Warehouse

__all__ = ["GeneratorConfig", "generate"]
log = logging.getLogger(__name__)


@dataclass
class _Sink:
    warehouse: Warehouse
    schema: str

    def table(self, name: str) -> str:
        return self.warehouse.qualify(self.schema, name, prefixed=False)

    def recreate(self, name: str) -> None:
        con = self.warehouse.connection
        con.execute(f"drop table if exists {self.table(name)}")
        con.execute(create_table_sql(self.table(name), name))

    def append(self, chunk, sql: str) -> None:
        con = self.warehouse.connection
        con.register("chunk", chunk)
        try:
            con.execute(sql)
        finally:
            con.unregister("chunk")


def _selected_cities(cfg: GeneratorConfig, seeds_dir: Path) -> list[City]:
    cities = read_cities(seeds_dir / "city_definitions.csv")
    if not cfg.cities:
        return cities
    known = {c.code for c in cities}
    unknown = sorted(set(cfg.cities) - known)
    if unknown:
        raise ValueError(f"cities: unknown city codes {unknown}; see seeds/city_definitions.csv")
    return [c for c in cities if c.code in cfg.cities]


def generate(cfg: GeneratorConfig, warehouse: Warehouse, seeds_dir: Path, schema: str = "raw") -> dict[str, int]:
    """Write the raw tables of ``cfg.tables``; returns rows written per table."""
    cities = _selected_cities(cfg, seeds_dir)
    sink = _Sink(warehouse, schema)
    warehouse.connection.execute(f'create schema if not exists "{warehouse.catalog}"."{schema}"')
    streams = dict(zip(("spots", "outreach", "attribution"), np.random.SeedSequence(cfg.seed).spawn(3), strict=True))

    if "spots" in cfg.tables:
        rng = np.random.default_rng(streams["spots"])
        messages = spots.message_pool(rng)
        sink.recreate("spots_interaction_events")
        sql = spots.insert_sql(sink.table("spots_interaction_events"), cfg.seed)
        for offset, n in chunks(cfg.events, cfg.chunk_rows):
            sink.append(spots.generate_chunk(cfg, cities, rng, offset, n, messages), sql)
            log.info("spots_interaction_events: %s of %s rows", offset + n, cfg.events)

    if "outreach" in cfg.tables:
        rng = np.random.default_rng(streams["outreach"])
        sink.recreate("outreach_event_logs")
        sql = outreach.insert_sql(sink.table("outreach_event_logs"), cfg.seed)
        for offset, n in chunks(cfg.n_outreach, cfg.chunk_rows):
            sink.append(outreach.generate_chunk(cfg, rng, offset, n), sql)

    if "attribution" in cfg.tables:
        rng = np.random.default_rng(streams["attribution"])
        for name in TABLES_BY_CONTRACT["attribution"]:
            sink.recreate(name)
        for offset, n in chunks(cfg.n_attribution, cfg.chunk_rows):
            tables = attribution.generate_chunk(cfg, rng, offset, n)
            for name, chunk in tables.items():
                sink.append(chunk, attribution.insert_sql(name, sink.table(name), cfg.seed))
            sink.append(tables["attribution_events"], attribution.dead_events_sql(sink.table("dead_events"), cfg.seed))
        warehouse.connection.execute(attribution.reconciliation_sql(cfg, sink.table("reconciliation_runs")))

    counts = {}
    for contract in cfg.tables:
        for name in TABLES_BY_CONTRACT[contract]:
            counts[name] = warehouse.connection.sql(f"select count(*) from {sink.table(name)}").fetchone()[0]
        _mark_landed(cfg, warehouse, contract, schema)
    return counts


def _mark_landed(cfg: GeneratorConfig, warehouse: Warehouse, contract: str, schema: str) -> None:
    """The generator is the loader of its tables: it states they are complete through the end of
    its window (landing.py); the few SPOTS events its local-time shift puts after that instant
    are beyond the statement. A table generated again is landed again from scratch, so its old
    statement is replaced."""
    through = cfg.start + timedelta(days=cfg.days)
    for name in TABLES_BY_CONTRACT[contract]:
        landing.mark(warehouse, contract, name, through, "privacy-insights generate", schema, reload=True)


def generate_parquet(cfg: GeneratorConfig, folder: Path, seeds_dir: Path, memory_limit: str | None = None) -> dict:
    """The same rows as ``generate``, written as Parquet: ``folder/<table>/part-0.parquet`` per raw table.

    The rows are generated into a scratch DuckDB file in ``folder`` (deleted afterwards) and
    copied out; each file is written under a temporary name and renamed when complete, so a
    failure never leaves a partial file. Timestamps keep their zone (Parquet
    isAdjustedToUTC), which Spark reads as instants (README "Spark").
    """
    import duckdb

    from privacy_insights.targets import offline_config

    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / f".generate-{cfg.seed}.duckdb"
    scratch.unlink(missing_ok=True)
    config = offline_config() | ({"memory_limit": memory_limit} if memory_limit else {})
    con = duckdb.connect(str(scratch), config=config)
    try:
        warehouse = Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev")
        counts = generate(cfg, warehouse, seeds_dir)
        for name in [*counts, *(landing.table_name(c) for c in cfg.tables)]:
            table_dir = folder / name
            table_dir.mkdir(exist_ok=True)
            partial = table_dir / ".part-0.parquet.writing"
            table = warehouse.qualify("raw", name, prefixed=False)
            con.execute(f"copy (select * from {table}) to '{partial}' (format parquet)")
            partial.rename(table_dir / "part-0.parquet")
    finally:
        con.close()
        scratch.unlink(missing_ok=True)
        scratch.with_name(scratch.name + ".wal").unlink(missing_ok=True)
    return counts
