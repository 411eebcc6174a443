"""``privacy-insights report``: the pure computations on literal frames (window sums by hand), the
figures' labels, the page on a small literal warehouse with a real delivery store, where it writes
by default, and one end-to-end run on a real build (shared delivery build) with real exports and
API requests counted without a rebuild."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest

from api_harness import PATH, SLICE, add_buyer, auth, pi, server
from delivery_build import built_copy
from harness import REPO, DbtProject, default_release
from privacy_insights.dp.budget import BudgetLedger, Charge
from privacy_insights.export import audit
from privacy_insights.export.store import open_store
from privacy_insights.report import compute, figures, words
from privacy_insights.report.run import PNGS, default_output_dir, write_report
from privacy_insights.report.source import LEDGER, WAREHOUSE_RELATIONS, Source
from privacy_insights.targets import Warehouse

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def ledger_frame(rows: list[tuple]) -> pd.DataFrame:
    """(granularity, period start, status, epsilon) rows, the other ledger columns filled in."""
    return pd.DataFrame(
        [
            {
                "time_granularity": g,
                "release_period_start": pd.Timestamp(start),
                "release_version": 1,
                "purpose": "initial",
                "status": status,
                "epsilon": eps,
                "delta": 0.0,
                "budget_window_days": 3,
                "epsilon_cap": 10.0,
                "window_epsilon": 0.0,
                "as_of": pd.Timestamp("2026-10-12"),
            }
            for g, start, status, eps in rows
        ]
    )


LEDGER_ROWS = [
    ("day", "2026-10-01", "charged", 1.0),
    ("day", "2026-10-02", "charged", 2.0),
    ("day", "2026-10-03", "denied", 0.0),
    ("week", "2026-10-05", "charged", 0.5),
]


def test_window_totals_match_a_hand_computation():
    totals = compute.window_totals(ledger_frame(LEDGER_ROWS), window_days=3)
    # windows of 3 days ending on each day; the week (10-05..10-11) counts in full in every window it overlaps
    expected_day = [1, 3, 3, 2, 0, 0, 0, 0, 0, 0, 0]
    expected_week = [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert list(totals.index.date) == [date(2026, 10, 1) + timedelta(days=i) for i in range(11)]
    assert totals["day"].tolist() == expected_day
    assert totals["week"].tolist() == expected_week
    assert totals["hour"].tolist() == [0.0] * 11


def test_window_totals_agree_with_the_budget_rule_the_release_enforces():
    ledger = ledger_frame(LEDGER_ROWS + [("hour", "2026-10-06", "charged", 0.25), ("day", "2026-10-07", "charged", 4)])
    totals = compute.window_totals(ledger, window_days=3).sum(axis=1)
    budget = BudgetLedger(window_days=3, cap=10.0, charges=compute.charges(ledger))
    probe = Charge("day", date(2026, 10, 1), 11, 0.0)  # overlaps every window of the range
    _, busiest = budget.worst_window(probe)[:2]
    assert totals.max() == pytest.approx(busiest) == pytest.approx(4.75)
    assert totals[pd.Timestamp("2026-10-08")] == pytest.approx(4.75)  # 10-06..10-08 still holds the hour charge
    assert totals[pd.Timestamp("2026-10-09")] == pytest.approx(4.5)  # 10-07..10-09: it has left


def test_window_range_reaches_as_of_and_an_empty_ledger_has_none():
    ledger = ledger_frame([("day", "2026-10-01", "charged", 1.0)])
    ledger["as_of"] = pd.Timestamp("2026-10-06")
    assert compute.window_days_range(ledger)[-1] == date(2026, 10, 5)
    assert compute.window_totals(ledger_frame([("day", "2026-10-01", "denied", 0.0)]), 3).empty


def test_budget_summary_counts_periods_and_window_shares():
    ledger = ledger_frame(LEDGER_ROWS)
    summary = compute.budget_summary(ledger, compute.window_totals(ledger, 3)).set_index("granularity")
    assert summary.loc["day", "periods_charged"] == 2 and summary.loc["day", "periods_denied"] == 1
    assert summary.loc["day", "epsilon_charged"] == 3.0
    assert summary.loc["day", "epsilon_busiest_window"] == 3.0 and summary.loc["week", "epsilon_busiest_window"] == 0
    assert summary.loc["week", "epsilon_latest_window"] == 0.5 and summary.loc["day", "epsilon_latest_window"] == 0
    assert "hour" not in summary.index


def insights_frame(rows: list[tuple]) -> pd.DataFrame:
    """(granularity, bucket, level, city, participants, moe, suppressed reason or None) rows."""
    out = []
    for g, bucket, level, city, est, moe, reason in rows:
        suppressed = reason is not None
        out.append(
            {
                "time_granularity": g,
                "time_bucket_start_utc": pd.Timestamp(bucket),
                "release_period_start": pd.Timestamp(bucket),
                "release_level": level,
                "geo_bucket_id": city,
                "segment_door_type": "all",
                "segment_category": "all",
                "segment_context": "all",
                "unique_participants_est": None if suppressed else est,
                "doors_opened_est": None if suppressed else 2 * est,
                "repeat_rate_est": None if suppressed else 0.5,
                "uncertainty_unique_participants_noise_scale": None if suppressed else moe / 3,
                "uncertainty_unique_participants_moe95": None if suppressed else moe,
                "uncertainty_doors_opened_noise_scale": None if suppressed else moe,
                "uncertainty_doors_opened_moe95": None if suppressed else 3 * moe,
                "uncertainty_repeat_rate_moe95": None if suppressed else 0.1,
                "privacy_suppressed": suppressed,
                "privacy_suppressed_reason": reason,
            }
        )
    return pd.DataFrame(out)


INSIGHTS_ROWS = [
    ("day", "2026-10-05", "city", "jp-tyo", 200, 30.0, None),
    ("day", "2026-10-05", "city", "fr-par", 100, 30.0, None),
    ("day", "2026-10-05", "city_category", "jp-tyo", 120, 60.0, None),
    ("day", "2026-10-06", "city", "jp-tyo", 180, 30.0, None),
    ("day", "2026-10-06", "city", "fr-par", None, None, "k_min"),
    ("day", "2026-10-06", "city_category", "jp-tyo", None, None, "dominance"),
    ("week", "2026-10-05", "city", "jp-tyo", 900, 20.0, None),
    ("week", "2026-10-05", "city", "fr-par", 400, 20.0, None),
    ("week", "2026-10-12", "city", "de-ber", None, None, "budget_exhausted"),
]


def test_cells_by_city_counts_released_and_each_suppression_reason():
    table = compute.cells_by_city(insights_frame(INSIGHTS_ROWS))
    assert list(table.columns) == ["released", "k_min", "dominance", "complementary", "budget_exhausted"]
    assert table.loc["jp-tyo"].tolist() == [4, 0, 1, 0, 0]
    assert table.loc["fr-par"].tolist() == [2, 1, 0, 0, 0]
    assert table.loc["de-ber"].tolist() == [0, 0, 0, 0, 1]
    assert list(table.index) == ["de-ber", "fr-par", "jp-tyo"]


def written_reasons() -> set[str]:
    """The suppression reasons the release may write: what dbt's contract tests accept in
    ``privacy_suppressed_reason`` on every outside-buyer model, which the record schema must list too."""
    macro = (REPO / "macros" / "tests" / "contract" / "spots_insights_v1_contract.sql").read_text()
    listed = re.search(r"'privacy_suppressed_reason':\s*\[([^\]]*)\]", macro)
    assert listed, "the contract macro no longer lists privacy_suppressed_reason"
    reasons = set(re.findall(r"'([a-z_]+)'", listed.group(1)))
    record = json.loads(
        (REPO / "src" / "privacy_insights" / "export" / "spots_insights_v1.record.schema.json").read_text()
    )

    def enums(node):
        if isinstance(node, dict):
            if "enum" in node.get("suppressed_reason", {}):
                yield from (v for v in node["suppressed_reason"]["enum"] if v is not None)
            for child in node.values():
                yield from enums(child)
        elif isinstance(node, list):
            for child in node:
                yield from enums(child)

    assert reasons == set(enums(record)), "the record schema and the contract disagree on the reasons"
    return reasons


def test_every_suppression_reason_the_release_can_write_has_a_plain_word():
    reasons = written_reasons()
    assert len(reasons) >= 4 and set(words.REASONS) == reasons  # none without a word, no word for a gone reason
    assert compute.OUTCOMES == ["released", *words.REASONS]
    for code in reasons:
        word, meaning = words.REASONS[code]
        assert words.outcome_word(code) == word and "_" not in word and code not in word and meaning
    assert words.outcome_word("new_reason") == "new_reason (no plain word yet)"


def test_interval_is_cut_where_the_value_cannot_go_and_says_so():
    counts = compute.interval(pd.Series([5.0, 100.0]), pd.Series([8.0, 10.0]), 0.0, None)
    assert counts.values.tolist() == [[0.0, 13.0, True, False], [90.0, 110.0, False, False]]
    rates = compute.interval(pd.Series([0.95, 0.02, 0.5]), pd.Series([0.1, 0.05, 0.1]), 0.0, 1.0)
    assert rates["low"].tolist() == pytest.approx([0.85, 0.0, 0.4])
    assert rates["high"].tolist() == pytest.approx([1.0, 0.07, 0.6])
    assert rates["low_cut"].tolist() == [False, True, False] and rates["high_cut"].tolist() == [True, False, False]


NAMES = {"jp-tyo": "Tokyo", "fr-par": "Paris"}


def test_cells_by_city_figure_names_cities_counts_and_reasons_in_plain_words():
    table = compute.cells_by_city(insights_frame(INSIGHTS_ROWS))
    fig = figures.draw_cells_by_city(table, NAMES)
    (ax,) = fig.axes
    # horizontal bars, the largest released share on top (matplotlib lists y ticks bottom up)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["de-ber", "Paris (fr-par)", "Tokyo (jp-tyo)"]
    assert [t.get_text() for t in ax.texts] == [
        "0 of 1 released (0%)",
        "2 of 3 released (67%)",
        "4 of 5 released (80%)",
    ]
    assert "share of the city's cells (%)" in ax.get_xlabel() and ax.get_ylabel() == "city (name and code)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["released", "too few participants", "one participant too large a share", "privacy budget used up"]
    figures.plt.close(fig)


def error_cells() -> pd.DataFrame:
    """Two released city cells: Tokyo's participants and Paris's repeat rate reach past their bounds."""
    return pd.DataFrame(
        {
            "geo_bucket_id": ["fr-par", "jp-tyo"],
            "unique_participants_est": [100.0, 5.0],
            "uncertainty_unique_participants_moe95": [10.0, 8.0],
            "doors_opened_est": [300.0, 20.0],
            "uncertainty_doors_opened_moe95": [30.0, 12.0],
            "repeat_rate_est": [0.97, 0.4],
            "uncertainty_repeat_rate_moe95": [0.1, 0.2],
        }
    )


def test_error_bars_have_units_and_period_and_mark_every_cut_interval():
    fig = figures.draw_error_bars(error_cells(), "day", pd.Timestamp("2026-10-05"), NAMES)
    assert "day 2026-10-05 (UTC)" in fig._suptitle.get_text()
    participants, doors, rate = fig.axes
    assert participants.get_xlabel() == "unique participants (people in the day)"
    assert doors.get_xlabel() == "doors opened (openings in the day)" and "% of participants" in rate.get_xlabel()
    rows = {t.get_text(): t.get_position()[1] for t in participants.get_yticklabels()}
    assert participants.get_ylabel() and rows == {"Paris (fr-par)": 1, "Tokyo (jp-tyo)": 0}  # the largest on top
    assert participants.get_title() == "unique participants: 1 of 2 intervals cut at 0"
    assert doors.get_title() == "doors opened: 0 of 2 intervals cut at 0"
    assert rate.get_title() == "repeat rate: 1 of 2 intervals cut at 0 % or 100 %"
    for ax, low, high in ((participants, 0, 1e9), (doors, 0, 1e9), (rate, 0, 1)):
        segments = ax.collections[0].get_segments()
        assert len(segments) == 2 and all(low <= x <= high for seg in segments for x, _ in seg)
    cut = {(ax.get_title().split(":")[0], line.get_marker()): line.get_xdata().tolist() for ax in fig.axes for line
           in ax.get_lines() if line.get_color() == figures.CUT and len(line.get_xdata())}  # fmt: skip
    assert cut == {("unique participants", "<"): [0.0], ("repeat rate", ">"): [1.0]}
    assert any("interval cut here" in t.get_text() for t in fig.legends[0].get_texts())
    figures.plt.close(fig)


def test_budget_and_export_figures_label_both_axes_with_units():
    ledger = ledger_frame(LEDGER_ROWS)
    totals = compute.window_totals(ledger, 3)
    fig = figures.draw_budget(ledger, totals, 10.0, 3)
    assert all("unitless" in ax.get_ylabel() for ax in fig.axes) and "UTC day" in fig.axes[-1].get_xlabel()
    figures.plt.close(fig)
    by_day = pd.DataFrame({"delivered": [2], "refused": [1]}, index=pd.DatetimeIndex(["2026-11-02"]))
    fig = figures.draw_export_activity(by_day)
    (ax,) = fig.axes
    assert ax.get_xlabel().startswith("UTC day") and ax.get_ylabel() == "buyer requests per day (count)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["delivered", "refused by a delivery rule"]
    figures.plt.close(fig)


def test_published_error_uses_released_cells_only():
    error = compute.published_error(insights_frame(INSIGHTS_ROWS)).set_index(["granularity", "level", "metric"])
    day_city = error.loc[("day", "city", "unique participants")]
    assert day_city["cells"] == 3  # the suppressed fr-par day is not a cell with a number
    assert day_city["median_estimate"] == 180 and day_city["median_moe95"] == 30
    assert day_city["median_relative_moe95"] == pytest.approx(30 / 180)
    assert day_city["median_noise_scale"] == 10
    doors = error.loc[("week", "city", "doors opened")]
    assert doors["median_moe95"] == 60 and doors["median_estimate"] == 1300
    assert pd.isna(error.loc[("week", "city", "repeat rate"), "median_noise_scale"])  # none is published
    assert ("week", "city", "unique participants") in error.index and len(error) == 9


def test_error_bar_period_prefers_most_cells_then_day_then_latest():
    frame = insights_frame(INSIGHTS_ROWS)
    assert compute.error_bar_period(frame) == ("day", pd.Timestamp("2026-10-05"))  # 2 released city cells; 10-06 has 1
    only_ties = insights_frame([r for r in INSIGHTS_ROWS if r[1] != "2026-10-05" or r[0] == "week"])
    assert compute.error_bar_period(only_ties) == ("week", pd.Timestamp("2026-10-05"))
    cells = compute.error_bar_cells(frame, "day", pd.Timestamp("2026-10-05"))
    assert cells["geo_bucket_id"].tolist() == ["jp-tyo", "fr-par"]
    assert compute.error_bar_period(insights_frame([INSIGHTS_ROWS[4]])) is None


def test_exports_by_buyer_and_day():
    log = pd.DataFrame(
        [
            {
                "request_day": date(2026, 11, 2),
                "buyer_id": "acme",
                "channel": "file",
                "outcome": "delivered",
                "rule": None,
                "row_count": 10,
            },
            {
                "request_day": date(2026, 11, 2),
                "buyer_id": "acme",
                "channel": "file",
                "outcome": "refused",
                "rule": "max_days_per_request",
                "row_count": None,
            },
            {
                "request_day": date(2026, 11, 3),
                "buyer_id": "acme",
                "channel": "api",
                "outcome": "throttled",
                "rule": "rate_limit",
                "row_count": None,
            },
            {
                "request_day": date(2026, 11, 3),
                "buyer_id": None,
                "channel": "api",
                "outcome": "refused",
                "rule": "api_key",
                "row_count": None,
            },
        ]
    )
    by_buyer = compute.exports_by_buyer(log)
    assert by_buyer.values.tolist() == [
        ["(no valid key)", "api", 1, 0, 0, "api_key 1"],
        ["acme", "api", 1, 0, 0, "rate_limit 1"],
        ["acme", "file", 2, 1, 10, "max_days_per_request 1"],
    ]
    by_day = compute.exports_by_day(log)
    assert by_day.loc[pd.Timestamp("2026-11-02")].to_dict() == {"delivered": 1, "refused": 1, "throttled": 0}


def literal_warehouse() -> Warehouse:
    """An in-memory DuckDB holding the warehouse relations the report reads, as literal rows."""
    con = duckdb.connect()
    for schema in ("outside_buyer", "reference"):
        con.execute(f"create schema {schema}")
    ledger = ledger_frame(LEDGER_ROWS)  # noqa: F841 (read by DuckDB's replacement scan)
    insights = insights_frame(INSIGHTS_ROWS)  # noqa: F841
    con.execute("create table outside_buyer.spots_privacy_budget_ledger as select * from ledger")
    con.execute("create table outside_buyer.spots_insights_v1 as select * from insights")
    con.execute(
        "create table reference.city_definitions as select * from (values ('jp-tyo', 'Tokyo', 'JP'), "
        "('fr-par', 'Paris', 'FR')) as t(city_code, city_name, country_code)"
    )
    return Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev")


@pytest.fixture
def delivery_root(tmp_path, monkeypatch):
    """dev's delivery store (a real SQLite file, export/store.py) in a folder of this test."""
    root = tmp_path / "delivery"
    monkeypatch.setenv("PRIVACY_INSIGHTS_DELIVERY_DIR", str(root))
    return root


def audit_requests() -> None:
    """Into dev's store, as the export and the API write them: a delivered and a refused file export
    of acme on 2026-11-02, and three API requests without a valid key on 2026-11-03 (one row)."""
    store = open_store("dev")
    day = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    entry = {"slice": {"granularity": "day"}, "file_format": None, "file_name": None, "file_sha256": None}
    audit.insert(store, audit.AuditEntry("acme", day, row_count=5, outcome="delivered", **entry))
    refused = audit.AuditEntry(
        "acme", day, row_count=0, outcome="refused", rule="max_days_per_request", reason="too long", **entry
    )
    audit.insert(store, refused)
    anonymous = audit.AuditEntry(
        None, day + timedelta(days=1), None, 0, None, None, None, "refused", rule="api_key", channel="api"
    )
    row = audit.insert(store, anonymous)
    assert audit.add_request(store, row, 1.0) and audit.add_request(store, row, 1.0)
    store.close()


def test_source_refuses_any_other_relation(delivery_root):
    source = Source(literal_warehouse())
    for relation in [
        ("staging", "stg_spots__interaction_events"),
        ("intermediate", "int_spots__cell_aggregates"),
        ("outside_buyer", "spots_insights_v1_releases"),
        ("ops", "ops_buyer_request_log"),  # a build refreshes it: the report reads the audit itself
    ]:
        with pytest.raises(ValueError, match="not a relation the report may read"):
            source.read(relation)
    assert source.queries == []
    frame, where = source.read_audit()  # no store yet: no request, and no store file created
    assert frame.empty and where == str(delivery_root / "dev" / "delivery.sqlite")
    assert not (delivery_root / "dev" / "delivery.sqlite").exists()
    con = duckdb.connect()
    unbuilt = Source(Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev"))
    with pytest.raises(RuntimeError, match="is missing; build the warehouse first"):
        unbuilt.read(LEDGER)


def test_page_on_a_literal_warehouse_reads_the_delivery_audit_as_it_stands(tmp_path, delivery_root):
    release = default_release() | {"epsilon_cap": 10.0, "budget_window_days": 3}
    out = tmp_path / "report"
    out.mkdir()
    (out / PNGS["exports"]).write_bytes(PNG_MAGIC)  # a stale figure of an earlier run goes
    source = Source(literal_warehouse())
    page = write_report(source, out, "dev", release).read_text()
    assert "No file export or API request yet: the audit is empty" in page
    assert not (out / PNGS["exports"]).exists()
    assert "busiest window, ending 2026-10-02: epsilon 3 (30% of the cap)" in page
    assert "| Tokyo (jp-tyo) | 4 | 0 | 1 | 0 | 0 | 5 | 80% |" in page and "| de-ber | 0 |" in page
    assert "- too few participants (`k_min`): " in page
    # the lifetime view: 1 + 2 + 0.5 in the busiest 365 days beside 3 in the busiest 3-day window; the
    # policy's worst case 3 x 0.75 + 2 weeks x 0.5 per window and 365 x 0.75 + 53 x 0.5 per year
    assert "| 3 days | 3 | 3.25 |" in page and "| 365 days | 3.5 | 300.2 |" in page
    assert "no annual cap is set" in page
    assert "Release clock (`as_of`) of the latest build that decided a period: 2026-10-12 00:00 UTC." in page
    for name in ("budget_window.png", "cells_by_city.png", "error_bars.png"):
        assert f"]({name})" in page and (out / name).read_bytes().startswith(PNG_MAGIC)
    assert len(source.queries) == 4  # ledger, mart, city names, the audit
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no scratch folder left, no store created

    audit_requests()  # requests after the page: the next page counts them, nothing rebuilt
    again = write_report(Source(literal_warehouse()), out, "dev", release).read_text()
    assert "| acme | file | 2 | 1 | 5 | max_days_per_request 1 |" in again
    assert "| (no valid key) | api | 3 | 0 | 0 | api_key 3 |" in again
    assert (out / PNGS["exports"]).exists()


def test_on_postgresql_the_report_reads_its_own_targets_audit_schema(postgres_database, monkeypatch):
    """pg_dev reads dev_audit, prod reads audit: another target's requests are not counted."""
    monkeypatch.setenv("PGDATABASE", postgres_database)
    source = {t: Source(Warehouse(duckdb.connect(), "memory", t)) for t in ("prod", "pg_dev")}
    frame, where = source["pg_dev"].read_audit()
    assert frame.empty and where == "PostgreSQL schema dev_audit"  # nothing audited yet, nothing created
    store = open_store("pg_dev")
    at = datetime(2026, 11, 2, 23, 59, tzinfo=UTC)
    audit.insert(store, audit.AuditEntry("acme", at, {"granularity": "day"}, 7, None, None, None, "delivered"))
    store.close()
    frame, where = source["pg_dev"].read_audit()
    assert where == "PostgreSQL schema dev_audit" and frame.fillna({"rule": "-"}).to_dict("records") == [
        {
            "request_day": pd.Timestamp("2026-11-02"),  # the UTC day
            "buyer_id": "acme",
            "channel": "file",
            "outcome": "delivered",
            "rule": "-",
            "row_count": 7,
            "requests": 1,
        }
    ]
    assert source["prod"].read_audit()[0].empty and source["prod"].read_audit()[1] == "PostgreSQL schema audit"


def test_a_failed_report_leaves_the_folder_as_it_was(tmp_path, delivery_root):
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.md").write_text("the previous report")
    (delivery_root / "delivery.sqlite").parent.mkdir(parents=True)
    (delivery_root / "delivery.sqlite").write_text("")  # a store of the old layout: the audit cannot be read
    with pytest.raises(RuntimeError, match="before delivery folders were per target"):
        write_report(Source(literal_warehouse()), out, "dev", default_release())
    assert [p.name for p in out.iterdir()] == ["report.md"] and (out / "report.md").read_text() == "the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["delivery", "report"]


def test_the_report_goes_to_data_report_by_default_never_into_docs(monkeypatch):
    monkeypatch.delenv("PRIVACY_INSIGHTS_DUCKDB", raising=False)
    monkeypatch.setenv("PRIVACY_INSIGHTS_PROJECT_DIR", str(REPO))
    for target in ("dev", "prod", "pg_dev", "ci"):
        out = default_output_dir(target)
        assert out == REPO / "data" / "report" / target and not out.is_relative_to(REPO / "docs")
        ignored = subprocess.run(["git", "check-ignore", "-q", str(out / "report.md")], cwd=REPO)
        assert ignored.returncode == 0, f"{out} is not ignored by git"
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", "/srv/warehouse/pi.duckdb")  # beside the warehouse, as delivery/
    assert default_output_dir("dev") == Path("/srv/warehouse/report/dev")


def docs_report_state() -> dict[str, str]:
    """SHA-256 of every file under docs/ and git's status of docs/: what a run must leave alone."""
    files = {str(p.relative_to(REPO)): hashlib.sha256(p.read_bytes()).hexdigest() for p in (REPO / "docs").rglob("*")
             if p.is_file()}  # fmt: skip
    status = subprocess.run(["git", "status", "--porcelain", "--", "docs"], cwd=REPO, capture_output=True, text=True)
    return files | {"git status": status.stdout}


@pytest.mark.e2e
def test_report_from_a_real_build_counts_exports_and_api_requests_without_a_rebuild(tmp_path_factory, extension_dir):
    """One shared build (tests_py/delivery_build.py); exports and API requests to the real server on
    127.0.0.1 after it; the command, without --output, counts them all and writes beside the
    warehouse, never into docs/. The ops request log, which only a build refreshes, still holds none."""
    project: DbtProject = built_copy(tmp_path_factory, extension_dir, "report")
    key = add_buyer(project, "acme")
    export = ["export", "--buyer-id", "acme", "--cities", "jp-tyo", "--output-dir", str(project.workdir / "exports")]
    assert pi(project, *export, "--start", "2026-10-05", "--end", "2026-10-13", "--granularity", "day").returncode == 0
    refused = pi(project, *export, "--start", "2026-10-05", "--end", "2026-10-13", "--granularity", "hour")
    assert refused.returncode == 3, refused.stderr
    assert pi(project, "publish").returncode == 0
    with server(project) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        answers = [client.get(PATH, params=SLICE, headers=auth(key)) for _ in range(3)]
        answers += [client.get(PATH, params=SLICE, headers=auth("not-a-key")) for _ in range(2)]
    assert [r.status_code for r in answers] == [200, 200, 200, 401, 401]
    api_rows = sum(len(r.json()) for r in answers[:3])
    assert api_rows > 0

    docs_before = docs_report_state()
    result = pi(project, "report")
    assert result.returncode == 0, result.stderr
    out = project.workdir / "report" / "dev"  # report/<target>/ beside the project's DuckDB file
    assert docs_report_state() == docs_before
    page = (out / "report.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert sorted(linked) == sorted(PNGS.values())
    for name in linked:
        data = (out / name).read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR"
    assert "| acme | file | 2 | 1 |" in page and "hour_granularity_buyers 1" in page
    assert f"| acme | api | 3 | 3 | {api_rows:,} | — |" in page
    assert "| (no valid key) | api | 2 | 0 | 0 | api_key 2 |" in page
    assert "No file export or API request yet" not in page and "Tokyo (jp-tyo)" in page
    con = duckdb.connect(project.env["PRIVACY_INSIGHTS_DUCKDB"], read_only=True)
    try:  # the mart the report used to read: a build refreshes it, and none ran since the requests
        assert con.sql("select count(*) from ops.ops_buyer_request_log").fetchone()[0] == 0
    finally:
        con.close()

    # The same page in process, to see every statement sent: only the allowed relations, nothing upstream.
    con = duckdb.connect(project.env["PRIVACY_INSIGHTS_DUCKDB"], read_only=True)
    source = Source(Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev"))
    try:
        with pytest.MonkeyPatch.context() as env:
            for name, value in project.env.items():
                env.setenv(name, value)
            again = write_report(source, tmp_path_factory.mktemp("report_again"), "dev", default_release())
    finally:
        source.close()
    assert again.read_text() == page
    allowed = {f'"{schema}"."{table}"' for schema, table in WAREHOUSE_RELATIONS}
    warehouse_sql = [q for q in source.queries if not q.startswith("delivery store ")]
    assert source.queries[len(warehouse_sql) :] == [
        "delivery store "
        + str(project.workdir / "delivery" / "dev" / "delivery.sqlite")
        + ": select * from buyer_exports"
    ]
    for sql in warehouse_sql:
        assert re.search(r"\b(staging|intermediate|stg_|int_|_releases\b|ops)", sql) is None, sql
        named = set(re.findall(r'"[a-z_]+"\."[a-z0-9_]+"(?=\s|$)', sql))
        assert named and named <= allowed, sql
    assert {q.split(" from ")[1].split(".", 1)[1] for q in warehouse_sql} == {
        '"{}"."{}"'.format(*r) for r in WAREHOUSE_RELATIONS
    }
    # the ledger's own busiest window is what the report computed from the charges
    match = re.search(
        r"busiest window, ending \S+: epsilon (\S+) .*ledger's own record of its busiest window: (\S+)", page
    )
    assert match and match.group(1) == match.group(2), page[:1500]
