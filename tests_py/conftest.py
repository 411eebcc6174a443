"""Shared fixtures: an offline-installed DuckDB extension folder and real PostgreSQL databases."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from harness import DbtProject, postgres_admin, scratch_database

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def extension_dir(tmp_path_factory) -> Path:
    """A fresh extension folder filled by the project's own setup step (nothing pre-installed)."""
    from privacy_insights.setup import install_postgres_extension

    path = tmp_path_factory.mktemp("duckdb_extensions")
    install_postgres_extension(path)
    return path


@pytest.fixture(scope="session")
def postgres_available() -> None:
    try:
        postgres_admin().close()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {os.environ.get('PGHOST', '127.0.0.1')}: {exc}"
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        print(f"\nSKIP postgres tests: {reason}")
        pytest.skip(reason)


@pytest.fixture
def postgres_database(postgres_available) -> str:
    """A new, empty PostgreSQL database, dropped after the test."""
    with scratch_database() as name:
        yield name


@pytest.fixture
def dev_project(tmp_path, extension_dir) -> DbtProject:
    return DbtProject(tmp_path / "dev", "dev", extension_dir)


@pytest.fixture
def postgres_project(tmp_path, extension_dir, postgres_database) -> DbtProject:
    return DbtProject(tmp_path / "postgres", "prod", extension_dir, pg_database=postgres_database)


@pytest.fixture(params=["dev", "prod"])
def project(request, tmp_path, extension_dir) -> DbtProject:
    """The same test on the embedded DuckDB target and on a real PostgreSQL."""
    if request.param == "dev":
        return DbtProject(tmp_path / "dev", "dev", extension_dir)
    database = request.getfixturevalue("postgres_database")
    return DbtProject(tmp_path / "postgres", "prod", extension_dir, pg_database=database)


@pytest.fixture(scope="session")
def published_api(tmp_path_factory, extension_dir):
    """The buyer API over a published copy of the delivery build, one per worker (api_harness.py)."""
    from api_harness import published

    yield from published(tmp_path_factory, extension_dir)


# The modules that took longest in a full run on two idle cores (pytest --durations of the
# 2026-12-07 run), longest first.
LONGEST_MODULES = (
    "test_incremental.py",
    "test_spots_release_e2e.py",
    "test_spots_handoff.py",
    "test_release_integrity.py",
    "test_release_gate.py",
    "test_release_clock.py",
)


def pytest_collection_modifyitems(config, items):
    """Longest modules first, then every other module with an end-to-end test, then the rest.

    `make test` runs two workers with one module per worker at a time (--dist loadscope) in
    this order (--no-loadscope-reorder): a worker that finishes early takes the short
    modules at the end, instead of both waiting for a long module scheduled last. Within a
    module the order is unchanged. Only the run's duration depends on this list; a module
    missing from it runs in the second group if it builds end to end.
    """
    end_to_end = {item.path.name for item in items if item.get_closest_marker("e2e")}

    def rank(item) -> tuple[int, int]:
        name = item.path.name
        if name in LONGEST_MODULES:
            return (0, LONGEST_MODULES.index(name))
        return (1, 0) if name in end_to_end else (2, 0)

    items.sort(key=rank)  # stable: modules stay contiguous and keep their own order
