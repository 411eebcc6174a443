"""One real build of generated data shared by the delivery tests (exports and API).

The build (about 90 s) runs once per pytest session, shared by the xdist workers (the first
to need it builds under a file lock, the others wait and copy); each test module gets its own
project folder with a copy of the warehouse file, so a module that rebuilds or audits
never changes what another module sees.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from harness import DbtProject

BUILD = {"as_of": "2026-10-17T00:00:00Z", "release_start_date": "2026-10-05"}
GENERATE = (
    "--events",
    "200000",
    "--users",
    "20000",
    "--cities",
    "jp-tyo",
    "--start",
    "2026-10-05",
    "--days",
    "14",
    "--outside-city-share",
    "0",
    "--seed",
    "7",
)


def built_copy(tmp_path_factory, extension_dir: Path, name: str) -> DbtProject:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's, not the worker's
    pristine = shared / "delivery_pristine_build"
    warehouse = pristine / "warehouse.duckdb"
    with (shared / "delivery_pristine_build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (pristine / "BUILT").exists():
            project = DbtProject(pristine, "dev", extension_dir)
            project.generate(*GENERATE)
            project.dbt("build", vars=BUILD)
            (pristine / "BUILT").write_text("ok")
    project = DbtProject(tmp_path_factory.mktemp(name) / "dev", "dev", extension_dir)
    shutil.copyfile(warehouse, project.workdir / "warehouse.duckdb")
    return project


def delivery_dir(project: DbtProject, target: str = "dev") -> Path:
    """The project's delivery folder of ``target`` (export/locations.py: <delivery root>/<target>;
    the root is delivery/ beside the project's DuckDB file): dev's store, published snapshots."""
    return project.workdir / "delivery" / target
