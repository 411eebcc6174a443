"""The benchmark's Spark rows: the split build (docs/spark.md) beside the same half on DuckDB.

For each event count, on freshly generated rows written as Parquet:
1. ``privacy-insights build --engine spark``: Spark half (dbt-spark session, local mode),
   hand-off, DuckDB release half; wall time and peak RSS of the whole command, and each
   half's seconds as the command reports them;
2. the same event-scale half on DuckDB: the rows loaded into a DuckDB warehouse, then
   ``dbt build --selector spots_event_scale`` (what the Spark half does, on one machine).
The Spark half's fixed cost (JVM, SparkSession, Derby metastore, dbt parse) is read off
the smallest run, where the data is negligible. The split build's peak RSS is the larger of
the command's own (``os.wait4``) and its JVM's: pyspark starts the JVM as a process of its
own that is not waited for, so its peak (``VmHWM``) is read from /proc while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from privacy_insights.benchmark.report import events_label
from privacy_insights.benchmark.runner import AS_OF_30_DAYS, BIN, Workspace, _step_figures


@dataclass
class SparkRunResult:
    events: int
    split_build: dict = field(default_factory=dict)
    duckdb_event_scale: dict = field(default_factory=dict)


@contextmanager
def jvm_peak_rss(marker: str) -> Iterator[dict]:
    """The peak RSS (MiB) of java processes whose environment contains ``marker``, sampled
    every 0.2 s from /proc/<pid>/status (VmHWM: the process's own high-water mark)."""
    found = {"peak_rss_mib": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    if (
                        b"java" not in (proc / "cmdline").read_bytes()
                        or marker.encode() not in (proc / "environ").read_bytes()
                    ):
                        continue
                    for line in (proc / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            kib = int(line.split()[1])
                            found["peak_rss_mib"] = max(found["peak_rss_mib"], kib / 1024)
                except OSError:
                    continue

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join()


def run_spark(root: Path, events: int, seed: int) -> SparkRunResult:
    print(f"[spark split build, {events:,} events]", flush=True)
    ws = Workspace(root, "dev", events, name=f"spark-{events}")
    raw = ws.dir / "raw"
    ws.env |= {
        "PRIVACY_INSIGHTS_SPARK_WAREHOUSE": str(ws.dir / "spark" / "warehouse"),
        "PRIVACY_INSIGHTS_SPARK_METASTORE": str(ws.dir / "spark" / "metastore_db"),
        "DBT_TARGET_PATH": str(ws.dir / "target_split"),
        "DBT_LOG_PATH": str(ws.dir / "logs"),
    }
    result = SparkRunResult(events)
    ws.run(
        "generate (Parquet)",
        [
            str(BIN / "privacy-insights"),
            "generate",
            "--events",
            str(events),
            "--seed",
            str(seed),
            "--tables",
            "spots",
            "--parquet-dir",
            str(raw),
        ],
    )
    with jvm_peak_rss(ws.env["PRIVACY_INSIGHTS_SPARK_WAREHOUSE"]) as jvm:
        split = ws.run(
            "split build (Spark, then DuckDB)",
            [
                str(BIN / "privacy-insights"),
                "build",
                "--engine",
                "spark",
                "--raw-parquet",
                str(raw),
                "--handoff-dir",
                str(ws.dir / "spark" / "handoff"),
                "--vars",
                yaml.safe_dump({"as_of": AS_OF_30_DAYS}, default_flow_style=True),
            ],
        )
    result.split_build = _step_figures(split) | {
        "seconds": split.last_json()["seconds"],
        "jvm_peak_rss_mib": round(jvm["peak_rss_mib"], 1),
    }

    # the same half on DuckDB, from a warehouse holding the same rows
    con = duckdb.connect(ws.env["PRIVACY_INSIGHTS_DUCKDB"])
    try:
        con.execute("create schema if not exists raw")
        con.execute(
            "create or replace table raw.spots_interaction_events as "
            f"select * from read_parquet('{raw}/spots_interaction_events/*.parquet')"
        )
    finally:
        con.close()
    duck, _ = ws.dbt("DuckDB: spots_event_scale", ["build", "--selector", "spots_event_scale"], AS_OF_30_DAYS)
    result.duckdb_event_scale = _step_figures(duck)
    return result


def spark_table(results: list[SparkRunResult]) -> str:
    rows = [
        "| events | split build (local[2] + DuckDB) | of which Spark half | of which DuckDB release half "
        "| peak RSS: command / its JVM | same half on DuckDB | its peak RSS | Spark half / DuckDB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        seconds = r.split_build["seconds"]
        duck = r.duckdb_event_scale["wall_s"]
        rows.append(
            f"| {events_label(r.events)} | {r.split_build['wall_s']:.1f} s | {seconds['spark']:.1f} s "
            f"| {seconds['duckdb']:.1f} s "
            f"| {r.split_build['peak_rss_mib']:,.0f} / {r.split_build['jvm_peak_rss_mib']:,.0f} MiB | {duck:.1f} s "
            f"| {r.duckdb_event_scale['peak_rss_mib']:,.0f} MiB | **{seconds['spark'] / duck:.1f}x** |"
        )
    return "\n".join(rows)
