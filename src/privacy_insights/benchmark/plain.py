"""Benchmark baseline (a): the plain SQL aggregation of the same cells, timed on its own.

Run as a process by the benchmark (``python -m privacy_insights.benchmark.plain``): it
executes the compiled analysis ``analyses/benchmark_plain_cell_counts.sql`` on the
target's engine into the scratch table ``benchmark.plain_cell_counts`` and prints a
JSON summary line. No bounding, noise, suppression or tests: the floor.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from privacy_insights import targets

SCRATCH_SCHEMA = "benchmark"


def run_plain(target: str, compiled_sql: str) -> dict:
    warehouse = targets.connect(target)
    try:
        con = warehouse.connection
        table = warehouse.qualify(SCRATCH_SCHEMA, "plain_cell_counts")
        con.execute(f'create schema if not exists "{warehouse.catalog}".{SCRATCH_SCHEMA}')
        con.execute(f"drop table if exists {table}")
        started = time.perf_counter()
        con.execute(f"create table {table} as {compiled_sql}")
        seconds = time.perf_counter() - started
        cells = dict(con.sql(f"select granularity, count(*) from {table} group by 1").fetchall())
    finally:
        warehouse.close()
    return {"baseline": "plain_sql", "query_s": round(seconds, 3), "cells": cells}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", choices=targets.TARGETS, required=True)
    parser.add_argument("--sql", type=Path, required=True, help="the compiled analysis")
    args = parser.parse_args(argv)
    print(json.dumps(run_plain(args.target, args.sql.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
