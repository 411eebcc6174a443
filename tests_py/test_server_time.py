"""``public.get_server_time()`` and the timing policies on a real PostgreSQL (component ``clock``)."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from harness import REPO, scratch_database
from pg_reference import as_role, install

pytestmark = pytest.mark.postgres
SHAPE = {"server_time_utc", "unix_epoch_ms", "time_zone", "source", "schema_version"}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@pytest.fixture(scope="module")
def clock_db(postgres_available):
    with scratch_database() as name:
        install(name, "clock")
        install(name, "clock")  # idempotent: a second run succeeds
        yield name


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_server_time_as_client_roles(clock_db, role):
    with as_role(clock_db, role) as conn:
        conn.execute("set timezone = 'Asia/Tokyo'")  # the answer is UTC whatever the session says
        value = conn.execute("select public.get_server_time()").fetchone()[0]
    assert set(value) == SHAPE
    assert value["time_zone"] == "UTC" and value["schema_version"] == 1
    assert ISO_UTC.fullmatch(value["server_time_utc"]), value
    instant = datetime.fromisoformat(value["server_time_utc"].replace("Z", "+00:00"))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert value["unix_epoch_ms"] == (instant - epoch) // timedelta(milliseconds=1)  # one instant, exact
    # Same machine: the server clock is the test's clock (a minute covers any scheduling delay).
    assert abs(instant - datetime.now(UTC)) < timedelta(minutes=1)


def test_server_time_is_the_call_time_not_the_transaction_start(clock_db):
    with as_role(clock_db, "anon") as conn, conn.transaction():
        started = conn.execute("select now()").fetchone()[0]
        conn.execute("select pg_sleep(0.2)")
        value = conn.execute("select public.get_server_time()").fetchone()[0]
    instant = datetime.fromisoformat(value["server_time_utc"].replace("Z", "+00:00"))
    assert instant - started >= timedelta(seconds=0.2)


def test_timing_policies_are_for_the_service_role_only(clock_db):
    with open(REPO / "seeds" / "timing_policies.csv", newline="") as handle:
        seed = {row["job_name"]: row for row in csv.DictReader(handle)}
    with as_role(clock_db, "service_role") as conn:
        for job, row in seed.items():
            policy = conn.execute("select public.atomic_timing_get_policy_v1(%s)", [job]).fetchone()[0]
            assert policy == {
                "job_name": job,
                "cadence_minutes": int(row["cadence_minutes"]),
                "window_start_hour_utc": int(row["window_start_hour_utc"]),
                "window_end_hour_utc": int(row["window_end_hour_utc"]),
                "max_staleness_hours": int(row["max_staleness_hours"]),
                "description": row["description"],
            }
        with pytest.raises(psycopg.errors.NoDataFound, match="p_job_name: no timing policy named 'nope'"):
            conn.execute("select public.atomic_timing_get_policy_v1('nope')")
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="p_job_name: required"):
            conn.execute("select public.atomic_timing_get_policy_v1(null)")
    for role in ("anon", "authenticated"):
        with as_role(clock_db, role) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select public.atomic_timing_get_policy_v1('spots_insights_v1_hourly')")
        with as_role(clock_db, role) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select * from public.atomic_timing_policies_v1")


def test_functions_pin_their_search_path(clock_db):
    with as_role(clock_db, "service_role") as conn:
        rows = conn.execute(
            "select p.proname, p.prosecdef, p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
            "where n.nspname = 'public' and p.proname in ('get_server_time', 'atomic_timing_get_policy_v1')"
        ).fetchall()
    assert len(rows) == 2
    for name, security_definer, config in rows:
        assert not security_definer, f"{name}: SECURITY INVOKER suffices"
        assert config == ["search_path=pg_catalog, pg_temp"], (name, config)
