"""A module-scoped PostgreSQL database with reference components installed by the real CLI."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager

import psycopg

from harness import BIN, REPO


def pg_env(database: str) -> dict[str, str]:
    return os.environ | {
        "PGDATABASE": database,
        "PGHOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PGUSER": os.environ.get("PGUSER", "postgres"),
        "PRIVACY_INSIGHTS_PROJECT_DIR": str(REPO),
    }


def install(database: str, *components: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(BIN / "privacy-insights"), "postgres", "install", *components],
        cwd=REPO,
        env=pg_env(database),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result


def connect(database: str) -> psycopg.Connection:
    env = pg_env(database)
    return psycopg.connect(dbname=database, host=env["PGHOST"], user=env["PGUSER"], autocommit=True)


@contextmanager
def as_role(database: str, role: str):
    """A connection whose session runs as ``role`` (anon, authenticated, service_role)."""
    with connect(database) as conn:
        conn.execute(f"set role {role}")
        yield conn
