"""release_granularity: suppression on noisy values, metadata, budget, stability, post-processing."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from dp_fixtures import cells, no_history, policy
from privacy_insights.dp.release import RELEASE_COLUMNS, empty_release, history_of, release_granularity

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def run(frame, granularity="day", p=None, history=None, previous=None, messages=None):
    return release_granularity(frame, granularity, p or policy(), history if history is not None else no_history(),
                               previous if previous is not None else empty_release(), NOW,
                               report=(messages.append if messages is not None else lambda _: None))


def test_large_cells_are_released_with_true_metadata():
    out = run(cells("day", ["2026-10-05"], n_cells=200, participants=5_000, doors=12_000, repeaters=2_000))
    assert list(out.columns) == RELEASE_COLUMNS
    assert not out["privacy_suppressed"].any()
    assert out["privacy_suppressed_reason"].isna().all()
    assert (out["unique_participants_est"] >= 0).all() and (out["doors_opened_est"] >= 0).all()
    # noisy, not exact: 200 cells with scale-10 noise cannot all hit the true value
    assert (out["unique_participants_est"] != 5_000).any()
    assert out["unique_participants_est"].between(4_800, 5_200).all()
    assert out["repeat_rate_est"].between(0, 1).all()
    assert set(out["privacy_dp_mechanism"]) == {"discrete_laplace"}
    assert set(out["privacy_dp_epsilon"]) == {0.5} and set(out["privacy_dp_delta"]) == {0.0}
    assert set(out["privacy_k_min_enforced"]) == {100}
    assert set(out["privacy_dp_budget_window_days"]) == {30}
    assert "floored at 0" in out["privacy_dp_post_processing"].iloc[0]


def test_empty_and_small_cells_are_suppressed_with_null_metrics():
    out = run(cells("day", ["2026-10-05"], n_cells=500, participants=3))
    suppressed = out[out["privacy_suppressed"]]
    assert len(suppressed) >= 495   # a handful may pass on noise alone (P(noise >= 97) ~ 3e-5 each)
    assert set(suppressed["privacy_suppressed_reason"]) <= {"k_min", "dominance"}
    for metric in ("unique_participants_est", "doors_opened_est", "repeat_rate_est", "trend_score_est"):
        assert suppressed[metric].isna().all(), metric
    # the cell key survives suppression
    assert suppressed["geo_bucket_id"].notna().all() and suppressed["time_bucket_start_utc"].notna().all()


def test_dominance_is_decided_on_noisy_doors_opened():
    # Many participants but almost no doors: M / noisy doors > 5 % suppresses the cell. The
    # rule reads the noisy value, so a cell whose noise lifts doors_opened_est to >= M / 5 %
    # (= 80) is released (P ~ 0.5 * exp(-70 / 40) ~ 9 % here): that is the DP decision.
    out = run(cells("day", ["2026-10-05"], n_cells=400, participants=10_000, doors=10))
    reasons = out["privacy_suppressed_reason"].value_counts().to_dict()
    assert set(reasons) == {"dominance"} and reasons["dominance"] >= 300
    released = out[~out["privacy_suppressed"]]
    assert (4 / released["doors_opened_est"].astype(float) <= 0.05).all()


def test_budget_exhausted_periods_are_suppressed_without_noise():
    messages = []
    p = policy(epsilon_cap=1.0)   # room for two day periods of epsilon 0.5
    out = run(cells("day", ["2026-10-05", "2026-10-06", "2026-10-07"], n_cells=5, participants=5_000), p=p,
              messages=messages)
    reasons = {period: set(group["privacy_suppressed_reason"].dropna())
               for period, group in out.groupby("release_period_start")}
    assert reasons[pd.Timestamp("2026-10-07")] == {"budget_exhausted"}
    assert "budget_exhausted" not in reasons[pd.Timestamp("2026-10-05")] | reasons[pd.Timestamp("2026-10-06")]
    denied = out[out["release_period_start"] == pd.Timestamp("2026-10-07")]
    assert (denied["privacy_dp_epsilon"] == 0).all() and denied["unique_participants_est"].isna().all()
    assert any("budget_exhausted" in m and "2026-10-07" in m for m in messages)


def test_other_granularities_spend_the_same_budget():
    p = policy(epsilon_cap=1.0)
    spent = pd.DataFrame({"time_granularity": ["week"], "release_period_start": [pd.Timestamp("2026-10-05")],
                          "privacy_dp_epsilon": [0.8]})
    out = run(cells("hour", ["2026-10-06"], n_cells=2, participants=5_000), granularity="hour", p=p, history=spent)
    assert set(out["privacy_suppressed_reason"]) == {"budget_exhausted"}


def test_released_periods_are_not_redrawn():
    first = run(cells("day", ["2026-10-05"], n_cells=5, participants=5_000))
    again = run(cells("day", ["2026-10-05", "2026-10-06"], n_cells=5, participants=5_000),
                history=history_of(first), previous=first)
    assert set(again["release_period_start"]) == {pd.Timestamp("2026-10-06")}
    assert run(cells("day", ["2026-10-05"], n_cells=5, participants=5_000), history=history_of(first)).empty


def test_trend_uses_the_previous_released_bucket():
    first = run(cells("day", ["2026-10-05"], n_cells=50, participants=5_000, doors=10_000))
    second = run(cells("day", ["2026-10-06"], n_cells=50, participants=5_000, doors=30_000),
                 history=history_of(first), previous=first)
    assert second["trend_score_est"].between(0.7, 0.8).all()   # 30k / (30k + 10k) = 0.75 up to noise
    assert first["trend_score_est"].isna().all()                # nothing earlier to compare with


def test_hour_release_covers_every_hour_of_the_period():
    out = run(cells("hour", ["2026-10-05"], n_cells=2, participants=0), granularity="hour")
    assert len(out) == 48 and set(out["privacy_k_min_enforced"]) == {150}
    assert set(out["privacy_dp_epsilon"]) == {0.25}


def test_gaussian_option_publishes_epsilon_delta_and_rho():
    out = run(cells("week", ["2026-10-05"], n_cells=20, participants=5_000), granularity="week",
              p=policy(mechanism="gaussian"))
    assert set(out["privacy_dp_mechanism"]) == {"discrete_gaussian"}
    assert set(out["privacy_dp_delta"]) == {1e-6}
    assert (out["privacy_dp_rho"] > 0).all()
    assert np.allclose(out["privacy_dp_epsilon"], 0.5)


def test_empty_input_gives_typed_empty_frame():
    out = run(cells("day", [], n_cells=1))
    assert out.empty and list(out.columns) == RELEASE_COLUMNS
    assert str(out["unique_participants_est"].dtype) == "Int64"


def test_wrong_granularity_is_refused():
    with pytest.raises(ValueError, match="granularity: must be one of hour, day, week"):
        run(cells("day", ["2026-10-05"]), granularity="minute")
