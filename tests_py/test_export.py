"""Buyer exports: three formats validated before delivery, the query policy's refusals, the audit log,
and retention; run against a real build of generated data on the embedded target."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness import BIN, REPO, DbtProject
from privacy_insights.export import (ExportInvalid, ExportPolicy, ExportRequest, purge_expired, run_export)
from privacy_insights.export import writer
from privacy_insights.export.validate import record_schema
from privacy_insights.targets import connect

pytestmark = pytest.mark.e2e
BUILD = {"as_of": "2026-10-17T00:00:00Z", "release_start_date": "2026-10-05"}


@pytest.fixture(scope="module")
def built(tmp_path_factory, extension_dir) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp("export") / "dev", "dev", extension_dir)
    project.generate("--events", "200000", "--users", "20000", "--cities", "jp-tyo", "--start", "2026-10-05",
                     "--days", "14", "--outside-city-share", "0", "--seed", "7")
    project.dbt("build", vars=BUILD)
    return project


def cli(project: DbtProject, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "privacy-insights"), "export", *args, "--output-dir", str(project.workdir / "out")],
                          cwd=REPO, env=project.env, capture_output=True, text=True)


def audit_rows(project: DbtProject) -> list[tuple]:
    return project.query("select buyer_id, outcome, row_count, file_format, file_name, file_sha256, reason, slice "
                         "from audit.buyer_exports order by requested_at")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_export_in_each_format_is_valid_and_audited(built: DbtProject, fmt: str):
    result = cli(built, "--buyer-id", "acme", "--start", "2026-10-05", "--end", "2026-10-13", "--granularity", "day",
                 "--cities", "jp-tyo", "--format", fmt)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    path = Path(report["file"])
    records = writer.read(fmt, path)
    assert len(records) == report["rows"] > 0
    validator = Draft202012Validator(record_schema())
    assert all(not list(validator.iter_errors(r)) for r in records)
    assert all(not r["privacy"]["suppressed"] and r["metrics"]["unique_participants_est"] >= 100 for r in records)
    expected = built.query("select count(*) from outside_buyer.spots_insights_v1 where time_granularity = 'day' "
                           "and not privacy_suppressed and geo_bucket_id = 'jp-tyo'")[0][0]
    assert len(records) == expected
    last = audit_rows(built)[-1]
    assert last[:4] == ("acme", "delivered", len(records), fmt) and last[5] == writer.sha256(path) == report["sha256"]
    assert json.loads(last[7])["cities"] == ["jp-tyo"]
    assert not [p for p in (built.workdir / "out").iterdir() if p.name.startswith(".")], "no partial file left"


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "2026-06-01", "--end", "2026-10-13"], "date range: 135 days requested, at most 90 per request"),
    (["--cities", *[c for c in ["us-nyc", "us-lax", "us-chi", "us-hou", "us-sfo", "us-sea", "us-mia", "us-atl",
                                "us-bos", "us-den", "ca-tor"]]], "cities: 11 requested, at most 10 per request"),
    (["--cities", "xx-atlantis"], "cities: ['xx-atlantis'] not enumerated values"),
    (["--categories", "gambling"], "categories: ['gambling'] not enumerated values"),
    (["--granularity", "hour"], "granularity: hour is not allowed for buyer 'acme'"),
    (["--end", "2026-10-01"], "end: 2026-10-01 is before start 2026-10-05"),
])
def test_refused_requests_write_nothing_and_are_audited(built: DbtProject, args: list[str], message: str):
    base = {"--start": "2026-10-05", "--end": "2026-10-13", "--granularity": "day", "--cities": "jp-tyo"}
    argv = ["--buyer-id", "acme", "--format", "jsonl"]
    overridden = {a for a in args if a.startswith("--")}
    for flag, value in base.items():
        if flag not in overridden:
            argv += [flag, value]
    out = built.workdir / "out"
    before = sorted(out.iterdir()) if out.exists() else []
    result = cli(built, *argv, *args)
    assert result.returncode == 3 and "export refused" in result.stderr and message in result.stderr, result.stderr
    assert (sorted(out.iterdir()) if out.exists() else []) == before
    last = audit_rows(built)[-1]
    assert last[1] == "refused" and message in last[6] and last[4] is None


def test_a_record_failing_validation_leaves_no_file(built: DbtProject, tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", built.env["PRIVACY_INSIGHTS_DUCKDB"])
    request = ExportRequest("acme", date(2026, 10, 5), date(2026, 10, 13), "day", ("jp-tyo",), "jsonl")
    warehouse = connect("dev")
    try:
        with pytest.raises(ExportInvalid, match=r"forbidden field \(segment\)"):
            run_export(request, ExportPolicy(), warehouse, REPO / "seeds", ["segment"], tmp_path / "out")
        outcome = warehouse.connection.execute("select outcome from audit.buyer_exports order by requested_at desc "
                                               "limit 1").fetchone()[0]
    finally:
        warehouse.close()
    assert outcome == "failed"
    assert list((tmp_path / "out").iterdir()) == []


def test_retention_deletes_files_and_audit_rows_past_12_months(built: DbtProject, tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", built.env["PRIVACY_INSIGHTS_DUCKDB"])
    out = tmp_path / "exports"
    out.mkdir()
    old, new = out / "old.jsonl", out / "new.jsonl"
    old.write_text("{}\n")
    new.write_text("{}\n")
    long_ago = (datetime.now(timezone.utc) - timedelta(days=400)).timestamp()
    os.utime(old, (long_ago, long_ago))
    warehouse = connect("dev")
    try:
        warehouse.connection.execute("insert into audit.buyer_exports (audit_id, buyer_id, requested_at, outcome) "
                                     "values ('old', 'acme', now() - interval 400 day, 'delivered')")
        counts = purge_expired(warehouse, out, 12)
        left = warehouse.connection.execute("select count(*) from audit.buyer_exports where audit_id = 'old'").fetchone()[0]
        recent = warehouse.connection.execute("select count(*) from audit.buyer_exports").fetchone()[0]
    finally:
        warehouse.close()
    assert counts == {"files_deleted": 1, "audit_rows_deleted": 1}
    assert not old.exists() and new.exists() and left == 0 and recent > 0


def test_schema_enumerations_match_the_seeds():
    schema = record_schema()["properties"]
    for prop, seed, column, extra in (("category", "categories", "category", {"all"}),
                                      ("context", "contexts", "context", {"all"}),
                                      ("door_type", "door_types", "door_type", set())):
        with (REPO / "seeds" / f"{seed}.csv").open() as handle:
            values = {row[column] for row in csv.DictReader(handle)} | extra
        assert set(schema["segment"]["properties"][prop]["enum"]) == values, prop
