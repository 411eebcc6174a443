"""The history benchmark (issue 30): what a build costs as the data and its history grow.

``privacy-insights benchmark --history --sizes 1e3,1e6,1e7,1e8`` (``make benchmark-history``),
on the dev DuckDB target, generator defaults, seed 42. For each size:

1. the generator writes the events (it streams: no size cap); with ``--runs`` above 1 the
   generated warehouse is kept aside and every run starts from a fresh copy of it;
2. the analysis of baseline (a) is compiled once;
3. each run, one after the other (so the runs of each measure alternate with the others):

   - **full build**: ``dbt build`` on the fresh copy at ``as_of`` 2026-11-03 (30 days
     eligible), as the scheduler runs it (the shared target folder, the clock in
     ``PRIVACY_INSIGHTS_AS_OF``);
   - **nothing new**: the same build again at the same clock, no raw row added: the daily
     build with nothing to release (docs/incremental_builds.md: at an unchanged clock no day
     is checked). What it costs beyond the same build over 10^3 events is what grows with
     history;
   - **plain SQL floor**: baseline (a), ``analyses/benchmark_plain_cell_counts.sql``, the
     cells from the raw events in one statement (``benchmark/plain.py``);
   - **+1 day**: one more day of events lands (:func:`land_next_day`: the SPOTS and outreach
     rows of the generator's last day, 2026-10-31, copied to 2026-11-01 under new ids, and
     both loaders' watermarks moved one day on), then ``dbt build`` with the clock one day
     later (2026-11-04: day 10-31 and its hours are released, the new day is held back by
     the delay), as a daily scheduled build finds it.

Every step is its own process (``measure.run_step``: wall time, peak RSS); the landing and
the copies are set-up, not measured. The load average is read at the start and the end of
every size and of the whole run. A size whose step fails is recorded with the failure (the
goals say "not met" or "not measured") and the next size runs.

The pure parts (growth exponents, goals, tables) are below the runner; ``history_markdown``
writes docs/benchmark_results.md with the issue's goals at its top.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from privacy_insights.benchmark.layers import read_profile
from privacy_insights.benchmark.measure import StepFailed
from privacy_insights.benchmark.runner import (
    AS_OF_30_DAYS,
    AS_OF_31_DAYS,
    PLAIN_ANALYSIS,
    Workspace,
    _step_figures,
    check_event_counts,
)

DEFAULT_SIZES = (10**3, 10**6, 10**7, 10**8)
RESULTS_FILE = "history_results.json"
# The generator's window by default: 61 days from 2026-09-01, so its last day is 10-31 and
# its watermarks say "complete through 11-01T00:00". The +1 day build lands 11-01.
LAST_GENERATED_DAY = datetime(2026, 10, 31, tzinfo=UTC)
LANDED_DAY = LAST_GENERATED_DAY + timedelta(days=1)
LANDING_LOADER = "privacy-insights benchmark --history (+1 day)"
MEASURES = ("full", "nothing_new", "plus_one_day", "floor")
MEASURE_LABELS = {
    "full": "full build",
    "nothing_new": "nothing new",
    "plus_one_day": "+1 day",
    "floor": "plain SQL floor",
}
GIB = 1024.0  # MiB


# ---- sizes -------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """An event count written as 1000, 1_000, 1,000, 1e3 or 10^3 (a whole number)."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    match = re.fullmatch(r"10\^(\d+)", cleaned)
    try:
        value = 10 ** int(match.group(1)) if match else float(cleaned)
    except ValueError:
        raise ValueError(f"size: not a number of events: {text!r}") from None
    if value != int(value):
        raise ValueError(f"size: not a whole number of events: {text!r}")
    return int(value)


def parse_sizes(text: str) -> list[int]:
    """A comma-separated list of sizes (``1e3,1e6``); 1,000 style thousands separators are
    not allowed inside it, use 1e3 or 1000."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError("sizes: give at least one event count, e.g. 1e3,1e6")
    sizes = [parse_size(part) for part in parts]
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"sizes: {text!r} names a size twice")
    return sorted(sizes)


# ---- the runner --------------------------------------------------------------------------


@dataclass
class SizeResult:
    events: int
    runs: list[dict] = field(default_factory=list)  # per run: {measure: step figures}
    generate: dict = field(default_factory=dict)
    landed_rows: dict = field(default_factory=dict)
    load_start: list[float] = field(default_factory=list)
    load_end: list[float] = field(default_factory=list)
    profiles: dict = field(default_factory=dict)  # measure -> profile of its last run (dbt builds)
    error: str | None = None  # the failed step and its output's tail
    started: str = ""


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def land_next_day(warehouse_file: Path) -> dict:
    """Land one more day of events in a built dev warehouse, as a daily load would.

    The SPOTS and outreach rows of the generator's last day (``LAST_GENERATED_DAY``) are
    copied one day later (event and ingestion times plus one day) under new, deterministic
    ids (an ``event_id``, ``id`` or ``client_event_id`` that is blank, missing or not a UUID
    stays as it was, so the day keeps its share of rows that break a rule, and copies of one
    id stay copies of one id); then both watermarks move one day on (the loader's statement
    that the new day has landed). Attribution is not landed: its staging is rebuilt whole by
    every build. Returns the rows added per table."""
    import duckdb

    from privacy_insights import landing
    from privacy_insights.synthetic.common import uuid_sql
    from privacy_insights.targets import Warehouse

    start, end = LAST_GENERATED_DAY, LAST_GENERATED_DAY + timedelta(days=1)

    def on_the_day(column: str) -> str:
        return f"{column} >= timestamptz '{start.isoformat()}' and {column} < timestamptz '{end.isoformat()}'"

    uuid = "'^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'"

    def new_id(column: str) -> str:
        return (
            f"case when regexp_matches({column}, {uuid}) "
            f"then {uuid_sql(repr('+1d:') + ' || ' + column)} else {column} end"
        )

    statements = {
        "spots_interaction_events": f"""
            insert into raw.spots_interaction_events by name
            select
                {new_id("event_id")} as event_id,
                * exclude (event_id, occurred_at, ingested_at),
                occurred_at + interval 1 day as occurred_at,
                ingested_at + interval 1 day as ingested_at
            from raw.spots_interaction_events
            where {on_the_day("occurred_at")}
        """,
        "outreach_event_logs": f"""
            insert into raw.outreach_event_logs by name
            select
                {new_id("id")} as id,
                {new_id("client_event_id")} as client_event_id,
                * exclude (id, client_event_id, created_at),
                created_at + interval 1 day as created_at
            from raw.outreach_event_logs
            where {on_the_day("created_at")}
        """,
    }
    con = duckdb.connect(str(warehouse_file))
    try:
        con.execute("set memory_limit = '1GB'")
        added = {}
        for table, sql in statements.items():  # by name: the select's column order is not the table's
            added[table] = int(con.execute(sql).fetchone()[0])
        warehouse = Warehouse(con, con.sql("select current_database()").fetchone()[0], "dev")
        through = LANDED_DAY + timedelta(days=1)
        landing.mark(warehouse, "spots", "spots_interaction_events", through, LANDING_LOADER)
        landing.mark(warehouse, "outreach", "outreach_event_logs", through, LANDING_LOADER)
        con.execute("checkpoint")
    finally:
        con.close()
    return added


def _checkpoint(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def _remove_warehouse(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def run_size(root: Path, events: int, seed: int, runs: int, cold_cache: bool = False) -> SizeResult:
    """Every measure of one size, ``runs`` times (see the module's docstring)."""
    print(f"[history, dev, {events:,} events, {runs} run(s)]", flush=True)
    result = SizeResult(events, started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), load_start=_load())
    ws = Workspace(root, "dev", events, name=f"history-{events}", cold_cache=cold_cache)
    warehouse = Path(ws.env["PRIVACY_INSIGHTS_DUCKDB"])
    pristine = ws.dir / "generated.duckdb"
    try:
        generated = ws.generate(seed)
        result.generate = _step_figures(generated) | {"rows": generated.last_json()["rows"]}
        _, compiled = ws.dbt("dbt compile (plain baseline)", ["compile", "--select", PLAIN_ANALYSIS], AS_OF_30_DAYS)
        plain_sql = compiled / "compiled" / "privacy_insights" / "analyses" / f"{PLAIN_ANALYSIS}.sql"
        _checkpoint(warehouse)  # all in the file, no write-ahead log beside it, before it is copied
        os.replace(warehouse, pristine)
        for run in range(1, runs + 1):
            _remove_warehouse(warehouse)
            shutil.rmtree(ws.dir / "target_scheduled", ignore_errors=True)  # each full build parses afresh
            if run < runs:
                shutil.copyfile(pristine, warehouse)
            else:
                os.replace(pristine, warehouse)
            figures: dict = {}
            result.runs.append(figures)
            full, full_target = ws.scheduled_build(f"full build (run {run})", AS_OF_30_DAYS)
            figures["full"] = _step_figures(full)
            nothing_new, nothing_target = ws.scheduled_build(f"nothing new (run {run})", AS_OF_30_DAYS)
            figures["nothing_new"] = _step_figures(nothing_new)
            plain = ws.python(
                f"plain SQL floor (run {run})", "privacy_insights.benchmark.plain", "--sql", str(plain_sql)
            )
            figures["floor"] = _step_figures(plain) | {"query_s": plain.last_json()["query_s"]}
            result.landed_rows = land_next_day(warehouse)
            plus_one, plus_target = ws.scheduled_build(f"+1 day (run {run})", AS_OF_31_DAYS)
            figures["plus_one_day"] = _step_figures(plus_one)
            result.profiles = {
                "full": read_profile(full_target).to_dict(),
                "nothing_new": read_profile(nothing_target).to_dict(),
                "plus_one_day": read_profile(plus_target).to_dict(),
            }
    except StepFailed as failure:
        result.error = str(failure)[-2000:]
        print(f"  failed: {result.error}", flush=True)
    finally:
        ws.close()
        result.load_end = _load()
    return result


def run_history(
    root: Path,
    sizes: list[int],
    seed: int,
    runs: int,
    results_file: Path,
    command: str,
    cold_cache: bool = False,
    merge: bool = False,
    spark_sizes: list[int] | None = None,
) -> dict:
    """Run every size, writing ``results_file`` after each; with ``merge`` the sizes already in
    it (from an earlier run) are kept unless measured again."""
    from privacy_insights.benchmark.measure import drop_page_cache
    from privacy_insights.benchmark.report import machine

    check_event_counts([*sizes, *(spark_sizes or [])])
    if runs < 1:
        raise ValueError(f"runs: must be at least 1, got {runs}")
    if cold_cache:
        drop_page_cache()  # refused at once when not permitted, before anything runs
    previous = json.loads(results_file.read_text()) if merge and results_file.exists() else {}
    kept = [s for s in previous.get("sizes", []) if s["events"] not in sizes]
    document = {
        "command": command,
        "machine": machine(),
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": _load(),
        "load_end": None,
        "runs": runs,
        "seed": seed,
        "cold_cache": cold_cache,
        "sizes": kept,
        "kept_from_earlier": [s["events"] for s in kept],
        "spark": [],
    }
    results_file.parent.mkdir(parents=True, exist_ok=True)
    for events in sizes:
        document["sizes"].append(asdict(run_size(root, events, seed, runs, cold_cache)))
        document["sizes"].sort(key=lambda s: s["events"])
        results_file.write_text(json.dumps(document, indent=2) + "\n")
    if spark_sizes:
        from privacy_insights.benchmark.spark import run_spark

        for events in spark_sizes:
            try:
                document["spark"].append(asdict(run_spark(root, events, seed)))
            except StepFailed as failure:
                document["spark"].append({"events": events, "error": str(failure)[-2000:]})
            results_file.write_text(json.dumps(document, indent=2) + "\n")
    document["load_end"] = _load()
    results_file.write_text(json.dumps(document, indent=2) + "\n")
    return document


# ---- pure parts: summaries, growth exponents, goals, tables --------------------------------


@dataclass(frozen=True)
class SizeSummary:
    """One size's figures: each measure's wall times (one per run) and peak RSS (MiB)."""

    events: int
    seconds: dict[str, list[float]]
    peak_rss_mib: dict[str, list[float]]
    error: str | None = None

    def median(self, measure: str) -> float | None:
        values = self.seconds.get(measure) or []
        return statistics.median(values) if values else None

    def peak(self, measure: str) -> float | None:
        values = self.peak_rss_mib.get(measure) or []
        return max(values) if values else None


def summarize(size: dict) -> SizeSummary:
    """The summary of one size of the results file (a run that failed half-way keeps the
    measures it finished)."""
    seconds: dict[str, list[float]] = {m: [] for m in MEASURES}
    peaks: dict[str, list[float]] = {m: [] for m in MEASURES}
    for run in size.get("runs", []):
        for measure in MEASURES:
            if measure in run:
                seconds[measure].append(float(run[measure]["wall_s"]))
                peaks[measure].append(float(run[measure]["peak_rss_mib"]))
    return SizeSummary(int(size["events"]), seconds, peaks, size.get("error"))


def fit_exponent(points: list[tuple[float, float]]) -> float | None:
    """The slope of log(y) against log(x) by least squares (y ~ c * x^slope), over the points
    with positive x and y; None with fewer than two distinct x."""
    usable = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len({x for x, _ in usable}) < 2:
        return None
    mean_x = sum(x for x, _ in usable) / len(usable)
    mean_y = sum(y for _, y in usable) / len(usable)
    sxx = sum((x - mean_x) ** 2 for x, _ in usable)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in usable)
    return sxy / sxx


@dataclass(frozen=True)
class Growth:
    measure: str
    exponent: float | None  # of the wall time
    beyond_smallest: float | None  # of the wall time minus the smallest size's
    sizes: tuple[int, ...]


def growth_exponents(summaries: list[SizeSummary]) -> list[Growth]:
    """Per measure, the log-log slope of its median wall time against the events, and of what
    it costs beyond the same measure at the smallest size (the part that depends on the data,
    without the fixed cost that flattens the first slope; sizes where it is not positive are
    left out)."""
    grown = []
    for measure in MEASURES:
        points = [(s.events, s.median(measure)) for s in sorted(summaries, key=lambda s: s.events)]
        points = [(x, y) for x, y in points if y is not None]
        beyond = None
        if len(points) >= 3:
            base = points[0][1]
            beyond = fit_exponent([(x, y - base) for x, y in points[1:]])
        grown.append(Growth(measure, fit_exponent(points), beyond, tuple(x for x, _ in points)))
    return grown


@dataclass(frozen=True)
class Goal:
    goal: str
    measured: str
    verdict: str  # "met", "not met" or "not measured"


def _size_or_reason(by_size: dict[int, SizeSummary], events: int, measure: str) -> tuple[float | None, str]:
    """The median of ``measure`` at ``events``, or why there is none."""
    from privacy_insights.benchmark.report import events_label

    summary = by_size.get(events)
    if summary is None:
        return None, f"{events_label(events)} not run"
    value = summary.median(measure)
    if value is None:
        reason = f"{MEASURE_LABELS[measure]} at {events_label(events)} did not finish"
        return None, reason + (f" ({summary.error.splitlines()[0]})" if summary.error else "")
    return value, ""


def _reasons(*whys: str) -> str:
    """The reasons a goal is not measured, each once."""
    return "; ".join(dict.fromkeys(why for why in whys if why))


def _ratio_goal(goal: str, bound: float, numerator: tuple[float | None, str], denominator: tuple[float | None, str]):
    (top, top_why), (bottom, bottom_why) = numerator, denominator
    if top is None or bottom is None:
        return Goal(goal, _reasons(top_why, bottom_why), "not measured")
    ratio = top / bottom
    return Goal(goal, f"{ratio:.2f}x ({top:.1f} s / {bottom:.1f} s)", "met" if ratio <= bound else "not met")


def evaluate_goals(summaries: list[SizeSummary]) -> list[Goal]:
    """The five benchmark goals of issue 30, from the medians of the runs."""
    by_size = {s.events: s for s in summaries}
    base = _size_or_reason(by_size, 10**3, "nothing_new")
    goals = [
        _ratio_goal(
            "nothing new at 10^7 <= 1.25 x nothing new at 10^3",
            1.25,
            _size_or_reason(by_size, 10**7, "nothing_new"),
            base,
        ),
        _ratio_goal(
            "nothing new at 10^8 <= 1.5 x nothing new at 10^3",
            1.5,
            _size_or_reason(by_size, 10**8, "nothing_new"),
            base,
        ),
        _ratio_goal(
            "+1 day at 10^7 <= 1.5 x nothing new at 10^3", 1.5, _size_or_reason(by_size, 10**7, "plus_one_day"), base
        ),
    ]
    full, full_why = _size_or_reason(by_size, 10**7, "full")
    floor, floor_why = _size_or_reason(by_size, 10**7, "floor")
    goal = "(full at 10^7 - nothing new at 10^3) <= 5 x plain SQL floor at 10^7"
    if full is None or floor is None or base[0] is None:
        goals.append(Goal(goal, _reasons(full_why, base[1], floor_why), "not measured"))
    else:
        beyond = full - base[0]
        ratio = beyond / floor
        goals.append(
            Goal(
                goal,
                f"{ratio:.2f}x (({full:.1f} s - {base[0]:.1f} s) / {floor:.1f} s)",
                "met" if ratio <= 5 else "not met",
            )
        )
    goal = "full build at 10^8 completes with peak RSS < 4 GiB"
    largest = by_size.get(10**8)
    if largest is None:
        goals.append(Goal(goal, "10^8 not run", "not measured"))
    elif not largest.seconds["full"]:
        first_line = (largest.error or "no full build recorded").splitlines()[0]
        goals.append(Goal(goal, f"did not complete: {first_line}", "not met"))
    else:
        peak = largest.peak("full")
        goals.append(
            Goal(
                goal,
                f"completed in {largest.median('full'):.1f} s, peak RSS {peak:,.0f} MiB ({peak / GIB:.2f} GiB)",
                "met" if peak < 4 * GIB else "not met",
            )
        )
    return goals


def goals_table(goals: list[Goal]) -> str:
    rows = ["| goal (issue 30) | measured | met |", "|---|---|---|"]
    for g in goals:
        verdict = {"met": "**met**", "not met": "**not met**"}.get(g.verdict, g.verdict)
        rows.append(f"| {g.goal} | {g.measured} | {verdict} |")
    return "\n".join(rows)


def _seconds(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values) + " s" if values else "-"


def _mib(values: list[float]) -> str:
    return f"{max(values) / GIB:.2f} GiB" if values else "-"


def sizes_table(summaries: list[SizeSummary], loads: dict[int, tuple[list[float], list[float]]]) -> str:
    """The issue's table: each run's wall time (run 1 / run 2 ...), the largest peak RSS."""
    from privacy_insights.benchmark.report import events_label

    rows = [
        "| events | full build | +1 day | nothing new | plain SQL floor | peak RSS: full / nothing new / +1 day "
        "/ floor | load average (1 min) at start, end |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in sorted(summaries, key=lambda s: s.events):
        start, end = loads.get(s.events, ([], []))
        load = f"{start[0]:.2f}, {end[0]:.2f}" if start and end else "-"
        peaks = " / ".join(_mib(s.peak_rss_mib[m]) for m in ("full", "nothing_new", "plus_one_day", "floor"))
        failed = " (failed: see below)" if s.error else ""
        times = " | ".join(_seconds(s.seconds[m]) for m in ("full", "plus_one_day", "nothing_new", "floor"))
        rows.append(f"| {events_label(s.events)}{failed} | {times} | {peaks} | {load} |")
    return "\n".join(rows)


def growth_table(growth: list[Growth]) -> str:
    def exponent(value: float | None) -> str:
        return "n/a" if value is None else f"{0.0 if abs(value) < 0.005 else value:.2f}"  # no -0.00

    rows = [
        "| measure | exponent of the wall time | exponent of the wall time beyond the smallest size's | sizes |",
        "|---|---|---|---|",
    ]
    from privacy_insights.benchmark.report import events_label

    for g in growth:
        sizes = ", ".join(events_label(n) for n in g.sizes) or "-"
        rows.append(
            f"| {MEASURE_LABELS[g.measure]} | {exponent(g.exponent)} | {exponent(g.beyond_smallest)} | {sizes} |"
        )
    return "\n".join(rows)


def _node_name(unique_id: str) -> str:
    """A node's name without its kind, project and a data test's hash suffix."""
    name = unique_id.split(".", 2)[-1]
    return re.sub(r"\.[0-9a-f]{10}$", "", name)


def _slowest(profile: dict, count: int = 5) -> str:
    return ", ".join(f"`{_node_name(n['unique_id'])}` {n['seconds']:.1f} s" for n in profile.get("slowest", [])[:count])


def history_markdown(document: dict) -> str:
    """docs/benchmark_results.md: the goals of issue 30 first, then the figures behind them."""
    from privacy_insights.benchmark.report import events_label

    sizes = document.get("sizes", [])
    summaries = [summarize(s) for s in sizes]
    loads = {s["events"]: (s.get("load_start") or [], s.get("load_end") or []) for s in sizes}
    goals = evaluate_goals(summaries)
    growth = growth_exponents(summaries)

    def load(values) -> str:
        return ", ".join(f"{v:.2f}" for v in values) if values else "not recorded"

    earlier = [s for s in sizes if s["events"] in document.get("kept_from_earlier", [])]
    lines = [
        "# Benchmark results: what grows with data and history",
        "",
        "Generated by `" + document["command"] + "` (`make benchmark-history`; how it measures: "
        "[benchmark.md](benchmark.md#history-benchmark-issue-30)). Do not edit by hand.",
        "",
        f"Measured from {document['started']} on: {document['machine']}.",
        f"Load average (1, 5, 15 min) at the start: {load(document.get('load_start'))}; "
        f"at the end: {load(document.get('load_end'))}. The goals are for an idle machine: a load "
        "average above about 1 on 2 cores means other work shared the cores and the times are inflated.",
    ]
    if earlier:
        lines.append(
            "Kept from an earlier run (`--merge`): "
            + ", ".join(f"{events_label(s['events'])} (started {s.get('started') or 'unknown'})" for s in earlier)
            + "; each size's own load average is in the table below."
        )
    lines += [
        "",
        "## Goals (issue 30)",
        "",
        f"Medians of each size's runs ({document.get('runs', 1)} per size in this run); dev DuckDB target, "
        "generator defaults, "
        f"seed {document.get('seed', 42)}.",
        "",
        goals_table(goals),
        "",
        "## Wall time per size (run 1 / run 2 ...)",
        "",
        sizes_table(summaries, loads),
        "",
        "Full build: a fresh copy of the generated warehouse, `as_of` " + AS_OF_30_DAYS + " (30 days eligible). "
        "Nothing new: the same build again at the same clock (no raw row added, nothing to release). "
        "Plain SQL floor: baseline (a), the cells from the raw events in one statement (process wall time). "
        "+1 day: the SPOTS and outreach rows of 2026-10-31 landed again as 2026-11-01 (new ids, watermarks one "
        "day on), then the build at `as_of` " + AS_OF_31_DAYS + ". Each run does the four in this order, so the "
        "runs of each measure alternate with the others."
        + (" The OS page cache was dropped before every step but the generator." if document.get("cold_cache") else ""),
        "",
        "## Growth exponents",
        "",
        "Least-squares slope of log(wall time) against log(events) over the sizes measured (median of the runs): "
        "1 is linear in the events, 0 does not grow. The first column includes the fixed cost of a build "
        "of this graph (dbt start-up, every node), which flattens it; the second fits what each measure costs "
        "beyond the same measure at the smallest size (three sizes or more; sizes where that is not "
        "positive are left out).",
        "",
        growth_table(growth),
    ]
    details = []
    for s in sorted(sizes, key=lambda s: s["events"]):
        label = events_label(s["events"])
        if s.get("profiles"):
            profiles = s["profiles"]
            details.append(
                f"- {label}, slowest nodes (node seconds, last run): nothing new: {_slowest(profiles['nothing_new'])}; "
                f"+1 day: {_slowest(profiles['plus_one_day'])}; full: {_slowest(profiles['full'])}."
            )
        if s.get("landed_rows"):
            landed = ", ".join(f"{table} {rows:,}" for table, rows in s["landed_rows"].items())
            details.append(f"- {label}, rows landed for +1 day: {landed}.")
        if s.get("generate"):
            generated = s["generate"]
            details.append(
                f"- {label}, generator: {generated['wall_s']:.1f} s, peak RSS {generated['peak_rss_mib']:,.0f} MiB."
            )
        if s.get("error"):
            details.append(f"- {label} **failed**:\n\n```\n{s['error'].strip()}\n```")
    if details:
        lines += ["", "## Details", "", *details]
    spark = document.get("spark") or []
    if spark:
        from privacy_insights.benchmark.spark import SparkRunResult, spark_table

        done = [SparkRunResult(**r) for r in spark if not r.get("error")]
        lines += ["", "## Split build on Spark (SPOTS event-scale half on Spark, the release on DuckDB)", ""]
        if done:
            lines.append(spark_table(done))
        for r in spark:
            if r.get("error"):
                lines.append(f"\n{events_label(r['events'])} **failed**:\n\n```\n{r['error'].strip()}\n```")
    return "\n".join(lines) + "\n"
