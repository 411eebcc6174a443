"""``privacy-insights build --engine spark``: the split build, end to end.

1. Spark (the ``spark`` target of profiles.yml, dbt-spark's session method, in this process):
   register the raw SPOTS Parquet files as the source table, build the selector
   ``spots_event_scale`` (staging and the intermediate models up to the cell aggregates,
   with their tests), then write the hand-off (macro ``spots_write_handoff``: the cell
   aggregates and the door-open arrivals as Parquet, and a manifest of the vars they were
   computed with) into a new folder, which replaces the previous hand-off only once it is
   complete.
2. DuckDB (``--target``, the embedded dev file by default): ``dbt build --selector
   spots_release_from_handoff`` with var ``spots_handoff_dir``: the release step, ledger,
   marts and contract tests, reading the hand-off through views that refuse a manifest
   which does not match the build's vars.

The release step runs on DuckDB only: dbt-spark runs Python models only on Databricks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from privacy_insights import targets
from privacy_insights.dbt_plugin import DEVELOPMENT_KEY, MIN_KEY_LENGTH  # the dev target's fallback and rule
from privacy_insights.folders import replace_folder


class SplitBuildError(RuntimeError):
    """A step of the split build failed; the message names the step and what to do."""


@dataclass
class SplitBuildResult:
    handoff_dir: Path
    seconds: dict[str, float] = field(default_factory=dict)


def check_spark_available() -> None:
    """Fail with the install hint when pyspark, dbt-spark or a Java runtime is missing."""
    missing = []
    for module, package in (("pyspark", "pyspark"), ("dbt.adapters.spark", "dbt-spark[session]")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise SplitBuildError(
            f"the spark engine needs {', '.join(missing)}: install the optional extra with "
            "`pip install -e '.[spark]'` (docs/spark.md)"
        )
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise SplitBuildError("the spark engine needs a Java runtime (17): none on PATH and JAVA_HOME is unset")


def _target_path() -> Path:
    """dbt's target folder (DBT_TARGET_PATH, else ``target`` in the project)."""
    return Path(os.environ.get("DBT_TARGET_PATH") or targets.project_root() / "target")


def _dbt_in_process(args: list[str], artifacts: str = "spark") -> None:
    """One dbt command on the spark target in this process, so every Spark step shares one
    SparkSession (one JVM start). Its artifacts go to ``<target>/<artifacts>``: the Spark
    build's run_results.json stays beside the DuckDB half's, not replaced by it."""
    from dbt.cli.main import dbtRunner

    project = ["--project-dir", str(targets.project_root()), "--target-path", str(_target_path() / artifacts)]
    result = dbtRunner().invoke([*args, *project])
    if not result.success:
        detail = f": {result.exception}" if result.exception else " (see the dbt log above)"
        raise SplitBuildError(f"spark half: `dbt {' '.join(args[:2])}` failed{detail}")


def _dbt_subprocess(args: list[str]) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    command = [str(dbt) if dbt.exists() else "dbt", *args, "--target-path", str(_target_path())]
    status = subprocess.run(command, cwd=targets.project_root()).returncode
    if status != 0:
        raise SplitBuildError(f"duckdb half: `dbt {' '.join(args[:2])}` failed with status {status}")


def _register_pseudonym_key(key: str) -> None:
    """The key as the one-row global temporary view global_temp.spots_pseudonym_key of the
    SparkSession dbt-spark opened in this process (macro keyed_hash reads it): it travels
    as data, so no SQL text, log line or file dbt writes carries it."""
    from pyspark.sql import SparkSession

    session = SparkSession.builder.getOrCreate()  # the session dbt-spark's session method created
    frame = session.createDataFrame([(key,)], "pseudonym_key string")
    frame.createOrReplaceGlobalTempView("spots_pseudonym_key")


def run_split_build(
    raw_parquet_dir: Path,
    handoff_dir: Path,
    duckdb_target: str = "dev",
    dbt_vars: dict | None = None,
) -> SplitBuildResult:
    targets.check_target(duckdb_target)
    raw_parquet_dir = raw_parquet_dir.resolve()
    handoff_dir = handoff_dir.resolve()
    events = raw_parquet_dir / "spots_interaction_events"
    if not any(events.glob("*.parquet")):
        raise SplitBuildError(
            f"--raw-parquet {raw_parquet_dir}: no Parquet files in {events} "
            "(write them with `privacy-insights generate --parquet-dir DIR`)"
        )
    check_spark_available()
    key = os.environ.get("SPOTS_PSEUDONYM_KEY", "")
    if not key:
        if duckdb_target != "dev":
            raise SplitBuildError(f"SPOTS_PSEUDONYM_KEY: required when the release half runs on {duckdb_target}")
        print(f"SPOTS_PSEUDONYM_KEY is unset: using the development key ({DEVELOPMENT_KEY!r})", file=sys.stderr)
        key = DEVELOPMENT_KEY
    elif len(key) < MIN_KEY_LENGTH:
        raise SplitBuildError(f"SPOTS_PSEUDONYM_KEY: must be at least {MIN_KEY_LENGTH} characters")
    vars_json = json.dumps(dbt_vars or {})
    result = SplitBuildResult(handoff_dir)
    handoff_dir.parent.mkdir(parents=True, exist_ok=True)
    writing = handoff_dir.with_name(f".{handoff_dir.name}.writing-{uuid.uuid4().hex[:8]}")

    started = time.perf_counter()
    spark = ["--target", "spark", "--vars", vars_json]
    watermark = raw_parquet_dir / "spots_load_watermark"  # the loader's statement (privacy_insights.landing)
    register = json.dumps(
        {"folder": str(events), "watermark_folder": str(watermark) if any(watermark.glob("*.parquet")) else None}
    )
    _dbt_in_process(["run-operation", "spots_register_raw_parquet", "--args", register, *spark])
    _register_pseudonym_key(key)
    _dbt_in_process(["build", "--selector", "spots_event_scale", "--exclude-resource-type", "unit_test", *spark])
    writing.mkdir()
    try:
        write = json.dumps({"folder": str(writing)})
        _dbt_in_process(["run-operation", "spots_write_handoff", "--args", write, *spark], "spark_handoff")
        replace_folder(writing, handoff_dir)
    finally:
        if writing.exists():
            shutil.rmtree(writing)
    result.seconds["spark"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    release_vars = json.dumps((dbt_vars or {}) | {"spots_handoff_dir": str(handoff_dir)})
    _dbt_subprocess(
        ["build", "--selector", "spots_release_from_handoff", "--target", duckdb_target, "--vars", release_vars]
    )
    result.seconds["duckdb"] = round(time.perf_counter() - started, 1)
    return result
