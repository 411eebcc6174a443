"""Automated re-identification attempts against real builds of generated data (contract 000 §9).

The attacker sees only buyer outputs (the spots_insights_v1 release and exports). The test
also reads the exact intermediate aggregates, only to measure how far the attacker's
estimates are from the truth. Each test states the attack, runs it, and asserts what the
noise and the bounds promise.
"""

from __future__ import annotations

import math
import shutil
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from delivery_build import BUILD, GENERATE  # the shared 200,000-event data set
from dp_fixtures import city_cells, policy, with_levels
from harness import BIN, REPO, WITHOUT_DBT_TESTS, DbtProject, default_release
from privacy_insights.dp.params import parse_policy
from privacy_insights.dp.release import PeriodRelease, empty_release, release_periods
from privacy_insights.export import ExportPolicy, ExportRequest, run_export, writer
from privacy_insights.targets import connect

pytestmark = pytest.mark.e2e
KEY = [
    "time_granularity",
    "time_bucket_start_utc",
    "geo_bucket_id",
    "release_level",
    "segment_door_type",
    "segment_category",
    "segment_context",
]
FORBIDDEN = ["user_id", "email"]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def built(tmp_path_factory, extension_dir) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp("redteam") / "dev", "dev", extension_dir)
    project.generate(*GENERATE)
    project.dbt("build", vars=BUILD)
    project._run([str(BIN / "privacy-insights"), "buyers", "add", "attacker"], check=True)  # exports need a buyer
    return project


def released_vs_truth(project: DbtProject) -> list[tuple]:
    """(granularity, true participants, published participants, suppressed) for every published
    city x segment cell (the finest level, where niche cohorts live)."""
    return project.query("""
        select r.time_granularity, t.participants, r.unique_participants_est, r.privacy_suppressed
        from outside_buyer.spots_insights_v1 as r
        join intermediate.int_spots__cell_aggregates as t
            on t.granularity = r.time_granularity and t.time_bucket_start_utc = r.time_bucket_start_utc
            and t.geo_bucket_id = r.geo_bucket_id and t.door_type = r.segment_door_type
            and t.category = r.segment_category and t.context = r.segment_context
            and t.level = r.release_level
        where r.release_level = 'city_segment'""")


def test_averaging_over_repeated_builds_and_exports_gains_nothing(built: DbtProject, tmp_path, monkeypatch):
    """Attack: rebuild (and full-refresh) many times and export the same slice again and again,
    then average, hoping independent noise cancels. Released values are frozen, so every copy is
    identical and the average's error equals a single release's error."""
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", built.env["PRIVACY_INSIGHTS_DUCKDB"])
    query = f"select * from outside_buyer.spots_insights_v1 order by {', '.join(KEY)}"
    first = built.query(query)
    built.dbt("build", *WITHOUT_DBT_TESTS, vars=BUILD)  # the values are the point; the fixture's build ran the tests
    built.dbt("build", "--full-refresh", *WITHOUT_DBT_TESTS, vars=BUILD)
    assert built.query(query) == first
    request = ExportRequest("attacker", date(2026, 10, 5), date(2026, 10, 13), "day", ("jp-tyo",), "jsonl")
    copies = []
    for i in range(3):
        warehouse = connect("dev")
        try:
            result = run_export(request, ExportPolicy(), warehouse, REPO / "seeds", FORBIDDEN, tmp_path / f"e{i}")
        finally:
            warehouse.close()
        copies.append(writer.read("jsonl", result.path))
    assert copies[0] == copies[1] == copies[2] and len(copies[0]) > 0


def test_overlapping_export_slices_reveal_nothing_new(built: DbtProject, tmp_path, monkeypatch):
    """Attack: many overlapping slices (different category subsets, door types, date windows)
    intersected to narrow a cohort. Every slice returns the same frozen value for a cell, so an
    intersection holds no information beyond the one release."""
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", built.env["PRIVACY_INSIGHTS_DUCKDB"])
    slices = [
        ExportRequest("attacker", date(2026, 10, 5), date(2026, 10, 13), "day", ("jp-tyo",), "jsonl"),
        ExportRequest(
            "attacker", date(2026, 10, 7), date(2026, 10, 9), "day", ("jp-tyo",), "jsonl", categories=("coffee", "food")
        ),
        ExportRequest(
            "attacker", date(2026, 10, 5), date(2026, 10, 8), "day", ("jp-tyo", "us-nyc"), "jsonl", door_types=("spot",)
        ),
        ExportRequest(
            "attacker",
            date(2026, 10, 6),
            date(2026, 10, 13),
            "day",
            ("jp-tyo",),
            "jsonl",
            contexts=("weekend", "evening"),
            include_suppressed=True,
        ),
    ]
    seen: dict[tuple, dict] = {}
    overlaps = 0
    for i, request in enumerate(slices):
        warehouse = connect("dev")
        try:
            path = run_export(request, ExportPolicy(), warehouse, REPO / "seeds", FORBIDDEN, tmp_path / f"s{i}").path
        finally:
            warehouse.close()
        for record in writer.read("jsonl", path):
            key = (record["time_bucket_start_utc"], record["geo_bucket"]["id"], tuple(record["segment"].values()))
            if key in seen:
                overlaps += 1
                assert seen[key] == record, f"cell {key} differs between overlapping slices"
            seen[key] = record
    assert overlaps > 50


def test_niche_cohorts_below_k_are_not_recovered(built: DbtProject):
    """Attack: read niche cohorts (true participants 1..k-1) from the release. Each such cell's
    decision reads only its own noisy participants against the honest threshold, which a cell
    with k - 1 true participants clears with probability at most 1 % (fewer, less often), and
    the cells' noise is independent. So the published ones are at most Binomial(n, 0.01); the
    asserted ceiling is its 1 - 1e-6 quantile, which a correct release exceeds less than once
    in a million runs."""
    rows = [r for r in released_vs_truth(built) if 0 < r[1] < 100]
    assert len(rows) > 500, "the data must contain niche cohorts for this attack to mean anything"
    released = [(g, true, est) for g, true, est, suppressed in rows if not suppressed]
    ceiling = stats.binom.ppf(1 - 1e-6, len(rows), policy().false_release_probability)
    errors = [abs(est - true) for _, true, est in released]
    print(
        f"\n[red-team niche] {len(rows)} cells with 1..99 true participants, {len(released)} published "
        f"(ceiling {ceiling:g}), |error| of published ones median "
        f"{np.median(errors) if errors else float('nan'):.0f}"
    )
    assert len(released) <= ceiling, (len(released), len(rows), ceiling)
    assert all(est >= 100 for _, _, est in released)  # and none is published below k


def _attack_frequency(
    worlds: dict[str, pd.DataFrame], attack, periods, granularity: str = "day"
) -> dict[str, np.ndarray]:
    """Run the real release on each world (many independent copies of one city) and apply the attack."""
    out = {}
    for name, cells in worlds.items():
        rows = release_periods(cells, granularity, policy(), periods, empty_release(), NOW, report=lambda _: None)
        out[name] = attack(rows)
    return out


def test_subtracting_released_children_from_their_parent_learns_nothing_beyond_the_noise():
    """Attack: a city-day whose category margin is released except one small category; the
    attacker subtracts the released categories from the released city total to read the
    suppressed one. Every number involved is a post-processing of noisy measurements, so the
    attacker's estimate is differentially private like the release: between two worlds that
    differ by one participant in that category, P(estimate >= c) can change by at most the
    factor e^epsilon (epsilon the period's, 0.75). Checked on N = 4,000 independent copies of
    the city per world at c = the 95th percentile under the first world: each frequency is
    within t = sqrt(ln(4 / 1e-6) / (2N)) ~ 0.0436 of its probability except with probability
    1e-6 / 2 (Hoeffding), so the widened inequality fails a correct release with probability
    < 1e-6. A leak of the true count would move P(estimate >= c) from 0.05 to ~1, which the
    inequality refuses (1 - t > e^0.75 x (0.05 + t))."""
    n, epsilon = 4_000, 0.75
    t = math.sqrt(math.log(4 / 1e-6) / (2 * n))
    worlds = {}
    for name, small in (("without", 40), ("with", 41)):
        base = city_cells("day", ["2026-10-05"], {f"c{i:05d}": 1_500 for i in range(n)})
        base = base[base["level"] == "city_segment"].copy()  # the finest cells; levels rolled up below
        tech = base["category"] == "tech"
        base.loc[tech, "participants"] = 0
        base.loc[tech & (base["door_type"] == "spot") & (base["context"] == "morning"), "participants"] = small
        base["doors_opened"] = base["participants"]
        worlds[name] = with_levels(base)

    def remainder(rows: pd.DataFrame) -> np.ndarray:
        city = rows[rows["release_level"] == "city"].set_index("geo_bucket_id")["unique_participants_est"]
        cats = rows[rows["release_level"] == "city_category"]
        shown = cats[~cats["privacy_suppressed"] & (cats["segment_category"] != "tech")]
        assert (cats[cats["segment_category"] == "tech"]["privacy_suppressed"]).mean() > 0.95
        return (city - shown.groupby("geo_bucket_id")["unique_participants_est"].sum()).to_numpy(dtype=float)

    estimates = _attack_frequency(worlds, remainder, [PeriodRelease("day", pd.Timestamp("2026-10-05"), 1, True)])
    assert_dp_attack(estimates, epsilon, t, true=40, label="subtraction")


def assert_dp_attack(estimates: dict[str, np.ndarray], epsilon: float, t: float, true: int, label: str) -> None:
    c = float(np.quantile(estimates["without"], 0.95))
    p_without = float((estimates["without"] >= c).mean())
    p_with = float((estimates["with"] >= c).mean())
    bound = math.exp(epsilon)
    error = float(np.median(np.abs(estimates["without"] - true)))
    print(
        f"\n[red-team {label}] 95th percentile of the estimate {c:g} (true {true}/{true + 1}), "
        f"P(>= c): {p_without:.3f} vs {p_with:.3f} (allowed factor {bound:.2f}), median |error| {error:.1f}"
    )
    assert p_with - t <= bound * (p_without + t) and p_without - t <= bound * (p_with + t)
    assert not (1 - t <= bound * (p_without + t)), "test design: a leak of the true count would pass"
    assert error > 2  # the estimate carries noise


def test_differencing_a_week_against_its_days_learns_nothing_beyond_the_noise():
    """Attack: the released week total of a city minus its six other released days, to read the
    seventh day. The same participant is in the week and in that day, so the attacker's
    estimate is (epsilon_day + epsilon_week = 1.25)-DP; checked like the subtraction attack on
    N = 1,000 copies (t = sqrt(ln(4 / 1e-6) / (2N)) ~ 0.0872; false failure < 1e-6; a leak
    would still move P(estimate >= c) from 0.05 to ~1: 1 - t > e^1.25 x (0.05 + t))."""
    n, epsilon = 1_000, 1.25
    t = math.sqrt(math.log(4 / 1e-6) / (2 * n))
    days = [f"2026-10-{d:02d}" for d in range(5, 12)]
    cities = {f"c{i:05d}": 300 for i in range(n)}  # small: the city level is all they measure
    worlds = {}
    for name, extra in (("without", 0), ("with", 1)):
        day_cells = city_cells("day", days, cities, seed=3)
        week_cells = city_cells("week", ["2026-10-05"], {c: 7 * 300 for c in cities}, seed=4)
        for frame in (day_cells, week_cells):
            first = frame["period_start"].eq(
                pd.Timestamp("2026-10-07") if frame is day_cells else pd.Timestamp("2026-10-05")
            )
            spot = (
                first
                & (frame["door_type"] == "spot")
                & (frame["category"] == "coffee")
                & (frame["context"] == "morning")
            )
            frame.loc[spot, "participants"] += extra
        worlds[name] = (day_cells, week_cells)
    estimates = {}
    for name, (day_cells, week_cells) in worlds.items():
        day_rows = release_periods(
            day_cells,
            "day",
            policy(),
            [PeriodRelease("day", pd.Timestamp(d), 1, True) for d in days],
            empty_release(),
            NOW,
            report=lambda _: None,
        )
        week_rows = release_periods(
            week_cells,
            "week",
            policy(),
            [PeriodRelease("week", pd.Timestamp("2026-10-05"), 1, True)],
            empty_release(),
            NOW,
            report=lambda _: None,
        )
        day_city = day_rows[day_rows["release_level"] == "city"]
        others = day_city[day_city["release_period_start"] != pd.Timestamp("2026-10-07")]
        week_city = week_rows[week_rows["release_level"] == "city"].set_index("geo_bucket_id")[
            "unique_participants_est"
        ]
        estimates[name] = (week_city - others.groupby("geo_bucket_id")["unique_participants_est"].sum()).to_numpy(float)
    assert_dp_attack(estimates, epsilon, t, true=int(np.median(estimates["without"])), label="week minus days")


def test_a_single_extremely_active_participant_moves_at_most_the_bounds(built: DbtProject, tmp_path):
    """Attack: one participant opens 20,000 doors across hundreds of cells in one week, and the
    attacker looks for their footprint. Bounding caps what any one person can change before any
    noise is added: one cell per period, by at most 1 participant, M doors opened and 1
    repeater. Checked exactly on the true aggregates of two builds that differ only by that person."""
    heavy = DbtProject(tmp_path / "heavy", "dev", built.extension_dir)
    shutil.copyfile(built.env["PRIVACY_INSIGHTS_DUCKDB"], heavy.env["PRIVACY_INSIGHTS_DUCKDB"])
    con = duckdb.connect(heavy.env["PRIVACY_INSIGHTS_DUCKDB"])
    con.execute("""
        insert into raw.spots_interaction_events
        select 'heavy-' || i, 'usr_heavy_user_000', 'agt_h', 'sig_h', 'dev_h', '10.0.0.1', 'door_opened',
            ['spot', 'event', 'community'][1 + i % 3], ['coffee', 'food', 'music', 'art', 'tech'][1 + i % 5],
            timestamptz '2026-10-05 00:00:00+00' + (i % (7 * 24 * 60)) * interval 1 minute,
            35.68 + (i % 7) * 0.01, 139.69, null, timestamptz '2026-10-05 00:00:00+00'
        from range(20000) as t(i)""")
    con.execute("create schema if not exists outside_buyer")
    for table in ("spots_insights_v1_releases", "spots_privacy_budget_ledger"):
        con.execute(f"drop table if exists outside_buyer.{table}")  # release afresh for the heavy world
    con.close()
    # staging is a table: rebuild it and everything between it and the aggregates
    heavy.dbt("run", "--select", "+int_spots__cell_aggregates", vars=BUILD)

    query = (
        "select granularity, period_start, level, time_bucket_start_utc, geo_bucket_id, door_type, category, "
        "context, participants, doors_opened, repeaters from intermediate.int_spots__cell_aggregates"
    )
    base = {r[:8]: r[8:] for r in built.query(query)}
    with_heavy = {r[:8]: r[8:] for r in heavy.query(query)}
    assert base.keys() == with_heavy.keys(), "the cell domain is public: it does not depend on the data"
    levels = parse_policy(default_release(), 72).level_policies  # the bounds the build used: the project's
    changed: dict[tuple, int] = {}
    for key, (p, d, r) in with_heavy.items():
        bp, bd, br = base[key]
        if (p, d, r) != (bp, bd, br):
            opens = policy().granularities[key[0]].max_opens_per_participant
            assert 0 <= p - bp <= 1 and 0 <= d - bd <= opens and 0 <= r - br <= 1, (key, (bp, bd, br), (p, d, r))
            changed[key[:3]] = changed.get(key[:3], 0) + 1
    assert changed, "the heavy participant left no trace at all: the attack was not exercised"
    for (granularity, period, level), n in changed.items():  # at most C_L cells of each level per period
        bound = levels[level].max_cells_per_participant
        assert n <= bound, f"{granularity} {period} {level}: {n} cells changed, bound {bound}"
    print(
        f"\n[red-team heavy user] 20,000 opens -> {sum(changed.values())} cells changed over {len(changed)} periods, "
        f"at most {max(changed.values())} per period"
    )
