"""Fix the class (issue 29): every ratio and count interval a buyer-facing model publishes is bounded.

Enumerated from the models' YAML (and the record's JSON Schema), not listed by hand: a new
ratio column (a double ``*_est``) without a margin, a withheld reason and the dbt test
``published_ratios_within_bound``, or a count (a bigint ``*_est``) with a margin but no
lower bound checked by ``count_intervals_clipped``, fails here. The dbt tests themselves
run on the built marts (test_contract_tests.py proves they can fail).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from harness import REPO
from privacy_insights.dp.release import RELEASE_DTYPES
from privacy_insights.export.records import record_schema

MODELS_YML = REPO / "models" / "marts" / "outside_buyer" / "_outside_buyer__models.yml"
BUYER_MODELS = ("spots_insights_v1_releases", "spots_insights_v1", "spots_insights_v1_city_category")


def load_models(path: Path = MODELS_YML) -> dict[str, dict]:
    return {m["name"]: m for m in yaml.safe_load(path.read_text())["models"] if m["name"] in BUYER_MODELS}


def _types(model: dict) -> dict[str, str]:
    """Column -> type: declared data_type, or the release step's pandas dtype (the release table)."""
    out = {}
    for column in model["columns"]:
        declared = column.get("data_type") or RELEASE_DTYPES[column["name"]]
        out[column["name"]] = {"float64": "double", "Int64": "bigint", "string": "varchar"}.get(declared, declared)
    return out


def _test_arguments(model: dict, name: str) -> list[dict]:
    found = []
    for test in model.get("data_tests", []):
        if isinstance(test, dict) and name in test:
            found.append((test[name] or {}).get("arguments", {}))
    return found


def _margin(columns: dict[str, str], base: str) -> str | None:
    for name in (f"uncertainty_{base}_moe95", f"{base}_moe95"):
        if name in columns:
            return name
    return None


def problems(models: dict[str, dict]) -> tuple[list[str], list[tuple[str, str]]]:
    """(what is unbounded or unclipped, every (model, column) checked)."""
    out, checked = [], []
    for name, model in models.items():
        columns = _types(model)
        ratio_tests = _test_arguments(model, "published_ratios_within_bound")
        bounded = {r: m for args in ratio_tests for r, m in args.get("ratios", {}).items()}
        bounds = {args.get("bound") for args in ratio_tests}
        clipped = {
            low: tuple(pair)
            for args in _test_arguments(model, "count_intervals_clipped")
            for low, pair in args.get("intervals", {}).items()
        }
        for column, kind in columns.items():
            if not column.endswith("_est"):
                continue
            base = column[: -len("_est")]
            margin = _margin(columns, base)
            checked.append((name, column))
            if kind == "double":  # a ratio
                if margin is None:
                    out.append(f"{name}.{column}: a ratio without a published 95 % margin column")
                if f"{base}_withheld_reason" not in columns:
                    out.append(f"{name}.{column}: a ratio without {base}_withheld_reason")
                if bounded.get(column) != margin or not bounds <= set(columns) or not bounds:
                    out.append(f"{name}.{column}: not checked by published_ratios_within_bound with margin {margin}")
            elif kind == "bigint" and margin is not None:  # a count with an interval
                lower = next((low for low, pair in clipped.items() if pair == (column, margin)), None)
                if lower is None or lower not in columns:
                    out.append(f"{name}.{column}: its interval has no lower bound checked by count_intervals_clipped")
        for column in columns:
            if column.endswith("_lower95") and column not in clipped:
                out.append(f"{name}.{column}: a lower bound not checked by count_intervals_clipped")
    return out, checked


def test_every_published_ratio_is_bounded_and_every_count_interval_clipped():
    models = load_models()
    assert set(models) == set(BUYER_MODELS)
    found, checked = problems(models)
    assert found == []
    # not vacuous: the known ratios and counts of each model were enumerated
    assert {("spots_insights_v1", c) for c in ("repeat_rate_est", "trend_score_est", "doors_opened_est")} <= set(
        checked
    )
    assert ("spots_insights_v1_city_category", "repeat_rate_est") in checked
    assert ("spots_insights_v1_releases", "trend_score_est") in checked


def test_a_new_ratio_or_interval_without_its_rule_is_caught():
    models = copy.deepcopy(load_models())
    mart = models["spots_insights_v1"]
    mart["columns"].append({"name": "visit_share_est", "data_type": "double"})
    mart["columns"].append({"name": "spots_est", "data_type": "bigint"})
    mart["columns"].append({"name": "uncertainty_spots_moe95", "data_type": "double"})
    found, _ = problems(models)
    assert "spots_insights_v1.visit_share_est: a ratio without a published 95 % margin column" in found
    assert "spots_insights_v1.visit_share_est: a ratio without visit_share_withheld_reason" in found
    assert any(p.startswith("spots_insights_v1.spots_est: its interval has no lower bound") for p in found)
    # dropping a model's ratio test is caught too
    bare = copy.deepcopy(load_models())
    city_category = bare["spots_insights_v1_city_category"]
    city_category["data_tests"] = [
        t for t in city_category["data_tests"] if not (isinstance(t, dict) and "published_ratios_within_bound" in t)
    ]
    assert problems(bare)[0] == [
        "spots_insights_v1_city_category.repeat_rate_est: not checked by published_ratios_within_bound "
        "with margin repeat_rate_moe95"
    ]


def test_the_record_schema_gives_every_ratio_a_bound_and_every_count_a_clipped_lower_bound():
    props = record_schema()["properties"]
    metrics, uncertainty = props["metrics"]["properties"], props["uncertainty"]["properties"]
    ratios = [n for n, p in metrics.items() if n.endswith("_est") and "number" in p["type"]]
    counts = [n for n, p in metrics.items() if n.endswith("_est") and "integer" in p["type"]]
    assert sorted(ratios) == ["repeat_rate_est", "trend_score_est"] and len(counts) == 2
    assert uncertainty["ratio_moe95_bound"]["maximum"] <= 0.5
    for ratio in ratios:
        base = ratio[: -len("_est")]
        assert f"{base}_moe95" in uncertainty, ratio
        assert "margin_above_bound" in metrics[f"{base}_withheld_reason"]["enum"], ratio
    for count in counts:
        base = count[: -len("_est")]
        assert uncertainty[f"{base}_lower95"]["minimum"] == 0, count
