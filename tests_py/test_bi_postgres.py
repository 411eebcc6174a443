"""BI on PostgreSQL (docs/bi.md), as a BI tool meets it.

One PostgreSQL database for the whole module, every part installed, and three builds of the
public marts and the reference data: `prod`, then `pg_dev` in the same database (after grants
an earlier development build would have left), then `prod` again. The second production
build is the point for grants: dbt recreates every table, so anything granted or declared by
hand is gone unless the hooks put it back. Then:

- as the BI role, through SQLAlchemy's inspector (what Superset does): the schemas it can
  read, every public mart of dbt's manifest with its comments and primary key, every row,
  every reference table, every example query of docs/bi.md;
- no client role can read anything the `pg_dev` build wrote (issue 31: it used to grant the
  BI role its `dev_*` copies), and the catalog-wide privilege suite holds over it all;
- a per-tenant BI login (`privacy-insights postgres bi-tenant add`) reads its tenant's
  attribution rows and only them, whatever it sets `app.current_tenant_id` to.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import psycopg
import pytest
import sqlalchemy
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import pg_privileges
from harness import BIN, REPO, DbtProject, postgres_admin, scratch_database
from privacy_insights import postgres
from privacy_insights.postgres import bi_tenants

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

BI_ROLE = "privacy_insights_bi"
CLIENT_ROLES = (BI_ROLE, "privacy_insights_bi_tenant", "attribution_app")
# What a production build publishes: the public marts and the reference data (docs/bi.md).
SELECT = ["--select", "+access:public", "config.schema:reference", "--indirect-selection", "cautious"]
BI_SCHEMAS = {"ops", "outreach", "outside_buyer", "reference"}
# Grants a development build made before issue 31 (the schemas outlive every build); the
# pg_dev build must take them back.
STALE_DEV_GRANTS = [
    "create schema dev_reference",
    "create schema dev_ops",
    "create table dev_ops.stale_published (x integer)",
    *(f"grant usage on schema dev_reference, dev_ops to {role}" for role in CLIENT_ROLES),
    *(f"grant select on dev_ops.stale_published to {role}" for role in CLIENT_ROLES),
]


@pytest.fixture(scope="module")
def built(postgres_available, extension_dir, tmp_path_factory) -> DbtProject:
    with scratch_database() as name:
        workdir = tmp_path_factory.mktemp("bi")
        project = DbtProject(workdir / "postgres", "prod", extension_dir, pg_database=name)
        project.generate("--events", "3000", "--seed", "3")
        with postgres_admin(name) as admin:
            for component in postgres.COMPONENTS:  # every part: the privilege suite runs on top
                postgres.install(admin, component, REPO / "seeds")
            postgres.install(admin, "bi", REPO / "seeds")  # idempotent
        project.dbt("build", *SELECT)
        with postgres_admin(name) as admin:
            for statement in STALE_DEV_GRANTS:
                admin.execute(statement)
        development = DbtProject(workdir / "pg_dev", "pg_dev", extension_dir, pg_database=name)
        # the grants are made by hooks; data tests change nothing there, so they are skipped (CI time)
        development.dbt("build", *SELECT, "--exclude-resource-type", "test", "unit_test")
        # the second build recreates every table (its data tests ran in the first one)
        project.dbt("build", *SELECT, "--exclude-resource-type", "test", "unit_test")
        yield project


def manifest(project: DbtProject) -> dict:
    return json.loads((project.workdir / "target" / "manifest.json").read_text())


def public_marts(project: DbtProject) -> dict[str, dict]:
    """Public models of the manifest dbt just wrote, by schema.table, with their YAML."""
    return {
        f"{node['schema']}.{node['alias']}": node
        for node in manifest(project)["nodes"].values()
        if node["resource_type"] == "model" and node.get("access") == "public"
    }


def reference_tables(project: DbtProject) -> set[str]:
    """Seeds and models configured into schema `reference`, from the manifest."""
    return {
        f"{node['schema']}.{node['alias']}"
        for node in manifest(project)["nodes"].values()
        if node["resource_type"] in ("model", "seed") and node["config"].get("schema") == "reference"
    }


def bi_engine(project: DbtProject, user: str = BI_ROLE, password: str | None = None) -> sqlalchemy.Engine:
    """An engine as a BI tool makes it: a SQLAlchemy URI, psycopg 3 dialect (trust auth here)."""
    host, port = project.env["PGHOST"], os.environ.get("PGPORT", "5432")
    if password is None:
        return create_engine(f"postgresql+psycopg://{user}@{host}:{port}/{project.pg_database}")
    uri = bi_tenants.sqlalchemy_uri(user, password, host, port, project.pg_database, driver="postgresql+psycopg")
    assert make_url(uri).password == password, uri  # the percent-encoding survives SQLAlchemy's parser
    return create_engine(uri)


def readable_schemas(connection) -> set[str]:
    """Schemas where the connected role may read at least one table (a name alone reads nothing)."""
    return {
        r[0]
        for r in connection.execute(
            text(
                "select n.nspname from pg_namespace as n where has_schema_privilege(n.oid, 'USAGE') "
                "and n.nspname not in ('pg_catalog', 'information_schema') "
                "and exists (select 1 from pg_class as c where c.relnamespace = n.oid and c.relkind in ('r', 'p', 'v') "
                "and has_table_privilege(c.oid, 'SELECT'))"
            )
        )
    }


def tenant_scoped(node: dict) -> bool:
    return bool((node["config"].get("meta") or {}).get("rls"))


def bi_marts(project: DbtProject) -> dict[str, dict]:
    """The public marts the shared BI role reads: every one but the tenant-scoped marts."""
    return {table: node for table, node in public_marts(project).items() if not tenant_scoped(node)}


def test_a_bi_tool_sees_every_public_mart_with_its_comments_and_primary_key(built: DbtProject):
    marts = bi_marts(built)
    assert len(marts) >= 13 and {t.split(".")[0] for t in marts} == BI_SCHEMAS - {"reference"}
    engine = bi_engine(built)
    try:
        inspector = inspect(engine)
        with engine.connect() as bi:
            assert bi.execute(text("select current_user")).scalar() == BI_ROLE
            assert readable_schemas(bi) == BI_SCHEMAS
        assert BI_SCHEMAS <= set(inspector.get_schema_names())
        for table, node in sorted(marts.items()):
            schema, name = table.split(".")
            assert name in inspector.get_table_names(schema=schema), table
            assert inspector.get_table_comment(name, schema=schema)["text"] == node["description"], table
            columns = inspector.get_columns(name, schema=schema)
            assert {c["name"] for c in columns} == set(node["columns"]), f"{table}: columns differ from the YAML"
            for column in columns:
                documented = node["columns"][column["name"]]["description"]
                assert documented and column["comment"] == documented, f"{table}.{column['name']}: comment"
            declared = [c for k in node["constraints"] if k["type"] == "primary_key" for c in k["columns"]]
            key = inspector.get_pk_constraint(name, schema=schema)
            assert (key["name"], key["constrained_columns"]) == (f"{name}_pkey", declared), table
    finally:
        engine.dispose()


def test_the_bi_role_reads_every_row_of_every_public_mart(built: DbtProject):
    engine = bi_engine(built)
    try:
        with engine.connect() as bi:
            for table, node in sorted(public_marts(built).items()):
                meta = node["config"].get("meta") or {}
                if tenant_scoped(node):
                    continue  # below: not even with a tenant set
                rows = built.query(f"select count(*) from {table}")[0][0]
                seen = bi.execute(text(f"select count(*) from {table}")).scalar()
                # empty only where the mart says it may be at this size (alerts with nothing
                # firing, request statistics before any request, the buyer's city x category
                # view when no fine level clears k at 3,000 events)
                assert seen == rows, f"{table}: BI role sees {seen} of {rows} rows"
                assert rows > 0 or meta.get("bi_may_be_empty"), f"{table}: no rows"
            assert bi.execute(text("show default_transaction_read_only")).scalar() == "on"
        # The tenant-scoped marts are the per-tenant logins' (their RLS keys on a setting any
        # session may change): the shared BI role may not read them, with a tenant set or not.
        tenant_marts = sorted(t for t, n in public_marts(built).items() if tenant_scoped(n))
        assert len(tenant_marts) >= 3
        for table in tenant_marts:
            some_tenant = built.query(f"select min(tenant_id)::text from {table}")[0][0]
            with engine.connect() as bi, pytest.raises(sqlalchemy.exc.DBAPIError) as refused:
                bi.execute(text("select set_config('app.current_tenant_id', :t, true)"), {"t": some_tenant})
                bi.execute(text(f"select count(*) from {table}"))
            assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), table
        # read-only, and nothing but what it is given
        for statement in (
            f"delete from {sorted(bi_marts(built))[0]}",
            "select count(*) from staging.stg_outreach__event_logs",
            "select count(*) from raw.spots_interaction_events",
            "create temporary table t (x integer)",
        ):
            with engine.connect() as bi, pytest.raises(sqlalchemy.exc.DBAPIError) as refused:
                bi.execute(text(statement))
            assert isinstance(
                refused.value.orig, (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)
            ), statement
    finally:
        engine.dispose()


def test_the_bi_role_reads_the_reference_data(built: DbtProject):
    """City names beside codes: every seed and reference model, read in full by the BI role."""
    tables = reference_tables(built)
    assert {"reference.city_definitions", "reference.geo_localities_v1", "reference.outreach_sources"} <= tables
    in_catalog = {f"reference.{t}" for t in built.tables("reference")}
    assert in_catalog == tables, "schema reference holds exactly the reference nodes of the manifest"
    engine = bi_engine(built)
    try:
        with engine.connect() as bi:
            for table in sorted(tables):
                rows = built.query(f"select count(*) from {table}")[0][0]
                assert rows > 0 and bi.execute(text(f"select count(*) from {table}")).scalar() == rows, table
            name = bi.execute(text("select city_name from reference.city_definitions where city_code = 'us-nyc'"))
            assert name.scalar() == "New York"
        assert (
            inspect(engine)
            .get_table_comment("city_definitions", schema="reference")["text"]
            .startswith("Public reference data")
        )
    finally:
        engine.dispose()


def bi_page_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", (REPO / "docs" / "bi.md").read_text(), re.S)


def tables_named(query: str) -> set[str]:
    return set(re.findall(r"\b(?:from|join)\s+([a-z_]+\.[a-z0-9_]+)", query))


def tenant_page_queries(project: DbtProject) -> list[str]:
    """The page's queries on tenant-scoped marts: a tenant login runs them (the test below)."""
    return [q for q in bi_page_queries() if tables_named(q) & set(tenant_marts(project))]


def test_every_example_query_of_the_bi_page_runs_as_the_bi_role(built: DbtProject):
    queries = bi_page_queries()
    named = {t for q in queries for t in tables_named(q)}
    missing = set(public_marts(built)) - named
    assert not missing, f"docs/bi.md: no example query for {sorted(missing)}"
    page = (REPO / "docs" / "bi.md").read_text()
    unlisted = {table for table in public_marts(built) if f"| `{table}` |" not in page}
    assert not unlisted, f"docs/bi.md: public marts missing from its table: {sorted(unlisted)}"
    engine = bi_engine(built)
    try:
        with engine.connect() as bi:
            for query in set(queries) - set(tenant_page_queries(built)):
                bi.execute(text(query)).all()
                bi.rollback()
    finally:
        engine.dispose()


def test_no_client_role_reads_what_a_development_build_wrote(built: DbtProject):
    """Issue 31: a pg_dev build granted the BI role its `dev_*` copies (other noise, another
    ledger beside production's). Now it grants no client role anything and takes back what an
    earlier one granted; reading a development table is refused."""
    dev_schemas = {r[0] for r in built.query("select nspname from pg_namespace where nspname like 'dev\\_%'")}
    assert {"dev_outside_buyer", "dev_reference", "dev_attribution", "dev_ops"} <= dev_schemas
    for role in CLIENT_ROLES:
        reach = built.query(
            "select n.nspname from pg_namespace as n where n.nspname like 'dev\\_%' "
            f"and (has_schema_privilege('{role}', n.oid, 'USAGE') or exists (select 1 from pg_class as c "
            f"where c.relnamespace = n.oid and has_table_privilege('{role}', c.oid, 'SELECT')))"
        )
        assert reach == [], f"{role} reaches development schemas {reach}"
    engine = bi_engine(built)
    try:
        with engine.connect() as bi:
            assert not {s for s in readable_schemas(bi) if s.startswith("dev_")}
            with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"):
                bi.execute(text("select count(*) from dev_outside_buyer.spots_privacy_budget_ledger"))
    finally:
        engine.dispose()


def test_privilege_suite_holds_with_dbt_builds_on_top(built: DbtProject):
    """Issue 26: every part installed, then the builds: the catalog-wide privilege suite still
    passes (dbt adds nothing to the installed schemas; outside them, a client role reaches only
    what a production build publishes to it, no `dev_*` schema, and the tenant logins' group only
    tables under its restrictive policy), and what the BI role reads there is exactly the public
    marts of dbt's manifest and the reference data."""
    pg_privileges.require_pgtap()
    pg_privileges.prepare(built.pg_database)
    result = pg_privileges.run(built.pg_database)
    assert result.returncode == 0, result.stdout + result.stderr
    reads = built.query(
        "select n.nspname || '.' || c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        f"where c.relkind in ('r', 'p', 'v', 'm') and has_table_privilege('{BI_ROLE}', c.oid, 'SELECT') "
        f"and n.nspname not in ('public', 'pg_catalog', 'information_schema', '{pg_privileges.TAP_SCHEMA}', "
        f"'{pg_privileges.ALLOWED_SCHEMA}')"
    )
    assert {r[0] for r in reads} == set(bi_marts(built)) | reference_tables(built)


# ---- a BI login per tenant ------------------------------------------------------------------


def bi_tenant(project: DbtProject, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in project.env.items() if k != bi_tenants.PASSWORD_ENV}
    if password is not None:
        env[bi_tenants.PASSWORD_ENV] = password
    return subprocess.run(
        [str(BIN / "privacy-insights"), "postgres", "bi-tenant", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )


def tenant_marts(project: DbtProject) -> list[str]:
    return sorted(t for t, n in public_marts(project).items() if (n["config"].get("meta") or {}).get("rls"))


def test_a_tenant_login_reads_its_tenant_and_nothing_else(built: DbtProject):
    marts = tenant_marts(built)
    assert len(marts) == 3
    counts = {table: dict(built.query(f"select tenant_id::text, count(*) from {table} group by 1")) for table in marts}
    # a tenant with rows in every mart, and another one
    tenant, other = sorted(set.intersection(*(set(c) for c in counts.values())))[:2]
    login = f"pi_test_bi_tenant_{uuid.uuid4().hex[:12]}"  # roles are cluster-wide: a unique name
    password = "choose one+@/:%"  # a space and every character a URI must encode
    try:
        added = bi_tenant(built, "add", tenant.upper(), "--login", login, password=password)
        assert added.returncode == 0, added.stderr
        assert password not in added.stdout + added.stderr, "a password from the environment is never printed"
        result = json.loads(added.stdout)
        assert (result["login"], result["tenant_id"], result["tenant_preset"], result["password_from"]) == (
            login,
            tenant,
            True,  # added by a superuser here; test_postgres_privileges adds one as a CREATEROLE owner
            bi_tenants.PASSWORD_ENV,
        )
        listed = json.loads(bi_tenant(built, "list").stdout)
        assert {"login": login, "tenant_id": tenant, "role_exists": True}.items() <= next(
            row for row in listed if row["login"] == login
        ).items()
        with postgres_admin(built.pg_database) as admin:
            verifier = admin.execute("select rolpassword from pg_authid where rolname = %s", [login]).fetchone()[0]
        assert verifier.startswith("SCRAM-SHA-256$"), "PostgreSQL stores a verifier, never the password"

        engine = bi_engine(built, login, password)
        try:
            with engine.connect() as bi:
                assert bi.execute(text("show app.current_tenant_id")).scalar() == tenant
                assert bi.execute(text("show default_transaction_read_only")).scalar() == "on"
                for table in marts:
                    seen = dict(bi.execute(text(f"select tenant_id::text, count(*) from {table} group by 1")).all())
                    assert seen == {tenant: counts[table][tenant]}, f"{table}: {seen}"
                # Setting another tenant, or none, changes nothing: its tenant's rows, and only them.
                for setting in (other, ""):
                    bi.execute(text("select set_config('app.current_tenant_id', :t, false)"), {"t": setting})
                    for table in marts:
                        seen = dict(bi.execute(text(f"select tenant_id::text, count(*) from {table} group by 1")).all())
                        assert seen == {tenant: counts[table][tenant]}, (table, setting, seen)
                # The group itself is mapped to no tenant: nothing, even with a tenant set.
                bi.execute(text("set role privacy_insights_bi_tenant"))
                bi.execute(text("select set_config('app.current_tenant_id', :t, false)"), {"t": other})
                for table in marts:
                    assert bi.execute(text(f"select count(*) from {table}")).scalar() == 0, f"{table} as the group"
                bi.execute(text("reset role"))
                bi.execute(text("reset app.current_tenant_id"))  # back to the preset tenant
                assert bi.execute(text("show app.current_tenant_id")).scalar() == tenant
                # the page's queries on the attribution marts, as a tenant login runs them
                assert len(tenant_page_queries(built)) == len(marts)
                for query in tenant_page_queries(built):
                    assert bi.execute(text(query)).all(), query
                # its own row of the map only; no other table of the warehouse
                assert bi.execute(text("select login, tenant_id::text from public.bi_tenant_logins")).all() == [
                    (login, tenant)
                ]
                bi.commit()
            for table in {*public_marts(built), *reference_tables(built)} - set(marts):
                with engine.connect() as bi, pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"):
                    bi.execute(text(f"select 1 from {table} limit 1"))
        finally:
            engine.dispose()

        # Without the preset (what a non-superuser gets on PostgreSQL 15) it reads the same rows.
        with postgres_admin(built.pg_database) as admin:
            admin.execute(f'alter role "{login}" in database "{built.pg_database}" reset app.current_tenant_id')
        engine = bi_engine(built, login, password)
        try:
            with engine.connect() as bi:
                assert bi.execute(text("select current_setting('app.current_tenant_id', true)")).scalar() in (None, "")
                for table in marts:
                    seen = dict(bi.execute(text(f"select tenant_id::text, count(*) from {table} group by 1")).all())
                    assert seen == {tenant: counts[table][tenant]}, f"{table} without the preset: {seen}"
        finally:
            engine.dispose()

        again = bi_tenant(built, "add", tenant, "--login", login, password=password)
        assert again.returncode == 2 and f"role {login} exists already" in again.stderr
        removed = bi_tenant(built, "remove", login)
        assert removed.returncode == 0, removed.stderr
        assert not built.query(f"select 1 from pg_roles where rolname = '{login}'")
        assert login not in {row["login"] for row in json.loads(bi_tenant(built, "list").stdout)}
    finally:
        with postgres_admin(built.pg_database) as admin:
            admin.execute("delete from public.bi_tenant_logins where login = %s", [login])
            admin.execute(f'drop role if exists "{login}"')


def test_a_generated_password_is_printed_once_with_a_ready_uri(built: DbtProject):
    tenant = built.query(f"select min(tenant_id)::text from {tenant_marts(built)[0]}")[0][0]
    login = f"pi_test_bi_tenant_{uuid.uuid4().hex[:12]}"
    try:
        added = bi_tenant(built, "add", tenant, "--login", login)
        assert added.returncode == 0, added.stderr
        result = json.loads(added.stdout)
        assert "shown this once" in added.stderr and len(result["password"]) >= 32
        url = make_url(result["sqlalchemy_uri"])
        assert (url.drivername, url.username, url.password, url.database) == (
            "postgresql+psycopg2",
            login,
            result["password"],
            built.pg_database,
        )
    finally:
        with postgres_admin(built.pg_database) as admin:
            admin.execute("delete from public.bi_tenant_logins where login = %s", [login])
            admin.execute(f'drop role if exists "{login}"')
