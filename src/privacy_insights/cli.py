"""The ``privacy-insights`` command. Every command is listed below; ``<command> --help`` gives its options."""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from privacy_insights import targets


def _request_day(name: str):
    """argparse type of a request day: export/policy.py's parse_day, the API's rule too."""

    def parse(text: str):
        from privacy_insights.export.policy import ExportRefused, parse_day

        try:
            return parse_day(name, text)
        except ExportRefused as refusal:
            raise argparse.ArgumentTypeError(f"{refusal.message} [rule {refusal.rule}]") from None

    return parse


def _utc_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _target_option(default: str = "dev") -> argparse.ArgumentParser:
    """The shared ``--target`` option, declared once: every command that touches a target takes it
    as a parent parser. A command group (``buyers``) takes it, and so does each of its
    subcommands (with no default there, so ``buyers --target prod add acme`` and
    ``buyers add acme --target prod`` both mean prod; given twice, the last one counts)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--target",
        choices=targets.TARGETS,
        default=default,
        help="the target whose warehouse, delivery store and delivery folders are used (default: dev)",
    )
    return parent


def _cmd_setup(args: argparse.Namespace) -> int:
    from privacy_insights.setup import ensure_profile, install_postgres_extension

    project = targets.project_root()
    profile = ensure_profile(project)
    path = install_postgres_extension()
    folders = targets.ensure_data_dirs()
    print(f"profile: {profile}")
    print(f"data folders: {', '.join(str(f) for f in folders)}")
    print(f"postgres extension: {path} (installed offline from the duckdb-extension-postgres wheel)")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from privacy_insights.synthetic import GeneratorConfig, generate

    cfg = GeneratorConfig(
        events=args.events,
        seed=args.seed,
        start=args.start,
        days=args.days,
        users=args.users,
        cities=tuple(args.cities or ()),
        outside_city_share=args.outside_city_share,
        bad_share=args.bad_share,
        outreach_events=args.outreach_events,
        outreach_bad_share=args.outreach_bad_share,
        outreach_duplicate_share=args.outreach_duplicate_share,
        attribution_events=args.attribution_events,
        attribution_duplicate_share=args.attribution_duplicate_share,
        attribution_pii_share=args.attribution_pii_share,
        chunk_rows=args.chunk_rows,
        tables=tuple(args.tables),
        profile=args.profile,
    )
    started = time.perf_counter()
    if args.parquet_dir:
        from privacy_insights.synthetic import generate_parquet

        counts = generate_parquet(
            cfg, Path(args.parquet_dir).resolve(), targets.project_root() / "seeds", args.duckdb_memory_limit
        )
    else:
        warehouse = targets.connect(args.target, memory_limit=args.duckdb_memory_limit)
        try:
            counts = generate(cfg, warehouse, targets.project_root() / "seeds")
        finally:
            warehouse.close()
    seconds = time.perf_counter() - started
    report = {
        "target": f"parquet:{args.parquet_dir}" if args.parquet_dir else args.target,
        "rows": counts,
        "seconds": round(seconds, 2),
        "spots_rows_per_second": round(counts.get("spots_interaction_events", 0) / seconds) if seconds else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(report, indent=2))
    return 0


def _utc_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a UTC timestamp like 2026-11-02T00:00:00Z, got {text!r}") from exc
    if value.tzinfo is None or value.utcoffset().total_seconds() != 0:
        raise argparse.ArgumentTypeError(f"expected a UTC timestamp (Z or +00:00), got {text!r}")
    return value


def _cmd_landing_mark(args: argparse.Namespace) -> int:
    from privacy_insights import landing

    table = args.table or {"spots": "spots_interaction_events", "outreach": "outreach_event_logs"}.get(args.source)
    if not table:
        raise ValueError("table: required for --source attribution (the landing table the statement is about)")
    warehouse = targets.connect(args.target)
    try:
        held = landing.mark(warehouse, args.source, table, args.through, args.loader, args.schema)
    finally:
        warehouse.close()
    print(json.dumps({"source": args.source, "table_name": table, "loaded_through": held.isoformat()}))
    return 0


def _cmd_landing_show(args: argparse.Namespace) -> int:
    from privacy_insights import landing

    warehouse = targets.connect(args.target)
    try:
        for source in landing.SOURCES:
            for table, through in landing.read(warehouse, source, args.schema).items():
                print(json.dumps({"source": source, "table_name": table, "loaded_through": through.isoformat()}))
    finally:
        warehouse.close()
    return 0


def _cmd_city_map(args: argparse.Namespace) -> int:
    from privacy_insights.geo import write_city_geohash3_map

    seeds = targets.project_root() / "seeds"
    n = write_city_geohash3_map(seeds / "city_definitions.csv", seeds / "city_geohash3_map.csv")
    print(f"wrote {n} geohash3 cells to {seeds / 'city_geohash3_map.csv'}")
    return 0


def _cmd_postgres_install(args: argparse.Namespace) -> int:
    from privacy_insights import postgres

    with postgres.connect() as conn:
        for component in args.components:
            postgres.install(conn, component, targets.project_root() / "seeds")
            print(f"installed {component} into database {conn.info.dbname} (idempotent)")
    return 0


def _cmd_postgres_retention(args: argparse.Namespace) -> int:
    from privacy_insights import postgres
    from privacy_insights.attribution.retention import check_days
    from privacy_insights.postgres import retention

    check_days(args.days)
    with postgres.connect() as conn:
        result = retention.run(conn, args.days)
    print(json.dumps(result, indent=2))
    return 0


def _cmd_postgres_bi_tenant(args: argparse.Namespace) -> int:
    from privacy_insights import postgres
    from privacy_insights.postgres import bi_tenants

    if args.bi_tenant_command == "add":
        bi_tenants.check_tenant(args.tenant)  # before connecting: a bad id is an error of its own
        with postgres.connect() as conn:
            result = bi_tenants.add(conn, args.tenant, args.login, bi_tenants.password_from_env())
        if "password" in result:
            print(
                "the password is shown this once and stored nowhere (PostgreSQL keeps its SCRAM verifier)",
                file=sys.stderr,
            )
    elif args.bi_tenant_command == "list":
        with postgres.connect() as conn:
            result = bi_tenants.list_logins(conn)
    else:
        with postgres.connect() as conn:
            result = bi_tenants.remove(conn, args.login)
    print(json.dumps(result, indent=2))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from privacy_insights.export import (
        ExportFailed,
        ExportInterrupted,
        ExportInvalid,
        ExportRefused,
        ExportRequest,
        StoreUnavailable,
        export_file,
        load_policy,
        open_store,
        open_warehouse_read_only,
    )
    from privacy_insights.export.locations import default_export_dir
    from privacy_insights.export.run import install_interrupt_handlers

    root = targets.project_root()
    policy = load_policy(root / "export_policy.yml")
    request = ExportRequest(
        buyer_id=args.buyer_id,
        start=args.start,
        end=args.end,
        granularity=args.granularity,
        cities=tuple(args.cities),
        fmt=args.format,
        categories=tuple(args.categories or ()),
        door_types=tuple(args.door_types or ()),
        contexts=tuple(args.contexts or ()),
        include_suppressed=args.include_suppressed,
    )
    out_dir = Path(args.output_dir) if args.output_dir else default_export_dir(policy.export_dir, args.target)
    out_dir = out_dir if out_dir.is_absolute() else root / out_dir
    restore = install_interrupt_handlers()
    try:
        result = export_file(
            request,
            policy,
            lambda: open_warehouse_read_only(args.target),
            root / "seeds",
            targets.project_vars()["contract_forbidden_fields"],
            out_dir,
            open_store(args.target),
            target=args.target,
        )
    except ExportRefused as refusal:
        print(f"privacy-insights: export refused: {refusal}", file=sys.stderr)
        return 3
    except (ExportFailed, ExportInvalid, StoreUnavailable) as failure:
        print(f"privacy-insights: export failed: {' '.join(str(failure).split())}", file=sys.stderr)
        return 4
    except ExportInterrupted as interrupted:
        print(
            f"privacy-insights: export {interrupted}: nothing delivered, no partial file left (audited)",
            file=sys.stderr,
        )
        return interrupted.exit_code
    finally:
        pending = restore()
    if pending:
        print(
            f"privacy-insights: signal {pending} arrived while the delivery was being committed; it completed",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "file": str(result.path),
                "dictionary": str(result.dictionary),
                "rows": result.rows,
                "sha256": result.sha256,
                "audit_id": result.audit_id,
            },
            indent=2,
        )
    )
    return 0


def _cmd_export_retention(args: argparse.Namespace) -> int:
    from privacy_insights.export import load_policy, open_store, purge_expired
    from privacy_insights.export.locations import export_root

    root = targets.project_root()
    policy = load_policy(root / "export_policy.yml")
    months = args.months or policy.retention_months
    counts = purge_expired(open_store(args.target), months, export_root(policy.export_dir))
    print(json.dumps({"target": args.target, "retention_months": months, **counts}, indent=2))
    if counts["files_not_deleted"]:
        print(
            f"privacy-insights: export-retention: {len(counts['files_not_deleted'])} expired file(s) could not be "
            "deleted; their audit rows are kept for the next run",
            file=sys.stderr,
        )
        return 4
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from privacy_insights.export.publish import publish

    result = publish(args.target, targets.project_vars()["contract_forbidden_fields"])
    print(json.dumps(result, indent=2))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from privacy_insights.api.server import serve

    return serve(args.target, args.port, args.poll_seconds, args.header_timeout, args.keep_alive, args.max_connections)


def _cmd_buyers(args: argparse.Namespace) -> int:
    from privacy_insights.api import keys
    from privacy_insights.export import ExportRefused, load_policy, open_store

    policy = load_policy(targets.project_root() / "export_policy.yml")
    store = open_store(args.target)
    try:
        if args.buyers_command == "add":
            key, key_id = keys.add_buyer(
                store,
                policy,
                args.buyer_id,
                args.granularities,
                args.max_cities,
                args.requests_per_minute,
                args.rows_per_day,
                args.fingerprints_per_window,
            )
            print(
                json.dumps(
                    {
                        "buyer_id": args.buyer_id,
                        "key_id": key_id,
                        "api_key": key,
                        "note": "the key is shown once and stored only as a hash: hand it to the buyer now",
                    },
                    indent=2,
                )
            )
        elif args.buyers_command == "rotate":
            key, key_id, revoked = keys.rotate(store, policy, args.buyer_id, args.granularities, args.max_cities)
            print(
                json.dumps(
                    {
                        "buyer_id": args.buyer_id,
                        "key_id": key_id,
                        "api_key": key,
                        "revoked_key_ids": revoked,
                        "note": "the key is shown once and stored only as a hash: hand it to the buyer now",
                    },
                    indent=2,
                )
            )
        elif args.buyers_command == "revoke":
            revoked = keys.revoke(store, args.buyer_id, args.key_id)
            print(json.dumps({"buyer_id": args.buyer_id, "revoked_key_ids": revoked}, indent=2))
        else:
            print(json.dumps(keys.list_buyers(store), indent=2))
    except ExportRefused as refusal:
        print(f"privacy-insights: buyers {args.buyers_command}: {refusal}", file=sys.stderr)
        return 2
    return 0


def _cmd_privacy_table(args: argparse.Namespace) -> int:
    from privacy_insights.dp.accuracy import parameters_markdown
    from privacy_insights.dp.params import parse_policy

    variables = targets.project_vars()
    print(parameters_markdown(parse_policy(variables["spots_release"], variables["reporting_delay_hours"])))
    return 0


def _cmd_benchmark_history(args: argparse.Namespace) -> int:
    from privacy_insights.benchmark.history import RESULTS_FILE, history_markdown, run_history

    root = Path(args.work_dir).resolve()
    command = (
        " ".join(["privacy-insights benchmark", *args.argv]) if args.argv else "privacy-insights benchmark --history"
    )
    document = run_history(
        root,
        args.sizes,
        args.seed,
        args.runs,
        root / RESULTS_FILE,
        command,
        cold_cache=args.cold_cache,
        merge=args.merge,
        spark_sizes=args.spark_sizes,
    )
    markdown = history_markdown(document)
    output = Path(args.output or "docs/benchmark_results.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown)
    print(markdown)
    print(f"results: {output} (raw figures: {root / RESULTS_FILE})")
    return 0


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from privacy_insights.benchmark.report import results_markdown
    from privacy_insights.benchmark.runner import check_event_counts, run_benchmark

    args.argv = sys.argv[2:] if sys.argv[1:2] == ["benchmark"] else []
    if args.history:
        return _cmd_benchmark_history(args)
    check_event_counts([*args.events, *args.postgres_events, *args.spark_events])
    runs = [("dev", n) for n in args.events] + [("prod", n) for n in args.postgres_events]
    root = Path(args.work_dir).resolve()
    results = run_benchmark(root, runs, args.seed, root / "results.json", cold_cache=args.cold_cache)
    spark_results = []
    if args.spark_events:
        from privacy_insights.benchmark.spark import run_spark

        spark_results = [run_spark(root, n, args.seed) for n in args.spark_events]
    command = (
        " ".join(["privacy-insights benchmark", *sys.argv[2:]])
        if sys.argv[1:2] == ["benchmark"]
        else "privacy-insights benchmark"
    )
    markdown = results_markdown(results, command, spark_results)
    output = Path(args.output or "docs/benchmark_results_builds.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown)
    print(markdown)
    print(f"results: {output} (raw figures: {root / 'results.json'})")
    return 0


def _cmd_utility_report(args: argparse.Namespace) -> int:
    from privacy_insights.utility.runner import run

    args.argv = sys.argv[2:] if sys.argv[1:2] == ["utility-report"] else []
    return run(args)


def _cmd_report(args: argparse.Namespace) -> int:
    from privacy_insights.report.run import run

    return run(args.target, args.output)


def _cmd_demo_summary(args: argparse.Namespace) -> int:
    from privacy_insights.demo_summary import summary
    from privacy_insights.export.run import open_warehouse_read_only

    warehouse = open_warehouse_read_only(args.target)  # a missing or locked file: a one-line error
    try:
        location = str(targets.duckdb_path()) if args.target == "dev" else f"target {args.target}"
        print(summary(warehouse, location, args.rows))
    finally:
        warehouse.close()
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    dbt_vars = _vars_argument(args.vars)
    if args.engine == "duckdb":
        from privacy_insights.clock.release import dbt_executable

        command = [dbt_executable(), "build", "--target", args.target, "--vars", json.dumps(dbt_vars)]
        return subprocess.run(command, cwd=targets.project_root()).returncode
    if not args.raw_parquet:
        raise ValueError("--raw-parquet: required with --engine spark (a folder written by `generate --parquet-dir`)")
    from privacy_insights.spark.split_build import run_split_build

    result = run_split_build(
        Path(args.raw_parquet), Path(args.handoff_dir), duckdb_target=args.target, dbt_vars=dbt_vars
    )
    print(json.dumps({"handoff_dir": str(result.handoff_dir), "seconds": result.seconds}, indent=2))
    return 0


def _benchmark_sizes(text: str) -> list[int]:
    from privacy_insights.benchmark.history import parse_sizes

    try:
        return parse_sizes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _vars_argument(text: str | None) -> dict:
    import yaml

    try:
        value = yaml.safe_load(text) if text else {}
    except yaml.YAMLError as exc:
        raise ValueError(f"--vars: not a YAML/JSON mapping ({exc})") from exc
    if not isinstance(value, dict):
        raise ValueError(f"--vars: expected a mapping like '{{as_of: \"2026-11-03T00:00:00Z\"}}', got {text!r}")
    return value


def _cmd_release(args: argparse.Namespace) -> int:
    from privacy_insights.clock.release import main as release_main

    return release_main(args.job, args.target, args.now, args.wait, args.force)


def _command_index(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, str]]:
    """Every command, nested ones too (``postgres install``), with its one-line help."""
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                nested = _command_index(sub, f"{prefix}{name} ")
                rows += nested or [(f"{prefix}{name}", helps[name])]
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="privacy-insights", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    target, in_group = _target_option(), _target_option(argparse.SUPPRESS)

    setup = sub.add_parser("setup", help="install DuckDB's postgres extension offline and create profiles.yml")
    setup.set_defaults(func=_cmd_setup)

    gen = sub.add_parser(
        "generate", help="write deterministic synthetic raw data into a target's raw schema", parents=[target]
    )
    gen.add_argument(
        "--events",
        type=int,
        default=100_000,
        help="SPOTS interaction events, at least 10^3 (no upper bound: rows are streamed in chunks)",
    )
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument(
        "--start",
        type=_utc_date,
        default=datetime(2026, 9, 1, tzinfo=UTC),
        help="first UTC day of activity (YYYY-MM-DD)",
    )
    gen.add_argument("--days", type=int, default=61)
    gen.add_argument("--users", type=int, default=None, help="participants (default events/20, at least 200)")
    gen.add_argument("--cities", nargs="*", help="restrict activity to these city codes")
    gen.add_argument("--outside-city-share", type=float, default=0.05)
    gen.add_argument("--bad-share", type=float, default=0.01, help="SPOTS rows breaking a staging rule")
    gen.add_argument("--outreach-events", type=int, default=None)
    gen.add_argument("--outreach-bad-share", type=float, default=0.03)
    gen.add_argument("--outreach-duplicate-share", type=float, default=0.02)
    gen.add_argument("--attribution-events", type=int, default=None)
    gen.add_argument("--attribution-duplicate-share", type=float, default=0.02)
    gen.add_argument("--attribution-pii-share", type=float, default=0.01)
    gen.add_argument(
        "--chunk-rows",
        type=int,
        default=200_000,
        help="rows written at once (at least 1,000); memory grows with it, the rows do not depend on it",
    )
    gen.add_argument(
        "--duckdb-memory-limit",
        default="256MB",
        help="cap on DuckDB's buffer pool while writing, so memory stays flat at any --events",
    )
    gen.add_argument(
        "--profile",
        choices=["baseline", "realistic"],
        default="baseline",
        help='shape of SPOTS activity (docs/analytics_engineer.md, "Synthetic data"): baseline, or realistic habits, '
        "launch-city concentration and weekly seasonality",
    )
    gen.add_argument(
        "--tables",
        nargs="+",
        default=["spots", "outreach", "attribution"],
        choices=["spots", "outreach", "attribution"],
    )
    gen.add_argument(
        "--parquet-dir",
        help="write the raw tables as Parquet into this folder (one folder per table) instead of into --target; "
        "the spark engine reads them (`build --engine spark --raw-parquet`)",
    )
    gen.set_defaults(func=_cmd_generate)

    build = sub.add_parser(
        "build",
        help="dbt build: on DuckDB/PostgreSQL (--engine duckdb), or split (--engine spark, docs/spark.md)",
        parents=[target],
    )
    build.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="duckdb: the whole project on --target; spark: SPOTS staging and intermediate on Spark, "
        "then the release step on --target from the hand-off",
    )
    build.add_argument("--raw-parquet", help="spark: folder of raw Parquet tables (`generate --parquet-dir`)")
    build.add_argument(
        "--handoff-dir", default="data/spark/handoff", help="spark: where Spark writes the cell aggregates and manifest"
    )
    build.add_argument("--vars", help="dbt vars as YAML, passed to every dbt step (e.g. '{as_of: ...}')")
    build.set_defaults(func=_cmd_build)

    pg = sub.add_parser("postgres", help="PostgreSQL-only objects (RLS, RPCs, triggers, BI role) and retention")
    pg_sub = pg.add_subparsers(dest="postgres_command", required=True)
    pg_install = pg_sub.add_parser(
        "install", help="create or update the objects of outreach, attribution, bi, clock or geo (idempotent)"
    )
    pg_install.add_argument("components", nargs="+", choices=["outreach", "attribution", "bi", "clock", "geo"])
    pg_install.set_defaults(func=_cmd_postgres_install)

    retention = pg_sub.add_parser(
        "retention",
        help="delete attribution rows older than --days (default 90) and outreach rate-limit buckets "
        "whose window has ended; safe daily",
    )
    retention.add_argument("--days", type=int, default=90)
    retention.set_defaults(func=_cmd_postgres_retention)

    bi_tenant = pg_sub.add_parser(
        "bi-tenant", help="per-tenant BI logins: one tenant's attribution marts, RLS enforced (docs/bi.md)"
    )
    bi_tenant_sub = bi_tenant.add_subparsers(dest="bi_tenant_command", required=True)
    bi_add = bi_tenant_sub.add_parser(
        "add",
        help="create a read-only login for one tenant (password from $PRIVACY_INSIGHTS_BI_TENANT_PASSWORD, "
        "else generated and printed once)",
    )
    bi_add.add_argument("tenant", help="the tenant's UUID (tenant_id of the attribution marts)")
    bi_add.add_argument("--login", help="role name (default privacy_insights_bi_tenant_<the tenant's hex digits>)")
    bi_add.set_defaults(func=_cmd_postgres_bi_tenant)
    bi_list = bi_tenant_sub.add_parser("list", help="the tenant BI logins of this database")
    bi_list.set_defaults(func=_cmd_postgres_bi_tenant)
    bi_remove = bi_tenant_sub.add_parser("remove", help="drop a tenant BI login (only one that bi-tenant add made)")
    bi_remove.add_argument("login")
    bi_remove.set_defaults(func=_cmd_postgres_bi_tenant)

    export = sub.add_parser(
        "export", help="deliver a slice of spots_insights_v1 to a buyer (validated, audited)", parents=[target]
    )
    export.add_argument("--buyer-id", required=True)
    export.add_argument("--start", type=_request_day("start"), required=True, help="first bucket day, YYYY-MM-DD")
    export.add_argument(
        "--end", type=_request_day("end"), required=True, help="last bucket day, YYYY-MM-DD (inclusive)"
    )
    export.add_argument("--granularity", choices=["hour", "day", "week"], default="day")
    export.add_argument("--cities", nargs="+", required=True, help="city codes (seeds/city_definitions.csv)")
    export.add_argument("--categories", nargs="*")
    export.add_argument("--door-types", nargs="*")
    export.add_argument("--contexts", nargs="*")
    export.add_argument("--format", choices=["jsonl", "parquet", "csv"], default="jsonl")
    export.add_argument(
        "--include-suppressed",
        action="store_true",
        help="also deliver suppressed cells (keys and reason, null metrics)",
    )
    export.add_argument(
        "--output-dir",
        help="default: <export_dir of export_policy.yml>/<target>; a folder of another target is refused",
    )
    export.set_defaults(func=_cmd_export)

    export_retention = sub.add_parser(
        "export-retention",
        help="delete buyer files and audit rows older than the retention (12 months)",
        parents=[target],
    )
    export_retention.add_argument("--months", type=int, default=None)
    export_retention.set_defaults(func=_cmd_export_retention)

    publish = sub.add_parser(
        "publish",
        help="publish the built release as the immutable snapshot the API serves (run after every dbt build)",
        parents=[target],
    )
    publish.set_defaults(func=_cmd_publish)

    serve = sub.add_parser("serve", help="the buyer HTTP API on 127.0.0.1 (OpenAPI docs at /docs)", parents=[target])
    serve.add_argument("--port", type=int, default=8000, help="TCP port on 127.0.0.1 (0: any free port)")
    serve.add_argument(
        "--poll-seconds", type=float, default=1.0, help="how often to look for a newly published release"
    )
    serve.add_argument("--header-timeout", type=float, default=10.0, help="seconds a request's headers may take")
    serve.add_argument("--keep-alive", type=int, default=5, help="seconds an idle keep-alive connection stays open")
    serve.add_argument(
        "--max-connections", type=int, default=256, help="open connections (or requests in flight) before 503"
    )
    serve.set_defaults(func=_cmd_serve)

    buyers = sub.add_parser(
        "buyers", help="buyers and their API keys (keys are shown once, stored as a hash)", parents=[target]
    )
    buyers_sub = buyers.add_subparsers(dest="buyers_command", required=True)
    for name, text in (
        ("add", "register a buyer and issue its first API key"),
        ("rotate", "issue a new key and revoke the buyer's other keys"),
    ):
        cmd = buyers_sub.add_parser(name, help=text, parents=[in_group])
        cmd.add_argument("buyer_id", help="lower-case ASCII slug: a-z, 0-9, '-', '_' (at most 63 characters)")
        cmd.add_argument(
            "--granularities",
            nargs="+",
            choices=["hour", "day", "week"],
            help="key scope (default day week; hour only for buyers in export_policy.yml)",
        )
        cmd.add_argument("--max-cities", type=int, help="key scope: cities per request (default: the policy's)")
        if name == "add":
            cmd.add_argument("--requests-per-minute", type=int)
            cmd.add_argument("--rows-per-day", type=int)
            cmd.add_argument(
                "--fingerprints-per-window", type=int, help="distinct slices per fingerprint window (export_policy.yml)"
            )
        cmd.set_defaults(func=_cmd_buyers)
    revoke = buyers_sub.add_parser(
        "revoke", help="revoke every key of a buyer (or one with --key-id)", parents=[in_group]
    )
    revoke.add_argument("buyer_id")
    revoke.add_argument("--key-id")
    revoke.set_defaults(func=_cmd_buyers)
    listing = buyers_sub.add_parser("list", help="buyers, limits and key ids (never a secret)", parents=[in_group])
    listing.set_defaults(func=_cmd_buyers)

    table = sub.add_parser("privacy-table", help="print the privacy defaults and expected errors as Markdown")
    table.set_defaults(func=_cmd_privacy_table)

    bench = sub.add_parser(
        "benchmark",
        help="time dbt build at each --events size (10^3 and up, 10^8 included) against two baselines "
        "(docs/benchmark.md)",
    )
    bench.add_argument(
        "--events",
        type=int,
        nargs="*",
        default=[100_000, 1_000_000, 10_000_000],
        help="event counts on the embedded DuckDB target",
    )
    bench.add_argument(
        "--postgres-events",
        type=int,
        nargs="*",
        default=[100_000, 1_000_000],
        help="event counts on the postgres target (needs a local PostgreSQL)",
    )
    bench.add_argument(
        "--spark-events",
        type=int,
        nargs="*",
        default=[1_000, 100_000, 1_000_000],
        help="event counts of the split build on Spark (needs the spark extra and Java); the smallest run "
        "shows the fixed start-up cost",
    )
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument(
        "--cold-cache",
        action="store_true",
        help="drop the OS page cache before each measured step, so every build and baseline reads the "
        "warehouse from disk as a daily build does (root on Linux only; refused otherwise)",
    )
    bench.add_argument("--work-dir", default="data/benchmark", help="scratch warehouses and dbt artifacts")
    bench.add_argument(
        "--output",
        default=None,
        help="Markdown tables of the measured figures (docs/benchmark.md discusses them); default "
        "docs/benchmark_results.md with --history, else docs/benchmark_results_builds.md",
    )
    history = bench.add_argument_group(
        'history mode (issue 30: what grows with data and history; docs/benchmark.md, "History benchmark")'
    )
    history.add_argument(
        "--history",
        action="store_true",
        help="per --sizes on the dev DuckDB target: full build, nothing new (same clock again), plain SQL "
        "floor and +1 day (a day of events landed, the clock a day on), --runs times alternating; growth "
        "exponents and the goals of issue 30 at the top of --output. --events, --postgres-events and "
        "--spark-events are not read",
    )
    history.add_argument(
        "--sizes",
        type=_benchmark_sizes,
        default=[10**3, 10**6, 10**7, 10**8],
        help="with --history: comma-separated event counts, 1e3 or 1000 (default 1e3,1e6,1e7,1e8)",
    )
    history.add_argument(
        "--runs", type=_positive_int, default=2, help="with --history: runs of every measure per size (default 2)"
    )
    history.add_argument(
        "--spark-sizes",
        type=_benchmark_sizes,
        default=[],
        help="with --history: also the split build on Spark at these sizes (e.g. 1e6,1e7; default none)",
    )
    history.add_argument(
        "--merge",
        action="store_true",
        help="with --history: keep the sizes of the work folder's earlier results that this run does not "
        "measure (run 10^8 apart, then report every size in one file)",
    )
    bench.set_defaults(func=_cmd_benchmark)

    utility = sub.add_parser(
        "utility-report",
        help="measure the release's coverage and error against the truth (Markdown + PNG; internal: reads true counts)",
    )
    utility.add_argument("--events", type=int, nargs="*", default=[1_000_000, 10_000_000])
    utility.add_argument("--profiles", nargs="*", default=["baseline", "realistic"], choices=["baseline", "realistic"])
    utility.add_argument("--seed", type=int, default=42)
    utility.add_argument(
        "--from-target", choices=targets.TARGETS, help="measure this target's built warehouse instead of fresh builds"
    )
    utility.add_argument("--work-dir", default="data/utility", help="scratch warehouses for fresh builds")
    utility.add_argument("--output", default="docs/utility.md", help="Markdown report; figures go beside it")
    utility.add_argument(
        "--no-peer",
        action="store_true",
        help="skip the PipelineDP comparison (optional extra peer; without it the report says it is not installed)",
    )
    utility.set_defaults(func=_cmd_utility_report)

    report = sub.add_parser(
        "report",
        help="the reviewer's report of a built warehouse: budget over the window, "
        "cells by city, published error, exports (Markdown + PNG)",
        parents=[target],
    )
    report.add_argument(
        "--output",
        "--out",
        metavar="DIR",
        help="folder for report.md and its PNG figures, relative to the project folder (default: report/<target>/ "
        "beside the DuckDB file, data/report/dev/; the committed example is written only with --output docs/report)",
    )
    report.set_defaults(func=_cmd_report)

    demo = sub.add_parser(
        "demo-summary",
        help="print what a build released: released cells, a few released rows, the ledger's epsilon per period",
        parents=[target],
    )
    demo.add_argument("--rows", type=_positive_int, default=8, help="released city-day rows to print (default: 8)")
    demo.set_defaults(func=_cmd_demo_summary)

    release = sub.add_parser(
        "release",
        help="for schedulers: dbt build with as_of from the UTC clock (hour), "
        "driven by a timing policy (seeds/timing_policies.csv)",
        parents=[target],
    )
    release.add_argument("--job", default="spots_insights_v1_hourly", help="job_name of the timing policy")
    release.add_argument(
        "--now",
        default=None,
        help="simulated UTC clock, e.g. 2026-11-02T05:10:00Z (not in the "
        "future; default: $PRIVACY_INSIGHTS_NOW, else the real clock)",
    )
    release.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="seconds to wait for a running release to finish (default 0: exit cleanly)",
    )
    release.add_argument(
        "--force", action="store_true", help="run outside the policy's window, and again within a slot that already ran"
    )
    release.set_defaults(func=_cmd_release)

    landing_cmd = sub.add_parser(
        "landing",
        help="landing watermarks: how far a loader states its landing complete (docs/landing.md)",
        parents=[target],
    )
    landing_sub = landing_cmd.add_subparsers(dest="landing_command", required=True)
    mark = landing_sub.add_parser(
        "mark", help="record that a landing table is complete through a UTC instant", parents=[in_group]
    )
    mark.add_argument("--source", choices=["spots", "outreach", "attribution"], required=True)
    mark.add_argument("--table", help="landing table (default: the source's event table)")
    mark.add_argument("--through", type=_utc_instant, required=True, help="every event before this has landed")
    mark.add_argument("--loader", default="privacy-insights landing mark", help="who states it")
    mark.add_argument("--schema", default="raw", help="schema of the landing tables (default raw)")
    mark.set_defaults(func=_cmd_landing_mark)
    show = landing_sub.add_parser("show", help="print every landing watermark (one JSON line each)", parents=[in_group])
    show.add_argument("--schema", default="raw")
    show.set_defaults(func=_cmd_landing_show)

    seeds = sub.add_parser("seeds", help="maintain derived seed files")
    seeds_sub = seeds.add_subparsers(dest="seeds_command", required=True)
    city_map = seeds_sub.add_parser("city-map", help="rewrite seeds/city_geohash3_map.csv from city_definitions.csv")
    city_map.set_defaults(func=_cmd_city_map)

    rows = _command_index(parser)
    width = max(len(name) for name, _ in rows)
    parser.epilog = "commands:\n" + "\n".join(f"  {name:<{width}}  {text}" for name, text in rows)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError) as exc:
        print(f"privacy-insights: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
