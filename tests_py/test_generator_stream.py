"""The generator streams: rows independent of the chunk size, one chunk held at a time, the same
rows in DuckDB, PostgreSQL and Parquet, and a landing watermark only once every chunk is written."""

from __future__ import annotations

import weakref

import duckdb
import pyarrow as pa
import pytest

from harness import REPO
from privacy_insights import landing, targets
from privacy_insights.geo import read_cities
from privacy_insights.synthetic import GeneratorConfig, generate, generate_parquet, outreach
from privacy_insights.synthetic.raw_tables import RAW_TABLES, TABLES_BY_CONTRACT
from privacy_insights.synthetic.stream import BLOCK_ROWS, ROW_KEYS, contract_chunks
from privacy_insights.targets import Warehouse

SEEDS = REPO / "seeds"
SMALL = {"events": 20_000, "seed": 7}  # 20,000 SPOTS, 2,000 outreach, 1,000 attribution rows


def warehouse_of(con: duckdb.DuckDBPyConnection) -> Warehouse:
    return Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev")


def fingerprints(con: duckdb.DuckDBPyConnection, relation) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of its sorted rows)}; ``relation(table)`` names the table to read."""
    found = {}
    for table, columns in RAW_TABLES.items():
        text = ", ".join(f"coalesce(cast(\"{c}\" as varchar), '~')" for c, _ in columns)
        row = f"concat_ws('|', {text})"
        found[table] = con.sql(
            f"select count(*), md5(string_agg({row}, ',' order by {row})) from {relation(table)}"
        ).fetchone()
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """SMALL written to DuckDB in chunks of 7,000 rows: (fingerprints, rows written per table)."""
    con = duckdb.connect(str(tmp_path_factory.mktemp("stream") / "reference.duckdb"))
    counts = generate(GeneratorConfig(**SMALL, chunk_rows=7_000), warehouse_of(con), SEEDS)
    found = fingerprints(con, lambda t: f"raw.{t}")
    con.close()
    return found, counts


def test_rows_do_not_depend_on_the_chunk_size(reference, tmp_path):
    expected, counts = reference
    con = duckdb.connect(str(tmp_path / "small_chunks.duckdb"))
    generate(GeneratorConfig(**SMALL, chunk_rows=1_000), warehouse_of(con), SEEDS)
    assert fingerprints(con, lambda t: f"raw.{t}") == expected
    assert {t: rows for t, (rows, _) in expected.items()} == counts  # the returned counts are the stored rows
    assert counts["spots_interaction_events"] == 20_000
    assert counts["outreach_event_logs"] == 2_000
    assert counts["attribution_events"] == 1_000


def _concat(cfg: GeneratorConfig, contract: str) -> tuple[dict[str, pa.Table], list[int]]:
    """Every chunk of a contract glued together, and each chunk's number of contract rows."""
    cities = read_cities(SEEDS / "city_definitions.csv")
    parts, sizes = [], []
    for chunk in contract_chunks(cfg, contract, cities):
        parts.append(chunk)
        sizes.append(next(t.num_rows for n, t in chunk.items() if ROW_KEYS[contract][n] is None))
    return {name: pa.concat_tables([p[name] for p in parts]) for name in parts[0]}, sizes


@pytest.mark.parametrize("contract", ["spots", "outreach", "attribution"])
def test_chunks_cut_across_blocks_give_the_same_rows(contract):
    """Over 2.25 blocks, chunks of 70,000 rows (cut inside blocks and glued across them) hold
    exactly the rows of chunks that are whole blocks; and no block repeats another."""
    total = 2 * BLOCK_ROWS + BLOCK_ROWS // 4
    knobs = {"events": total, "outreach_events": total, "attribution_events": total, "seed": 3}
    whole, whole_sizes = _concat(GeneratorConfig(**knobs, chunk_rows=BLOCK_ROWS), contract)
    cut, cut_sizes = _concat(GeneratorConfig(**knobs, chunk_rows=70_000), contract)
    assert whole_sizes == [BLOCK_ROWS, BLOCK_ROWS, BLOCK_ROWS // 4]
    assert cut_sizes == [70_000] * 6 + [total - 6 * 70_000]
    assert set(whole) == set(cut) == set(ROW_KEYS[contract])
    for name in whole:
        # a block lists its allocations slot 0 first, then slot 1; a chunk cut from it does so per chunk
        a, b = whole[name], cut[name]
        if name == "attribution_allocations":
            order = [("event_row", "ascending"), ("slot", "ascending")]
            a, b = a.sort_by(order), b.sort_by(order)
        assert a.equals(b), name
    table, drawn = {
        "spots": ("spots_interaction_events", "latitude"),
        "outreach": ("outreach_event_logs", "created_at"),
        "attribution": ("attribution_events", "occurred_at"),
    }[contract]
    block0 = whole[table].column(drawn).slice(0, 1_000)
    block1 = whole[table].column(drawn).slice(BLOCK_ROWS, 1_000)
    assert not block0.equals(block1), "block 1 must draw from its own stream, not repeat block 0"


def test_a_chunk_handed_out_is_not_held(tmp_path):
    """The memory bound, structurally: the chunk iterator keeps no reference to a chunk once it
    has handed it out, and no chunk holds more than chunk_rows rows of its contract."""
    cfg = GeneratorConfig(**SMALL, chunk_rows=1_000)
    cities = read_cities(SEEDS / "city_definitions.csv")
    for contract in ("spots", "attribution"):
        chunks = contract_chunks(cfg, contract, cities)
        previous = None
        handed_out = 0
        for chunk in chunks:
            handed_out += 1
            rows = next(t.num_rows for n, t in chunk.items() if ROW_KEYS[contract][n] is None)
            assert rows <= 1_000
            if previous is not None:  # reference counting frees it at once: no collection needed
                assert previous() is None, f"{contract}: chunk {handed_out - 1} still held by the iterator"
            previous = weakref.ref(next(iter(chunk.values())))
            del chunk
        assert handed_out == {"spots": 20, "attribution": 1}[contract]


def test_generate_writes_chunk_by_chunk_with_no_watermark_until_the_end(tmp_path):
    """Each chunk reaches the sink before the next is drawn, and while chunks are written no
    source has a watermark (an earlier run's is withdrawn first); after the last one, every
    table of every source has exactly one."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse = warehouse_of(con)
    generate(GeneratorConfig(**SMALL), warehouse, SEEDS)  # an earlier, complete run: its watermarks exist
    assert all(landing.read(warehouse, source) for source in landing.SOURCES)
    seen = []

    def hook(contract, number, chunk):
        stored = con.sql("select count(*) from raw.spots_interaction_events").fetchone()[0]
        watermarks = {source: landing.read(warehouse, source) for source in landing.SOURCES}
        seen.append((contract, number, stored, watermarks))

    generate(GeneratorConfig(**SMALL, chunk_rows=5_000), warehouse, SEEDS, on_chunk=hook)
    assert [(c, n) for c, n, _, _ in seen] == [("spots", n) for n in range(4)] + [("outreach", 0), ("attribution", 0)]
    assert [stored for c, _, stored, _ in seen if c == "spots"] == [5_000, 10_000, 15_000, 20_000]
    assert all(w == {source: {} for source in landing.SOURCES} for *_, w in seen)
    for source in landing.SOURCES:
        table = landing.table_name(source)
        rows = con.sql(f"select table_name, count(*) from raw.{table} group by 1").fetchall()
        assert dict(rows) == dict.fromkeys(TABLES_BY_CONTRACT[source], 1)


class Boom(RuntimeError):
    pass


def _fail_in_spots(monkeypatch):
    def hook(contract, number, chunk):
        if contract == "spots" and number == 2:
            raise Boom("chunk 2 of spots")

    return {"on_chunk": hook}


def _fail_in_outreach(monkeypatch):
    def boom(*args, **kwargs):
        raise Boom("outreach")

    monkeypatch.setattr(outreach, "generate_chunk", boom)
    return {}


@pytest.mark.parametrize("fail", [_fail_in_spots, _fail_in_outreach], ids=["mid-spots", "in-outreach"])
def test_a_failure_mid_stream_leaves_no_watermark(tmp_path, monkeypatch, fail):
    """A run that fails after some chunks are committed leaves no statement that any table it was
    landing is complete, not even the earlier run's (its tables were dropped and half refilled)."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse = warehouse_of(con)
    generate(GeneratorConfig(**SMALL), warehouse, SEEDS)
    assert landing.read(warehouse, "spots")
    with pytest.raises(Boom):
        generate(GeneratorConfig(**(SMALL | {"seed": 8}), chunk_rows=5_000), warehouse, SEEDS, **fail(monkeypatch))
    assert {source: landing.read(warehouse, source) for source in landing.SOURCES} == dict.fromkeys(landing.SOURCES, {})


def test_parquet_holds_the_same_rows_one_file_per_chunk(reference, tmp_path):
    expected, _ = reference
    folder = tmp_path / "raw_parquet"
    counts = generate_parquet(GeneratorConfig(**SMALL, chunk_rows=7_000), folder, SEEDS)
    con = duckdb.connect()
    assert fingerprints(con, lambda t: f"read_parquet('{folder}/{t}/*.parquet')") == expected
    assert {t: rows for t, (rows, _) in expected.items()} == counts
    assert len(list((folder / "spots_interaction_events").glob("part-*.parquet"))) == 3  # 20,000 rows / 7,000
    for table, columns in RAW_TABLES.items():  # the types a warehouse raw table has
        described = con.sql(f"describe select * from read_parquet('{folder}/{table}/*.parquet')").fetchall()
        assert [(name, kind.lower()) for name, kind, *_ in described] == [
            (name, {"timestamptz": "timestamp with time zone"}.get(kind, kind)) for name, kind in columns
        ], table
    for source in landing.SOURCES:
        rows = con.sql(f"select table_name from read_parquet('{folder}/{landing.table_name(source)}/*.parquet')")
        assert sorted(r[0] for r in rows.fetchall()) == sorted(TABLES_BY_CONTRACT[source])
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_parquet_failure_leaves_no_watermark_and_no_partial_folder(tmp_path):
    folder = tmp_path / "raw_parquet"
    generate_parquet(GeneratorConfig(**SMALL), folder, SEEDS)
    before = sorted(p.name for p in (folder / "spots_interaction_events").iterdir())

    def hook(contract, number, chunk):
        if number == 1:
            raise Boom("chunk 1")

    with pytest.raises(Boom):
        generate_parquet(GeneratorConfig(**(SMALL | {"seed": 8}), chunk_rows=5_000), folder, SEEDS, on_chunk=hook)
    assert sorted(p.name for p in folder.iterdir()) == sorted(RAW_TABLES)  # no watermark, nothing hidden
    assert sorted(p.name for p in (folder / "spots_interaction_events").iterdir()) == before


def test_postgres_holds_the_same_rows(reference, postgres_database, extension_dir, tmp_path):
    expected, _ = reference
    env = {"PGDATABASE": postgres_database, "PRIVACY_INSIGHTS_EXTENSION_DIR": str(extension_dir)}
    warehouse = targets.connect("prod", env=env)
    try:
        counts = generate(GeneratorConfig(**SMALL, chunk_rows=7_000), warehouse, SEEDS)
        found = fingerprints(warehouse.connection, lambda t: warehouse.qualify("raw", t, prefixed=False))
        spots_watermark = landing.read(warehouse, "spots")
    finally:
        warehouse.close()
    assert found == expected
    assert {t: rows for t, (rows, _) in expected.items()} == counts
    assert set(spots_watermark) == {"spots_interaction_events"}
