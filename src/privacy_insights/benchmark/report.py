"""The benchmark's results as Markdown (docs/benchmark.md): ratios first, absolute times beside."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from importlib import metadata

from privacy_insights.benchmark.layers import LAYERS
from privacy_insights.benchmark.runner import AS_OF_30_DAYS, AS_OF_31_DAYS, RunResult

PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "opendp", "polars")
OPTIONAL_PACKAGES = ("dbt-spark", "pyspark")  # the spark extra, when installed


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory_gib = float("nan")
    installed = []
    for package in (*PACKAGES, *OPTIONAL_PACKAGES):
        try:
            installed.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            if package in PACKAGES:
                raise
    versions = ", ".join(installed)
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gib:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; {versions}"
    )


def events_label(events: int) -> str:
    """10^k for a power of ten, else the count with thousands separators (every table of the report)."""
    exponent = len(str(events)) - 1
    return f"10^{exponent}" if events == 10**exponent else f"{events:,}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "n/a"


def summary_table(results: list[RunResult]) -> str:
    rows = [
        "| target | events | full `dbt build` | events/s | peak RSS | plain SQL (a) | OpenDP Polars (b) "
        "| build / (a) | build / (b) | DP models / (b) | +1 day build | +1 day / full |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        full, incr = r.full_build["wall_s"], r.incremental_build["wall_s"]
        dp_models = r.full_build["profile"]["layer_seconds"]["Python DP models"]
        rows.append(
            f"| {r.target} | {events_label(r.events)} | {full:.1f} s | {r.events / full:,.0f} "
            f"| {r.full_build['peak_rss_mib']:,.0f} MiB | {r.plain['wall_s']:.1f} s | {r.opendp['wall_s']:.1f} s "
            f"| **{_ratio(full, r.plain['wall_s'])}** | **{_ratio(full, r.opendp['wall_s'])}** "
            f"| {_ratio(dp_models, r.opendp['wall_s'])} | {incr:.1f} s | **{incr / full:.2f}** |"
        )
    return "\n".join(rows)


def daily_cost_table(results: list[RunResult]) -> str:
    """Splits the +1 day build into what one more day costs and what any build of the graph costs."""
    rows = [
        "| target | events | +1 day build | the same build with nothing new | +1 day minus nothing new "
        "| nothing new / +1 day | dbt nodes | slowest nodes with nothing new |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if not r.unchanged_build:
            continue
        incr, unchanged = r.incremental_build["wall_s"], r.unchanged_build["wall_s"]
        profile = r.unchanged_build["profile"]
        slowest = ", ".join(
            f"`{node['unique_id'].split('.')[2]}` {node['seconds']:.1f} s" for node in profile["slowest"][:4]
        )
        rows.append(
            f"| {r.target} | {events_label(r.events)} | {incr:.1f} s | {unchanged:.1f} s | {incr - unchanged:.1f} s "
            f"| **{unchanged / incr:.2f}** | {profile['nodes']} | {slowest} |"
        )
    return "\n".join(rows)


def layer_table(results: list[RunResult], which: str) -> str:
    header = "| target | events | " + " | ".join(LAYERS) + " | dbt overhead (s) |"
    rows = [header, "|---|---|" + "---|" * (len(LAYERS) + 1)]
    for r in results:
        build = getattr(r, which)
        seconds = build["profile"]["layer_seconds"]
        whole = sum(seconds.values()) or 1.0
        shares = " | ".join(f"{100 * seconds[layer] / whole:.0f} % ({seconds[layer]:.1f} s)" for layer in LAYERS)
        overhead = build["wall_s"] - build["profile"]["elapsed_s"]
        rows.append(f"| {r.target} | {events_label(r.events)} | {shares} | {overhead:.1f} |")
    return "\n".join(rows)


def baseline_table(results: list[RunResult]) -> str:
    rows = [
        "| target | events | (a) query | (a) peak RSS | (b) load | (b) OpenDP release | (b) peak RSS "
        "| (b) contribution rows | day cells (b) = pipeline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r.target} | {events_label(r.events)} | {r.plain['query_s']:.1f} s "
            f"| {r.plain['peak_rss_mib']:,.0f} MiB "
            f"| {r.opendp['load_s']:.1f} s | {r.opendp['release_s']:.1f} s | {r.opendp['peak_rss_mib']:,.0f} MiB "
            f"| {r.opendp['contribution_rows']:,} | {r.opendp['cells']:,} = {r.pipeline_day_cells:,} |"
        )
    return "\n".join(rows)


def slowest_nodes(result: RunResult, count: int = 8) -> str:
    rows = ["| node | layer | seconds |", "|---|---|---|"]
    for node in result.full_build["profile"]["slowest"][:count]:
        rows.append(f"| `{node['unique_id']}` | {node['layer']} | {node['seconds']:.1f} |")
    return "\n".join(rows)


def results_markdown(results: list[RunResult], command: str, spark_results: list | None = None) -> str:
    """The measured part of docs/benchmark.md (the analysis around it is written by hand)."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        f"Measured {generated} with `{command}` on: {machine()}.",
        f"Full build: a fresh warehouse, `as_of` {AS_OF_30_DAYS} (30 days eligible). "
        f"+1 day: the same warehouse rebuilt at `as_of` {AS_OF_31_DAYS}; nothing new: rebuilt once more at "
        "that clock. The three builds share one target folder and take the clock from "
        "`PRIVACY_INSIGHTS_AS_OF`, as `privacy-insights release` runs them (the full build parses the "
        "whole project, the later two only what the clock changes). "
        "Ratios are of wall times; every step is its own process."
        + (
            " The OS page cache was dropped before every step but the generator: each read the warehouse from disk."
            if any(r.cold_cache for r in results)
            else " The OS page cache held whatever the previous steps left (warm)."
        ),
    ]
    if results:
        largest = max(results, key=lambda r: (r.target == "dev", r.events))
        sections += [
            "### End to end\n\n" + summary_table(results),
            "### Share of dbt node time per layer, full build\n\n" + layer_table(results, "full_build"),
            "### Share of dbt node time per layer, +1 day\n\n" + layer_table(results, "incremental_build"),
            "### What a daily build costs: one more day, and a build with nothing new to do\n\n"
            + daily_cost_table(results),
            "### Baselines in detail\n\n" + baseline_table(results),
            f"### Slowest nodes, full build, {largest.target} at {events_label(largest.events)}\n\n"
            + slowest_nodes(largest),
        ]
    if spark_results:
        from privacy_insights.benchmark.spark import spark_table

        sections.append(
            "### Split build: SPOTS staging and intermediate on Spark, the release on DuckDB\n\n"
            + spark_table(spark_results)
        )
    return "\n\n".join(sections) + "\n"
