"""release_periods: levels bounded on their own, honest thresholds, error bars, true metadata."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from dp_fixtures import charged, city_cells, denied, policy
from privacy_insights.dp.release import RELEASE_COLUMNS, SCHEMA_VERSION, empty_release, release_periods
from privacy_insights.dp.thresholds import release_threshold

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BIG, SMALL = 60_000, 300  # a big city measures every level; a small one its city level only


def run(cells, granularity="day", periods=None, p=None, previous=None):
    periods = (
        periods if periods is not None else charged(granularity, sorted({str(x.date()) for x in cells["period_start"]}))
    )
    return release_periods(
        cells,
        granularity,
        p or policy(),
        periods,
        previous if previous is not None else empty_release(),
        NOW,
        report=lambda _: None,
    )


def test_a_big_city_gets_every_level_with_true_metadata():
    out = run(city_cells("day", ["2026-10-05"], {"jp-tyo": BIG}))
    assert list(out.columns) == RELEASE_COLUMNS
    assert out.groupby("release_level").size().to_dict() == {
        "city": 1,
        "city_door_type": 3,
        "city_category": 9,
        "city_segment": 135,
    }
    released = out[~out["privacy_suppressed"]]
    assert set(released["release_level"]) == {"city", "city_door_type", "city_category", "city_segment"}
    assert set(out["schema_version"]) == {SCHEMA_VERSION} and set(out["release_version"]) == {1}
    assert set(out["privacy_dp_mechanism"]) == {"discrete_laplace"}
    assert np.allclose(out["privacy_dp_epsilon"], 0.75) and set(out["privacy_dp_delta"]) == {0.0}
    shares = out.groupby("release_level")["privacy_dp_level_epsilon_share"].first().to_dict()
    assert shares == {"city": 0.2, "city_door_type": 0.15, "city_category": 0.45, "city_segment": 0.2}
    # the published noise scale is the level's: sensitivity / (epsilon x level share x metric share)
    city = released[released["release_level"] == "city"].iloc[0]
    assert city["uncertainty_unique_participants_noise_scale"] == pytest.approx(1 / (0.75 * 0.2 * 0.6))
    assert city["uncertainty_doors_opened_noise_scale"] == pytest.approx(4 / (0.75 * 0.2 * 0.3))
    assert city["uncertainty_unique_participants_moe95"] > city["uncertainty_unique_participants_noise_scale"]
    # close: participants within 1 % of 60,000 (the noise scale is 11; 600 is ~50 scales)
    assert abs(city["unique_participants_est"] - BIG) < 600
    rates = released["repeat_rate_est"].dropna()
    assert rates.between(0, 1).all() and len(rates) >= 13  # the city, door types and categories (60,000 people)


def test_each_level_is_published_from_its_own_bounded_counts():
    """Per-level bounds: with C_category = 2 a person in two categories is one city participant
    and two category participants, so the category cells' true counts sum to 1.5 x the city's
    here; each level is published from its own counts (not scaled to add up to the city), with
    noise calibrated to its bound and the bound in the row's metadata, at the same epsilon.
    Tolerance 20 noise scales per cell: a discrete Laplace draw exceeds it with probability
    below 2 exp(-20) = 4.1e-9, over 2 cities x (1 + 3 + 9) compared cells below 1.1e-7."""
    p = policy(levels__city_category__max_cells_per_participant=2, levels__city_segment__max_cells_per_participant=1)
    cells = city_cells("day", ["2026-10-05"], {"jp-tyo": BIG, "in-del": 2 * BIG})
    category = cells["level"] == "city_category"
    cells.loc[category, ["participants", "repeaters"]] = (cells.loc[category, ["participants", "repeaters"]] * 3) // 2
    out = run(cells, p=p)
    assert np.allclose(out["privacy_dp_epsilon"], 0.75)  # the period's epsilon does not grow with C_L
    bounds = out.groupby("release_level")["privacy_dp_cells_per_participant"].unique().to_dict()
    assert {k: list(v) for k, v in bounds.items()} == {
        "city": [1],
        "city_door_type": [1],
        "city_category": [2],
        "city_segment": [1],
    }
    truth = cells.set_index(["geo_bucket_id", "level", "door_type", "category"])["participants"]
    released = out[~out["privacy_suppressed"]]
    compared = 0
    for _, row in released[released["release_level"].isin(["city", "city_door_type", "city_category"])].iterrows():
        true = truth[(row["geo_bucket_id"], row["release_level"], row["segment_door_type"], row["segment_category"])]
        scale = row["uncertainty_unique_participants_noise_scale"]
        assert abs(row["unique_participants_est"] - true) < 20 * scale, row
        compared += 1
    assert compared == 2 * 13
    scales = released.groupby("release_level")["uncertainty_unique_participants_noise_scale"].first()
    assert scales["city_category"] == pytest.approx(2 / (0.75 * 0.45 * 0.6))  # sensitivity C_category = 2
    assert scales["city_door_type"] == pytest.approx(1 / (0.75 * 0.15 * 0.6))
    for city, group in released.groupby("geo_bucket_id"):
        city_value = group.loc[group["release_level"] == "city", "unique_participants_est"].iloc[0]
        categories = group.loc[group["release_level"] == "city_category", "unique_participants_est"].sum()
        assert categories > 1.4 * city_value, city  # not forced to add up to the city


def test_a_small_city_publishes_its_city_level_only_and_suppresses_below_the_threshold():
    # false_release_probability 0.001 puts the city threshold near 169 (scale 11.1), so an
    # empty city is released with probability exp(-169 / 11.1) / 1.9 ~ 1.3e-7: no flake.
    p = policy(false_release_probability=0.001)
    out = run(city_cells("day", ["2026-10-05"], {"nl-ams": SMALL, "ie-dub": 0}), p=p)
    assert set(out["release_level"]) == {"city"}  # segments rolled up: no rows for them
    dub = out[out["geo_bucket_id"] == "ie-dub"].iloc[0]
    assert dub["privacy_suppressed"] and dub["privacy_suppressed_reason"] == "k_min"
    for metric in (
        "unique_participants_est",
        "doors_opened_est",
        "repeat_rate_est",
        "trend_score_est",
        "uncertainty_unique_participants_noise_scale",
        "uncertainty_unique_participants_moe95",
    ):
        assert pd.isna(dub[metric]), metric
    ams = out[out["geo_bucket_id"] == "nl-ams"].iloc[0]
    assert not ams["privacy_suppressed"] and abs(ams["unique_participants_est"] - SMALL) < 60


def test_thresholds_are_k_plus_a_margin_with_the_stated_false_release_chance():
    p = policy()
    out = run(city_cells("day", ["2026-10-05"], {"jp-tyo": BIG}))
    for _level, group in out.groupby("release_level"):
        scale = group["uncertainty_unique_participants_noise_scale"].dropna().iloc[0]
        threshold, chance = release_threshold("laplace", scale, 100, p.false_release_probability)
        assert set(group["privacy_release_threshold"]) == {threshold} and threshold > 100
        assert set(group["privacy_false_release_probability"]) == {chance} and chance <= 0.01
        assert set(group["privacy_k_min_enforced"]) == {100}


def test_a_denied_period_publishes_suppressed_city_rows_without_noise():
    out = run(
        city_cells("day", ["2026-10-07"], {"jp-tyo": BIG, "nl-ams": SMALL}), periods=denied("day", ["2026-10-07"])
    )
    assert set(out["release_level"]) == {"city"} and len(out) == 2
    assert set(out["privacy_suppressed_reason"]) == {"budget_exhausted"}
    assert (out["privacy_dp_epsilon"] == 0).all() and out["unique_participants_est"].isna().all()


def test_versions_are_carried_on_the_rows():
    out = run(city_cells("day", ["2026-10-05"], {"jp-tyo": BIG}), periods=charged("day", ["2026-10-05"], version=3))
    assert set(out["release_version"]) == {3}


def test_trend_uses_the_previous_released_bucket_at_the_same_level():
    first = run(city_cells("day", ["2026-10-05"], {"jp-tyo": BIG}, doors_per_participant=1.0))
    second = run(city_cells("day", ["2026-10-06"], {"jp-tyo": BIG}, doors_per_participant=3.0), previous=first)
    city = second[second["release_level"] == "city"]["trend_score_est"].iloc[0]
    assert 0.72 < city < 0.78  # 3 / (3 + 1) up to noise
    assert first["trend_score_est"].isna().all()


def test_hour_periods_measure_city_by_hour():
    out = run(
        city_cells("hour", ["2026-10-05"], {"jp-tyo": 24 * 1000}), granularity="hour", p=policy(hour__enabled=True)
    )
    assert len(out) == 24 and set(out["release_level"]) == {"city"}
    assert set(out["segment_door_type"]) == {"all"} and set(out["segment_category"]) == {"all"}
    assert set(out["privacy_k_min_enforced"]) == {150} and np.allclose(out["privacy_dp_epsilon"], 0.25)
    assert not out["privacy_suppressed"].any()


def test_gaussian_option_publishes_epsilon_delta_and_rho():
    out = run(city_cells("week", ["2026-10-05"], {"jp-tyo": BIG}), granularity="week", p=policy(mechanism="gaussian"))
    assert set(out["privacy_dp_mechanism"]) == {"discrete_gaussian"}
    assert set(out["privacy_dp_delta"]) == {1e-6} and (out["privacy_dp_rho"] > 0).all()
    assert np.allclose(out["privacy_dp_epsilon"], 0.5)


def test_no_periods_give_a_typed_empty_frame():
    out = run(city_cells("day", [], {"jp-tyo": 1}), periods=[])
    assert out.empty and list(out.columns) == RELEASE_COLUMNS
    assert str(out["unique_participants_est"].dtype) == "Int64"


def test_bad_input_is_refused_naming_the_rule():
    with pytest.raises(ValueError, match="granularity: must be one of hour, day, week"):
        run(city_cells("day", ["2026-10-05"], {"jp-tyo": 10}), granularity="minute")
    incomplete = city_cells("day", ["2026-10-05"], {"jp-tyo": 10}).iloc[:-1]
    with pytest.raises(ValueError, match="the cell domain of level .* must be complete"):
        run(incomplete)
    with pytest.raises(ValueError, match=r"no cells for day period\(s\) \['2026-10-06'\]"):
        run(city_cells("day", ["2026-10-05"], {"jp-tyo": 10}), periods=charged("day", ["2026-10-05", "2026-10-06"]))
