"""One idempotent setup step: DuckDB's postgres extension from the PyPI wheel, and a profile.

DuckDB normally downloads extensions at first use; this machine (and CI) has no network
but the package registries, so the extension comes from the ``duckdb-extension-postgres``
wheel, whose file ``postgres.duckdb_extension`` is installed into the project's own
extension directory with ``INSTALL '<path>'``. The profile sets
``autoinstall_known_extensions: false`` so a missing install fails loudly.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import duckdb

from privacy_insights import targets

EXTENSION_NAME = "postgres_scanner"  # DuckDB's canonical name for the `postgres` extension


def wheel_extension_file() -> Path:
    """The extension binary shipped in the ``duckdb-extension-postgres`` wheel."""
    version = "v" + duckdb.__version__
    try:
        root = resources.files("duckdb_extension_postgres")
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "package duckdb-extension-postgres is not installed; "
            f"`pip install duckdb-extension-postgres=={duckdb.__version__}`"
        ) from exc
    path = Path(str(root)) / "extensions" / version / "postgres.duckdb_extension"
    if not path.is_file():
        raise RuntimeError(f"{path} not found: duckdb-extension-postgres must match duckdb {duckdb.__version__}")
    return path


def installed_extension_file(extension_dir: Path) -> Path:
    con = duckdb.connect()
    try:
        platform = con.sql("select platform from pragma_platform()").fetchone()[0]
    finally:
        con.close()
    version = "v" + duckdb.__version__
    return extension_dir / version / platform / f"{EXTENSION_NAME}.duckdb_extension"


def install_postgres_extension(extension_dir: Path | None = None) -> Path:
    """Install the postgres extension offline; re-running is a no-op. Returns its path."""
    extension_dir = extension_dir or targets.extension_dir()
    extension_dir.mkdir(parents=True, exist_ok=True)
    installed = installed_extension_file(extension_dir)
    if not installed.is_file():
        con = duckdb.connect(
            config={"extension_directory": str(extension_dir), "autoinstall_known_extensions": "false"}
        )
        try:
            con.execute(f"INSTALL '{wheel_extension_file()}'")
        finally:
            con.close()
    con = duckdb.connect(config=targets.offline_config() | {"extension_directory": str(extension_dir)})
    try:
        con.execute("LOAD postgres")  # proves the install, offline
    finally:
        con.close()
    return installed


def ensure_profile(project_dir: Path) -> Path:
    """Copy profiles.yml.example to profiles.yml unless the user already has one."""
    profile = project_dir / "profiles.yml"
    if not profile.exists():
        shutil.copyfile(project_dir / "profiles.yml.example", profile)
    return profile
