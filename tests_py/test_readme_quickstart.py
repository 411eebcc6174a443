"""The README's quick start, followed literally, and the CLI's help.

The quick start runs in a fresh copy of the tree (the files git tracks or would track, as
they are in the work tree: no data/, target/, profiles.yml or .duckdb/) with the one
liberty that makes it cheap: `.venv` is a link to the virtual environment running this
test, whose install stamp is newer than the copied pyproject.toml, so `make` installs
nothing. Covered: every command of the section's `sh` blocks, as written, in a clean
environment (no DBT_*, PRIVACY_INSIGHTS_*, PG* or make's own variables), from `make demo`
(setup, 10^6 events generated, dbt build, the summary of what was released) to reading its
output: day cells released in several cities, the printed rows present in the warehouse
with the printed values, the ledger's epsilon per period as the ledger holds it. Not covered: `make test` (it would
run this test again), a fresh `pip install` (CI's `.ci/run` does that), the PostgreSQL
commands of "Targets" (tests_py/test_bi_postgres.py and the e2e tests build there).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from harness import REPO
from privacy_insights.cli import build_parser

VENV = Path(sys.executable).parent.parent


def quickstart_commands(readme: str) -> list[str]:
    """The command lines of the `sh` blocks in the README's "Quick start" section."""
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()  # trailing comments as the shell would
            if command:
                commands.append(command)
    return commands


def fresh_tree(destination: Path) -> Path:
    files = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    (destination / ".venv").symlink_to(VENV)
    # make must see the venv as up to date: it would otherwise reinstall the package from this copy
    stamp = (VENV / "bin" / ".installed").stat().st_mtime if (VENV / "bin" / ".installed").exists() else None
    if stamp is None:
        pytest.skip(f"{VENV} was not installed by `make install` (no .installed stamp)")
    os.utime(destination / "pyproject.toml", (stamp - 60, stamp - 60))
    return destination


@pytest.mark.e2e
def test_quickstart_commands_run_as_written(tmp_path):
    commands = quickstart_commands((REPO / "README.md").read_text())
    assert commands[:2] == ["make demo", "make test"], commands
    tree = fresh_tree(tmp_path / "tree")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DBT_", "PRIVACY_INSIGHTS_", "PG", "SPOTS_", "VIRTUAL_ENV"))
        # nor the outer `make test`'s: a sub-make prints "Leaving directory" after the last line
        and key not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(VENV)))

    outputs = {}
    for command in commands:
        if command == "make test":
            continue  # would run this very test again
        result = subprocess.run(["bash", "-c", command], cwd=tree, env=env, capture_output=True, text=True)
        assert result.returncode == 0, (
            f"README command failed: {command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        outputs[command] = result.stdout
    demo = outputs["make demo"]

    con = duckdb.connect(str(tree / "data" / "privacy_insights.duckdb"), read_only=True)
    try:
        # the summary names every schema the warehouse holds
        schemas = {r[0] for r in con.sql("select distinct table_schema from information_schema.tables").fetchall()}
        listed = set(re.search(r"^Results: .*\(schemas (.*)\)$", demo, re.M).group(1).split(", "))
        assert listed == schemas and {"outside_buyer", "outreach", "attribution", "ops"} <= listed, listed

        # the default demo releases day cells, in several cities
        released_days, cities = con.sql(
            "select count(*), count(distinct geo_bucket_id) from outside_buyer.spots_insights_v1 "
            "where time_granularity = 'day' and not privacy_suppressed"
        ).fetchone()
        assert released_days > 0 and cities >= 5, (released_days, cities)
        day_line = re.search(r"^day\s+([\d,]+)\s+([\d,]+)\s+(\d+) of 61$", demo, re.M)
        assert day_line and int(day_line.group(1).replace(",", "")) > 0, demo[-3000:]
        assert int(day_line.group(3)) == cities, (day_line.group(0), cities)

        # the printed rows are released rows of the warehouse, with their published values
        printed = sample_rows(demo)
        assert len(printed) == 8, demo[-3000:]
        for city, day, participants in printed:
            found = con.execute(
                "select count(*) from outside_buyer.spots_insights_v1 where time_granularity = 'day' "
                "and release_level = 'city' and not privacy_suppressed and geo_bucket_id = ? "
                "and cast(time_bucket_start_utc as date) = ? and unique_participants_est = ?",
                [city, day, participants],
            ).fetchone()[0]
            assert found == 1, (city, day, participants)

        # the ledger's epsilon per period: what the ledger holds, periods collapsed
        charged = con.sql(
            "select time_granularity, count(*), min(epsilon), max(epsilon) "
            "from outside_buyer.spots_privacy_budget_ledger where status = 'charged' group by 1 order by 1"
        ).fetchall()
    finally:
        con.close()
    assert [g for g, *_ in charged] == ["day", "week"], charged
    for granularity, periods, low, high in charged:
        assert low == high, charged
        assert re.search(rf"^{granularity}\s+\S+ \.\. \S+\s+{periods}\s+initial\s+charged\s+{high:g}$", demo, re.M), (
            granularity,
            demo[-2000:],
        )
    assert "Where to look next" in demo and "make report" in demo

    # dbt build ran the unit tests (on DuckDB) and they passed
    results = json.loads((tree / "target" / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert unit and all(r["status"] == "pass" for r in unit), [(r["unique_id"], r["status"]) for r in unit]

    # "Look at it yourself": the summary again with more rows, released day rows, the whole ledger
    again = next(out for command, out in outputs.items() if "demo-summary --rows" in command)
    wanted = int(re.search(r"demo-summary --rows (\d+)", "\n".join(commands)).group(1))
    assert len(sample_rows(again)) == wanted, again
    rows = next(out for command, out in outputs.items() if "from outside_buyer.spots_insights_v1" in command)
    assert "participants" in rows and "margin95" in rows and re.search(r"\b\d{4}-\d{2}-\d{2}\b", rows), rows
    ledger = next(out for command, out in outputs.items() if "spots_privacy_budget_ledger" in command)
    assert "time_granularity" in ledger and "charged" in ledger and "epsilon_cap" in ledger, ledger[:2000]


def sample_rows(output: str) -> list[tuple[str, str, int]]:
    """(city, day, participants) of the "A few released rows" table that demo-summary prints."""
    section = output.split("A few released rows", 1)[1].split("\n\n", 1)[0]
    return [
        (city, day, int(people.replace(",", "")))
        for city, day, people in re.findall(
            r"^([a-z]{2}-[a-z]{3})\s.*?(\d{4}-\d{2}-\d{2})\s+([\d,]+) ± [\d,]+", section, re.M
        )
    ]


def leaf_commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, str]]:
    """(command path, help) of every runnable command, walking argparse's subparsers."""
    leaves = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                leaves += leaf_commands(sub, f"{prefix}{name} ") or [(f"{prefix}{name}", helps[name])]
    return leaves


def test_help_lists_every_command_with_a_description():
    """`privacy-insights --help` names every command, nested ones too, each with its one-line help."""
    parser = build_parser()
    commands = leaf_commands(parser)
    text = parser.format_help()
    assert {
        "setup",
        "generate",
        "postgres install",
        "postgres retention",
        "export",
        "export-retention",
        "privacy-table",
        "benchmark",
        "seeds city-map",
    } <= {name for name, _ in commands}
    for name, description in commands:
        assert description, f"{name}: no help text"
        assert re.search(rf"^  {re.escape(name)}\s+{re.escape(description)}$", text, re.M), f"{name} not in --help"
