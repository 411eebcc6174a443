"""The geo reference's contract and its Python helpers.

Contract 000 §4.3: `geo_bucket.id` never below city scale. The geo hierarchy (localities,
neighbourhoods, their names) lives beside the buyer dataset, so a test must prove that no
outside-buyer model can reach it: none depends on a geo-locality node, directly or
through any ancestor, declares a locality column, or names one in its code. The check
reads dbt's own manifest of the real project (`dbt parse`), and a planted manifest shows
it catches each way in.
"""

from __future__ import annotations

import copy
import json
import math
import re

import pytest

from harness import DbtProject
from privacy_insights.geo_names import circle_polygon, fold_table, geohash3_bounds, normalize_place_name

BUYER_PATH = "models/marts/outside_buyer/"
LOCALITY_WORDS = re.compile(r"localit|neighbo(u)?rhood|place_name|place_alias", re.IGNORECASE)


def locality_nodes(manifest: dict) -> set[str]:
    """Every node holding data below city scale: the geo reference models and their seeds."""
    nodes = {**manifest["nodes"]}
    return {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] in ("model", "seed", "snapshot")
        and (
            node["original_file_path"].startswith("models/reference/geo/")
            or (node["resource_type"] == "seed" and node["name"].startswith("geo_"))
        )
    }


def ancestors(manifest: dict, uid: str) -> set[str]:
    seen: set[str] = set()
    stack = list(manifest["nodes"].get(uid, {}).get("depends_on", {}).get("nodes", []))
    while stack:
        parent = stack.pop()
        if parent not in seen:
            seen.add(parent)
            stack.extend(manifest["nodes"].get(parent, {}).get("depends_on", {}).get("nodes", []))
    return seen


def buyer_locality_violations(manifest: dict) -> list[str]:
    """One message per way an outside-buyer model could reach data below city scale."""
    forbidden = locality_nodes(manifest)
    problems = []
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or not node["original_file_path"].startswith(BUYER_PATH):
            continue
        for parent in sorted(ancestors(manifest, uid) & forbidden):
            problems.append(f"{node['name']}: depends on {parent} (below city scale)")
        for column in node.get("columns", {}):
            if LOCALITY_WORDS.search(column):
                problems.append(f"{node['name']}: column {column} names a locality")
        if LOCALITY_WORDS.search(node.get("raw_code", "")):
            problems.append(f"{node['name']}: its code mentions a locality")
    return problems


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, extension_dir) -> dict:
    project = DbtProject(tmp_path_factory.mktemp("parse"), "dev", extension_dir)
    project.dbt("parse")
    return json.loads((project.workdir / "target" / "manifest.json").read_text())


def test_no_buyer_model_can_reach_a_locality(manifest):
    buyers = [n for n in manifest["nodes"].values() if n["original_file_path"].startswith(BUYER_PATH)]
    geo = locality_nodes(manifest)
    assert (
        len(buyers) >= 5
        and {
            "model.privacy_insights.geo_localities_v1",
            "seed.privacy_insights.geo_localities",
            "seed.privacy_insights.geo_place_aliases",
        }
        <= geo
    )
    assert buyer_locality_violations(manifest) == []


def test_the_check_catches_each_way_in(manifest):
    planted = copy.deepcopy(manifest)
    cells = "model.privacy_insights.int_spots__cell_aggregates"  # upstream of every release
    planted["nodes"][cells]["depends_on"]["nodes"].append("model.privacy_insights.geo_localities_v1")
    ledger = next(uid for uid, n in planted["nodes"].items() if n["name"] == "spots_privacy_budget_ledger")
    planted["nodes"][ledger]["columns"]["locality_code"] = {"name": "locality_code"}
    union = next(uid for uid, n in planted["nodes"].items() if n["name"] == "spots_insights_v1")
    planted["nodes"][union]["raw_code"] += "\n-- join geo_place_names_v1"
    problems = buyer_locality_violations(planted)
    assert any("spots_insights_v1_releases: depends on model.privacy_insights.geo_localities_v1" in p for p in problems)
    assert "spots_privacy_budget_ledger: column locality_code names a locality" in problems
    assert "spots_insights_v1: its code mentions a locality" in problems


def test_normalize_place_name():
    assert normalize_place_name("  Saint-Germain-des-Prés ") == "saint germain des pres"
    assert normalize_place_name("CHŪŌ") == normalize_place_name("chuo") == "chuo"
    assert normalize_place_name("Straße") == "strasse" and normalize_place_name("Œuvre") == "oeuvre"
    assert normalize_place_name("O'Hare (North)") == "o hare north"
    assert normalize_place_name("東京") == "東京"
    source, target = fold_table()
    assert len(source) == len(target) and set(target) <= set("abcdefghijklmnopqrstuvwxyz")


def test_circle_polygon_and_geohash_bounds():
    ring = circle_polygon(48.8566, 2.3522, 2.0)
    assert len(ring) == 17 and ring[0] == ring[-1]
    area = 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))
    assert area > 0  # counter-clockwise, as RFC 7946 asks of exterior rings
    with pytest.raises(ValueError, match="radius_km > 0"):
        circle_polygon(48.8, 2.3, 0)
    south, west, north, east = geohash3_bounds("u09")  # Paris
    assert south < 48.8566 < north and west < 2.3522 < east
    assert math.isclose(north - south, 1.40625) and math.isclose(east - west, 1.40625)
