"""The split build's command (privacy_insights.spark.split_build): bad input and the hand-off's move into place."""

from __future__ import annotations

import pytest

from privacy_insights.cli import main
from privacy_insights.folders import replace_folder


def test_spark_engine_needs_the_raw_parquet_folder(capsys):
    assert main(["build", "--engine", "spark"]) == 2
    assert "--raw-parquet: required with --engine spark" in capsys.readouterr().err


def test_a_raw_folder_without_spots_parquet_files_is_refused_before_spark_starts(tmp_path, capsys):
    (tmp_path / "spots_interaction_events").mkdir()
    assert main(["build", "--engine", "spark", "--raw-parquet", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"no Parquet files in {tmp_path / 'spots_interaction_events'}" in err
    assert "generate --parquet-dir" in err


@pytest.mark.parametrize("text", ["[1, 2]", "{as_of: [unclosed"])
def test_vars_must_be_a_mapping(text, capsys):
    assert main(["build", "--engine", "spark", "--raw-parquet", "x", "--vars", text]) == 2
    assert "--vars:" in capsys.readouterr().err


def test_a_complete_handoff_replaces_the_previous_one_whole(tmp_path):
    final = tmp_path / "handoff"
    (final / "manifest").mkdir(parents=True)
    (final / "manifest" / "old.json").write_text("{}")
    (final / "stale_table").mkdir()
    new = tmp_path / ".handoff.writing-1"
    (new / "manifest").mkdir(parents=True)
    (new / "manifest" / "new.json").write_text("{}")

    replace_folder(new, final)

    assert sorted(p.relative_to(final).as_posix() for p in final.rglob("*")) == ["manifest", "manifest/new.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handoff"]  # nothing left aside


def test_the_first_handoff_is_moved_into_place(tmp_path):
    new = tmp_path / ".writing"
    new.mkdir()
    replace_folder(new, tmp_path / "handoff")
    assert (tmp_path / "handoff").is_dir() and not new.exists()
