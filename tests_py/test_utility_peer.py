"""The utility report's PipelineDP column (privacy_insights.utility.peer) on small synthetic inputs.

PipelineDP runs for real (the optional extra ``peer``; CI installs it with ``make test``). Outside
CI a missing PipelineDP skips the tests that run it; under CI=true it fails them, so the column
cannot silently stop being tested.

False failures: every noisy assertion below allows a deviation D of Laplace noise of scale b,
P(|Z| > D) = exp(-D / b); each test's bound is computed next to it, all below 1e-9.
"""

from __future__ import annotations

import math
import os
import sys
from datetime import datetime

import duckdb
import pandas as pd
import pytest

from privacy_insights import targets
from privacy_insights.dp.mechanisms import period_mechanism, zcdp_epsilon
from privacy_insights.dp.params import parse_policy
from privacy_insights.dp.thresholds import release_threshold
from privacy_insights.utility import peer
from privacy_insights.utility.measure import Utility
from privacy_insights.utility.report import markdown

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def pipeline_dp():
    if IN_CI:  # CI installs the extra (make test): a missing one is a failure, not a skip
        import pipeline_dp

        return pipeline_dp
    return pytest.importorskip("pipeline_dp", reason=peer.INSTALL_HINT)


def default_policy(day_epsilon: float | None = None, category_cells: int | None = None):
    variables = targets.project_vars()
    raw = dict(variables["spots_release"])
    if day_epsilon is not None:
        raw["granularities"] = {**raw["granularities"], "day": {**raw["granularities"]["day"], "epsilon": day_epsilon}}
    if category_cells is not None:
        category = {**raw["levels"]["city_category"], "max_cells_per_participant": category_cells}
        raw["levels"] = {**raw["levels"], "city_category": category}
    return parse_policy(raw, variables["reporting_delay_hours"])


def spec(epsilon: float, cells: int = 1, k: int = 100) -> peer.CountSpec:
    return peer.CountSpec("day", "city", "laplace", epsilon, 0.0, cells, k, 0.01, cells / epsilon)


def test_count_spec_reads_the_policy():
    policy = default_policy()
    day = policy.for_granularity("day")
    for level in ("city", "city_category"):
        s = peer.count_spec(policy, "day", level)
        # the project's participant count of the level: the day's epsilon x level share x metric share
        expected = day.epsilon * policy.levels("day")[level].epsilon_share * policy.metric_shares["unique_participants"]
        assert s.family == "laplace" and s.delta == 0.0
        assert s.epsilon == pytest.approx(expected, rel=1e-9)
        cells = policy.levels("day")[level].max_cells_per_participant  # C_L: the noise scale is C_L / epsilon
        assert s.project_scale == pytest.approx(cells / expected, rel=1e-9)
        assert (s.k, s.max_cells_per_participant, s.false_release_probability) == (day.k_min, cells, 0.01)
        assert peer.count_spec(policy, "day", level, max_cells=3).max_cells_per_participant == 3
        assert peer.count_spec(policy, "day", level, whole_period=True).epsilon == day.epsilon


def test_counts_run_on_public_partitions_only(pipeline_dp):
    rows = [(f"p{i}", "a") for i in range(600)] + [(f"q{i}", "b") for i in range(300)]
    rows += [(f"r{i}", "not_public") for i in range(50)]
    cells = peer.pipelinedp_count(rows, ["a", "b", "empty"], spec(epsilon=10.0))
    assert set(cells) == {"a", "b", "empty"}  # every public partition, nothing else
    # scale b = 1 / 10; P(|Z| > 5) = exp(-50) ~ 2e-22 per cell
    assert abs(cells["a"].noisy - 600) <= 5 and abs(cells["b"].noisy - 300) <= 5 and abs(cells["empty"].noisy) <= 5
    assert all(c.noise_stddev == pytest.approx(math.sqrt(2) / 10) for c in cells.values())


@pytest.mark.parametrize("cells_per_participant", [1, 2])
def test_cross_partition_bound_is_the_levels(pipeline_dp, cells_per_participant):
    """400 participants each in both partitions: with C_L = 1 each counts in one of them, with 2 in both."""
    rows = [(f"p{i}", part) for i in range(400) for part in ("a", "b")]
    cells = peer.pipelinedp_count(rows, ["a", "b"], spec(epsilon=10.0, cells=cells_per_participant))
    # scale b = C_L / 10 <= 0.2; P(|Z| > 5) <= exp(-25) ~ 1.4e-11 per cell
    if cells_per_participant == 1:
        assert abs(cells["a"].noisy + cells["b"].noisy - 400) <= 10
    else:
        assert abs(cells["a"].noisy - 400) <= 5 and abs(cells["b"].noisy - 400) <= 5
    assert cells["a"].noise_stddev == pytest.approx(math.sqrt(2) * cells_per_participant / 10)


def test_the_projects_threshold_is_applied(pipeline_dp):
    policy = default_policy()
    s = peer.count_spec(policy, "day", "city_category")  # epsilon 0.2025, scale 4.94
    project_threshold = release_threshold("laplace", s.project_scale, s.k, s.false_release_probability)[0]
    rows = [(f"p{i}", "big") for i in range(400)] + [(f"q{i}", "small") for i in range(20)]
    cells = peer.pipelinedp_count(rows, ["big", "small", "empty"], s)
    assert {c.threshold for c in cells.values()} == {project_threshold}  # same noise scale, same threshold
    assert all(c.released == (c.noisy >= project_threshold) for c in cells.values())
    # big: P(Z < threshold - 400) = exp(-(400 - t) / 4.94) / 2 ~ 1e-25; small (20): P(Z >= t - 20) ~ 1e-9
    assert cells["big"].released and not cells["small"].released and not cells["empty"].released


def small_warehouse() -> targets.Warehouse:
    """Staged events, reference data and released rows of two days, three cities, two categories.

    City A: 500 participants a day, 250 in coffee, 250 in music, the first 100 in both. B: 30. C: none."""
    con = duckdb.connect()
    for schema in ("staging", "reference", "outside_buyer"):
        con.execute(f"create schema {schema}")
    con.execute("create table reference.city_definitions as select unnest(['A', 'B', 'C']) as city_code")
    con.execute("create table reference.categories as select unnest(['coffee', 'music']) as category")
    days = [datetime(2026, 11, 2), datetime(2026, 11, 3)]
    events = []
    for day in days:
        for i in range(500):
            categories = (["coffee"] if i < 250 else ["music"]) + (["music"] if i < 100 else [])
            events += [(f"a{i}", day, "A", c, True) for c in categories]
        events += [(f"b{i}", day, "B", "coffee", True) for i in range(30)]
        events += [(f"x{i}", day, "A", "coffee", False) for i in range(50)]  # not door opens: not counted
    frame = pd.DataFrame(events, columns=["participant_key", "day_start", "city_code", "category", "opened"])
    con.register("frame", frame)
    con.execute("""create table staging.stg_spots__interaction_events as
        select participant_key, day_start, city_code, category, opened as counts_as_door_opened from frame""")
    released = []
    for day in days:  # what the project released: A's city count and categories, B suppressed
        released += [
            ("day", day, "city", "A", "all", day, 505, False),
            ("day", day, "city", "B", "all", day, 40, True),
            ("day", day, "city_category", "A", "coffee", day, 225, False),
            ("day", day, "city_category", "A", "music", day, 315, False),
        ]
    rows = pd.DataFrame(
        released,
        columns=[
            "time_granularity",
            "release_period_start",
            "release_level",
            "geo_bucket_id",
            "segment_category",
            "time_bucket_start_utc",
            "unique_participants_est",
            "privacy_suppressed",
        ],
    )
    con.register("released_rows", rows)
    con.execute("create table outside_buyer.spots_insights_v1 as select * from released_rows")
    return targets.Warehouse(con, "memory", "dev")


def test_compare_on_a_warehouse(pipeline_dp):
    # one category per person-day (C_category = 1), so PipelineDP's bounding undercount shows;
    # city epsilon 0.36 (scale 2.8), categories 0.81 (scale 1.2)
    policy = default_policy(day_epsilon=3.0, category_cells=1)
    warehouse = small_warehouse()
    try:
        result = peer.compare(warehouse, policy)
    finally:
        warehouse.close()
    assert result.note is None
    city, category = result.levels
    assert (city.level, city.public_cells, category.level, category.public_cells) == ("city", 6, "city_category", 12)
    # the project's side, exact: city 505 vs 500 true distinct; coffee 225 vs 250, music 315 vs 350
    assert (city.project_released, category.project_released) == (2, 4)
    assert city.project_median_abs_relative_error == pytest.approx(0.01)
    assert category.project_median_relative_error == pytest.approx(-0.10)
    assert city.project_share_below_k == 0.0
    # PipelineDP: A's two city-days released (500 vs a threshold near 110: P(miss) ~ exp(-390 / 2.8)),
    # B's (30) and C's (0) not (P(Z >= 80) = exp(-80 / 2.8) / 2 ~ 2e-13 each)
    assert city.peer_released == 2 and city.peer_share_below_k == 0.0
    # categories: coffee 150 + X, music 250 + (100 - X) after one category per person-day, both above the
    # threshold (~106, scale 1.2); both below the truth unless X is 0 or 100 (P = 2^-99): a negative median
    assert category.peer_released == 4
    assert category.peer_median_relative_error < 0
    # the ceiling: the same counts at the day's whole epsilon (3.0), the same cells released
    assert (city.period_epsilon, category.period_epsilon) == (3.0, 3.0)
    assert (city.peer_period_released, category.peer_period_released) == (2, 4)


def test_compare_says_when_pipelinedp_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "pipeline_dp", None)  # what Python reports for a package that is not there
    assert not peer.available()
    assert peer.compare(small_warehouse(), default_policy()).note == peer.INSTALL_HINT


def test_report_shows_the_column_or_the_install_hint():
    empty = pd.DataFrame(columns=["release_level"])
    missing = Utility(empty, {}, empty, empty, empty, peer=peer.PeerComparison(note=peer.INSTALL_HINT))
    text = markdown([("baseline, 10^6", missing)], {}, None, "privacy-insights utility-report")
    assert "## Against PipelineDP" in text and f"baseline, 10^6: {peer.INSTALL_HINT}" in text
    level = peer.LevelComparison(
        "day", "city", 0.09, 1, 1708, 656, 653, 0.0266, 0.0399, -0.0258, -0.0225, 0, 0, 143, 0.75, 900, 0.031
    )
    ran = Utility(empty, {}, empty, empty, empty, peer=peer.PeerComparison([level]))
    text = markdown([("baseline, 10^6", ran)], {}, None, "privacy-insights utility-report")
    assert "| baseline, 10^6 | day city | 0.09 | 1 | 1,708 | 656 / 653 | 2.66% / 3.99% |" in text
    assert "| 900 (epsilon 0.75) | 3.10% |" in text
    without = Utility(empty, {}, empty, empty, empty)  # --no-peer: no section
    assert "PipelineDP" not in markdown([("x", without)], {}, None, "c")


def test_gaussian_option(pipeline_dp):
    """Under the gaussian option PipelineDP gets the (epsilon, delta) the count's rho converts to, and the
    threshold is the project's rule for Gaussian noise of PipelineDP's reported standard deviation."""
    variables = targets.project_vars()
    policy = parse_policy({**variables["spots_release"], "mechanism": "gaussian"}, variables["reporting_delay_hours"])
    s = peer.count_spec(policy, "day", "city")
    rho = period_mechanism(policy, "day").level("city").metrics["unique_participants"].cost
    assert (s.family, s.delta) == ("gaussian", policy.delta)
    assert s.epsilon == pytest.approx(zcdp_epsilon(rho, policy.delta), rel=1e-9)
    rows = [(f"p{i}", "big") for i in range(1000)]
    cells = peer.pipelinedp_count(rows, ["big", "empty"], s)
    sigma = cells["big"].noise_stddev
    assert cells["big"].threshold == release_threshold("gaussian", round(sigma, 9), s.k, 0.01)[0]
    # sigma is 15.8 here (the project's 17.1), the threshold 137: P(|Z| > 12 sigma) < 1e-32, and the empty
    # cell clears the threshold with P(Z >= 137) = P(Z >= 8.6 sigma) < 1e-17
    assert cells["big"].released and abs(cells["big"].noisy - 1000) <= 12 * sigma
    assert not cells["empty"].released
