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
