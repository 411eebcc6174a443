"""``privacy-insights report``: the pure computations on literal frames (window sums by hand), the
page on a small literal warehouse, and one end-to-end run on a real build (shared delivery build)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from delivery_build import built_copy
from harness import BIN, DbtProject, default_release
from privacy_insights.dp.budget import BudgetLedger, Charge
from privacy_insights.report import compute
from privacy_insights.report.run import PNGS, write_report
from privacy_insights.report.source import ALLOWED, INSIGHTS, LEDGER, Source
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


def literal_warehouse(with_log: bool) -> Warehouse:
    """An in-memory DuckDB holding the allowed relations as literal rows, plus a staging table the report must
    never touch (dropped, so reading it would fail)."""
    con = duckdb.connect()
    for schema in ("outside_buyer", "ops"):
        con.execute(f"create schema {schema}")
    ledger = ledger_frame(LEDGER_ROWS)  # noqa: F841 (read by DuckDB's replacement scan)
    insights = insights_frame(INSIGHTS_ROWS)  # noqa: F841
    con.execute("create table outside_buyer.spots_privacy_budget_ledger as select * from ledger")
    con.execute("create table outside_buyer.spots_insights_v1 as select * from insights")
    if with_log:
        con.execute(
            "create table ops.ops_buyer_request_log as select date '2026-11-02' as request_day, "
            "'acme' as buyer_id, 'file' as channel, 'delivered' as outcome, null::varchar as rule, "
            "5 as row_count"
        )
    return Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev")


def test_source_refuses_any_other_relation():
    source = Source(literal_warehouse(with_log=False))
    for relation in [
        ("staging", "stg_spots__interaction_events"),
        ("intermediate", "int_spots__cell_aggregates"),
        ("outside_buyer", "spots_insights_v1_releases"),
    ]:
        with pytest.raises(ValueError, match="not a relation the report may read"):
            source.read(relation)
    assert source.queries == []
    assert source.read_optional(("ops", "ops_buyer_request_log")) is None
    con = duckdb.connect()
    unbuilt = Source(Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev"))
    with pytest.raises(RuntimeError, match="is missing; build the warehouse first"):
        unbuilt.read(LEDGER)


def test_page_on_a_literal_warehouse_skips_a_missing_request_log(tmp_path):
    release = default_release() | {"epsilon_cap": 10.0, "budget_window_days": 3}
    (tmp_path / PNGS["exports"]).write_bytes(PNG_MAGIC)  # a stale figure of an earlier run goes
    source = Source(literal_warehouse(with_log=False))
    page = write_report(source, tmp_path, "dev", release).read_text()
    assert "Skipped: `ops.ops_buyer_request_log` is not in this warehouse." in page
    assert not (tmp_path / PNGS["exports"]).exists()
    assert "busiest window, ending 2026-10-02: epsilon 3 (30% of the cap)" in page
    assert "| jp-tyo | 4 | 0 | 1 | 0 | 0 | 80% |" in page
    # the lifetime view: 1 + 2 + 0.5 in the busiest 365 days beside 3 in the busiest 3-day window; the
    # policy's worst case 3 x 0.75 + 2 weeks x 0.5 per window and 365 x 0.75 + 53 x 0.5 per year
    assert "| 3 days | 3 | 3.25 |" in page and "| 365 days | 3.5 | 300.2 |" in page
    assert "no annual cap is set" in page
    assert "Release clock (`as_of`) of the latest build that decided a period: 2026-10-12 00:00 UTC." in page
    for name in ("budget_window.png", "cells_by_city.png", "error_bars.png"):
        assert f"]({name})" in page and (tmp_path / name).read_bytes().startswith(PNG_MAGIC)
    assert len(source.queries) == 3

    with_log = write_report(Source(literal_warehouse(with_log=True)), tmp_path, "dev", release).read_text()
    assert "| acme | file | 1 | 1 | 5 | — |" in with_log and (tmp_path / PNGS["exports"]).exists()


@pytest.mark.e2e
def test_report_from_a_real_build(tmp_path_factory, extension_dir):
    """One shared build (tests_py/delivery_build.py), two exports, the request log rebuilt, then the command."""
    project: DbtProject = built_copy(tmp_path_factory, extension_dir, "report")
    project._run([str(BIN / "privacy-insights"), "buyers", "add", "acme"], check=True)  # exports need a buyer
    export = [
        str(BIN / "privacy-insights"),
        "export",
        "--buyer-id",
        "acme",
        "--cities",
        "jp-tyo",
        "--output-dir",
        str(project.workdir / "exports"),
    ]
    project._run([*export, "--start", "2026-10-05", "--end", "2026-10-13", "--granularity", "day"], check=True)
    refused = project._run(
        [*export, "--start", "2026-10-05", "--end", "2026-10-13", "--granularity", "hour"], check=False
    )
    assert refused.returncode == 3
    project.dbt(
        "build",
        "--select",
        "stg_audit__buyer_requests",
        "ops_buyer_request_log",
        vars={"as_of": "2026-10-17T00:00:00Z", "release_start_date": "2026-10-05"},
    )

    out = project.workdir / "report"
    project._run([str(BIN / "privacy-insights"), "report", "--out", str(out)], check=True)
    page = (out / "report.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert sorted(linked) == sorted(PNGS.values())
    for name in linked:
        data = (out / name).read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR"
    assert "| acme | file | 2 | 1 |" in page and "hour_granularity_buyers 1" in page
    assert "Skipped" not in page

    # The same page in process, to see every statement sent: only the allowed relations, nothing upstream.
    con = duckdb.connect(project.env["PRIVACY_INSIGHTS_DUCKDB"], read_only=True)
    source = Source(Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev"))
    try:
        again = write_report(source, tmp_path_factory.mktemp("report_again"), "dev", default_release()).read_text()
    finally:
        source.close()
    assert again == page
    allowed = {f'"{schema}"."{table}"' for schema, table in ALLOWED}
    for sql in source.queries:
        assert re.search(r"\b(staging|intermediate|stg_|int_|_releases\b)", sql) is None, sql
        named = set(re.findall(r'"[a-z_]+"\."[a-z0-9_]+"(?=\s|$)', sql))
        assert named and named <= allowed, sql
    assert {q.split(" from ")[1].split(".", 1)[1] for q in source.queries} >= {
        '"{}"."{}"'.format(*LEDGER),
        '"{}"."{}"'.format(*INSIGHTS),
    }
    # the ledger's own busiest window is what the report computed from the charges
    match = re.search(
        r"busiest window, ending \S+: epsilon (\S+) .*ledger's own record of its busiest window: (\S+)", page
    )
    assert match and match.group(1) == match.group(2), page[:1500]
