"""``privacy-insights utility-report``: measure the release's utility and write Markdown + PNG.

Either on fresh warehouses (for each generator profile and event count: generate, ``dbt build``
at the default clock, measure; the figures docs/privacy_reviewer.md quotes), or on the warehouse of an
existing target (``--from-target``).
"""

from __future__ import annotations

import json
from pathlib import Path

from privacy_insights import targets
from privacy_insights.dp.params import parse_policy
from privacy_insights.utility.measure import Utility, measure
from privacy_insights.utility.plots import write_all
from privacy_insights.utility.report import markdown


def measure_with_peer(warehouse: targets.Warehouse, peer: bool) -> Utility:
    """The release's utility and, with ``peer``, PipelineDP's on the same staged events (utility.peer;
    a note in its place when the extra is not installed). The policy is the project's defaults
    (dbt_project.yml), the one every build here runs with."""
    u = measure(warehouse)
    if peer:
        from privacy_insights.utility.peer import compare

        variables = targets.project_vars()
        policy = parse_policy(variables["spots_release"], variables["reporting_delay_hours"])
        u.peer = compare(warehouse, policy)
    return u


def measure_target(target: str, peer: bool = True) -> Utility:
    warehouse = targets.connect(target)
    try:
        return measure_with_peer(warehouse, peer)
    finally:
        warehouse.close()


def measure_fresh(root: Path, profile: str, events: int, seed: int, peer: bool = True) -> Utility:
    """Generate ``events`` of ``profile`` into a new DuckDB warehouse, build, and measure it."""
    import duckdb

    from privacy_insights.benchmark.runner import BIN, Workspace

    ws = Workspace(root, "dev", events, name=f"utility-{profile}-{events}")
    ws.generate(seed, "--profile", profile, "--tables", "spots")
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
        return measure_with_peer(targets.Warehouse(con, catalog, "dev"), peer)
    finally:
        con.close()


def _label(profile: str, events: int) -> str:
    return f"{profile}, 10^{len(str(events)) - 1}" if str(events).strip("0") == "1" else f"{profile}, {events:,}"


def run(args) -> int:
    output = Path(args.output).resolve()
    figures_dir = output.parent / output.stem
    runs: list[tuple[str, Utility]] = []
    peer = not getattr(args, "no_peer", False)
    if args.from_target:
        runs.append((f"target {args.from_target}", measure_target(args.from_target, peer)))
    else:
        root = Path(args.work_dir).resolve()
        for profile in args.profiles:
            for events in args.events:
                print(f"[utility] {profile}, {events:,} events", flush=True)
                runs.append((_label(profile, events), measure_fresh(root, profile, events, args.seed, peer)))
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
        if u.peer is not None:
            if u.peer.note:
                print(f"{label}: {u.peer.note}")
            for r in u.peer.levels:
                print(
                    f"{label}: {r.level} released project {r.project_released} / PipelineDP {r.peer_released}, "
                    f"median |rel. error| {r.project_median_abs_relative_error:.4g} / "
                    f"{r.peer_median_abs_relative_error:.4g}, below k {r.project_share_below_k:.4g} / "
                    f"{r.peer_share_below_k:.4g}; PipelineDP at the period's epsilon {r.period_epsilon:.4g}: "
                    f"released {r.peer_period_released}, median |rel. error| "
                    f"{r.peer_period_median_abs_relative_error:.4g}"
                )
    print(f"wrote {output} and {figures_dir}/")
    return 0
