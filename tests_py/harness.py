"""Run the real dbt project in an isolated work folder, on DuckDB or on PostgreSQL.

Each ``DbtProject`` gets its own warehouse file (or Postgres database), profile, target
and log folders, and runs dbt exactly as a user does (a subprocess from the venv), so
tests exercise the real adapter, extension setup and Python models.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import yaml

from privacy_insights.clock.policy import AS_OF_ENV

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PSEUDONYM_KEY = "test-pseudonym-key-0123456789"
# A build whose point is the models' state, not their dbt tests: a later build of the same
# test runs them (on PostgreSQL the tests are most of a build's time, docs/benchmark.md).
WITHOUT_DBT_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def postgres_admin(dbname: str = "postgres") -> psycopg.Connection:
    """An autocommit superuser connection to the local PostgreSQL (PGHOST/PGUSER, trust auth)."""
    return psycopg.connect(
        dbname=dbname,
        host=os.environ.get("PGHOST", "127.0.0.1"),
        user=os.environ.get("PGUSER", "postgres"),
        autocommit=True,
        connect_timeout=5,
    )


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped (connections and all) on the way out."""
    name = f"pi_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin() as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with postgres_admin() as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@contextmanager
def owned_scratch_database() -> Iterator[tuple[str, str]]:
    """A new database owned by a new login role that is not a superuser and has CREATEROLE only
    (what a managed PostgreSQL gives its customer): (database, role). Both are dropped on the way
    out; the role's name is unique, as roles are shared by every test on the cluster."""
    role = f"pi_test_dbowner_{uuid.uuid4().hex[:12]}"
    with postgres_admin() as admin:
        admin.execute(f"create role {role} login nosuperuser nocreatedb createrole nobypassrls")
    try:
        with scratch_database() as name:
            with postgres_admin() as admin:
                admin.execute(f'alter database "{name}" owner to {role}')
            yield name, role
    finally:
        with postgres_admin() as admin:
            admin.execute(f"drop role if exists {role}")


def default_release() -> dict[str, Any]:
    """The spots_release var as dbt_project.yml sets it (tests override parts of a copy)."""
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    return project["vars"]["spots_release"]


@dataclass
class DbtProject:
    workdir: Path
    target: str
    extension_dir: Path
    pg_database: str | None = None
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "profiles.yml.example", self.workdir / "profiles.yml")
        self.env = {
            # the tests give the clock as --vars as_of; one from the caller's shell would conflict
            **{k: v for k, v in os.environ.items() if k != AS_OF_ENV},
            "DBT_TARGET": self.target,
            "DBT_PROFILES_DIR": str(self.workdir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PRIVACY_INSIGHTS_PROJECT_DIR": str(REPO),
            "PRIVACY_INSIGHTS_DUCKDB": str(self.workdir / "warehouse.duckdb"),
            "PRIVACY_INSIGHTS_PG_SCRATCH": str(self.workdir / "pg_scratch.duckdb"),
            "PRIVACY_INSIGHTS_EXTENSION_DIR": str(self.extension_dir),
            "SPOTS_PSEUDONYM_KEY": PSEUDONYM_KEY,
        }
        if self.pg_database:
            self.env.update(
                {
                    "PGDATABASE": self.pg_database,
                    "PGHOST": os.environ.get("PGHOST", "127.0.0.1"),
                    "PGUSER": os.environ.get("PGUSER", "postgres"),
                }
            )

    def _run(self, args: list[str], check: bool) -> subprocess.CompletedProcess:
        result = subprocess.run(args, cwd=REPO, env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args[:3])} failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def generate(self, *args: str) -> subprocess.CompletedProcess:
        return self._run([str(BIN / "privacy-insights"), "generate", "--target", self.target, *args], check=True)

    def dbt(self, *args: str, vars: dict[str, Any] | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [
            str(BIN / "dbt"),
            *args,
            "--target-path",
            str(self.workdir / "target"),
            "--log-path",
            str(self.workdir / "logs"),
        ]
        if vars:
            cmd += ["--vars", yaml.safe_dump(vars, default_flow_style=True)]
        return self._run(cmd, check=check)

    def query(self, sql: str) -> list[tuple]:
        """Run SQL against the target's warehouse (schema-qualified names, e.g. outside_buyer.x)."""
        if self.target == "dev":
            con = duckdb.connect(self.env["PRIVACY_INSIGHTS_DUCKDB"], read_only=True)
            try:
                return con.sql(sql).fetchall()
            finally:
                con.close()
        with psycopg.connect(dbname=self.pg_database, host=self.env["PGHOST"], user=self.env["PGUSER"]) as conn:
            return conn.execute(sql).fetchall()

    def tables(self, schema: str) -> list[str]:
        rows = self.query(
            f"select table_name from information_schema.tables where table_schema = '{schema}' order by table_name"
        )
        return [r[0] for r in rows]

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        return [
            tuple(r)
            for r in self.query(
                "select column_name, data_type from information_schema.columns "
                f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
            )
        ]
