"""dbt project features: source freshness at the release clock, and the project's metadata
(groups, access, contracts, primary keys, exposures, docs) read from the manifest.

One small DuckDB warehouse and no build: `dbt source freshness` only reads the raw tables,
and it writes the manifest the metadata checks read.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from harness import DbtProject


@pytest.fixture(scope="module")
def raw_only(extension_dir, tmp_path_factory) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp("features") / "dev", "dev", extension_dir)
    project.generate("--events", "2000", "--seed", "5")  # activity 2026-09-01 .. 2026-10-31
    return project


@pytest.fixture(scope="module")
def at_default(raw_only: DbtProject) -> dict[str, str]:
    """Freshness at the default as_of; the run also writes the manifest the other tests read."""
    return freshness(raw_only)


def freshness(project: DbtProject, **vars) -> dict[str, str]:
    project.dbt("source", "freshness", vars=vars or None, check=False)
    results = json.loads((project.workdir / "target" / "sources.json").read_text())["results"]
    return {r["unique_id"].split(".", 2)[2]: r["status"] for r in results}


def test_source_freshness_is_measured_at_as_of(raw_only: DbtProject, at_default: dict[str, str]):
    """The demo data ends just before the default as_of: fresh, although the wall clock is
    later. Four days later by as_of the same rows are stale (error_after 48 h / 72 h)."""
    assert at_default and set(at_default.values()) == {"pass"}, at_default
    assert "attribution.dead_events" not in at_default  # exempt: no new dead event is good news

    later = freshness(raw_only, as_of="2026-11-05T00:00:00Z")
    for source in ("spots.spots_interaction_events", "outreach.outreach_event_logs", "attribution.attribution_events"):
        assert later[source] == "error", later


def manifest(project: DbtProject) -> dict:
    return json.loads((project.workdir / "target" / "manifest.json").read_text())


def test_every_model_has_a_group_and_public_marts_are_contracted(raw_only: DbtProject, at_default):
    nodes = manifest(raw_only)["nodes"].values()
    models = [n for n in nodes if n["resource_type"] == "model" and n["config"]["enabled"]]
    assert models
    for node in models:
        path = node["original_file_path"]
        assert node["group"], f"{path}: no group"
        if path.startswith(("models/staging/", "models/intermediate/")):
            assert node["access"] in ("private", "protected"), f"{path}: {node['access']}"
        if node["access"] != "public":
            continue
        if node["language"] == "sql":  # dbt contracts do not apply to Python models
            assert node["config"]["contract"]["enforced"], f"{path}: no enforced contract"
            assert all(c["data_type"] for c in node["columns"].values()), f"{path}: a column without data_type"
        assert all(c["description"] for c in node["columns"].values()), f"{path}: an undocumented column"
        assert any(c["type"] == "primary_key" for c in node["constraints"]), f"{path}: no primary key"
    public = {n["name"] for n in models if n["access"] == "public"}
    assert {"fct_outreach_events_daily", "fct_attribution_revenue_daily", "ops_spots_geo_coverage"} <= public


def test_exposures_overview_and_shared_doc_blocks(raw_only: DbtProject, at_default):
    data = manifest(raw_only)
    exposures = {e["name"]: e for e in data["exposures"].values()}
    assert set(exposures) == {"buyer_export", "bi_dashboards", "attribution_app"}
    assert "model.privacy_insights.spots_insights_v1" in exposures["buyer_export"]["depends_on"]["nodes"]
    # the BI dashboards' exposure names every mart the BI role reads, enumerated from the manifest
    public = {uid for uid, n in data["nodes"].items() if n["resource_type"] == "model" and n.get("access") == "public"}
    assert set(exposures["bi_dashboards"]["depends_on"]["nodes"]) == public
    tenant_scoped = {uid for uid, n in data["nodes"].items() if (n["config"].get("meta") or {}).get("rls")}
    assert set(exposures["attribution_app"]["depends_on"]["nodes"]) == tenant_scoped
    for exposure in exposures.values():
        assert exposure["owner"]["name"] and exposure["depends_on"]["nodes"], exposure["name"]

    assert "doc.privacy_insights.__overview__" in data["docs"]
    assert "budget" in data["docs"]["doc.privacy_insights.spots_budget_edges"]["block_contents"]
    # a shared description is written once and reaches every column that uses it
    uses = Counter(
        c["description"] for n in data["nodes"].values() if n["resource_type"] == "model" for c in n["columns"].values()
    )
    for name in ("outreach_source_id_resolved", "outreach_distinct_sessions", "attribution_tenant_id"):
        text = data["docs"][f"doc.privacy_insights.{name}"]["block_contents"].strip()
        assert uses[text] >= 3, f"doc block {name}: used {uses[text]} times"
