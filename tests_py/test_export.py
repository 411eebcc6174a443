"""Buyer exports: three formats validated before delivery, typed and described (Parquet metadata,
CSV dtypes, data dictionary), the query policy's refusals, the audit, retention, and every way
an export can end badly (issue 12 points 3 and 7): each leaves no partial file in the delivery
folder, one clear line and an audit row. Run against a real build on the embedded target."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from jsonschema import Draft202012Validator

from delivery_build import built_copy, delivery_dir
from harness import BIN, REPO, DbtProject
from privacy_insights.export import (
    ExportInvalid,
    ExportPolicy,
    ExportRequest,
    run_export,
    writer,
)
from privacy_insights.export.records import SCHEMA_VERSION
from privacy_insights.export.validate import record_schema
from privacy_insights.targets import connect

pytestmark = pytest.mark.e2e
SLICE = ["--start", "2026-10-05", "--end", "2026-10-13", "--granularity", "day", "--cities", "jp-tyo"]


@pytest.fixture(scope="module")
def built(tmp_path_factory, extension_dir) -> DbtProject:
    project = built_copy(tmp_path_factory, extension_dir, "export")
    registered = subprocess.run(
        [str(BIN / "privacy-insights"), "buyers", "add", "acme"], cwd=REPO, env=project.env, capture_output=True
    )
    assert registered.returncode == 0, registered.stderr
    return project


def cli(
    project: DbtProject, *args: str, out: Path | None = None, wrapper: list[str] | None = None
) -> subprocess.CompletedProcess:
    """``privacy-insights export ...`` as a user runs it (optionally under a fault-injecting wrapper)."""
    command = wrapper or [str(BIN / "privacy-insights")]
    return subprocess.run(
        [*command, "export", *args, "--output-dir", str(out or project.workdir / "out")],
        cwd=REPO,
        env=project.env,
        capture_output=True,
        text=True,
    )


def audit_rows(project: DbtProject) -> list[tuple]:
    """The audit of the delivery store (dev: SQLite beside the warehouse), oldest first."""
    with sqlite3.connect(delivery_dir(project) / "delivery.sqlite") as con:
        return con.execute(
            "select buyer_id, outcome, row_count, file_format, file_name, file_sha256, reason, slice, "
            "rule from buyer_exports where channel = 'file' order by requested_at, rowid"
        ).fetchall()


def one_clear_line(result: subprocess.CompletedProcess, *expected: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.exists() else []


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_export_in_each_format_is_valid_and_audited(built: DbtProject, fmt: str):
    result = cli(built, "--buyer-id", "acme", *SLICE, "--format", fmt)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    path = Path(report["file"])
    records = writer.read(fmt, path)
    assert len(records) == report["rows"] > 0
    validator = Draft202012Validator(record_schema())
    assert all(not list(validator.iter_errors(r)) for r in records)
    assert all(not r["privacy"]["suppressed"] and r["metrics"]["unique_participants_est"] >= 100 for r in records)
    expected = built.query(
        "select count(*) from outside_buyer.spots_insights_v1 where time_granularity = 'day' "
        "and not privacy_suppressed and geo_bucket_id = 'jp-tyo'"
    )[0][0]
    assert len(records) == expected
    last = audit_rows(built)[-1]
    assert last[:4] == ("acme", "delivered", len(records), fmt) and last[5] == writer.sha256(path) == report["sha256"]
    assert json.loads(last[7])["cities"] == ["jp-tyo"]
    assert (
        Path(report["dictionary"]).parent == path.parent
        and "| `privacy.dp.epsilon` |" in Path(report["dictionary"]).read_text()
    )
    assert debris(built.workdir / "out") == [], "no partial file left"


def test_parquet_is_typed_and_names_dataset_and_schema_version(built: DbtProject):
    result = cli(built, "--buyer-id", "acme", *SLICE, "--format", "parquet")
    table = pq.read_table(json.loads(result.stdout)["file"])
    assert str(table.schema.field("time_bucket_start_utc").type) == "timestamp[us, tz=UTC]"
    assert table.schema.metadata[b"dataset"] == b"spots_insights_v1"
    assert table.schema.metadata[b"schema_version"] == SCHEMA_VERSION.encode() == b"1.2"
    assert table.schema.field("metrics").type.field("unique_participants_est").metadata[b"description"]
    frame = table.to_pandas()
    assert str(frame["time_bucket_start_utc"].dtype) == "datetime64[us, UTC]"


def test_csv_round_trips_its_documented_types_in_pandas(built: DbtProject):
    """Regression (issue 13): schema_version "1.1" read back as the float 1.1."""
    path = Path(json.loads(cli(built, "--buyer-id", "acme", *SLICE, "--format", "csv").stdout)["file"])
    frame = pd.read_csv(path, dtype=writer.csv_dtypes(), parse_dates=writer.csv_timestamp_columns())
    assert frame["schema_version"].iloc[0] == "1.2" and isinstance(frame["schema_version"].iloc[0], str)
    assert (
        str(frame["time_bucket_start_utc"].dtype).startswith("datetime64")
        and str(frame["time_bucket_start_utc"].dt.tz) == "UTC"
    )
    assert str(frame["privacy.suppressed"].dtype) == "boolean" and not frame["privacy.suppressed"].any()
    assert str(frame["metrics.unique_participants_est"].dtype) == "Int64"
    assert str(frame["privacy.dp.epsilon"].dtype) == "Float64"
    assert frame["privacy.suppressed_reason"].isna().all()
    jsonl = writer.read("csv", path)
    assert [r["metrics"]["unique_participants_est"] for r in jsonl] == frame["metrics.unique_participants_est"].tolist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-06-01", "--end", "2026-10-13"], "date range: 135 days requested, at most 90 per request"),
        (
            [
                "--cities",
                *[
                    c
                    for c in [
                        "us-nyc",
                        "us-lax",
                        "us-chi",
                        "us-hou",
                        "us-sfo",
                        "us-sea",
                        "us-mia",
                        "us-atl",
                        "us-bos",
                        "us-den",
                        "ca-tor",
                    ]
                ],
            ],
            "cities: 11 requested, at most 10 per request",
        ),
        (["--cities", "xx-atlantis"], "cities: ['xx-atlantis'] not enumerated values"),
        (["--categories", "gambling"], "categories: ['gambling'] not enumerated values"),
        (["--granularity", "hour"], "granularity: hour is not allowed for buyer 'acme'"),
        (["--end", "2026-10-01"], "end: 2026-10-01 is before start 2026-10-05"),
    ],
)
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


# ---- issue 12 point 3: buyer ids are a documented ASCII slug in every entry point -------------


@pytest.mark.parametrize("buyer", ["ａｃｍｅ", "acme\u200b", "Acme", "аcme", "a" * 250])
def test_buyer_ids_outside_the_ascii_slug_are_refused_and_audited(built: DbtProject, tmp_path, buyer: str):
    """Regression: fullwidth 'ａｃｍｅ' was accepted as a new buyer; a 250-character id was a traceback
    (file name too long) with no audit row."""
    out = tmp_path / "out"
    result = cli(built, "--buyer-id", buyer, *SLICE, out=out)
    assert result.returncode == 3, result.stderr
    one_clear_line(result, "export refused", "buyer_id", "ASCII slug", "[rule buyer_id_slug]")
    assert debris(out) == [] and not (out.exists() and list(out.iterdir()))
    last = audit_rows(built)[-1]
    assert last[1] == "refused" and last[8] == "buyer_id_slug" and last[0] == buyer[:512]
    added = subprocess.run(
        [str(BIN / "privacy-insights"), "buyers", "add", buyer], cwd=REPO, env=built.env, capture_output=True, text=True
    )
    assert added.returncode != 0 and "ASCII slug" in added.stderr and "api_key" not in added.stdout


# ---- issue 27 point 12: exports obey the buyer registry and the key scopes, as the API does ------


def buyers(project: DbtProject, *args: str) -> None:
    result = subprocess.run(
        [str(BIN / "privacy-insights"), "buyers", *args], cwd=REPO, env=project.env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("buyer", "registry", "args", "rule"),
    [
        ("stranger", [], [], "buyer_registered"),
        ("gone", [["add", "gone"], ["revoke", "gone"]], [], "buyer_revoked"),
        ("narrow", [["add", "narrow", "--max-cities", "1"]], ["--cities", "jp-tyo", "us-nyc"], "key_scope_max_cities"),
        ("weekly", [["add", "weekly", "--granularities", "week"]], [], "key_scope_granularities"),
    ],
)
def test_an_export_obeys_the_buyer_registry_and_scopes(
    built: DbtProject, tmp_path, buyer: str, registry: list[list[str]], args: list[str], rule: str
):
    """Regression: the export CLI delivered to a buyer never registered, to a revoked buyer and
    beyond the buyer's max-cities scope (exit 0, audited delivered); the API refused all three."""
    for command in registry:
        buyers(built, *command)
    base = {"--start": "2026-10-05", "--end": "2026-10-13", "--granularity": "day", "--cities": "jp-tyo"}
    argv = ["--buyer-id", buyer]
    for flag, value in base.items():
        if flag not in args:
            argv += [flag, value]
    out = tmp_path / "out"
    result = cli(built, *argv, *args, out=out)
    assert result.returncode == 3, result.stderr
    one_clear_line(result, "export refused", f"[rule {rule}]")
    assert not (out.exists() and list(out.iterdir()))
    last = audit_rows(built)[-1]
    assert last[:2] == (buyer, "refused") and last[8] == rule and last[4] is None
    if rule == "buyer_revoked":  # the registry decides: a new key lifts the revocation
        buyers(built, "rotate", buyer)
        assert cli(built, *argv, *args, out=out).returncode == 0


# ---- issue 12 point 7: every outcome leaves no partial file and an audit row -------------------

INJECT = """
import os, signal, sys, time
import privacy_insights.export.writer as writer
sig = getattr(signal, sys.argv[1])
real = writer.sha256
def sha256(path):            # runs once the temporary file is written and read back
    os.kill(os.getpid(), sig)
    time.sleep(5)
    return real(path)
writer.sha256 = sha256
from privacy_insights.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize(("sig", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_an_export_interrupted_after_writing_leaves_no_partial_and_is_audited(
    built: DbtProject, tmp_path, sig: str, code: int
):
    """Regression: SIGTERM/SIGINT after the file was written left `.<name>.partial` and no audit row."""
    out = tmp_path / "out"
    result = cli(built, "--buyer-id", "acme", *SLICE, out=out, wrapper=[sys.executable, "-c", INJECT, sig])
    assert result.returncode == code, (result.returncode, result.stderr)
    one_clear_line(result, f"interrupted by {sig}", "nothing delivered")
    assert debris(out) == [] and not [p for p in out.iterdir() if p.suffix == ".jsonl"]
    last = audit_rows(built)[-1]
    assert last[1] == "interrupted" and sig in last[6]


def test_a_killed_export_leaves_a_partial_that_the_next_export_removes_and_audits(built: DbtProject, tmp_path):
    """SIGKILL cannot be caught: its partial file stays until the next export into the folder
    removes it at start (and says so in the audit)."""
    out = tmp_path / "out"
    killed = cli(built, "--buyer-id", "acme", *SLICE, out=out, wrapper=[sys.executable, "-c", INJECT, "SIGKILL"])
    assert killed.returncode == -9
    stale = debris(out)
    assert len(stale) == 1 and stale[0].endswith(".partial")
    result = cli(built, "--buyer-id", "acme", *SLICE, out=out)
    assert result.returncode == 0, result.stderr
    assert debris(out) == []
    cleaned = [row for row in audit_rows(built) if row[8] == "stale_partial"]
    assert cleaned and cleaned[-1][1] == "interrupted" and stale[0] in cleaned[-1][6]


def test_an_output_dir_that_is_a_file_fails_in_one_line_and_is_audited(built: DbtProject, tmp_path):
    """Regression: a traceback (FileExistsError) and no audit row."""
    target = tmp_path / "not_a_dir"
    target.write_text("x")
    result = cli(built, "--buyer-id", "acme", *SLICE, out=target)
    assert result.returncode == 4
    one_clear_line(result, "export failed", str(target), "not a directory", "[rule output_dir]")
    assert target.read_text() == "x"
    last = audit_rows(built)[-1]
    assert last[1] == "failed" and last[8] == "output_dir"


@pytest.mark.parametrize("how", ["read-only filesystem", "immutable directory"])
def test_an_unwritable_output_dir_fails_in_one_line_and_is_audited(built: DbtProject, tmp_path, how: str):
    """Regression: a traceback (the cleanup in the error path raised again) and no audit row.
    Tests run as root, which ignores permission bits, so the folder is made unwritable the
    ways that also stop root: a read-only tmpfs mount, and the immutable attribute."""
    out = tmp_path / "out"
    out.mkdir()
    if how == "read-only filesystem":
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(out)], check=True)
        undo = ["umount", str(out)]
    else:
        subprocess.run(["chattr", "+i", str(out)], check=True)
        undo = ["chattr", "-i", str(out)]
    try:
        result = cli(built, "--buyer-id", "acme", *SLICE, out=out)
        left = list(out.iterdir())
    finally:
        subprocess.run(undo, check=True)
    assert result.returncode == 4, result.stderr
    one_clear_line(result, "export failed", "cannot write", "[rule output_dir]")
    assert left == []
    last = audit_rows(built)[-1]
    assert last[1] == "failed" and last[8] == "output_dir"


def test_a_locked_warehouse_fails_in_one_line_and_is_audited(built: DbtProject, tmp_path):
    """Regression: another DuckDB writer (a running dbt build) gave a raw traceback. The audit
    lives in the delivery store, not in the warehouse, so the failure is audited."""
    writer_connection = duckdb.connect(built.env["PRIVACY_INSIGHTS_DUCKDB"])
    try:
        result = cli(built, "--buyer-id", "acme", *SLICE, out=tmp_path / "out")
    finally:
        writer_connection.close()
    assert result.returncode == 4, result.stderr
    one_clear_line(result, "export failed", "is locked by another process", "[rule warehouse_locked]")
    assert debris(tmp_path / "out") == []
    last = audit_rows(built)[-1]
    assert last[1] == "failed" and last[8] == "warehouse_locked"


def test_a_record_failing_validation_leaves_no_file(built: DbtProject, tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", built.env["PRIVACY_INSIGHTS_DUCKDB"])
    request = ExportRequest("acme", date(2026, 10, 5), date(2026, 10, 13), "day", ("jp-tyo",), "jsonl")
    warehouse = connect("dev")
    try:
        with pytest.raises(ExportInvalid, match=r"forbidden field \(segment\)"):
            run_export(request, ExportPolicy(), warehouse, REPO / "seeds", ["segment"], tmp_path / "out")
    finally:
        warehouse.close()
    last = audit_rows(built)[-1]
    assert last[1] == "failed" and last[8] == "record_validation"
    assert debris(tmp_path / "out") == [] and not list((tmp_path / "out").glob("*.jsonl"))


def test_schema_enumerations_match_the_seeds():
    schema = record_schema()["properties"]
    for prop, seed, column, extra in (
        ("category", "categories", "category", {"all"}),
        ("context", "contexts", "context", {"all"}),
        ("door_type", "door_types", "door_type", {"all"}),
    ):
        with (REPO / "seeds" / f"{seed}.csv").open() as handle:
            values = {row[column] for row in csv.DictReader(handle)} | extra
        assert set(schema["segment"]["properties"][prop]["enum"]) == values, prop


def test_every_schema_property_is_described_and_typed():
    """Regression (issue 13): the JSON Schema had one description."""

    def walk(node, path):
        for name, prop in node.get("properties", {}).items():
            assert prop.get("description", "").strip(), f"{path}{name}: no description"
            assert "type" in prop, f"{path}{name}: no type"
            walk(prop, f"{path}{name}.")

    walk(record_schema(), "")


def test_the_data_dictionary_lists_every_field_with_both_descriptions():
    from privacy_insights.export.dictionary import dictionary, markdown
    from privacy_insights.export.records import FIELDS

    d = dictionary(REPO)
    assert [f["field"] for f in d["fields"]] == [f.dotted for f in FIELDS]
    assert all(f["description"] and f["computation"] for f in d["fields"]), "a field lacks a description"
    text = markdown(REPO)
    assert (
        "'schema_version': 'string'" in text and "parse_dates=['time_bucket_start_utc', 'release_period_start']" in text
    )
    frame = pd.read_csv(io.StringIO(writer.encode([], "csv").decode()), dtype=writer.csv_dtypes())
    assert list(frame.columns) == [f.dotted for f in FIELDS]
