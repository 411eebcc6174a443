"""The release policy is validated, and each error names the field and the rule."""

from __future__ import annotations

import copy
import json

import pytest

from harness import default_release
from privacy_insights.dp.params import PolicyError, parse_policy


def test_project_defaults_parse():
    p = parse_policy(default_release(), 72)
    assert p.mechanism == "laplace" and p.delta == 0.0
    assert p.granularities["hour"].k_min > p.granularities["day"].k_min  # hour is stricter
    assert p.granularities["hour"].epsilon < p.granularities["day"].epsilon
    assert p.enabled == ("day", "week")  # hour is off by default
    assert p.ratio_moe95_bound == 0.10  # the documented public bound on a published ratio's 95 % margin
    assert parse_policy(json.dumps(default_release()), "72") == p  # JSON, as dbt passes it


def test_default_contribution_bounds_per_level():
    """C_L of the defaults (docs/privacy_reviewer.md "Choosing C_L"): categories and segments 2, the rest 1;
    hour periods use the city's."""
    p = parse_policy(default_release(), 72)
    assert {name: lv.max_cells_per_participant for name, lv in p.level_policies.items()} == {
        "city": 1,
        "city_door_type": 1,
        "city_category": 2,
        "city_segment": 2,
    }
    assert p.levels("hour")["city"].max_cells_per_participant == 1


def test_default_worst_case_per_window_is_not_above_the_previous_design():
    """30 day periods x 0.75 + 6 overlapping weeks x 0.5 = 25.5, the old 15 + 7.5 + 3."""
    p = parse_policy(default_release(), 72)
    assert p.worst_case_window_epsilon() == 25.5 <= p.epsilon_cap


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("mechanism", "float_laplace", "spots_release.mechanism: must be one of laplace, gaussian"),
        ("epsilon_cap", 0, "spots_release.epsilon_cap: must be > 0"),
        ("dominance_max_share", 0.2, "spots_release.dominance_max_share: must be in (0, 0.05]"),
        ("budget_window_days", 0.5, "spots_release.budget_window_days: must be a whole number >= 1"),
        ("granularities.day.k_min", 50, "spots_release.granularities.day.k_min: must be a whole number >= 100"),
        ("granularities.hour.epsilon", -1, "spots_release.granularities.hour.epsilon: must be > 0"),
        ("granularities.week.max_opens_per_participant", 0, "max_opens_per_participant: must be a whole number >= 1"),
        (
            "granularities.day.max_opens_per_participant",
            6,
            "max_opens_per_participant: must be <= dominance_max_share * k_min",
        ),
        ("granularities.day.enabled", "yes", "spots_release.granularities.day.enabled: must be true or false"),
        ("levels.city.epsilon_share", 0.5, "spots_release.levels: the epsilon_share values must sum to 1"),
        (
            "levels.city_segment.min_city_participants",
            100,
            "city_segment.min_city_participants: must be >= the city_door_type",
        ),
        ("false_release_probability", 0.2, "spots_release.false_release_probability: must be in (0, 0.05]"),
        ("corrections.enabled", 1, "spots_release.corrections.enabled: must be true or false"),
        ("corrections.after_days", 0, "spots_release.corrections.after_days: must be a whole number >= 1"),
        ("corrections.after_days", 91, "spots_release.corrections.after_days: must be at most 90"),
        ("corrections.min_late_events", 100, "corrections.min_late_events: no longer used: whether a period is "),
        ("annual_epsilon_cap", 20, "spots_release.annual_epsilon_cap: must be >= epsilon_cap (30) or null"),
        ("annual_epsilon_cap", "lots", "spots_release.annual_epsilon_cap: must be a finite number"),
        ("granularities.day.epsilon", "half", "spots_release.granularities.day.epsilon: must be a finite number"),
        ("ratio_moe95_bound", 0, "spots_release.ratio_moe95_bound: must be in (0, 0.5]"),
        (
            "levels.city_category.max_cells_per_participant",
            0,
            "spots_release.levels.city_category.max_cells_per_participant: must be a whole number >= 1",
        ),
        (
            "levels.city.max_cells_per_participant",
            1.5,
            "spots_release.levels.city.max_cells_per_participant: must be a whole number >= 1",
        ),
        (
            "levels.city.max_cells_per_participant",
            2,
            "spots_release.levels.city.max_cells_per_participant: must be 1 (one city per participant and period",
        ),
        (
            "levels.city_segment.max_cells_per_participant",
            65,
            "spots_release.levels.city_segment.max_cells_per_participant: must be at most 64",
        ),
        ("ratio_moe95_bound", 0.8, "spots_release.ratio_moe95_bound: must be in (0, 0.5]"),
        ("ratio_moe95_bound", "tight", "spots_release.ratio_moe95_bound: must be a finite number"),
        (
            "metric_epsilon_shares.doors_opened",
            0.5,
            "metric_epsilon_shares: each must be > 0 and together they must sum to 1",
        ),
    ],
)
def test_bad_values_are_refused_naming_field_and_rule(path, value, message):
    cfg = copy.deepcopy(default_release())
    *parents, leaf = path.split(".")
    node = cfg
    for key in parents:
        node = node[key]
    node[leaf] = value
    with pytest.raises(PolicyError) as excinfo:
        parse_policy(cfg, 72)
    assert message in str(excinfo.value)


def test_gaussian_needs_a_small_delta_and_a_delta_cap():
    cfg = copy.deepcopy(default_release()) | {"mechanism": "gaussian", "gaussian_delta": 0.01}
    with pytest.raises(PolicyError, match=r"gaussian_delta: must be in \(0, 0.001\)"):
        parse_policy(cfg, 72)
    cfg = copy.deepcopy(default_release()) | {"mechanism": "gaussian", "delta_cap": 1e-7}
    with pytest.raises(PolicyError, match=r"delta_cap: must be >= gaussian_delta"):
        parse_policy(cfg, 72)


def test_no_granularity_enabled_is_refused():
    cfg = copy.deepcopy(default_release())
    for g in cfg["granularities"].values():
        g["enabled"] = False
    with pytest.raises(PolicyError, match="at least one granularity must be enabled"):
        parse_policy(cfg, 72)


@pytest.mark.parametrize("delay", [71, 0, "24"])
def test_delay_below_72_is_refused(delay):
    with pytest.raises(PolicyError, match=r"reporting_delay_hours: must be >= 72"):
        parse_policy(default_release(), delay)


def test_missing_policy_says_which_var():
    with pytest.raises(PolicyError, match="spots_release: missing"):
        parse_policy(None, 72)


def test_the_ratio_bound_is_required():
    cfg = copy.deepcopy(default_release())
    del cfg["ratio_moe95_bound"]
    with pytest.raises(PolicyError, match="spots_release.ratio_moe95_bound: missing"):
        parse_policy(cfg, 72)
