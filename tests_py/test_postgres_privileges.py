"""Issue 26: privileges are data, checked over the whole catalog.

One database, owned by a login that is not a superuser and has CREATEROLE only (what a
managed PostgreSQL gives), where that login runs `privacy-insights postgres install` of every
part through the real CLI, twice. Then the pgTAP suite (tests_py/pgtap/privileges.sql)
compares the catalog with the allow-list (src/privacy_insights/postgres/privileges.yml) and
passes; and it fails, naming what is wrong, after each one-line change a careless migration
could make (a grant to PUBLIC, a superuser-owned function, ...), which is then undone.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

import pg_privileges
from harness import BIN, REPO, owned_scratch_database, postgres_admin
from privacy_insights.postgres import privileges, roles

pytestmark = pytest.mark.postgres

PARTS = ["outreach", "attribution", "bi", "clock", "geo"]


def install_as(database: str, login: str) -> subprocess.CompletedProcess:
    env = os.environ | {
        "PGHOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PGUSER": login,
        "PGDATABASE": database,
        "PRIVACY_INSIGHTS_PROJECT_DIR": str(REPO),
    }
    return subprocess.run(
        [str(BIN / "privacy-insights"), "postgres", "install", *PARTS], env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def installed(postgres_available):
    """(database, installing login, the two installs' outputs), the suite ready to run."""
    pg_privileges.require_pgtap()
    with owned_scratch_database() as (database, login):
        runs = [install_as(database, login) for _ in range(2)]  # the second: idempotent
        if all(run.returncode == 0 for run in runs):
            pg_privileges.prepare(database)
        yield database, login, runs


def test_install_of_every_part_succeeds_as_a_non_superuser_database_owner(installed):
    database, login, runs = installed
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert [line.split()[1] for line in run.stdout.splitlines()] == PARTS, run.stdout
    with postgres_admin(database) as admin:
        attributes = admin.execute(
            "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles where rolname = %s", [login]
        ).fetchone()
        assert attributes == (False, True, False, False)
        assert admin.execute(
            "select pg_get_userbyid(datdba) from pg_database where datname = current_database()"
        ).fetchone() == (login,)
        owners = admin.execute(
            "select distinct pg_get_userbyid(relowner) from pg_class where relnamespace = 'public'::regnamespace "
            "union select distinct pg_get_userbyid(proowner) from pg_proc where pronamespace = 'public'::regnamespace"
        ).fetchall()
        assert owners == [(roles.OWNER,)], "the installer owns nothing; the owner role owns everything"
        assert not admin.execute("select pg_has_role(%s, %s, 'MEMBER')", [login, roles.OWNER]).fetchone()[0], (
            "the installer keeps no membership in the owner role"
        )


def test_privilege_suite_passes_on_a_fresh_install_of_every_part(installed):
    database, _, runs = installed
    assert all(run.returncode == 0 for run in runs)
    result = pg_privileges.run(database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All tests successful." in result.stdout and "Tests=18" in result.stdout, result.stdout


# One change each, as a careless migration would make it, the suite's tests it must fail, and
# how to undo it. Statements run as the superuser; "as owner" ones under SET ROLE to the owner.
MUTATIONS = {
    "grant to PUBLIC": (
        ["grant select on public.outreach_event_logs to public"],
        ["no table, view or sequence privilege", "every checked role reaches exactly"],
        ["revoke select on public.outreach_event_logs from public"],
    ),
    "superuser-owned function": (
        ["create function public.pi_suite_probe() returns integer language sql as 'select 1'"],
        [
            "owned by the owner role",
            "has an allow-list entry",
            "every function, invoker ones too, sets search_path",
            "executable by PUBLIC",
        ],
        ["drop function public.pi_suite_probe()"],
    ),
    "definer function of the owner without a search_path": (
        [
            f"grant create on schema public to {roles.OWNER}",  # as during an install
            f"set role {roles.OWNER}",
            "create function public.pi_suite_probe() returns integer language sql security definer as 'select 1'",
            "reset role",
            f"revoke create on schema public from {roles.OWNER}",
        ],
        ["has an allow-list entry", "SECURITY DEFINER functions are exactly", "every SECURITY DEFINER function sets"],
        ["drop function public.pi_suite_probe()"],
    ),
    "trigger function executable by authenticated": (
        ["grant execute on function public.fn_revenue_state_audit() to authenticated"],
        ["no SECURITY DEFINER function is executable by PUBLIC, anon or authenticated", "reaches exactly"],
        ["revoke execute on function public.fn_revenue_state_audit() from authenticated"],
    ),
    "TEMP for anon": (
        ["grant temporary on database {database} to anon"],
        ["reaches exactly"],
        ["revoke temporary on database {database} from anon"],
    ),
    "RLS no longer forced on a tenant table": (
        ["alter table public.revenue_ledger no force row level security"],
        ["forced on exactly the allow-listed tables", "every tenant-scoped table"],
        ["alter table public.revenue_ledger force row level security"],
    ),
    "BI role reads a landing table": (
        ["grant select on public.attribution_events to privacy_insights_bi"],
        ["reaches exactly"],
        ["revoke select on public.attribution_events from privacy_insights_bi"],
    ),
    "a table the tenant BI logins read without their restrictive policy": (
        [
            "create schema attribution",
            "grant usage on schema attribution to privacy_insights_bi_tenant",
            "create table attribution.t (tenant_id uuid)",
            "alter table attribution.t enable row level security",
            "alter table attribution.t force row level security",
            "create policy tenant_isolation_policy on attribution.t using (tenant_id = "
            "nullif(current_setting('app.current_tenant_id', true), '')::uuid)",
            "grant select on attribution.t to privacy_insights_bi_tenant",
        ],  # fmt: skip
        ["a role with a restrictive policy"],
        ["drop schema attribution cascade"],
    ),
    "a table outside the installed schemas readable by anon": (
        [
            "create schema pi_probe",
            "grant usage on schema pi_probe to anon",
            "create table pi_probe.t (x int)",
            "grant select on pi_probe.t to anon",
        ],  # fmt: skip
        ["outside the installed schemas"],
        ["drop schema pi_probe cascade"],
    ),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_privilege_suite_fails_on_an_unlisted_privilege_or_owner(installed, mutation):
    database, _, runs = installed
    assert all(run.returncode == 0 for run in runs)
    change, failing, undo = MUTATIONS[mutation]
    with postgres_admin(database) as admin:
        for statement in change:
            admin.execute(statement.format(database=f'"{database}"'))
    try:
        result = pg_privileges.run(database)
    finally:
        with postgres_admin(database) as admin:
            for statement in undo:
                admin.execute(statement.format(database=f'"{database}"'))
    assert result.returncode != 0, result.stdout
    failed = [line for line in result.stdout.splitlines() if line.startswith("not ok")]
    for description in failing:
        assert any(description in line for line in failed), (description, result.stdout, result.stderr)


# --- the allow-list's own rules (no database) ---------------------------------------------------


def allow_list_with(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "privileges.yml"
    original = (REPO / "src/privacy_insights/postgres/privileges.yml").read_text()
    path.write_text(original.replace("\nfunctions:\n", "\nfunctions:\n" + text, 1))
    return path


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            "  public.f():\n    security_definer: true\n    grants: {anon: [EXECUTE]}\n    why: x\n",
            "contract: required: a SECURITY DEFINER function that anon can execute",
        ),
        ("  public.f():\n    grants: {nobody: [EXECUTE]}\n    why: x\n", "role 'nobody' is not listed under roles"),
        ("  public.f():\n    grants: {anon: [SELECT]}\n    why: x\n", "are not privileges of functions"),
        ("  public.f():\n    grants: {}\n", "why: required"),
    ],
)
def test_allow_list_refuses_an_entry_that_breaks_its_rules(tmp_path, entry, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        privileges.load(allow_list_with(tmp_path, entry))


def test_allow_list_gives_public_grants_to_every_role():
    allow = privileges.load()
    reach = allow.reach()
    assert {(role, "schema public", "USAGE") for role in allow.roles} <= reach
    assert ("anon", "public.outreach_log_event(text, text, text, text, text, text, text, text, text, text, text)",
            "EXECUTE") in reach  # fmt: skip
    assert not any(identity == "public.fn_revenue_state_audit()" for _, identity, _ in reach)


def test_a_tenant_bi_login_is_added_and_removed_by_the_non_superuser_database_owner(installed):
    """docs/bi.md: the managed-PostgreSQL path. The CREATEROLE database owner that installed
    every part adds a per-tenant BI login (role, membership, preset tenant, read-only default,
    its row of the map), and removes it again, through the real CLI."""
    database, login, runs = installed
    assert all(run.returncode == 0 for run in runs)
    tenant = "3f2a9c1e-0b7d-4e5f-9a8b-1c2d3e4f5a6b"
    tenant_login = f"pi_test_bi_tenant_{uuid.uuid4().hex[:12]}"  # roles are cluster-wide: a unique name
    env = os.environ | {
        "PGHOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PGUSER": login,
        "PGDATABASE": database,
        "PRIVACY_INSIGHTS_BI_TENANT_PASSWORD": "choose one",
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [str(BIN / "privacy-insights"), "postgres", "bi-tenant", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True)

    try:
        added = cli("add", tenant, "--login", tenant_login)
        assert added.returncode == 0, added.stderr
        preset = json.loads(added.stdout)["tenant_preset"]  # False on PostgreSQL 15: superusers only
        with postgres_admin(database) as admin:
            role = admin.execute(
                "select r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolbypassrls, "
                "pg_has_role(r.oid, 'privacy_insights_bi_tenant', 'USAGE') from pg_roles as r where r.rolname = %s",
                [tenant_login],
            ).fetchone()
            assert role == (True, False, False, False, True)
            settings = admin.execute(
                "select d.datname, s.setconfig from pg_db_role_setting as s left join pg_database as d "
                "on d.oid = s.setdatabase where s.setrole = %s::regrole order by 1 nulls first",
                [tenant_login],
            ).fetchall()
            assert settings == [(None, ["default_transaction_read_only=on"])] + (
                [(database, [f"app.current_tenant_id={tenant}"])] if preset else []
            )
            mapped = admin.execute(
                "select tenant_id::text from public.bi_tenant_logins where login = %s", [tenant_login]
            )
            assert mapped.fetchall() == [(tenant,)]
        removed = cli("remove", tenant_login)
        assert removed.returncode == 0, removed.stderr
        with postgres_admin(database) as admin:
            assert admin.execute("select to_regrole(%s)", [tenant_login]).fetchone() == (None,)
            assert admin.execute("select count(*) from public.bi_tenant_logins").fetchone() == (0,)
    finally:
        with postgres_admin(database) as admin:
            admin.execute("delete from public.bi_tenant_logins where login = %s", [tenant_login])
            admin.execute(f'drop role if exists "{tenant_login}"')
