"""The split build's hand-off (docs/spark.md; macros/spots/spots_handoff.sql).

One all-DuckDB build of the SPOTS pipeline at 10^5 events is the reference. Then:
- without Spark: the reference writes a hand-off; a fresh DuckDB warehouse that has no raw
  events releases from it, with the same aggregates and the same ledger as the reference,
  and every contract test passing; a hand-off whose manifest differs from the build's vars
  (as_of, the bounding parameter M) or that has no manifest is refused, naming the field,
  and nothing is released from it;
- with Spark (marker ``spark``): ``privacy-insights build --engine spark`` over the same
  rows as Parquet builds staging and intermediate on Spark with their tests, and its tables
  equal the reference's row for row (EXCEPT ALL both ways); the DuckDB release from its
  hand-off passes every contract test and charges the same ledger.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from harness import BIN, PSEUDONYM_KEY, REPO, DbtProject, default_release

pytestmark = pytest.mark.e2e
IN_CI = os.environ.get("CI", "").lower() == "true"

EVENTS = "100000"
VARS = {"as_of": "2026-11-03T00:00:00Z"}
SPOTS = ("--selector", "spots_pipeline")
RELEASE = ("--selector", "spots_release_from_handoff")

# Tables of the Spark half compared with the reference, and the bookkeeping column each
# may differ in (when the row was written).
COMPARED = {
    "staging.stg_spots__interaction_events": "staged_at",
    "staging.stg_spots__interaction_events_quarantine": None,
    "staging.stg_spots__interaction_events_duplicates": None,
    "staging.stg_spots__interaction_events_first_copies": None,
    "intermediate.int_spots__cell_aggregates": "aggregated_at",
    "intermediate.int_spots__door_open_arrivals": None,
    "intermediate.int_spots__landing_completeness": None,
}
LEDGER = "select * exclude (charged_at) from outside_buyer.spots_privacy_budget_ledger"
AGGREGATES = "select * exclude (aggregated_at) from intermediate.int_spots__cell_aggregates"


def except_all_both_ways(con: duckdb.DuckDBPyConnection, left: str, right: str) -> tuple[int, int]:
    one = con.sql(f"select count(*) from ({left} except all {right})").fetchone()[0]
    other = con.sql(f"select count(*) from ({right} except all {left})").fetchone()[0]
    return one, other


def compare_warehouses(left: Path, right: Path, sql: str) -> tuple[int, int]:
    """EXCEPT ALL both ways of the same query on two DuckDB files."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        return except_all_both_ways(con, sql.replace(" from ", " from l.", 1), sql.replace(" from ", " from r.", 1))
    finally:
        con.close()


def run_results(project: DbtProject) -> list[dict]:
    return json.loads((project.workdir / "target" / "run_results.json").read_text())["results"]


def contract_test_outcomes(project: DbtProject) -> dict[str, str]:
    return {r["unique_id"]: r["status"] for r in run_results(project) if ".contract_" in r["unique_id"]}


@pytest.fixture(scope="module")
def raw_parquet(tmp_path_factory) -> Path:
    """10^5 raw SPOTS events as Parquet (the Spark half's source), written by the generator."""
    folder = tmp_path_factory.mktemp("raw_parquet")
    subprocess.run(
        [BIN / "privacy-insights", "generate", "--events", EVENTS, "--tables", "spots", "--parquet-dir", folder],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture(scope="module")
def reference(tmp_path_factory, extension_dir, raw_parquet) -> DbtProject:
    """The all-DuckDB build of the same rows (loaded from the same Parquet files)."""
    project = DbtProject(tmp_path_factory.mktemp("reference"), "dev", extension_dir)
    con = duckdb.connect(project.env["PRIVACY_INSIGHTS_DUCKDB"])
    try:
        con.execute("create schema raw")
        for table in ("spots_interaction_events", "spots_load_watermark"):  # the rows and the loader's watermark
            con.execute(f"create table raw.{table} as select * from read_parquet('{raw_parquet}/{table}/*.parquet')")
    finally:
        con.close()
    project.dbt("build", *SPOTS, vars=VARS)
    return project


@pytest.fixture(scope="module")
def duckdb_handoff(reference, tmp_path_factory) -> Path:
    """A hand-off written by the reference warehouse itself (DuckDB variant of spots_write_handoff)."""
    folder = tmp_path_factory.mktemp("handoff") / "duckdb"
    folder.mkdir()
    reference.dbt("run-operation", "spots_write_handoff", "--args", json.dumps({"folder": str(folder)}), vars=VARS)
    return folder


def test_release_from_a_duckdb_handoff_equals_the_reference(reference, duckdb_handoff, tmp_path, extension_dir):
    released = DbtProject(tmp_path / "released", "dev", extension_dir)
    released.dbt("build", *RELEASE, vars=VARS | {"spots_handoff_dir": str(duckdb_handoff)})

    here, there = Path(released.env["PRIVACY_INSIGHTS_DUCKDB"]), Path(reference.env["PRIVACY_INSIGHTS_DUCKDB"])
    assert compare_warehouses(here, there, AGGREGATES) == (0, 0)
    assert compare_warehouses(here, there, LEDGER) == (0, 0)
    assert released.query("select count(*) from outside_buyer.spots_privacy_budget_ledger")[0][0] > 0
    outcomes = contract_test_outcomes(released)
    assert len(outcomes) >= 10 and set(outcomes.values()) == {"pass"}, outcomes
    # the warehouse released without ever holding an event
    assert released.tables("raw") == [] and released.tables("staging") == []


def bounding_changed() -> dict:
    release = default_release()
    release["granularities"]["day"]["max_opens_per_participant"] += 1
    return {"spots_release": release}


def level_bound_changed() -> dict:
    release = default_release()
    release["levels"]["city_category"]["max_cells_per_participant"] += 1
    return {"spots_release": release}


@pytest.mark.parametrize(
    ("changed_vars", "field"),
    [
        (lambda: {"as_of": "2026-11-04T00:00:00Z"}, "as_of is '2026-11-03 00:00:00' in the hand-off but '2026-11-04"),
        (bounding_changed, "parameters_md5 is '"),
        (level_bound_changed, "parameters_md5 is '"),
    ],
    ids=["as_of", "bounding_parameter", "level_bound_C_L"],
)
def test_a_handoff_whose_manifest_differs_is_refused(duckdb_handoff, tmp_path, extension_dir, changed_vars, field):
    changed_vars = changed_vars()
    released = DbtProject(tmp_path / "refused", "dev", extension_dir)
    result = released.dbt(
        "build", *RELEASE, vars=VARS | changed_vars | {"spots_handoff_dir": str(duckdb_handoff)}, check=False
    )
    assert result.returncode != 0
    assert f"spots hand-off {duckdb_handoff} does not match this build's vars" in result.stdout
    assert field in result.stdout
    # refused before anything was released or charged
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run_results(released)}
    assert statuses["int_spots__cell_aggregates"] == "error"
    assert statuses["spots_insights_v1_releases"] == "skipped"
    assert released.query("select count(*) from outside_buyer.spots_privacy_budget_ledger")[0][0] == 0


def test_a_handoff_without_manifest_is_refused(duckdb_handoff, tmp_path, extension_dir):
    incomplete = tmp_path / "incomplete"
    shutil.copytree(duckdb_handoff, incomplete)
    shutil.rmtree(incomplete / "manifest")
    released = DbtProject(tmp_path / "refused", "dev", extension_dir)
    result = released.dbt("build", *RELEASE, vars=VARS | {"spots_handoff_dir": str(incomplete)}, check=False)
    assert result.returncode != 0
    assert "expected one manifest file in manifest/, found 0" in result.stdout


# ---------------------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark_available() -> None:
    """Java and pyspark, or a skip with the reason (a failure under CI=true, which installs both)."""
    missing = []
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        missing.append("a Java runtime (java on PATH or JAVA_HOME)")
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        missing.append("pyspark and dbt-spark (pip install -e '.[spark]')")
    if missing:
        reason = "the spark tests need " + " and ".join(missing)
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def split_build(spark_available, raw_parquet, tmp_path_factory, extension_dir) -> DbtProject:
    """`privacy-insights build --engine spark` over the Parquet rows: Spark half, hand-off, DuckDB half."""
    project = DbtProject(tmp_path_factory.mktemp("split"), "dev", extension_dir)
    spark_dir = project.workdir / "spark"
    project.env |= {
        "PRIVACY_INSIGHTS_SPARK_WAREHOUSE": str(spark_dir / "warehouse"),
        "PRIVACY_INSIGHTS_SPARK_METASTORE": str(spark_dir / "metastore_db"),
        "DBT_TARGET_PATH": str(project.workdir / "target"),
        "DBT_LOG_PATH": str(project.workdir / "logs"),
    }
    result = subprocess.run(
        [
            str(BIN / "privacy-insights"),
            "build",
            "--engine",
            "spark",
            "--raw-parquet",
            str(raw_parquet),
            "--handoff-dir",
            str(spark_dir / "handoff"),
            "--vars",
            yaml.safe_dump(VARS, default_flow_style=True),
        ],
        cwd=REPO,
        env=project.env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
    project.spark_stdout = result.stdout
    return project


def spark_table(project: DbtProject, table: str, reference_columns: list[tuple[str, str]]) -> str:
    """A Spark table read from its Parquet files in the warehouse folder, typed as the reference's columns.

    Partition columns come from the folder names (hive partitioning); timestamps are INT96,
    which DuckDB reads as UTC wall times.
    """
    schema, name = table.split(".")
    folder = Path(project.env["PRIVACY_INSIGHTS_SPARK_WAREHOUSE"]) / f"{schema}.db" / name
    columns = ", ".join(f'cast("{column}" as {dtype}) as "{column}"' for column, dtype in reference_columns)
    return f"select {columns} from read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"


@pytest.mark.spark
def test_spark_half_builds_and_passes_its_tests(split_build):
    assert "spots hand-off written to" in split_build.spark_stdout
    results = json.loads((split_build.workdir / "target" / "spark" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    tests = {node: status for node, status in statuses.items() if node.startswith("test.")}
    assert set(statuses.values()) <= {"success", "pass"}, statuses
    # the reconciliation of raw rows, the bounding test and the staging column tests ran on Spark
    assert any("reconcile_spots_staging" in node for node in tests)
    assert any("contribution_bounds_respected" in node for node in tests)
    assert len(tests) >= 20
    assert "model.privacy_insights.int_spots__cell_aggregates" in statuses


@pytest.mark.spark
def test_no_file_of_the_split_build_holds_the_pseudonym_key(split_build):
    """dbt's artifacts and logs of both halves, the hand-off, Spark's tables and its Derby
    metastore: the key reached Spark as a session setting, and SQL names it only."""
    key = PSEUDONYM_KEY.encode()
    scanned = 0
    for path in split_build.workdir.rglob("*"):
        if path.is_file():
            scanned += 1
            assert key not in path.read_bytes(), path
    assert scanned > 100
    # Spark reads the key from a view, never by ${...} substitution, which would put it into
    # the statement text that Spark prints when a statement fails to parse
    compiled = list((split_build.workdir / "target" / "spark" / "run").rglob("*.sql"))
    assert compiled and not [path for path in compiled if "${" in path.read_text()]
    staging = next(path for path in compiled if path.name == "stg_spots__interaction_events.sql")
    assert "from global_temp.spots_pseudonym_key" in staging.read_text()


@pytest.mark.spark
def test_spark_tables_equal_duckdb_tables(split_build, reference):
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{reference.env['PRIVACY_INSIGHTS_DUCKDB']}' as ref (read_only)")
        for table, bookkeeping in COMPARED.items():
            schema, name = table.split(".")
            columns = [
                (column, dtype)
                for column, dtype in con.sql(
                    "select column_name, data_type from duckdb_columns() "
                    f"where database_name = 'ref' and schema_name = '{schema}' and table_name = '{name}'"
                ).fetchall()
                if column != bookkeeping
            ]
            names = ", ".join(f'"{column}"' for column, _ in columns)
            reference_rows = f"select {names} from ref.{table}"
            spark_rows = spark_table(split_build, table, columns)
            count = con.sql(f"select count(*) from ({spark_rows})").fetchone()[0]
            assert count == con.sql(f"select count(*) from ref.{table}").fetchone()[0] > 0, table
            assert except_all_both_ways(con, reference_rows, spark_rows) == (0, 0), table
    finally:
        con.close()


@pytest.mark.spark
def test_release_from_the_spark_handoff_passes_the_contract_and_charges_the_same_ledger(split_build, reference):
    outcomes = contract_test_outcomes(split_build)
    assert len(outcomes) >= 10 and set(outcomes.values()) == {"pass"}, outcomes
    here = Path(split_build.env["PRIVACY_INSIGHTS_DUCKDB"])
    there = Path(reference.env["PRIVACY_INSIGHTS_DUCKDB"])
    assert compare_warehouses(here, there, LEDGER) == (0, 0)
    assert compare_warehouses(here, there, AGGREGATES) == (0, 0)
    manifest = next((split_build.workdir / "spark" / "handoff" / "manifest").glob("*.json")).read_text()
    assert json.loads(manifest)["as_of"] == "2026-11-03 00:00:00"
