"""Run the catalog-wide privilege suite (tests_py/pgtap/privileges.sql) on a database.

pgTAP comes from the Debian package postgresql-<version>-pgtap (pg_prove with it), which
.ci/run installs when it is missing. Outside CI a machine without it skips these tests;
under CI=true a missing pgTAP fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from harness import REPO, postgres_admin
from privacy_insights.postgres import privileges

SUITE = REPO / "tests_py" / "pgtap" / "privileges.sql"
ALLOWED_SCHEMA = "privileges_allowed"
TAP_SCHEMA = "tap"


def require_pgtap() -> None:
    with postgres_admin() as admin:
        available = admin.execute("select 1 from pg_available_extensions where name = 'pgtap'").fetchone()
    if available and shutil.which("pg_prove"):
        return
    reason = "pgTAP is not installed (apt-get install postgresql-15-pgtap; .ci/run does it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires pgTAP: {reason}")
    pytest.skip(reason)


def prepare(database: str) -> None:
    """pgTAP in its own schema and the allow-list loaded, both outside what the suite checks."""
    with postgres_admin(database) as admin:
        admin.execute(f"create schema if not exists {TAP_SCHEMA}")
        admin.execute(f"create extension if not exists pgtap schema {TAP_SCHEMA}")
        privileges.write_to(admin, ALLOWED_SCHEMA, excluded=(TAP_SCHEMA,))


def run(database: str) -> subprocess.CompletedProcess:
    """pg_prove on the suite, as the superuser (it only reads the catalog); its TAP output."""
    return subprocess.run(
        [
            "pg_prove",
            "--verbose",
            "--nocolor",
            "--host",
            os.environ.get("PGHOST", "127.0.0.1"),
            "--username",
            os.environ.get("PGUSER", "postgres"),
            "--dbname",
            database,
            str(SUITE),
        ],
        capture_output=True,
        text=True,
    )
