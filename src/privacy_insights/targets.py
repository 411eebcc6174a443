"""Where the project's data lives, read from the same environment variables as profiles.yml.

The targets of profiles.yml.example:
- ``dev``: one DuckDB file (``PRIVACY_INSIGHTS_DUCKDB``, default ``data/privacy_insights.duckdb``).
- ``prod``, ``pg_dev``, ``ci``: a PostgreSQL database reached through DuckDB's postgres
  extension, with libpq's own variables (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGDATABASE``,
  ``PGPASSWORD``). ``prod`` is the warehouse of record (unprefixed schemas); ``pg_dev`` and
  ``ci`` prefix every schema dbt builds (``dev_``, ``ci_``; macro ``generate_schema_name``),
  so they never touch production tables or spend its privacy budget. All of them read and
  write the raw landing tables in the unprefixed ``raw`` schema.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

TARGETS = ("dev", "prod", "pg_dev", "ci")
POSTGRES_TARGETS = ("prod", "pg_dev", "ci")
POSTGRES_ALIAS = "pg"
# Environment variable holding each prefixed target's schema prefix, and its default.
SCHEMA_PREFIX_ENV = {
    "pg_dev": ("PRIVACY_INSIGHTS_DEV_SCHEMA_PREFIX", "dev"),
    "ci": ("PRIVACY_INSIGHTS_CI_SCHEMA_PREFIX", "ci"),
}


def check_target(target: str) -> str:
    if target not in TARGETS:
        hint = (
            " (the old `postgres` target is now `prod`; use `pg_dev` for development)" if target == "postgres" else ""
        )
        raise ValueError(f"target: unknown value {target!r}; expected one of {', '.join(TARGETS)}{hint}")
    return target


def schema_prefix(target: str) -> str:
    """The prefix dbt puts on every schema it builds on ``target`` ('' on dev and prod)."""
    if check_target(target) not in SCHEMA_PREFIX_ENV:
        return ""
    env_name, default = SCHEMA_PREFIX_ENV[target]
    return os.environ.get(env_name, default) + "_"


def project_root(env: Mapping[str, str] | None = None) -> Path:
    """The dbt project folder: ``PRIVACY_INSIGHTS_PROJECT_DIR`` or the current directory."""
    return Path((env if env is not None else os.environ).get("PRIVACY_INSIGHTS_PROJECT_DIR", ".")).resolve()


def project_vars() -> dict:
    """The ``vars`` of the project's dbt_project.yml (the defaults every run starts from)."""
    import yaml

    return yaml.safe_load((project_root() / "dbt_project.yml").read_text())["vars"]


def _project_path(env_name: str, default: str, env: Mapping[str, str] | None = None) -> Path:
    path = Path((env if env is not None else os.environ).get(env_name, default))
    return path if path.is_absolute() else project_root(env) / path


def duckdb_path(env: Mapping[str, str] | None = None) -> Path:
    return _project_path("PRIVACY_INSIGHTS_DUCKDB", "data/privacy_insights.duckdb", env)


def postgres_scratch_path(target: str = "prod", env: Mapping[str, str] | None = None) -> Path:
    """The DuckDB scratch file a PostgreSQL target's profile opens (``PRIVACY_INSIGHTS_PG_SCRATCH``)."""
    return _project_path("PRIVACY_INSIGHTS_PG_SCRATCH", f"data/{target}_scratch.duckdb", env)


def ensure_data_dirs() -> list[Path]:
    """Create the folders the profile's DuckDB files live in (dbt cannot open a file in a missing folder).

    Every DuckDB path of the profile, whatever the target is called: the dev warehouse and
    the PostgreSQL targets' scratch files. Returns the folders.
    """
    folders = sorted({duckdb_path().parent} | {postgres_scratch_path(t).parent for t in POSTGRES_TARGETS})
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def extension_dir(env: Mapping[str, str] | None = None) -> Path:
    return _project_path("PRIVACY_INSIGHTS_EXTENSION_DIR", ".duckdb/extensions", env)


def postgres_dsn(env: Mapping[str, str] | None = None) -> str:
    """libpq connection string without the password (libpq reads ``PGPASSWORD`` itself)."""
    env = env if env is not None else os.environ
    return (
        f"dbname={env.get('PGDATABASE', 'privacy_insights')} "
        f"host={env.get('PGHOST', '127.0.0.1')} "
        f"port={env.get('PGPORT', '5432')} "
        f"user={env.get('PGUSER', 'postgres')}"
    )


def offline_config(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """DuckDB settings that keep every extension local: nothing is fetched at run time."""
    return {
        "extension_directory": str(extension_dir(env)),
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }


@dataclass(frozen=True)
class Warehouse:
    """An open DuckDB connection plus the catalog that holds the target's tables."""

    connection: duckdb.DuckDBPyConnection
    catalog: str
    target: str

    def schema(self, name: str, prefixed: bool = True) -> str:
        """The schema ``name`` as this target spells it (``dev_outside_buyer`` on pg_dev).
        ``prefixed=False`` for the shared raw landing schema."""
        return (schema_prefix(self.target) if prefixed else "") + name

    def qualify(self, schema: str, table: str, prefixed: bool = True) -> str:
        return f'"{self.catalog}"."{self.schema(schema, prefixed)}"."{table}"'

    def close(self) -> None:
        self.connection.close()


def connect(target: str, memory_limit: str | None = None, env: Mapping[str, str] | None = None) -> Warehouse:
    """Open the target's warehouse for reading and writing raw and mart tables.

    ``memory_limit`` caps DuckDB's buffer pool (e.g. ``"256MB"``); without it DuckDB keeps
    written pages cached up to most of the machine's memory, so a long write grows RSS.
    ``env`` replaces the process environment for the paths and the connection (tests).
    """
    check_target(target)
    config = offline_config(env) | ({"memory_limit": memory_limit} if memory_limit else {})
    if target == "dev":
        path = duckdb_path(env)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), config=config)
        catalog = con.sql("select current_database()").fetchone()[0]
        return Warehouse(con, catalog, target)
    ensure_data_dirs()  # dbt's postgres target opens its scratch file there next
    con = duckdb.connect(config=config)
    try:
        con.execute("LOAD postgres")
    except duckdb.Error as exc:
        con.close()
        raise RuntimeError(
            "the DuckDB postgres extension is not installed in "
            f"{extension_dir(env)}; run `privacy-insights setup` first ({exc})"
        ) from exc
    con.execute(f"ATTACH '{postgres_dsn(env)}' AS {POSTGRES_ALIAS} (TYPE postgres)")
    return Warehouse(con, POSTGRES_ALIAS, target)
