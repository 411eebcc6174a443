"""Deterministic synthetic raw data for all three contracts, streamed in chunks.

``generate(config, warehouse)`` (re)creates the raw tables in the target's ``raw`` schema
and fills them chunk by chunk: numpy draws a block's numbers (``stream.py``: a block's
randomness comes from the seed, the contract and the block's number, so the rows do not
depend on the chunk size), DuckDB turns a chunk into rows (ids, text) and appends them,
and the chunk is dropped, so memory does not grow with the row count. The same seed gives
the same rows on every target and in Parquet (``generate_parquet``). Each source's landing
watermark is withdrawn first and written once, after the last chunk (``sinks.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from privacy_insights.geo import City, read_cities
from privacy_insights.synthetic import attribution, outreach, spots
from privacy_insights.synthetic.config import GeneratorConfig
from privacy_insights.synthetic.sinks import ParquetSink, WarehouseSink
from privacy_insights.synthetic.stream import Chunk, contract_chunks
from privacy_insights.targets import Warehouse

__all__ = ["GeneratorConfig", "generate", "generate_parquet"]
log = logging.getLogger(__name__)
CONTRACTS = ("spots", "outreach", "attribution")  # the order they are written in
# Called after each chunk of a contract is written: (contract, chunk number, the chunk).
ChunkHook = Callable[[str, int, Chunk], None]


def _selected_cities(cfg: GeneratorConfig, seeds_dir: Path) -> list[City]:
    cities = read_cities(seeds_dir / "city_definitions.csv")
    if not cfg.cities:
        return cities
    known = {c.code for c in cities}
    unknown = sorted(set(cfg.cities) - known)
    if unknown:
        raise ValueError(f"cities: unknown city codes {unknown}; see seeds/city_definitions.csv")
    return [c for c in cities if c.code in cfg.cities]


def _selects(contract: str, seed: int) -> list[tuple[str, str, str]]:
    """(raw table, chunk table it is made from, select over ``chunk``) for each table of a contract."""
    if contract == "spots":
        return [("spots_interaction_events", "spots_interaction_events", spots.select_sql(seed))]
    if contract == "outreach":
        return [("outreach_event_logs", "outreach_event_logs", outreach.select_sql(seed))]
    names = ("attribution_events", "attribution_allocations", "revenue_ledger", "revenue_state_transitions")
    return [(name, name, attribution.select_sql(name, seed)) for name in names] + [
        ("dead_events", "attribution_events", attribution.dead_events_sql(seed))
    ]


def _run(cfg: GeneratorConfig, cities: list[City], sink, on_chunk: ChunkHook | None) -> dict[str, int]:
    contracts = [c for c in CONTRACTS if c in cfg.tables]
    counts: dict[str, int] = {}
    try:
        sink.begin(contracts)
        for contract in contracts:
            selects = _selects(contract, cfg.seed)
            for name, _, _ in selects:
                counts[name] = 0
            for number, chunk in enumerate(contract_chunks(cfg, contract, cities)):
                for name, source, sql in selects:
                    counts[name] += sink.write(name, chunk[source], sql)
                log.info("%s: chunk %s written", contract, number)
                if on_chunk is not None:
                    on_chunk(contract, number, chunk)
                del chunk
            if contract == "attribution":
                counts["reconciliation_runs"] = sink.write_query(
                    "reconciliation_runs", attribution.reconciliation_sql(cfg)
                )
        sink.finish(cfg, contracts)
    except BaseException:
        sink.abort()
        raise
    return counts


def generate(
    cfg: GeneratorConfig,
    warehouse: Warehouse,
    seeds_dir: Path,
    schema: str = "raw",
    on_chunk: ChunkHook | None = None,
) -> dict[str, int]:
    """Write the raw tables of ``cfg.tables`` into ``warehouse``; returns rows written per table."""
    return _run(cfg, _selected_cities(cfg, seeds_dir), WarehouseSink(warehouse, schema), on_chunk)


def generate_parquet(
    cfg: GeneratorConfig,
    folder: Path,
    seeds_dir: Path,
    memory_limit: str | None = None,
    on_chunk: ChunkHook | None = None,
) -> dict[str, int]:
    """The same rows as ``generate``, as Parquet: ``folder/<table>/part-NNNNN.parquet``, one file per chunk,
    and each source's watermark in ``folder/<source>_load_watermark``.

    Each table is written into a hidden folder and renamed into place when every table is
    complete, so a failure never leaves a partial table (the folder's earlier tables stay,
    their watermark removed). Timestamps keep their zone (Parquet isAdjustedToUTC), which
    Spark reads as instants (docs/spark.md).
    """
    cities = _selected_cities(cfg, seeds_dir)
    return _run(cfg, cities, ParquetSink(folder, memory_limit), on_chunk)
