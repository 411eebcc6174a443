"""Delivered files that cannot collide, cannot be redirected through a planted symlink, are not
stopped by what else lies in the folder, and do not outlive their retention (issue 27 points 9,
10, 11, 13). Exports run as the CLI runs them, or in process where a clock or a name must be
fixed, against one shared build (delivery_build.py)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from delivery_build import built_copy, delivery_dir
from harness import BIN, REPO, DbtProject
from privacy_insights.export import ExportFailed, ExportPolicy, ExportRequest, run_export, writer
from privacy_insights.export import run as export_run
from privacy_insights.targets import connect

SLICE = ["--start", "2026-10-05", "--end", "2026-10-13", "--granularity", "day", "--cities", "jp-tyo"]
REQUEST = ExportRequest("acme", date(2026, 10, 5), date(2026, 10, 13), "day", ("jp-tyo",), "jsonl")
NOW = datetime(2026, 11, 2, 12, 0, 0, tzinfo=UTC)
FORBIDDEN = ["user_id", "email"]


def pi(project: DbtProject, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "privacy-insights"), *args], cwd=REPO, env=project.env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory, extension_dir) -> DbtProject:
    project = built_copy(tmp_path_factory, extension_dir, "export_files")
    assert pi(project, "buyers", "add", "acme").returncode == 0
    return project


@pytest.fixture
def in_process(built: DbtProject, monkeypatch):
    """Exports in this process see the shared build's warehouse and delivery store."""
    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", built.env["PRIVACY_INSIGHTS_DUCKDB"])

    def export(out: Path, now: datetime = NOW):
        warehouse = connect("dev")
        try:
            return run_export(REQUEST, ExportPolicy(), warehouse, REPO / "seeds", FORBIDDEN, out, now=now)
        finally:
            warehouse.close()

    return export


def audit(project: DbtProject, where: str = "1 = 1", params: tuple = ()) -> list[sqlite3.Row]:
    with sqlite3.connect(delivery_dir(project) / "delivery.sqlite") as con:
        con.row_factory = sqlite3.Row
        return con.execute(
            f"select * from buyer_exports where channel = 'file' and {where} order by requested_at, rowid", params
        ).fetchall()


def dead_pid() -> int:
    """A process id no process has now (what a killed export leaves in its partial's name)."""
    for pid in range(4_000_000, 3_000_000, -1):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue
    raise AssertionError("no free pid")


# ---- point 9: one file per delivery ---------------------------------------------------------------


@pytest.mark.e2e
def test_two_exports_in_the_same_second_are_two_files(built: DbtProject, in_process, tmp_path):
    """Regression: two exports in the same second got the same file name; both were audited
    delivered and the second replaced the first."""
    out = tmp_path / "out"
    first, second = in_process(out), in_process(out)
    assert first.path != second.path and first.path.exists() and second.path.exists()
    for result in (first, second):
        (row,) = audit(built, "audit_id = ?", (result.audit_id,))
        assert row["outcome"] == "delivered" and result.audit_id in result.path.name
        assert row["file_name"] == result.path.name and row["file_sha256"] == writer.sha256(result.path)


# ---- point 10: no planted symlink redirects a delivery ----------------------------------------------


@pytest.mark.e2e
def test_a_symlink_planted_at_the_old_predictable_partial_path_is_not_followed(built: DbtProject, in_process, tmp_path):
    """Regression: the export wrote its file through a symlink planted at `.<name>.<pid>.partial`
    (name from buyer, slice and second; pid its own) and overwrote a file outside the folder."""
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("not the export's")
    predictable = f"acme_spots_insights_v1_day_20261005-20261013_{NOW:%Y%m%dT%H%M%SZ}.jsonl"
    (out / f".{predictable}.{os.getpid()}.partial").symlink_to(victim)
    result = in_process(out)
    assert victim.read_text() == "not the export's"
    assert result.path.parent == out.resolve() and result.path.is_file() and not result.path.is_symlink()


@pytest.mark.e2e
@pytest.mark.parametrize("where", ["temporary", "final"])
def test_a_symlink_at_a_path_the_export_writes_is_refused(built: DbtProject, in_process, tmp_path, monkeypatch, where):
    """With its random parts fixed, the export's own temporary and final paths are planted with
    symlinks: it refuses both (exclusive creation, a link that never replaces), audits a failure,
    never a delivery, and the file outside is untouched."""
    from privacy_insights.export import files

    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("not the export's")
    name = "acme_spots_insights_v1_planted.jsonl"
    monkeypatch.setattr(export_run, "file_name", lambda *args: name)
    monkeypatch.setattr(files, "temporary_path", lambda final: final.with_name(f".{final.name}.1.partial"))
    (out / (f".{name}.1.partial" if where == "temporary" else name)).symlink_to(victim)
    before = len(audit(built))
    with pytest.raises(ExportFailed) as failed:
        in_process(out)
    assert failed.value.rule == "output_dir" and ("exists" in str(failed.value))
    assert victim.read_text() == "not the export's"
    rows = audit(built)[before:]
    assert [(r["outcome"], r["rule"]) for r in rows] == [("failed", "output_dir")]
    assert sorted(p.name for p in out.iterdir() if p.name != export_run.dictionary_name()) == sorted(
        [f".{name}.1.partial" if where == "temporary" else name]
    ), "only the planted link is left"


@pytest.mark.e2e
def test_a_symlinked_export_folder_is_resolved_once_and_audited_as_its_real_path(
    built: DbtProject, in_process, tmp_path
):
    """Decision (docs/buyer_delivery.md): an operator may point --output-dir at a symlink to a
    folder; the export resolves it once, writes in the real folder, and audits that path, so
    retention finds the file even if the link changes later."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    result = in_process(tmp_path / "link")
    assert result.path.parent == real.resolve()
    (row,) = audit(built, "audit_id = ?", (result.audit_id,))
    assert row["file_path"] == str(result.path)


def test_file_creation_never_follows_or_replaces(tmp_path):
    from privacy_insights.export import files

    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    for planted in (link, dangling, victim):
        with pytest.raises(FileExistsError):
            files.write_new(planted, b"new")
    assert victim.read_text() == "keep" and not (tmp_path / "nowhere").exists()
    temporary = tmp_path / ".t.partial"
    status, written = files.write_new(temporary, b"data")
    assert written == b"data"
    with pytest.raises(FileExistsError):
        files.link_into_place(temporary, link, status)
    assert victim.read_text() == "keep" and temporary.exists()
    temporary.unlink()
    temporary.symlink_to(victim)  # swapped after it was written
    with pytest.raises(files.Redirected):
        files.link_into_place(temporary, tmp_path / "final", status)
    assert not (tmp_path / "final").exists()
    files.replace_atomically(link, b"replaced")  # the link itself is replaced, its target is not
    assert victim.read_text() == "keep" and not link.is_symlink() and link.read_bytes() == b"replaced"


# ---- point 11: what else lies in the folder ---------------------------------------------------------


@pytest.mark.e2e
def test_stale_partial_cleanup_touches_only_regular_files_it_named(built: DbtProject, tmp_path):
    """Regression: a directory named `.x.999998.partial` in the export folder made every export
    fail (exit 4), and the buyer id of a `stale_partial` audit row came from the file name
    unvalidated. Only a regular file named as an export names its partials is removed and audited."""
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("keep")
    pid = dead_pid()
    ours = f"acme_spots_insights_v1_day_20261005-20261013_20261101T000000Z.jsonl.{pid}.partial"
    (out / f".{ours}").write_text("left by a killed export")
    strangers = {
        f".x.{pid}.partial": "dir",
        f".acme_spots_insights_v1_folder.jsonl.{pid}.partial": "dir",
        f".ACME-Ünicode'; drop table x;--_spots_insights_v1_day.jsonl.{pid}.partial": "file",
        f".x.{pid}.partial.keep": "file",
        f".acme_spots_insights_v1_link.jsonl.{pid}.partial": "link",
    }
    for name, kind in strangers.items():
        path = out / name
        path.mkdir() if kind == "dir" else path.symlink_to(victim) if kind == "link" else path.write_text("theirs")
    before = len(audit(built))
    result = subprocess.run(
        [str(BIN / "privacy-insights"), "export", "--buyer-id", "acme", *SLICE, "--output-dir", str(out)],
        cwd=REPO,
        env=built.env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert not (out / f".{ours}").exists() and all(
        (out / name).exists() or (out / name).is_symlink() for name in strangers
    )
    assert victim.read_text() == "keep"
    rows = audit(built)[before:]
    stale = [(r["buyer_id"], r["file_name"], r["outcome"]) for r in rows if r["rule"] == "stale_partial"]
    assert stale == [("acme", ours.rsplit(f".{pid}.partial", 1)[0], "interrupted")]
    assert [r["outcome"] for r in rows if r["rule"] != "stale_partial"] == ["delivered"]


# ---- point 13: retention follows the audit ---------------------------------------------------------


def age(project: DbtProject, audit_id: str, days: int) -> None:
    when = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with sqlite3.connect(delivery_dir(project) / "delivery.sqlite") as con:
        con.execute("update buyer_exports set requested_at = ? where audit_id = ?", (when, audit_id))


@pytest.mark.e2e
def test_retention_deletes_every_expired_delivered_file_and_nothing_else(built: DbtProject, tmp_path):
    """Regression: `export-retention` scanned only export_policy.yml's export_dir: a 400-day-old
    file exported with --output-dir stayed forever while its audit row was purged, and any old
    file in export_dir was deleted, delivered or not."""
    elsewhere, kept_dir = tmp_path / "elsewhere", tmp_path / "recent"

    def export(out: Path) -> dict:
        result = pi(built, "export", "--buyer-id", "acme", *SLICE, "--output-dir", str(out))
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    expired, changed, recent = export(elsewhere), export(elsewhere), export(kept_dir)
    Path(changed["file"]).write_text("edited by someone after delivery\n")
    unaudited = elsewhere / "buyer_notes.jsonl"
    unaudited.write_text("{}\n")
    long_ago = (datetime.now(UTC) - timedelta(days=400)).timestamp()
    for path in (unaudited, Path(recent["file"])):
        os.utime(path, (long_ago, long_ago))  # old on disk, but not an expired delivery
    for delivery in (expired, changed):
        age(built, delivery["audit_id"], 400)
    result = pi(built, "export-retention")
    assert result.returncode == 0, result.stderr
    assert not Path(expired["file"]).exists()
    assert Path(changed["file"]).exists() and unaudited.exists() and Path(recent["file"]).exists()
    counts = json.loads(result.stdout)
    assert (counts["files_deleted"], counts["files_changed_kept"], counts["target"]) == (1, 1, "dev")
    gone = audit(built, "audit_id in (?, ?)", (expired["audit_id"], changed["audit_id"]))
    assert gone == [] and audit(built, "audit_id = ?", (recent["audit_id"],))


@pytest.mark.e2e
def test_retention_finds_files_of_rows_audited_before_file_path(built: DbtProject, tmp_path, monkeypatch):
    """Rows from before the audit recorded the folder name the file only: retention looks for it
    in the export folder of that time (export_dir), and deletes it only if its SHA-256 matches."""
    from privacy_insights.export import audit as audit_log
    from privacy_insights.export import open_store, purge_expired

    monkeypatch.setenv("PRIVACY_INSIGHTS_DUCKDB", built.env["PRIVACY_INSIGHTS_DUCKDB"])
    legacy = tmp_path / "exports"
    legacy.mkdir()
    delivered, foreign = legacy / "acme_spots_insights_v1_day_old.jsonl", legacy / "other_target_file.jsonl"
    for path in (delivered, foreign):
        path.write_text('{"a": 1}\n')
    store = open_store("dev")
    audit_log.insert(
        store,
        audit_log.AuditEntry(
            buyer_id="acme",
            requested_at=datetime.now(UTC) - timedelta(days=400),
            slice=None,
            row_count=1,
            file_format="jsonl",
            file_name=delivered.name,
            file_sha256=hashlib.sha256(delivered.read_bytes()).hexdigest(),
            outcome="delivered",
        ),
    )
    counts = purge_expired(store, 12, legacy)
    assert counts["files_deleted"] == 1 and not delivered.exists() and foreign.exists()
