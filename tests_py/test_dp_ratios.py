"""Every published metric is worth reading (issue 29): ratio bound, withheld reasons, count intervals.

The decisions read released (noisy, post-processed) values and public noise scales only:
these tests recompute every published margin from the published row and the public policy
alone, so a margin computed from a true count would fail them.

Flake rates: the cities are far from every boundary. The smallest margin that must exceed
0.10 is 1.96 x sd(repeaters noise) / participants = 1.96 x 94 / 330 = 0.56 for a city of
300 whose noisy participants would need to exceed 1,800 (135 noise scales of 11.1 above
the truth: P < e^-135); the largest that must stay below 0.10 is 0.013 (a category of
6,667 people). In the trend test (flat doors, ~440 a segment on both days) a segment's
margin is 1.96 x 125.7 x sqrt(a^2 + b^2) / (a + b)^2 ~ 0.2; it reaches 0.10 only if both
days' doors double (~5 noise scales of 88.9 each: P < 1e-4 per segment), so more than half
of 135 segments published has probability below 1e-100. Segment doors in the clipping
case are ~170 against a margin of 267: a segment's doors would need to rise by ~1 noise
scale of 88.9 to escape clipping, each stays clipped with probability > 0.5, and the test
needs only one clipped segment of 135 (all escaping: P < 2^-135).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from dp_fixtures import charged, city_cells, policy
from privacy_insights.dp import ratios
from privacy_insights.dp.mechanisms import period_mechanism
from privacy_insights.dp.release import empty_release, release_periods
from privacy_insights.dp.thresholds import margin_of_error, variance

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BOUND = 0.10


def run(cells, previous=None, granularity="day"):
    periods = charged(granularity, sorted({str(x.date()) for x in cells["period_start"]}))
    previous = previous if previous is not None else empty_release()
    return release_periods(cells, granularity, policy(), periods, previous, NOW, report=lambda _: None)


def scales(level: str, granularity: str = "day") -> dict[str, float]:
    """The public noise scales of a level (from the policy only)."""
    noise = period_mechanism(policy(), granularity).level(level)
    return {metric: noise.metrics[metric].scale for metric in ("unique_participants", "doors_opened", "repeaters")}


# ---- the rules, on plain numbers ----


def test_repeat_rate_margin_is_the_delta_method():
    margin = ratios.repeat_rate_margin(np.array([0.2, 0.5, np.nan]), np.array([1000.0, 0.0, 10.0]), 400.0, 100.0)
    assert margin[0] == pytest.approx(ratios.Z95 * np.sqrt(400 + 0.04 * 100) / 1000)
    assert np.isnan(margin[1]) and np.isnan(margin[2])


def test_trend_margin_is_the_delta_method():
    margin = ratios.trend_margin(np.array([300.0, 0.0]), np.array([100.0, 0.0]), np.array([50.0, 1.0]), 20.0)
    assert margin[0] == pytest.approx(ratios.Z95 * np.sqrt(100**2 * 50 + 300**2 * 20) / 400**2)
    assert np.isnan(margin[1])


def test_a_ratio_is_published_only_within_the_bound_and_otherwise_says_why():
    value = np.array([0.3, 0.3, 0.3, np.nan, 0.3])
    margin = np.array([0.05, 0.10, 0.11, np.nan, np.nan])
    released = np.array([True, True, True, True, False])
    assert ratios.within_bound(value, margin, BOUND).tolist() == [True, True, False, False, False]
    assert ratios.withheld_reason(released, value, margin, BOUND).tolist() == [
        None,
        None,
        "margin_above_bound",
        None,  # not computable: the caller says why (the trend: no_earlier_bucket)
        None,  # suppressed: privacy_suppressed_reason says why
    ]


def test_count_lower_bounds_are_clipped_at_zero():
    lower = ratios.lower_bound(np.array([500.0, 150.0, np.nan]), np.array([267.0, 267.0, 267.0]))
    assert lower[0] == 233.0 and lower[1] == 0.0 and np.isnan(lower[2])


# ---- the release ----


def test_the_release_withholds_uncertain_repeat_rates_from_published_values_only():
    out = run(city_cells("day", ["2026-10-05"], {"jp-tyo": 60_000, "nl-ams": 300}))
    released = out[~out["privacy_suppressed"]]
    assert set(released["uncertainty_ratio_moe95_bound"]) == {BOUND}
    published = released[released["repeat_rate_est"].notna()]
    withheld = released[released["repeat_rate_est"].isna()]
    # a big city's city and category rates are read, the small city's and every segment's are not
    assert {"city", "city_category"} <= set(published["release_level"])
    assert set(withheld["release_level"]) >= {"city", "city_segment"}
    assert "nl-ams" in set(withheld["geo_bucket_id"]) and "nl-ams" not in set(published["geo_bucket_id"])
    assert (published["uncertainty_repeat_rate_moe95"] <= BOUND).all()
    assert published["repeat_rate_withheld_reason"].isna().all()
    assert set(withheld["repeat_rate_withheld_reason"]) == {"margin_above_bound"}
    assert withheld["uncertainty_repeat_rate_moe95"].isna().all()
    assert out[out["privacy_suppressed"]]["repeat_rate_withheld_reason"].isna().all()

    for _, row in released.iterrows():
        s = scales(row["release_level"])
        var_r, var_p = variance("laplace", s["repeaters"]), variance("laplace", s["unique_participants"])
        participants = float(row["unique_participants_est"])
        if pd.notna(row["repeat_rate_est"]):  # the published margin, from the published row and public scales
            rate = row["repeat_rate_est"]
            expected = ratios.Z95 * np.sqrt(var_r + rate**2 * var_p) / participants
            assert row["uncertainty_repeat_rate_moe95"] == pytest.approx(expected, rel=1e-12)
        else:  # the margin is smallest at rate 0: even that, from published participants, is above the bound
            assert ratios.Z95 * np.sqrt(var_r) / participants > BOUND


def test_count_intervals_are_clipped_at_zero_on_every_released_row():
    # ~170 people per segment: segments are released, their doors (~170) are below the doors margin (267)
    out = run(city_cells("day", ["2026-10-05"], {"jp-tyo": 23_000}, doors_per_participant=1.0))
    released = out[~out["privacy_suppressed"]]
    for count in ("unique_participants", "doors_opened"):
        estimate = released[f"{count}_est"].astype(float)
        margin = released[f"uncertainty_{count}_moe95"]
        lower = released[f"uncertainty_{count}_lower95"]
        assert (lower >= 0).all() and np.allclose(lower, np.maximum(estimate - margin, 0))
        s = scales("city_segment")[count]
        assert margin[released["release_level"] == "city_segment"].eq(margin_of_error("laplace", s)).all()
    segments = released[released["release_level"] == "city_segment"]
    assert (segments["uncertainty_doors_opened_lower95"] == 0).any()  # the clipping is exercised
    suppressed = out[out["privacy_suppressed"]]
    assert (
        suppressed[["uncertainty_unique_participants_lower95", "uncertainty_doors_opened_lower95"]].isna().all().all()
    )


def test_the_trend_is_published_within_the_bound_else_null_with_a_reason():
    first = run(city_cells("day", ["2026-10-05"], {"jp-tyo": 60_000}, doors_per_participant=1.0))
    second = run(city_cells("day", ["2026-10-06"], {"jp-tyo": 60_000}, doors_per_participant=1.0), previous=first)
    released_first = first[~first["privacy_suppressed"]]
    assert set(released_first["trend_score_withheld_reason"]) == {"no_earlier_bucket"}
    assert released_first["trend_score_est"].isna().all()

    key = ["release_level", "segment_door_type", "segment_category", "segment_context"]
    joined = second.merge(first, on=key, suffixes=("", "_before"))
    released = joined[~joined["privacy_suppressed"] & ~joined["privacy_suppressed_before"]]
    city = released[released["release_level"] == "city"].iloc[0]
    assert 0.49 < city["trend_score_est"] < 0.51 and city["uncertainty_trend_score_moe95"] < 0.01
    # segments (~440 doors a day, doors margin 267) are too uncertain: withheld, with the reason
    segments = released[released["release_level"] == "city_segment"]
    assert (segments["trend_score_withheld_reason"] == "margin_above_bound").sum() > len(segments) / 2
    for _, row in released.iterrows():  # every margin from the two published rows and their published scales
        a, b = float(row["doors_opened_est"]), float(row["doors_opened_est_before"])
        va = variance("laplace", row["uncertainty_doors_opened_noise_scale"])
        vb = variance("laplace", row["uncertainty_doors_opened_noise_scale_before"])
        margin = ratios.Z95 * np.sqrt(b**2 * va + a**2 * vb) / (a + b) ** 2
        if pd.notna(row["trend_score_est"]):
            assert row["trend_score_est"] == pytest.approx(a / (a + b))
            assert row["uncertainty_trend_score_moe95"] == pytest.approx(margin, rel=1e-12) and margin <= BOUND
            assert pd.isna(row["trend_score_withheld_reason"])
        else:
            assert margin > BOUND and row["trend_score_withheld_reason"] == "margin_above_bound"
            assert pd.isna(row["uncertainty_trend_score_moe95"])
