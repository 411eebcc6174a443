"""The history benchmark's own parts (``privacy-insights benchmark --history``, issue 30).

The benchmark is a script, never a timed test: these tests check the sizes it accepts, the
growth exponents and goals it computes from its figures, the tables it writes, and that the
+1 day it lands is one more day of rows under new ids, on a real generated DuckDB warehouse.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import duckdb
import pytest

from harness import REPO
from privacy_insights.benchmark.history import (
    LANDED_DAY,
    Goal,
    Growth,
    _slowest,
    evaluate_goals,
    fit_exponent,
    goals_table,
    growth_exponents,
    growth_table,
    history_markdown,
    land_next_day,
    parse_size,
    parse_sizes,
    run_history,
    summarize,
)
from privacy_insights.cli import build_parser
from privacy_insights.synthetic import GeneratorConfig, generate
from privacy_insights.targets import Warehouse


def _size(events: int, full, nothing_new, plus_one_day, floor, peak=900.0, error=None) -> dict:
    """A size of the results file, one run per value in each list."""
    runs = []
    for i in range(len(full)):
        run = {}
        for measure, values in (
            ("full", full),
            ("nothing_new", nothing_new),
            ("plus_one_day", plus_one_day),
            ("floor", floor),
        ):
            if i < len(values):
                run[measure] = {"wall_s": values[i], "peak_rss_mib": peak}
        runs.append(run)
    return {"events": events, "runs": runs, "error": error, "load_start": [0.5, 0.4, 0.3], "load_end": [0.9, 0.5, 0.3]}


# ---- sizes -------------------------------------------------------------------------------


def test_sizes_accept_powers_written_every_usual_way():
    assert [parse_size(t) for t in ("1e3", "1000", "1_000", "10^8", "2.5e5", "1E7")] == [
        1_000,
        1_000,
        1_000,
        10**8,
        250_000,
        10**7,
    ]
    assert parse_sizes("1e7, 1e3,1e6") == [1_000, 10**6, 10**7]
    for bad, message in (("1.5e2x", "not a number"), ("1.5", "not a whole number"), ("", "at least one")):
        with pytest.raises(ValueError, match=message):
            parse_sizes(bad) if bad == "" else parse_size(bad)
    with pytest.raises(ValueError, match="names a size twice"):
        parse_sizes("1e3,1000")


def test_history_options_parse():
    args = build_parser().parse_args(["benchmark", "--history", "--sizes", "1e3,1e8", "--runs", "1"])
    assert (args.history, args.sizes, args.runs, args.spark_sizes, args.merge) == (True, [1_000, 10**8], 1, [], False)
    defaults = build_parser().parse_args(["benchmark", "--history"])
    assert defaults.sizes == [10**3, 10**6, 10**7, 10**8] and defaults.runs == 2 and defaults.output is None


# ---- growth exponents ----------------------------------------------------------------------


def test_fit_exponent_recovers_a_power_law_and_a_constant():
    sizes = [1e3, 1e6, 1e7, 1e8]
    assert fit_exponent([(n, 3e-5 * n**0.8) for n in sizes]) == pytest.approx(0.8)
    assert fit_exponent([(n, 18.0) for n in sizes]) == pytest.approx(0.0)
    # a least-squares fit, not the line through the end points: log-log points 0, 1, 2 with y 0, 2, 1
    assert fit_exponent([(1, 1), (math.e, math.e**2), (math.e**2, math.e)]) == pytest.approx(0.5)
    assert fit_exponent([(1e3, 5.0)]) is None
    assert fit_exponent([(1e3, 5.0), (1e3, 6.0)]) is None  # one distinct size
    assert fit_exponent([(1e3, 0.0), (1e6, -1.0), (1e7, 2.0)]) is None  # non-positive points are left out


def test_growth_exponents_of_each_measure_with_and_without_the_fixed_cost():
    # nothing new = 18 s fixed + 2e-6 s per event: the raw slope is flattened by the fixed
    # cost, the slope beyond the smallest size's time is the per-event part's, 1.
    sizes = [10**3, 10**6, 10**7, 10**8]
    summaries = [summarize(_size(n, [20 + 1e-5 * n], [18 + 2e-6 * n], [19 + 4e-6 * n], [1e-6 * n**0.9])) for n in sizes]
    growth = {g.measure: g for g in growth_exponents(summaries)}
    assert growth["nothing_new"].beyond_smallest == pytest.approx(1.0, abs=1e-3)
    assert 0 < growth["nothing_new"].exponent < 0.5
    assert growth["floor"].exponent == pytest.approx(0.9)
    assert growth["full"].sizes == tuple(sizes)
    flat = growth_table([Growth("nothing_new", -0.001, None, (10**3, 10**5))]).splitlines()[2]
    assert flat == "| nothing new | 0.00 | n/a | 10^3, 10^5 |"  # never -0.00
    only_two = growth_exponents(summaries[:2])
    assert all(g.beyond_smallest is None and g.exponent is not None for g in only_two)  # 3 sizes needed beyond


# ---- goals ---------------------------------------------------------------------------------


def test_goals_from_the_issue_30_figures_are_not_met_where_the_issue_says():
    # the issue's own table (10^3 nothing new 18.0 s; 10^7 full 137.8 / 134.4, +1 day 61.9,
    # nothing new 39.4 / 38.3, floor 9.55 / 8.61, peak 3.4 GiB): 2.2x, 3.4x and 13x.
    summaries = [
        summarize(_size(10**3, [20.0], [18.0], [19.0], [0.3])),
        summarize(_size(10**7, [137.8, 134.4], [39.4, 38.3], [61.9], [9.55, 8.61], peak=3.4 * 1024)),
    ]
    goals = evaluate_goals(summaries)
    assert [g.verdict for g in goals] == ["not met", "not measured", "not met", "not met", "not measured"]
    assert goals[0].measured == "2.16x (38.8 s / 18.0 s)"  # median of the two runs
    assert goals[2].measured == "3.44x (61.9 s / 18.0 s)"
    assert goals[3].measured == "13.01x ((136.1 s - 18.0 s) / 9.1 s)"
    assert goals[1].measured == "10^8 not run" and goals[4].measured == "10^8 not run"


def test_goals_met_at_their_bounds_and_the_10_to_the_8_build_judged_on_completion_and_memory():
    summaries = [
        summarize(_size(10**3, [20.0], [20.0], [20.0], [0.2])),
        summarize(_size(10**7, [70.0], [25.0], [30.0], [10.0])),  # 1.25x, 1.5x, (70-20)/10 = 5x: all at the bound
        summarize(_size(10**8, [900.0], [30.0], [60.0], [100.0], peak=4 * 1024 - 1)),
    ]
    assert [g.verdict for g in evaluate_goals(summaries)] == ["met"] * 5
    summaries[2] = summarize(_size(10**8, [900.0], [30.1], [60.0], [100.0], peak=4 * 1024))
    goals = evaluate_goals(summaries)
    assert [g.verdict for g in goals] == ["met", "not met", "met", "met", "not met"]
    assert goals[4].measured == "completed in 900.0 s, peak RSS 4,096 MiB (4.00 GiB)"


def test_a_failed_size_is_not_met_for_completion_and_not_measured_for_ratios():
    failed = _size(10**8, [], [], [], [], error="full build (run 1) failed with exit code 1:\nOut of Memory")
    summaries = [summarize(_size(10**3, [20.0], [20.0], [20.0], [0.2])), summarize(failed)]
    goals = evaluate_goals(summaries)
    assert goals[1] == Goal(
        "nothing new at 10^8 <= 1.5 x nothing new at 10^3",
        "nothing new at 10^8 did not finish (full build (run 1) failed with exit code 1:)",
        "not measured",
    )
    assert goals[4].verdict == "not met" and "did not complete: full build (run 1) failed" in goals[4].measured
    assert goals[3].measured == "10^7 not run"  # one reason, said once


def test_goals_table_and_report_put_the_goals_first():
    table = goals_table([Goal("g1", "1.10x", "met"), Goal("g2", "2.00x", "not met"), Goal("g3", "x", "not measured")])
    assert table.splitlines() == [
        "| goal (issue 30) | measured | met |",
        "|---|---|---|",
        "| g1 | 1.10x | **met** |",
        "| g2 | 2.00x | **not met** |",
        "| g3 | x | not measured |",
    ]
    document = {
        "command": "privacy-insights benchmark --history --sizes 1e3,1e7",
        "machine": "2 cores (test), 24 GiB RAM",
        "started": "2026-12-08 01:00 UTC",
        "load_start": [0.12, 0.3, 0.5],
        "load_end": [1.5, 0.9, 0.6],
        "runs": 2,
        "seed": 42,
        "sizes": [
            _size(10**3, [20.0, 21.0], [18.0, 18.5], [19.0, 19.5], [0.3, 0.4]),
            _size(10**7, [137.8, 134.4], [39.4, 38.3], [61.9, 60.0], [9.55, 8.61], peak=3481.6),
        ],
    }
    markdown = history_markdown(document)
    lines = markdown.splitlines()
    assert lines[0] == "# Benchmark results: what grows with data and history"
    assert "Load average (1, 5, 15 min) at the start: 0.12, 0.30, 0.50; at the end: 1.50, 0.90, 0.60." in markdown
    goals_at = lines.index("## Goals (issue 30)")
    assert goals_at < lines.index("## Wall time per size (run 1 / run 2 ...)") < lines.index("## Growth exponents")
    assert "| nothing new at 10^7 <= 1.25 x nothing new at 10^3 | 2.13x (38.8 s / 18.2 s) | **not met** |" in lines
    assert (
        "| 10^7 | 137.8 / 134.4 s | 61.9 / 60.0 s | 39.4 / 38.3 s | 9.6 / 8.6 s "
        "| 3.40 GiB / 3.40 GiB / 3.40 GiB / 3.40 GiB | 0.50, 0.90 |"
    ) in lines
    assert "| full build | 0.21 | n/a | 10^3, 10^7 |" in lines


def test_slowest_nodes_are_named_without_kind_project_or_test_hash():
    profile = {
        "slowest": [
            {"unique_id": "test.privacy_insights.not_null_stg_x_day.e6d395763b", "seconds": 1.24},
            {"unique_id": "model.privacy_insights.stg_audit__buyer_requests", "seconds": 1.0},
            {"unique_id": "unit_test.privacy_insights.stg_y.flags_late_rows", "seconds": 0.5},
        ]
    }
    assert (
        _slowest(profile)
        == "`not_null_stg_x_day` 1.2 s, `stg_audit__buyer_requests` 1.0 s, `stg_y.flags_late_rows` 0.5 s"
    )


# ---- the run itself: the +1 day it lands, and --merge ---------------------------------------


def test_land_next_day_adds_the_last_day_again_one_day_later_under_new_ids(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    generate(GeneratorConfig(events=2_000, seed=42), Warehouse(con, "w", "dev"), REPO / "seeds")
    day = "occurred_at >= timestamptz '{0}' and occurred_at < timestamptz '{0}' + interval 1 day"
    before_ids = {r[0] for r in con.sql("select event_id from raw.spots_interaction_events").fetchall()}
    last_day = con.sql(
        f"select count(*) from raw.spots_interaction_events where {day.format('2026-10-31 00:00:00+00')}"
    ).fetchone()[0]
    next_day_before = con.sql(
        f"select count(*) from raw.spots_interaction_events where {day.format('2026-11-01 00:00:00+00')}"
    ).fetchone()[0]
    outreach_last_day = con.sql(
        "select count(*) from raw.outreach_event_logs where created_at >= timestamptz '2026-10-31 00:00:00+00' "
        "and created_at < timestamptz '2026-11-01 00:00:00+00'"
    ).fetchone()[0]
    con.close()

    added = land_next_day(path)

    assert added == {"spots_interaction_events": last_day, "outreach_event_logs": outreach_last_day}
    assert last_day > 0 and outreach_last_day > 0
    con = duckdb.connect(str(path), read_only=True)
    new_rows = con.sql(
        f"select event_id, user_id from raw.spots_interaction_events where {day.format('2026-11-01 00:00:00+00')}"
    ).fetchall()
    assert len(new_rows) == next_day_before + last_day
    landed_ids = {r[0] for r in new_rows} - before_ids
    # every copied UUID got a new id; copies of one id on the day stay copies of one new id
    copied = con.sql(
        f"select count(distinct event_id) from raw.spots_interaction_events "
        f"where {day.format('2026-10-31 00:00:00+00')} and regexp_matches(event_id, '^[0-9a-f-]{{36}}$')"
    ).fetchone()[0]
    assert len(landed_ids) == copied
    watermarks = {
        source: con.sql(f"select loaded_through from raw.{source}_load_watermark").fetchall()
        for source in ("spots", "outreach")
    }
    con.close()
    through = datetime(2026, 11, 2, tzinfo=UTC)
    assert LANDED_DAY == datetime(2026, 11, 1, tzinfo=UTC)
    for rows in watermarks.values():
        assert [row[0].astimezone(UTC) for row in rows] == [through]


def test_merge_keeps_earlier_sizes_and_an_empty_run_measures_nothing(tmp_path):
    results = tmp_path / "history_results.json"
    earlier = {"sizes": [_size(10**8, [900.0], [30.0], [60.0], [100.0])]}
    results.write_text(json.dumps(earlier))
    document = run_history(tmp_path, [], 42, 1, results, "privacy-insights benchmark --history --merge", merge=True)
    assert [s["events"] for s in document["sizes"]] == [10**8]
    assert json.loads(results.read_text())["sizes"] == document["sizes"]
    assert "Kept from an earlier run (`--merge`): 10^8 (started unknown);" in history_markdown(document)
    fresh = run_history(tmp_path, [], 42, 1, results, "privacy-insights benchmark --history")
    assert fresh["sizes"] == []
    with pytest.raises(ValueError, match="runs: must be at least 1"):
        run_history(tmp_path, [], 42, 0, results, "x")


def test_a_size_whose_step_fails_is_recorded_and_the_next_size_still_runs(tmp_path):
    # the generator refuses a negative seed: every size fails at its first step, in seconds
    results = tmp_path / "history_results.json"
    document = run_history(tmp_path / "work", [1_000, 2_000], -1, 1, results, "privacy-insights benchmark --history")
    assert [s["events"] for s in document["sizes"]] == [1_000, 2_000]
    for size in document["sizes"]:
        assert size["error"].startswith("generate failed with exit code 2:") and size["runs"] == []
        assert len(size["load_start"]) == 3 and len(size["load_end"]) == 3
    markdown = history_markdown(document)
    assert (
        "| nothing new at 10^7 <= 1.25 x nothing new at 10^3 | 10^7 not run; nothing new at 10^3 did not finish "
        in (markdown)
    )
    assert "- 10^3 **failed**:" in markdown and "| 2,000 (failed: see below) | - | - | - | - |" in markdown
