"""Automated re-identification attempts against real builds of generated data (contract 000 §9).

The attacker sees only buyer outputs (the spots_insights_v1 release and exports). The test
also reads the exact intermediate aggregates, only to measure how far the attacker's
estimates are from the truth. Each test states the attack, runs it, and asserts what the
noise and the bounds promise.
"""

from __future__ import annotations

import math
import shutil
from datetime import date

import duckdb
import numpy as np
import pytest
from scipy import stats

from dp_fixtures import policy
from harness import REPO, DbtProject
from privacy_insights.dp.mechanisms import period_mechanism
from privacy_insights.export import ExportPolicy, ExportRequest, run_export
from privacy_insights.export import writer
from privacy_insights.targets import connect

pytestmark = pytest.mark.e2e
BUILD = {"as_of": "2026-10-17T00:00:00Z", "release_start_date": "2026-10-05"}
GENERATE = ["--events", "200000", "--users", "20000", "--cities", "jp-tyo", "--start", "2026-10-05", "--days", "14",
            "--outside-city-share", "0", "--seed", "7"]
KEY = ["time_granularity", "time_bucket_start_utc", "geo_bucket_id", "segment_door_type", "segment_category",
       "segment_context"]
FORBIDDEN = ["user_id", "email"]


@pytest.fixture(scope="module")
def built(tmp_path_factory, extension_dir) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp("redteam") / "dev", "dev", extension_dir)
    project.generate(*GENERATE)
    project.dbt("build", vars=BUILD)
    return project


def released_vs_truth(project: DbtProject) -> list[tuple]:
    """(granularity, true participants, published participants, suppressed) for every cell."""
    return project.query("""
        select r.time_granularity, t.participants, r.unique_participants_est, r.privacy_suppressed
        from outside_buyer.spots_insights_v1 as r
        join intermediate.int_spots__cell_aggregates as t
            on t.granularity = r.time_granularity and t.time_bucket_start_utc = r.time_bucket_start_utc
            and t.geo_bucket_id = r.geo_bucket_id and t.door_type = r.segment_door_type
            and t.category = r.segment_category and t.context = r.segment_context""")


def test_averaging_over_repeated_builds_and_exports_gains_nothing(built: DbtProject, tmp_path, monkeypatch):
    """Attack: rebuild (and full-refresh) many times and export the same slice again and again,
    then average, hoping independent noise cancels. Released values are frozen, so every copy is
    identical and the average's error equals a single release's error."""
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", built.env["PRIVACY_INSIGHTS_DUCKDB"])
    query = f"select * from outside_buyer.spots_insights_v1 order by {', '.join(KEY)}"
    first = built.query(query)
    built.dbt("build", vars=BUILD)
    built.dbt("build", "--full-refresh", vars=BUILD)
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
        ExportRequest("attacker", date(2026, 10, 7), date(2026, 10, 9), "day", ("jp-tyo",), "jsonl",
                      categories=("coffee", "food")),
        ExportRequest("attacker", date(2026, 10, 5), date(2026, 10, 8), "day", ("jp-tyo", "us-nyc"), "jsonl",
                      door_types=("spot",)),
        ExportRequest("attacker", date(2026, 10, 6), date(2026, 10, 13), "day", ("jp-tyo",), "jsonl",
                      contexts=("weekend", "evening"), include_suppressed=True),
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
    """Attack: read a niche cohort (true participants 1..k-1) from the release. Nearly all are
    suppressed; the few that pass on noise carry noise, and an exact hit on the true count is
    as rare as the noise allows. Bound: exact hits ~ Binomial(n, p0) with p0 = P(noise = 0),
    so the asserted ceiling (the 1 - 1e-6 quantile) fails a correct release less than once
    in a million runs."""
    rows = [r for r in released_vs_truth(built) if 0 < r[1] < 100]
    assert len(rows) > 500, "the data must contain niche cohorts for this attack to mean anything"
    released = [(g, true, est) for g, true, est, suppressed in rows if not suppressed]
    assert len(released) / len(rows) < 0.05
    exact = sum(1 for _, true, est in released if est == true)
    scale = min(period_mechanism(policy(), g).metrics["unique_participants"].scale for g in ("hour", "day", "week"))
    p0 = (1 - math.exp(-1 / scale)) / (1 + math.exp(-1 / scale))
    ceiling = stats.binom.ppf(1 - 1e-6, max(len(released), 1), p0)
    errors = [abs(est - true) for _, true, est in released]
    print(f"\n[red-team niche] {len(rows)} cells with 1..99 true participants, {len(released)} published "
          f"(noise cleared k), exact hits {exact} (ceiling {ceiling:g}), "
          f"|error| of published ones median {np.median(errors) if errors else float('nan'):.0f}")
    assert exact <= ceiling, (exact, len(released), ceiling)


def test_differencing_across_granularities_stays_at_noise_level(built: DbtProject):
    """Attack: isolate one day of a segment by differencing: the released week cell minus the six
    other days of the same segment (released values where published, an imputed k/2 where
    suppressed). The target is the segment's smallest day, the niche a re-identifier wants.

    Why it fails: the week's noise Z enters the estimate with coefficient 1 and is independent
    of everything else, so |error| = |Z + c| for some c fixed by the data, the other releases'
    noise and the imputation. For symmetric unimodal Z, P(|Z + c| < t) <= P(|Z| < t). One target
    per segment keeps the instances independent. The number of estimates closer than t = b/4
    (b the week noise scale) is then at most Binomial(n, P(|Z| < t)). The test asserts fewer
    than n/2 are that close, and first checks that this fails a correct release with
    probability below 1e-6."""
    week = {tuple(r[1:]): r[0] for r in built.query(
        "select unique_participants_est, geo_bucket_id, segment_door_type, segment_category, segment_context "
        "from outside_buyer.spots_insights_v1_week where not privacy_suppressed")}
    days = built.query("select time_bucket_start_utc, geo_bucket_id, segment_door_type, segment_category, segment_context, "
                       "unique_participants_est, privacy_suppressed from outside_buyer.spots_insights_v1_day "
                       "where release_period_start between '2026-10-05' and '2026-10-11'")
    truth = {tuple(r[:5]): r[5] for r in built.query(
        "select time_bucket_start_utc, geo_bucket_id, door_type, category, context, participants "
        "from intermediate.int_spots__cell_aggregates where granularity = 'day'")}
    by_segment: dict[tuple, list] = {}
    for bucket, *segment, est, suppressed in days:
        by_segment.setdefault(tuple(segment), []).append((bucket, est, suppressed))
    errors = []
    for segment, cells in by_segment.items():
        if segment not in week or len(cells) != 7:
            continue
        target = min(cells, key=lambda c: truth[(c[0], *segment)])
        others = sum((50 if c[2] else c[1]) for c in cells if c is not target)
        errors.append(abs(week[segment] - others - truth[(target[0], *segment)]))

    b = period_mechanism(policy(), "week").metrics["unique_participants"].scale
    t = b / 4
    p_close = sum(math.exp(-abs(k) / b) for k in range(-math.ceil(t) + 1, math.ceil(t))) * \
        (1 - math.exp(-1 / b)) / (1 + math.exp(-1 / b))
    n = len(errors)
    assert n >= 40, f"only {n} segments could be attacked: too few for a meaningful test"
    false_failure = stats.binom.sf(math.ceil(n / 2) - 1, n, p_close)
    assert false_failure < 1e-6, f"test design: {false_failure:.1e}"
    close = sum(1 for e in errors if e < t)
    print(f"\n[red-team differencing] {n} targets, attacker |error| median {np.median(errors):.1f}, "
          f"mean {np.mean(errors):.1f}; week noise scale {b:g}; {close} within {t:g} (bound {false_failure:.1e})")
    assert close < n / 2, (close, n, float(np.median(errors)))


def test_a_single_extremely_active_participant_moves_at_most_the_bounds(built: DbtProject, tmp_path):
    """Attack: one participant opens 20,000 doors across hundreds of cells in one week, and the
    attacker looks for their footprint. Bounding caps what any one person can change before any
    noise is added: at most C cells per period, each by at most 1 participant and M doors opened.
    Checked exactly on the true aggregates of two builds that differ only by that person."""
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
    for table in ("spots_insights_v1_hour", "spots_insights_v1_day", "spots_insights_v1_week",
                  "spots_privacy_budget_ledger"):
        con.execute(f"drop table if exists outside_buyer.{table}")   # release afresh for the heavy world
    con.close()
    # staging is a table: rebuild it and everything between it and the aggregates
    heavy.dbt("run", "--select", "+int_spots__cell_aggregates", vars=BUILD)

    query = ("select granularity, period_start, time_bucket_start_utc, geo_bucket_id, door_type, category, context, "
             "participants, doors_opened, repeaters from intermediate.int_spots__cell_aggregates")
    base = {r[:7]: r[7:] for r in built.query(query)}
    with_heavy = {r[:7]: r[7:] for r in heavy.query(query)}
    assert base.keys() == with_heavy.keys(), "the cell domain is public: it does not depend on the data"
    bounds = {g: (policy().granularities[g].max_cells_per_participant, policy().granularities[g].max_opens_per_cell)
              for g in ("hour", "day", "week")}
    changed: dict[tuple, int] = {}
    for key, (p, d, r) in with_heavy.items():
        bp, bd, br = base[key]
        if (p, d, r) != (bp, bd, br):
            cells, opens = bounds[key[0]]
            assert 0 <= p - bp <= 1 and 0 <= d - bd <= opens and 0 <= r - br <= 1, (key, (bp, bd, br), (p, d, r))
            changed[key[:2]] = changed.get(key[:2], 0) + 1
    assert changed, "the heavy participant left no trace at all: the attack was not exercised"
    for (granularity, period), n in changed.items():
        assert n <= bounds[granularity][0], f"{granularity} {period}: {n} cells changed, bound {bounds[granularity][0]}"
    print(f"\n[red-team heavy user] 20,000 opens -> {sum(changed.values())} cells changed over {len(changed)} periods, "
          f"at most {max(changed.values())} per period")
