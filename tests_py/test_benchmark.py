"""The benchmark's own parts: measurement, per-layer attribution, the OpenDP-direct baseline.

The benchmark itself is a script (``privacy-insights benchmark``), never a timed test;
these tests check that what it measures and compares is what it says it is.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta

import opendp.prelude as dp
import polars as pl
import pytest

from privacy_insights import targets
from privacy_insights.benchmark import opendp_direct
from privacy_insights.benchmark.layers import LAYERS, layer_of, read_profile
from privacy_insights.benchmark.measure import StepFailed, drop_page_cache, run_step
from privacy_insights.benchmark.report import daily_cost_table, events_label
from privacy_insights.benchmark.runner import RunResult, check_event_counts, run_benchmark
from privacy_insights.cli import build_parser, main
from privacy_insights.dp.mechanisms import period_mechanism
from privacy_insights.dp.params import parse_policy


def _policy(**day_overrides):
    variables = targets.project_vars()
    release = json.loads(json.dumps(variables["spots_release"]))
    release["granularities"]["day"].update(day_overrides)
    if "epsilon" in day_overrides:
        release["epsilon_cap"] = max(release["epsilon_cap"], day_overrides["epsilon"])
    return parse_policy(release, variables["reporting_delay_hours"])


# ---- measurement -------------------------------------------------------------------


def test_peak_rss_is_the_child_process_own(tmp_path):
    # The caller holds 1 GiB, touched: Linux would count it in a child it forks and execs
    # itself (the old memory map's high-water mark), as a test worker that has loaded a
    # warehouse did (1,401 MiB reported for this step); the launcher keeps it out.
    held = bytearray(2**30)
    held[::4096] = b"x" * len(held[::4096])
    script = "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); print('{\"ok\": 1}')"
    step = run_step("allocate", [sys.executable, "-c", script], env={}, cwd=tmp_path)
    del held
    # 300 MiB touched page by page: the child's peak must show it, and not much more.
    assert 300 <= step.peak_rss_mib < 600
    assert step.wall_s > 0
    assert step.last_json() == {"ok": 1}


def test_failed_step_reports_its_output(tmp_path):
    with pytest.raises(StepFailed, match=r"boom failed with exit code 3:\n.*went wrong"):
        run_step("boom", [sys.executable, "-c", "print('went wrong'); raise SystemExit(3)"], env={}, cwd=tmp_path)


def test_last_json_reads_an_indented_summary_after_logs(tmp_path):
    script = "import json; print('log line {not json'); print(json.dumps({'rows': {'a': 2}}, indent=2))"
    step = run_step("gen", [sys.executable, "-c", script], env={}, cwd=tmp_path)
    assert step.last_json() == {"rows": {"a": 2}}


def test_cold_cache_is_refused_with_the_reason_when_the_cache_cannot_be_dropped(tmp_path):
    # a control file that cannot be written (its folder does not exist), as for a non-root user
    with pytest.raises(RuntimeError, match=r"--cold-cache: cannot drop the OS page cache .*needs root on Linux"):
        drop_page_cache(tmp_path / "no-such-folder" / "drop_caches")


# ---- per-layer attribution ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "layer"),
    [
        (
            {"resource_type": "model", "language": "sql", "original_file_path": "models/staging/spots/stg_x.sql"},
            "staging",
        ),
        (
            {"resource_type": "model", "language": "sql", "original_file_path": "models/intermediate/spots/int_x.sql"},
            "intermediate",
        ),
        (
            {"resource_type": "model", "language": "python", "original_file_path": "models/marts/outside_buyer/x.py"},
            "Python DP models",
        ),
        (
            {"resource_type": "model", "language": "sql", "original_file_path": "models/marts/ops/ops_x.sql"},
            "marts (SQL)",
        ),
        ({"resource_type": "test"}, "tests"),
        ({"resource_type": "unit_test"}, "tests"),
        ({"resource_type": "seed"}, "seeds, snapshots, hooks"),
        ({"resource_type": "operation"}, "seeds, snapshots, hooks"),
    ],
)
def test_layer_of_each_kind_of_node(node, layer):
    assert layer_of(node) == layer


def test_unknown_node_kind_is_refused():
    with pytest.raises(ValueError, match="node x: no benchmark layer for resource type 'analysis'"):
        layer_of({"unique_id": "x", "resource_type": "analysis"})


def test_profile_sums_node_times_per_layer(tmp_path):
    nodes = {
        "model.p.stg": {"resource_type": "model", "language": "sql", "original_file_path": "models/staging/stg.sql"},
        "model.p.rel": {"resource_type": "model", "language": "python", "original_file_path": "models/marts/r.py"},
        "test.p.t1": {"resource_type": "test"},
        "test.p.t2": {"resource_type": "test"},
    }
    results = {
        "elapsed_time": 9.5,
        "results": [
            {"unique_id": "model.p.stg", "execution_time": 1.0},
            {"unique_id": "model.p.rel", "execution_time": 3.0},
            {"unique_id": "test.p.t1", "execution_time": 2.5},
            {"unique_id": "test.p.t2", "execution_time": 3.5},
            {"unique_id": "unit_test.p.stg.u1", "execution_time": 0.5},
            {"unique_id": "exposure.p.app", "execution_time": 0.001},
        ],
    }
    unit_tests = {"unit_test.p.stg.u1": {"resource_type": "unit_test"}}
    exposures = {"exposure.p.app": {"resource_type": "exposure"}}
    (tmp_path / "manifest.json").write_text(
        json.dumps({"nodes": nodes, "unit_tests": unit_tests, "exposures": exposures})
    )
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    profile = read_profile(tmp_path)
    seconds = profile.layer_seconds()
    assert set(seconds) == set(LAYERS)
    assert (seconds["staging"], seconds["Python DP models"], seconds["tests"]) == (1.0, 3.0, 6.5)
    assert profile.layer_shares()["tests"] == pytest.approx(6.5 / 10.5)
    assert [n.unique_id for n in profile.slowest(2)] == ["test.p.t2", "model.p.rel"]
    assert profile.elapsed_s == 9.5
    assert profile.to_dict()["nodes"] == 5  # the exposure runs nothing


def test_events_label_names_powers_of_ten_and_spells_out_the_rest():
    assert [events_label(n) for n in (1_000, 10**7, 10**8, 250_000)] == ["10^3", "10^7", "10^8", "250,000"]


def test_benchmark_accepts_10_to_the_8_events():
    args = build_parser().parse_args(["benchmark", "--events", "1000", "100000000", "--postgres-events"])
    assert args.events == [1_000, 10**8]
    check_event_counts([*args.events, *args.postgres_events, *args.spark_events])  # no cap: nothing raised


def test_benchmark_refuses_a_size_the_generator_refuses_before_running_anything(tmp_path, capsys):
    root = tmp_path / "bench"
    with pytest.raises(ValueError, match="events: must be at least 1,000, got 999"):
        run_benchmark(root, [("dev", 10**8), ("dev", 999)], 42, root / "results.json")
    assert not root.exists()  # refused before the first (long) size ran
    code = main(["benchmark", "--events", "1000", "--spark-events", "999", "--work-dir", str(root)])
    assert code != 0 and "events: must be at least 1,000, got 999" in capsys.readouterr().err
    assert not root.exists()


def test_daily_cost_table_splits_one_day_from_a_build_with_nothing_new():
    slowest = [
        {"unique_id": "test.p.contribution_bounds_respected_x.3e009e42ac", "layer": "tests", "seconds": 5.28},
        {"unique_id": "model.p.stg_a", "layer": "staging", "seconds": 4.0},
    ]
    measured = RunResult("dev", 10**7, incremental_build={"wall_s": 57.4})
    measured.unchanged_build = {"wall_s": 53.9, "profile": {"nodes": 254, "slowest": slowest}}
    not_measured = RunResult("prod", 10**6, incremental_build={"wall_s": 48.5})
    rows = daily_cost_table([measured, not_measured]).splitlines()
    assert rows[2] == (
        "| dev | 10^7 | 57.4 s | 53.9 s | 3.5 s | **0.94** | 254 "
        "| `contribution_bounds_respected_x` 5.3 s, `stg_a` 4.0 s |"
    )
    assert len(rows) == 3  # a run without the third build has no row


# ---- baseline (b): OpenDP's Polars interface used directly ----------------------------


def test_released_days_follow_the_pipeline_clock():
    as_of = datetime(2026, 11, 3, tzinfo=UTC)
    days = opendp_direct.released_days(as_of, 72, date(2026, 10, 1))
    assert (days[0], days[-1], len(days)) == (date(2026, 10, 1), date(2026, 10, 30), 30)
    # one second earlier the 30th day is still inside the 72-hour delay
    assert opendp_direct.released_days(as_of - timedelta(seconds=1), 72, date(2026, 10, 1))[-1] == date(2026, 10, 29)


def _contributions(rows):
    frame = pl.DataFrame(
        rows,
        schema=["participant", "day_start", "geo_bucket_id", "door_type", "category", "context", "doors_opened"],
        orient="row",
    )
    return frame.with_columns(
        (pl.col("participant") + "|" + pl.col("day_start").dt.date().cast(pl.String)).alias("privacy_unit"),
        pl.col("day_start").cast(pl.Datetime("us")),
    ).drop("participant")


def _keys(days, cities):
    keys = pl.DataFrame({"day_start": days}).with_columns(pl.col("day_start").cast(pl.Datetime("us")))
    for name, values in (
        ("geo_bucket_id", cities),
        ("door_type", ["spot"]),
        ("category", ["coffee"]),
        ("context", ["morning"]),
    ):
        keys = keys.join(pl.DataFrame({name: values}), how="cross")
    return keys


def test_opendp_direct_uses_the_pipeline_noise_scales_and_public_keys(tmp_path):
    policy = _policy()
    day = datetime(2026, 10, 5)
    contributions = _contributions([(f"p{i}", day, "us-nyc", "spot", "coffee", "morning", 3) for i in range(50)])
    keys = _keys([day], ["us-nyc", "us-lax", "gb-lon"])
    keys.write_parquet(tmp_path / "keys.parquet")
    scales = {}
    cells = opendp_direct.release_days(contributions, pl.scan_parquet(tmp_path / "keys.parquet"), policy, scales)
    pipeline = period_mechanism(policy, "day").level(opendp_direct.FINEST_LEVEL).metrics
    # OpenDP finds its scale by binary search, so it lands a hair above the exact value
    assert scales == {metric: pytest.approx(pipeline[metric].scale, rel=1e-9) for metric in opendp_direct.METRIC_ORDER}
    g = policy.for_granularity("day")
    epsilon = opendp_direct.finest_level_epsilon(policy, g)
    c = opendp_direct.finest_level_cells(policy, g)  # the finest level's bound C (2 by default)
    assert scales["doors_opened"] == pytest.approx(
        c * g.max_opens_per_participant / (epsilon * policy.metric_shares["doors_opened"]), rel=1e-9
    )
    # every public key is released, empty cells included, each exactly once
    assert sorted(cells["geo_bucket_id"].to_list()) == ["gb-lon", "us-lax", "us-nyc"]


def test_opendp_direct_bounds_each_unit_to_c_cells_and_m_opens(tmp_path):
    # epsilon so large that the largest noise scale is below 2e-3 (doors: C * M / (1e5 * share of
    # city_segment * share of doors), C = 2, M = 4); a discrete Laplace draw is non-zero with probability
    # 2e^(-1/scale) / (1 + e^(-1/scale)) < 2e^-500, so over 30 draws the released counts are
    # the bounded true counts (false failure < 60e^-500) and the bounds can be read off them.
    policy = _policy(epsilon=100_000.0)
    day = datetime(2026, 10, 5)
    cities = ["c1", "c2", "c3", "c4", "c5"]
    rows = [("heavy", day, city, "spot", "coffee", "morning", 9) for city in cities]  # 5 cells, 9 opens each
    rows += [("light", day, "c1", "spot", "coffee", "morning", 1)]
    keys = _keys([day, day + timedelta(days=1)], cities)
    keys.write_parquet(tmp_path / "keys.parquet")
    cells = opendp_direct.release_days(_contributions(rows), pl.scan_parquet(tmp_path / "keys.parquet"), policy)
    assert cells.height == 10
    total = cells.select(pl.col(m).sum() for m in opendp_direct.METRIC_ORDER).row(0, named=True)
    g = policy.for_granularity("day")
    m, c = g.max_opens_per_participant, opendp_direct.finest_level_cells(policy, g)
    assert c < len(cities)  # the heavy unit has more cells than the bound keeps
    assert total == {"unique_participants": c + 1, "doors_opened": c * m + 1, "repeaters": c}
    # suppression reads the noisy counts: 2 participants at most per cell, far below k
    assert set(cells["suppressed_reason"].to_list()) == {"k_min"}


def test_opendp_truncate_num_groups_still_keeps_one_group_fewer_than_asked():
    # Why the baseline bounds units in Polars (module docstring): OpenDP 0.16's
    # truncate_num_groups(1) keeps no group at all. When OpenDP fixes this, this test fails
    # and the baseline can use it. Epsilon 1e5: the count noise scale is 1e-5, so a non-zero
    # draw has probability < 2e^-100000 (no false failure).
    frame = pl.DataFrame({"unit": ["a", "a", "b"], "cell": ["x", "y", "x"]})
    context = dp.Context.compositor(
        data=frame.lazy(),
        privacy_unit=dp.unit_of(contributions=1, identifier=pl.col("unit")),
        privacy_loss=dp.loss_of(epsilon=1e5),
        split_evenly_over=1,
        margins=[dp.polars.Margin(by=["cell"], max_length=100)],
    )
    released = (
        context.query()
        .truncate_per_group(1, by=["cell"])
        .truncate_num_groups(1, by=["cell"], keep="first")
        .group_by(["cell"])
        .agg(dp.len(signed=True).alias("n"))
        .with_keys(pl.DataFrame({"cell": ["x", "y"]}).lazy())
        .release()
        .collect()
    )
    assert released["n"].sum() == 0
