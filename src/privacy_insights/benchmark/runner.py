"""The benchmark: for each target and event count, on freshly generated data,

1. ``dbt build`` with 30 days eligible (full build: wall, peak RSS, events/s, layers), a
   fresh warehouse and a full parse;
2. baseline (a): the plain SQL aggregation of the same cells;
3. baseline (b): the same day release through OpenDP's Polars interface directly;
4. ``dbt build`` again with the clock one day later (the incremental cost of one day);
5. ``dbt build`` once more at that clock, with nothing new to do: the fixed cost of a build
   of this project's graph (start-up, every node, the checks over all history), which the
   +1 day build pays too.

With ``--cold-cache`` the OS page cache is dropped before every step but the generator, so
each reads the warehouse from disk, as a daily build does (root on Linux only).

The three builds run as the scheduler (``privacy-insights release``) runs them: in one
shared target folder, the clock in ``PRIVACY_INSIGHTS_AS_OF``, so the second and third keep
dbt's partial parsing (a changed ``--vars`` value would make dbt reparse everything).

Each run gets its own work folder (warehouse file, profile, dbt artifacts) and, on the
postgres target, its own database, created here and dropped afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from privacy_insights import targets
from privacy_insights.benchmark.layers import read_profile
from privacy_insights.benchmark.measure import Step, drop_page_cache, run_step
from privacy_insights.clock.policy import AS_OF_ENV

# release_start_date is 2026-10-01 and the delay 72 h: at this clock the days 10-01 to
# 10-30 (30 days) are eligible; one day later 10-31 is added (a Saturday, so no week
# completes and the increment is exactly one day and its hours).
AS_OF_30_DAYS = "2026-11-03T00:00:00Z"
AS_OF_31_DAYS = "2026-11-04T00:00:00Z"
PLAIN_ANALYSIS = "benchmark_plain_cell_counts"
BIN = Path(sys.executable).parent


@dataclass
class RunResult:
    target: str
    events: int
    generate: dict = field(default_factory=dict)
    full_build: dict = field(default_factory=dict)
    incremental_build: dict = field(default_factory=dict)
    unchanged_build: dict = field(default_factory=dict)
    plain: dict = field(default_factory=dict)
    opendp: dict = field(default_factory=dict)
    pipeline_day_cells: int = 0
    cold_cache: bool = False  # the OS page cache was dropped before each measured step


def _step_figures(step: Step) -> dict:
    return {"wall_s": round(step.wall_s, 2), "peak_rss_mib": round(step.peak_rss_mib, 1)}


class Workspace:
    """One benchmark run's isolated folder (and PostgreSQL database) and its environment."""

    def __init__(self, root: Path, target: str, events: int, name: str | None = None, cold_cache: bool = False):
        self.target = target
        self.events = events
        self.cold_cache = cold_cache
        self.dir = root / (name or f"{target}-{events}")
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        repo = targets.project_root()
        shutil.copyfile(repo / "profiles.yml.example", self.dir / "profiles.yml")
        self.pg_database = f"privacy_insights_bench_{events}" if target == "prod" else None
        self.env = {
            **{k: v for k, v in os.environ.items() if k != AS_OF_ENV},  # each step sets its clock
            "DBT_TARGET": target,
            "DBT_PROFILES_DIR": str(self.dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PRIVACY_INSIGHTS_PROJECT_DIR": str(repo),
            "PRIVACY_INSIGHTS_DUCKDB": str(self.dir / "warehouse.duckdb"),
            "PRIVACY_INSIGHTS_PG_SCRATCH": str(self.dir / "pg_scratch.duckdb"),
            "PRIVACY_INSIGHTS_EXTENSION_DIR": str(targets.extension_dir()),
            "SPOTS_PSEUDONYM_KEY": secrets.token_hex(32),
        }
        if self.pg_database:
            self.env["PGDATABASE"] = self.pg_database
            self._admin(f'drop database if exists "{self.pg_database}" with (force)')
            self._admin(f'create database "{self.pg_database}"')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(sql)

    def close(self) -> None:
        if self.pg_database:
            self._admin(f'drop database if exists "{self.pg_database}" with (force)')

    def run(self, label: str, args: list[str], env: dict[str, str] | None = None) -> Step:
        if self.cold_cache and label != "generate":
            drop_page_cache()
        print(f"  {label} ...", flush=True)
        step = run_step(label, args, env or self.env, targets.project_root())
        print(f"  {label}: {step.wall_s:.1f} s, peak RSS {step.peak_rss_mib:,.0f} MiB", flush=True)
        return step

    def generate(self, seed: int, *extra: str) -> Step:
        """The generator's events for this workspace's target and size (``extra``: more options)."""
        args = ["generate", "--target", self.target, "--events", str(self.events), "--seed", str(seed), *extra]
        return self.run("generate", [str(BIN / "privacy-insights"), *args])

    def _dbt_args(self, command: list[str], target_path: Path) -> list[str]:
        return [str(BIN / "dbt"), *command, "--target-path", str(target_path), "--log-path", str(self.dir / "logs")]

    def dbt(self, label: str, command: list[str], as_of: str) -> tuple[Step, Path]:
        """One dbt command in its own target folder (a full parse), the clock as --vars."""
        target_path = self.dir / f"target_{label}"
        args = self._dbt_args(command, target_path)
        step = self.run(label, [*args, "--vars", yaml.safe_dump({"as_of": as_of}, default_flow_style=True)])
        return step, target_path

    def scheduled_build(self, label: str, as_of: str) -> tuple[Step, Path]:
        """``dbt build`` as ``privacy-insights release`` runs it: in the one target folder
        every scheduled build shares, the clock in PRIVACY_INSIGHTS_AS_OF, so a build after
        the first parses only what the new clock changes. Its run results are copied to a
        folder of their own."""
        shared = self.dir / "target_scheduled"
        step = self.run(label, self._dbt_args(["build"], shared), self.env | {AS_OF_ENV: as_of})
        own = self.dir / f"target_{label}"
        own.mkdir()
        for artifact in ("run_results.json", "manifest.json"):
            shutil.copyfile(shared / artifact, own / artifact)
        return step, own

    def python(self, label: str, module: str, *args: str) -> Step:
        return self.run(label, [sys.executable, "-m", module, "--target", self.target, *args])

    def count_rows(self, table: str) -> int:
        """Rows of a schema-qualified table, optionally followed by a where clause, in the run's warehouse."""
        sql = f"select count(*) from {table}"
        if self.target == "dev":
            import duckdb

            con = duckdb.connect(self.env["PRIVACY_INSIGHTS_DUCKDB"], read_only=True)
            try:
                return int(con.sql(sql).fetchone()[0])
            finally:
                con.close()
        import psycopg

        with psycopg.connect(dbname=self.pg_database) as conn:
            return int(conn.execute(sql).fetchone()[0])


def run_one(root: Path, target: str, events: int, seed: int, cold_cache: bool = False) -> RunResult:
    print(f"[{target}, {events:,} events]", flush=True)
    ws = Workspace(root, target, events, cold_cache=cold_cache)
    result = RunResult(target, events, cold_cache=cold_cache)
    try:
        generated = ws.generate(seed)
        result.generate = _step_figures(generated) | {"rows": generated.last_json()["rows"]}

        full, full_target = ws.scheduled_build("dbt build (30 days)", AS_OF_30_DAYS)
        result.full_build = _step_figures(full) | {"profile": read_profile(full_target).to_dict()}
        # the finest day cells of the public domain: what baseline (b) releases
        result.pipeline_day_cells = ws.count_rows("intermediate.int_spots__cell_aggregates where granularity = 'day'")

        _, compiled = ws.dbt("dbt compile (plain baseline)", ["compile", "--select", PLAIN_ANALYSIS], AS_OF_30_DAYS)
        sql_file = compiled / "compiled" / "privacy_insights" / "analyses" / f"{PLAIN_ANALYSIS}.sql"
        plain = ws.python("baseline: plain SQL", "privacy_insights.benchmark.plain", "--sql", str(sql_file))
        result.plain = _step_figures(plain) | plain.last_json()

        opendp = ws.python(
            "baseline: OpenDP Polars", "privacy_insights.benchmark.opendp_direct", "--as-of", AS_OF_30_DAYS
        )
        result.opendp = _step_figures(opendp) | opendp.last_json()
        if result.opendp["cells"] != result.pipeline_day_cells:
            raise RuntimeError(
                f"baseline (b) released {result.opendp['cells']} day cells, the pipeline's domain holds "
                f"{result.pipeline_day_cells}: the comparison would not be like for like"
            )

        incremental, incr_target = ws.scheduled_build("dbt build (+1 day)", AS_OF_31_DAYS)
        result.incremental_build = _step_figures(incremental) | {"profile": read_profile(incr_target).to_dict()}

        unchanged, unchanged_target = ws.scheduled_build("dbt build (nothing new)", AS_OF_31_DAYS)
        result.unchanged_build = _step_figures(unchanged) | {"profile": read_profile(unchanged_target).to_dict()}
    finally:
        ws.close()
    return result


def check_event_counts(counts: list[int]) -> None:
    """Refuse, before anything runs, an event count the generator would refuse (at least 10^3,
    no upper bound: it streams), so a long benchmark does not stop at its last size."""
    from privacy_insights.synthetic.config import GeneratorConfig

    for events in counts:
        GeneratorConfig(events=events)


def run_benchmark(
    root: Path, runs: list[tuple[str, int]], seed: int, results_file: Path, cold_cache: bool = False
) -> list[RunResult]:
    """Run every (target, events) pair, appending each result to ``results_file`` as it finishes."""
    check_event_counts([events for _, events in runs])
    if cold_cache:
        drop_page_cache()  # refused at once, before any data is generated, when not permitted
    results = []
    for target, events in runs:
        results.append(run_one(root, target, events, seed, cold_cache))
        results_file.parent.mkdir(parents=True, exist_ok=True)
        results_file.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return results
