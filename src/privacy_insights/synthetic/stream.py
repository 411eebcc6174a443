"""The generator's row stream: drawn in fixed blocks, handed out in chunks of any size.

Reproducibility contract: a table's rows depend on the seed and the data knobs of
``GeneratorConfig`` (events, window, shares, ...), never on ``chunk_rows`` or on how many
chunks were written before. Rows are drawn in blocks of ``BLOCK_ROWS``; block ``k`` of a
contract draws from its own numpy Generator, seeded from ``(seed, contract, k)``:

- block 0 from ``SeedSequence(seed, spawn_key=(c,))``, the contract's stream as every
  earlier version drew it, so a table of at most one block has the rows it always had;
- block ``k >= 1`` from ``SeedSequence(seed, spawn_key=(c, k))``.

``chunk_rows`` only decides how many rows go to the sink at once: a chunk is cut from one
block or glued from several, so memory holds one block and one chunk whatever ``events``
is, and a chunk iterator keeps no reference to a chunk it has handed out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from privacy_insights.geo import City
from privacy_insights.synthetic import attribution, outreach, spots
from privacy_insights.synthetic.common import chunks
from privacy_insights.synthetic.config import GeneratorConfig

BLOCK_ROWS = 200_000
CONTRACT_STREAMS = {"spots": 0, "outreach": 1, "attribution": 2}
# Per table of a block: None when row i of the table is row offset + i of the contract,
# else the column holding the contract row a derived row belongs to.
ROW_KEYS = {
    "spots": {"spots_interaction_events": None},
    "outreach": {"outreach_event_logs": None},
    "attribution": {
        "attribution_events": None,
        "attribution_allocations": "event_row",
        "revenue_ledger": "event_row",
        "revenue_state_transitions": "event_row",
    },
}

Chunk = dict[str, pa.Table]


def block_rng(seed: int, contract: str, block: int) -> np.random.Generator:
    """The numpy Generator of ``contract``'s block number ``block`` (module docstring)."""
    stream = CONTRACT_STREAMS[contract]
    spawn_key = (stream,) if block == 0 else (stream, block)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key))


def _piece(block: Chunk, offset: int, n: int, lo: int, hi: int, keys: dict[str, str | None]) -> Chunk:
    """The rows of contract rows ``[lo, hi)`` of a block holding rows ``[offset, offset + n)``."""
    if lo == offset and hi == offset + n:
        return block
    piece = {}
    for name, table in block.items():
        key = keys[name]
        if key is None:
            piece[name] = table.slice(lo - offset, hi - lo)
        else:
            column = table.column(key)
            piece[name] = table.filter(pc.and_(pc.greater_equal(column, lo), pc.less(column, hi)))
    return piece


def _glue(pieces: list[Chunk]) -> Chunk:
    if len(pieces) == 1:
        return pieces[0]
    return {name: pa.concat_tables([p[name] for p in pieces]) for name in pieces[0]}


def rechunk(blocks: Iterator[tuple[int, int, Chunk]], chunk_rows: int, keys: dict[str, str | None]) -> Iterator[Chunk]:
    """Chunks of ``chunk_rows`` contract rows (the last may be shorter) from consecutive blocks."""
    pending: list[Chunk] = []
    pending_rows = 0
    for offset, n, block in blocks:
        position = offset
        while position < offset + n:
            take = min(offset + n - position, chunk_rows - pending_rows)
            pending.append(_piece(block, offset, n, position, position + take, keys))
            pending_rows += take
            position += take
            if pending_rows == chunk_rows:
                glued, pending, pending_rows = _glue(pending), [], 0
                yield glued
                del glued  # hold nothing of a chunk once it is handed out
        del block
    if pending:
        glued, pending = _glue(pending), []
        yield glued


def _blocks(
    total: int,
    make: Callable[[np.random.Generator, int, int], Chunk],
    first: np.random.Generator,
    seed: int,
    contract: str,
):
    for index, (offset, n) in enumerate(chunks(total, BLOCK_ROWS)):
        rng = first if index == 0 else block_rng(seed, contract, index)
        yield offset, n, make(rng, offset, n)


def contract_chunks(cfg: GeneratorConfig, contract: str, cities: list[City]) -> Iterator[Chunk]:
    """``contract``'s rows as chunks of ``cfg.chunk_rows`` (``{table: Arrow table}`` each)."""
    first = block_rng(cfg.seed, contract, 0)
    if contract == "spots":
        messages = spots.message_pool(first)  # drawn once, from the head of block 0's stream

        def make(rng, offset, n):
            return {"spots_interaction_events": spots.generate_chunk(cfg, cities, rng, offset, n, messages)}

        total = cfg.events
    elif contract == "outreach":

        def make(rng, offset, n):
            return {"outreach_event_logs": outreach.generate_chunk(cfg, rng, offset, n)}

        total = cfg.n_outreach
    elif contract == "attribution":

        def make(rng, offset, n):
            return attribution.generate_chunk(cfg, rng, offset, n)

        total = cfg.n_attribution
    else:
        raise ValueError(f"contract: unknown {contract!r}; expected spots, outreach, attribution")
    return rechunk(_blocks(total, make, first, cfg.seed, contract), cfg.chunk_rows, ROW_KEYS[contract])
