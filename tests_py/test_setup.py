"""The offline setup step: DuckDB's postgres extension from the PyPI wheel, never the network."""

from __future__ import annotations

import duckdb
import pytest

from privacy_insights import targets
from privacy_insights.setup import ensure_profile, install_postgres_extension


def test_install_into_fresh_folder_is_idempotent_and_loads_offline(tmp_path):
    folder = tmp_path / "extensions"
    first = install_postgres_extension(folder)
    stamp = first.stat().st_mtime_ns
    second = install_postgres_extension(folder)
    assert first == second and second.stat().st_mtime_ns == stamp
    con = duckdb.connect(
        config={
            "extension_directory": str(folder),
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
    )
    con.execute("LOAD postgres")
    assert con.sql("select loaded from duckdb_extensions() where extension_name = 'postgres_scanner'").fetchone()[0]


def test_missing_extension_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVACY_INSIGHTS_EXTENSION_DIR", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="run `privacy-insights setup` first"):
        targets.connect("prod")


def test_profile_is_created_once(tmp_path):
    (tmp_path / "profiles.yml.example").write_text("example: 1\n")
    profile = ensure_profile(tmp_path)
    assert profile.read_text() == "example: 1\n"
    profile.write_text("mine: 1\n")
    ensure_profile(tmp_path)
    assert profile.read_text() == "mine: 1\n"


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="target: unknown value 'staging'"):
        targets.connect("staging")
    with pytest.raises(ValueError, match="the old `postgres` target is now `prod`"):
        targets.connect("postgres")
