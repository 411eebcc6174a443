"""``privacy-insights demo-summary`` (privacy_insights.demo_summary): what make demo prints.

A real DuckDB file holding the three tables the summary reads, with the columns dbt builds
(a few rows, written here so that every value is known): released and suppressed cells of
two granularities, a budget ledger with a gap and a denied period, the public city names.
The end-to-end run at 10^6 events is tests_py/test_readme_quickstart.py.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from privacy_insights import cli
from privacy_insights.demo_summary import LedgerRun, ledger_runs, summary, table
from privacy_insights.targets import Warehouse

MART_COLUMNS = """
    time_granularity varchar, time_bucket_start_utc timestamp, release_level varchar, geo_bucket_id varchar,
    unique_participants_est bigint, uncertainty_unique_participants_moe95 double,
    doors_opened_est bigint, uncertainty_doors_opened_moe95 double, release_version bigint,
    privacy_suppressed boolean
"""
LEDGER_COLUMNS = """
    time_granularity varchar, release_period_start timestamp, release_version bigint, purpose varchar,
    status varchar, epsilon double, epsilon_cap double, window_epsilon double, budget_window_days bigint
"""


def make_warehouse(path, released=True, ledger=True) -> None:
    con = duckdb.connect(str(path))
    for schema in ("outside_buyer", "reference"):
        con.execute(f"create schema {schema}")
    con.execute("create table reference.city_definitions (city_code varchar, city_name varchar)")
    con.execute("insert into reference.city_definitions values ('jp-tyo', 'Tokyo'), ('gb-lon', 'London')")
    con.execute(f"create table outside_buyer.spots_insights_v1 ({MART_COLUMNS})")
    if released:
        con.execute(
            """insert into outside_buyer.spots_insights_v1 values
            ('day', '2026-10-27', 'city', 'jp-tyo', 999, 34.2, 999, 267.0, 1, false),
            ('day', '2026-10-28', 'city', 'jp-tyo', 1486, 34.2, 1560, 267.0, 1, false),
            ('day', '2026-10-28', 'city', 'gb-lon', 312, 34.2, 371, 266.6, 2, false),
            ('day', '2026-10-28', 'city', 'xx-unk', 150, 34.2, 160, 267.0, 1, false),
            ('day', '2026-10-28', 'city_category', 'jp-tyo', 400, 15.0, 420, 119.0, 1, false),
            ('day', '2026-10-28', 'city', 'fr-par', null, null, null, null, 1, true),
            ('week', '2026-10-19', 'city', 'fr-par', 700, 50.0, 900, 500.0, 1, false)"""
        )
    con.execute(f"create table outside_buyer.spots_privacy_budget_ledger ({LEDGER_COLUMNS})")
    if ledger:
        con.execute(
            """insert into outside_buyer.spots_privacy_budget_ledger values
            ('day', '2026-10-01', 1, 'initial', 'charged', 0.75, 30, 0.75, 30),
            ('day', '2026-10-02', 1, 'initial', 'charged', 0.75, 30, 1.5, 30),
            ('day', '2026-10-04', 1, 'initial', 'charged', 0.75, 30, 2.25, 30),
            ('day', '2026-10-05', 1, 'initial', 'denied', 0.75, 30, 2.25, 30),
            ('week', '2026-10-05', 1, 'initial', 'charged', 0.5, 30, 2.75, 30),
            ('week', '2026-10-12', 1, 'initial', 'charged', 0.5, 30, 3.25, 30)"""
        )
    con.close()


def render(path, **kwargs) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return summary(Warehouse(con, "w", "dev"), str(path), **kwargs)
    finally:
        con.close()


def test_summary_shows_released_cells_rows_and_the_ledger(tmp_path):
    path = tmp_path / "w.duckdb"
    make_warehouse(path)
    text = render(path)
    assert text.startswith(f"Results: {path} (schemas outside_buyer, reference)"), text
    lines = text.splitlines()

    # counts per granularity: released of all cells, cities with a released cell of all cities
    assert any(line.split() == ["day", "5", "6", "3", "of", "4"] for line in lines), text
    assert any(line.split() == ["week", "1", "1", "1", "of", "1"] for line in lines), text

    # the latest released day's city totals only, busiest first, names joined, ± the margin rounded
    rows = text.split("A few released rows", 1)[1].split("\n\n", 1)[0].splitlines()[3:]
    assert [row.split()[0] for row in rows] == ["jp-tyo", "gb-lon", "xx-unk"], rows
    assert rows[0].split() == ["jp-tyo", "Tokyo", "2026-10-28", "1,486", "±", "34", "1,560", "±", "267", "1"]
    assert rows[1].split()[-1] == "2" and "371 ± 267" in rows[1], rows  # version; 266.6 rounds to 267
    assert rows[2].split()[:2] == ["xx-unk", "2026-10-28"], rows  # a code without a name keeps its row

    # the ledger: consecutive periods collapsed, a gap and a denied period on their own lines
    ledger = text.split("Privacy budget ledger", 1)[1].split("\n\n", 1)[0].splitlines()
    body = [line.split() for line in ledger[4:-1]]
    assert body == [
        ["day", "2026-10-01", "..", "2026-10-02", "2", "initial", "charged", "0.75"],
        ["day", "2026-10-04", "1", "initial", "charged", "0.75"],
        ["day", "2026-10-05", "1", "initial", "denied", "0", "(denied)"],
        ["week", "2026-10-05", "..", "2026-10-12", "2", "initial", "charged", "0.5"],
    ], ledger
    assert ledger[-1] == "Fullest 30-day budget window: epsilon 3.25 of the cap 30."
    assert "make report" in text and "privacy-insights serve" in text and "docs/index.md" in text


def test_summary_limits_rows_and_every_line_is_readable(tmp_path):
    path = tmp_path / "w.duckdb"
    make_warehouse(path)
    text = render(path, limit=2)
    rows = text.split("A few released rows", 1)[1].split("\n\n", 1)[0].splitlines()[3:]
    assert len(rows) == 2
    assert max(len(line) for line in text.splitlines()[1:]) <= 96, text  # no cut-off columns


def test_summary_of_a_warehouse_that_released_nothing_says_so(tmp_path):
    path = tmp_path / "w.duckdb"
    make_warehouse(path, released=False, ledger=False)
    text = render(path)
    assert "Released cells: none yet" in text and "empty" in text, text


def test_ledger_runs_split_on_every_change():
    day = datetime(2026, 10, 1)
    rows = [
        ("day", day, "initial", "charged", 0.75),
        ("day", day.replace(day=2), "retry", "charged", 0.75),
        ("day", day.replace(day=3), "retry", "charged", 0.5),
        ("week", datetime(2026, 10, 5), "initial", "charged", 0.5),
        ("week", datetime(2026, 10, 12), "initial", "charged", 0.5),
        ("week", datetime(2026, 10, 26), "initial", "charged", 0.5),
    ]
    assert ledger_runs(rows) == [
        LedgerRun("day", date(2026, 10, 1), date(2026, 10, 1), 1, "initial", "charged", 0.75),
        LedgerRun("day", date(2026, 10, 2), date(2026, 10, 2), 1, "retry", "charged", 0.75),
        LedgerRun("day", date(2026, 10, 3), date(2026, 10, 3), 1, "retry", "charged", 0.5),
        LedgerRun("week", date(2026, 10, 5), date(2026, 10, 12), 2, "initial", "charged", 0.5),
        LedgerRun("week", date(2026, 10, 26), date(2026, 10, 26), 1, "initial", "charged", 0.5),
    ]


def test_table_aligns_numbers_right():
    lines = table(["a", "number"], [("x", "1"), ("yyy", "1,000")], [False, True])
    assert lines == ["a    number", "---  ------", "x         1", "yyy   1,000"]


def test_cli_prints_the_summary_and_refuses_a_missing_warehouse(tmp_path, monkeypatch, capsys):
    path = tmp_path / "w.duckdb"
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", str(path))
    assert cli.main(["demo-summary"]) == 2
    assert "no such file" in capsys.readouterr().err
    make_warehouse(path)
    assert cli.main(["demo-summary", "--rows", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Results: {path}") and "jp-tyo" in out and "gb-lon" not in out.split("ledger")[0]


@pytest.mark.parametrize("rows", ["0", "-1", "x"])
def test_cli_refuses_a_bad_row_count(rows, capsys):
    with pytest.raises(SystemExit):
        cli.main(["demo-summary", "--rows", rows])
    assert "--rows" in capsys.readouterr().err
