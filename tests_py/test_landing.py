"""Landing watermarks (privacy_insights.landing): the loader's statement only moves forward."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pytest

from privacy_insights import landing
from privacy_insights.cli import main
from privacy_insights.targets import Warehouse

T1, T2 = datetime(2026, 10, 28, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture
def warehouse() -> Warehouse:
    con = duckdb.connect()
    yield Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev")
    con.close()


def test_the_watermark_moves_forward_only_unless_the_table_is_landed_again(warehouse):
    assert landing.read(warehouse, "spots") == {}
    assert landing.mark(warehouse, "spots", "spots_interaction_events", T2, "batch") == T2
    assert landing.mark(warehouse, "spots", "spots_interaction_events", T1, "replayed batch") == T2
    assert landing.read(warehouse, "spots") == {"spots_interaction_events": T2}
    assert landing.mark(warehouse, "spots", "spots_interaction_events", T1, "reload", reload=True) == T1
    assert warehouse.connection.sql("select count(*), any_value(loader) from raw.spots_load_watermark").fetchone() == (
        1,
        "reload",
    )
    with pytest.raises(ValueError, match="loaded_through: must be a UTC timestamp"):
        landing.mark(warehouse, "spots", "spots_interaction_events", datetime(2026, 11, 2), "naive")
    with pytest.raises(ValueError, match="source: must be one of spots, outreach, attribution"):
        landing.table_name("billing")


def test_the_command_marks_and_shows(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", str(tmp_path / "w.duckdb"))
    assert main(["landing", "mark", "--source", "spots", "--through", "2026-11-02T00:00:00Z"]) == 0
    assert main(["landing", "mark", "--source", "spots", "--through", "2026-10-28T00:00:00Z"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["loaded_through"] for line in lines] == ["2026-11-02T00:00:00+00:00"] * 2
    assert main(["landing", "show"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "source": "spots",
        "table_name": "spots_interaction_events",
        "loaded_through": "2026-11-02T00:00:00+00:00",
    }
    assert main(["landing", "mark", "--source", "attribution", "--through", "2026-11-02T00:00:00Z"]) == 2
    assert "table: required for --source attribution" in capsys.readouterr().err
