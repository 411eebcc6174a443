"""Where the project's data lives, read from the same environment variables as profiles.yml.

Two targets, as in profiles.yml.example:
- ``dev``: one DuckDB file (``PRIVACY_INSIGHTS_DUCKDB``, default ``data/privacy_insights.duckdb``).
- ``postgres``: a PostgreSQL database reached through DuckDB's postgres extension, with
  libpq's own variables (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGDATABASE``, ``PGPASSWORD``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

TARGETS = ("dev", "postgres")
POSTGRES_ALIAS = "pg"


def project_root() -> Path:
    """The dbt project folder: ``PRIVACY_INSIGHTS_PROJECT_DIR`` or the current directory."""
    return Path(os.environ.get("PRIVACY_INSIGHTS_PROJECT_DIR", ".")).resolve()


def project_vars() -> dict:
    """The ``vars`` of the project's dbt_project.yml (the defaults every run starts from)."""
    import yaml

    return yaml.safe_load((project_root() / "dbt_project.yml").read_text())["vars"]


def _project_path(env_name: str, default: str) -> Path:
    path = Path(os.environ.get(env_name, default))
    return path if path.is_absolute() else project_root() / path


def duckdb_path() -> Path:
    return _project_path("PRIVACY_INSIGHTS_DUCKDB", "data/privacy_insights.duckdb")


def postgres_scratch_path() -> Path:
    """The DuckDB scratch file the postgres target's profile opens (``PRIVACY_INSIGHTS_PG_SCRATCH``)."""
    return _project_path("PRIVACY_INSIGHTS_PG_SCRATCH", "data/postgres_scratch.duckdb")


def ensure_data_dirs() -> list[Path]:
    """Create the folders the profile's DuckDB files live in (dbt cannot open a file in a missing folder).

    Every DuckDB path of the profile, whatever the target is called: the dev warehouse and
    the postgres target's scratch file. Returns the folders.
    """
    folders = sorted({duckdb_path().parent, postgres_scratch_path().parent})
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def extension_dir() -> Path:
    return _project_path("PRIVACY_INSIGHTS_EXTENSION_DIR", ".duckdb/extensions")


def postgres_dsn() -> str:
    """libpq connection string without the password (libpq reads ``PGPASSWORD`` itself)."""
    return (
        f"dbname={os.environ.get('PGDATABASE', 'privacy_insights')} "
        f"host={os.environ.get('PGHOST', '127.0.0.1')} "
        f"port={os.environ.get('PGPORT', '5432')} "
        f"user={os.environ.get('PGUSER', 'postgres')}"
    )


def offline_config() -> dict[str, str]:
    """DuckDB settings that keep every extension local: nothing is fetched at run time."""
    return {
        "extension_directory": str(extension_dir()),
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }


@dataclass(frozen=True)
class Warehouse:
    """An open DuckDB connection plus the catalog that holds the target's tables."""

    connection: duckdb.DuckDBPyConnection
    catalog: str
    target: str

    def qualify(self, schema: str, table: str) -> str:
        return f'"{self.catalog}"."{schema}"."{table}"'

    def close(self) -> None:
        self.connection.close()


def connect(target: str, memory_limit: str | None = None) -> Warehouse:
    """Open the target's warehouse for reading and writing raw and mart tables.

    ``memory_limit`` caps DuckDB's buffer pool (e.g. ``"256MB"``); without it DuckDB keeps
    written pages cached up to most of the machine's memory, so a long write grows RSS.
    """
    if target not in TARGETS:
        raise ValueError(f"target: unknown value {target!r}; expected one of {', '.join(TARGETS)}")
    config = offline_config() | ({"memory_limit": memory_limit} if memory_limit else {})
    if target == "dev":
        path = duckdb_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), config=config)
        catalog = con.sql("select current_database()").fetchone()[0]
        return Warehouse(con, catalog, target)
    ensure_data_dirs()   # dbt's postgres target opens its scratch file there next
    con = duckdb.connect(config=config)
    try:
        con.execute("LOAD postgres")
    except duckdb.Error as exc:
        con.close()
        raise RuntimeError(
            "the DuckDB postgres extension is not installed in "
            f"{extension_dir()}; run `privacy-insights setup` first ({exc})"
        ) from exc
    con.execute(f"ATTACH '{postgres_dsn()}' AS {POSTGRES_ALIAS} (TYPE postgres)")
    return Warehouse(con, POSTGRES_ALIAS, target)
