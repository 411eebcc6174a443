"""Each contract-000 dbt test can fail: a deliberately broken copy of the buyer dataset makes
`dbt build` fail with a message naming the column and the rule (fixtures in
models/contract_fixtures/). The real dataset passes the same tests in the same build."""

from __future__ import annotations

import pytest

from harness import DbtProject

pytestmark = pytest.mark.e2e

CASES = {
    "planted_user_id": ("forbidden fields (contract 000 §5.1)", "user_id: forbidden field name (user_id)"),
    "planted_struct_field": (
        "forbidden fields (contract 000 §5.1)",
        "meta_info.Device_ID: forbidden struct field (device_id)",
    ),
    "planted_json_key": ("forbidden fields (contract 000 §5.1)", "extra: JSON key ip_address is a forbidden field"),
    "planted_email": (
        "no identifiers or precise locations in values",
        "segment_category: value looks like an email address",
    ),
    "planted_coordinate": (
        "no identifiers or precise locations in values",
        "popularity: value with more than one decimal",
    ),
    "planted_free_text": (
        "text only from enumerations",
        "privacy_suppressed_reason: value 'see you at the jazz bar' is not enumerated",
    ),
    "planted_geohash5": ("geo no finer than city / geohash3", "geo_bucket_id: 'dr5ru' is not a 3-character geohash"),
    "planted_misaligned": ("time buckets hour/day/week, aligned", "is not aligned to its"),
    "planted_delay_24": ("reporting delay >= 72 hours", "reporting_delay_hours: 24 is below 72"),
    "planted_k_below_minimum": ("k-min suppression", "privacy_k_min_enforced: 50 is below the contract minimum 100"),
    "planted_under_k": ("k-min suppression", "unique_participants_est: released cell"),
    "planted_ledger_mismatch": ("every release accounted in the budget ledger", "differs from the budget ledger"),
    "planted_unreadable_metrics": (
        "published ratios within their 95 % margin bound",
        "repeat_rate_est: published with 95 % margin 0.42 above its bound 0.1",
    ),
}
# The published-metric tests (issue 29) share the contract tests' failure message, with their own
# title; their one fixture plants two defects (a second rule and detail to find).
TITLE = {"planted_unreadable_metrics": "Published metric violation"}
ALSO = {
    "planted_unreadable_metrics": ("count intervals clipped at zero", "uncertainty_doors_opened_lower95: -117.0 is not")
}


@pytest.fixture(scope="module")
def built(tmp_path_factory, extension_dir) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp("contract") / "dev", "dev", extension_dir)
    project.generate("--events", "5000", "--seed", "21")
    result = project.dbt("build")  # the real dataset passes every contract test
    assert "contract_no_forbidden_fields_spots_insights_v1_" in result.stdout
    assert "published_ratios_within_bound_spots_insights_v1_" in result.stdout  # the real marts pass them
    assert "count_intervals_clipped_spots_insights_v1_city_category_" in result.stdout
    return project


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_planted_defect_fails_the_build_naming_column_and_rule(built: DbtProject, fixture: str):
    result = built.dbt("build", "--select", fixture, vars={"contract_fixture": fixture}, check=False)
    assert result.returncode != 0, f"{fixture}: the build passed"
    title = TITLE.get(fixture, "Contract 000 violation")
    for rule, detail in [CASES[fixture], *([ALSO[fixture]] if fixture in ALSO else [])]:
        lines = [line for line in result.stdout.splitlines() if title in line and rule in line]
        assert lines, f"{fixture}: no failure for rule {rule!r}:\n{result.stdout[-3000:]}"
        assert any(detail in line for line in lines), f"{fixture}: {detail!r} not in {lines}"
