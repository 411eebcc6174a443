"""``privacy-insights utility-report``: measure the release's utility and write Markdown + PNG.

Either on fresh warehouses (for each generator profile and event count: generate, ``dbt build``
at the default clock, measure; the figures docs/privacy_reviewer.md quotes), or on the warehouse of an
existing target (``--from-target``).
"""

from __future__ import annotations

import json
from pathlib import Path

from privacy_insights import targets
from privacy_insights.utility.measure import Utility, measure
from privacy_insights.utility.plots import write_all
from privacy_insights.utility.report import markdown


def measure_target(target: str) -> Utility:
    warehouse = targets.connect(target)
    try:
        return measure(warehouse)
    finally:
        warehouse.close()


def measure_fresh(root: Path, profile: str, events: int, seed: int) -> Utility:
    """Generate ``events`` of ``profile`` into a new DuckDB warehouse, build, and measure it."""
    import duckdb

    from privacy_insights.benchmark.runner import BIN, Workspace

    ws = Workspace(root, "dev", events, name=f"utility-{profile}-{events}")
    ws.run(
        "generate",
        [
            str(BIN / "privacy-insights"),
            "generate",
            "--target",
            "dev",
            "--events",
            str(events),
            "--seed",
            str(seed),
            "--profile",
            profile,
            "--tables",
            "spots",
        ],
    )
    ws.run(
        "dbt build",
        [
            str(BIN / "dbt"),
            "build",
            "--selector",
            "spots_pipeline",
            "--target-path",
            str(ws.dir / "target"),
            "--log-path",
            str(ws.dir / "logs"),
        ],
    )
    con = duckdb.connect(ws.env["PRIVACY_INSIGHTS_DUCKDB"], read_only=True)
    try:
        catalog = con.sql("select current_database()").fetchone()[0]
        return measure(targets.Warehouse(con, catalog, "dev"))
    finally:
        con.close()


def _label(profile: str, events: int) -> str:
    return f"{profile}, 10^{len(str(events)) - 1}" if str(events).strip("0") == "1" else f"{profile}, {events:,}"


def run(args) -> int:
    output = Path(args.output).resolve()
    figures_dir = output.parent / output.stem
    runs: list[tuple[str, Utility]] = []
    if args.from_target:
        runs.append((f"target {args.from_target}", measure_target(args.from_target)))
    else:
        root = Path(args.work_dir).resolve()
        for profile in args.profiles:
            for events in args.events:
                print(f"[utility] {profile}, {events:,} events", flush=True)
                runs.append((_label(profile, events), measure_fresh(root, profile, events, args.seed)))
    figures = {}
    for label, u in runs:
        stem = label.replace(", ", "_").replace("^", "").replace(" ", "_").replace(",", "")
        figures[label] = write_all(u, figures_dir, stem, label)
    command = "privacy-insights utility-report " + " ".join(args.argv)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown(runs, figures, output.parent, command.strip()) + "\n")
    output.with_suffix(".json").write_text(
        json.dumps({label: u.to_dict() for label, u in runs}, indent=2, default=float) + "\n"
    )
    for label, u in runs:
        print(f"{label}: " + ", ".join(f"{k} {v:.4g}" for k, v in u.headline.items()))
    print(f"wrote {output} and {figures_dir}/")
    return 0
