"""The roles of the PostgreSQL install, and the steps only the installing login may take.

Every object ``privacy-insights postgres install`` creates is owned by ``OWNER``, a NOLOGIN
role with no attributes and no memberships: the component's SQL runs under ``SET LOCAL ROLE``
to it, so whatever a component creates is the owner's, never the installer's or a
superuser's. Around that, the installing login (a superuser, or a non-superuser with
CREATEROLE that owns the database: docs/postgres_security.md) does what the owner may not:
create the roles, grant USAGE on schema ``public``, keep TEMP from client roles, hand objects
of an older install to the owner, and (for the length of the transaction) let the owner
create in ``public`` and become the owner itself.

Who may reach what afterwards is data too: ``privileges.yml`` beside this file, which the
catalog-wide privilege suite compares with the database (tests_py/pgtap/).
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

OWNER = "privacy_insights_owner"
BI = "privacy_insights_bi"
BI_TENANT = "privacy_insights_bi_tenant"  # NOLOGIN group of the per-tenant BI logins (bi_tenants.py)

# Attributes of a role the install creates when it is missing (an existing role, e.g. the
# anon/authenticated/service_role of a Supabase project, is never altered).
ATTRIBUTES = {
    OWNER: "nologin noinherit nosuperuser nocreatedb nocreaterole nobypassrls noreplication",
    "anon": "nologin nosuperuser nocreatedb nocreaterole nobypassrls",
    "authenticated": "nologin nosuperuser nocreatedb nocreaterole nobypassrls",
    "service_role": "nologin nosuperuser nocreatedb nocreaterole nobypassrls",
    "attribution_app": "login nosuperuser nocreatedb nocreaterole nobypassrls",
    BI: "login noinherit nosuperuser nocreatedb nocreaterole nobypassrls",
    BI_TENANT: "nologin noinherit nosuperuser nocreatedb nocreaterole nobypassrls noreplication",
}
# Settings of a role, applied when they differ (privacy_insights_bi starts every transaction read-only).
SETTINGS = {BI: {"default_transaction_read_only": "on"}}
SUPABASE = ("anon", "authenticated", "service_role")
COMPONENT_ROLES = {
    "outreach": SUPABASE,
    "attribution": ("attribution_app",),
    "bi": (BI, BI_TENANT),
    "clock": SUPABASE,
    "geo": SUPABASE,
}
# Every role a client connects as (or that a client login is a member of): none gets TEMP.
CLIENT_ROLES = (*SUPABASE, "attribution_app", BI, BI_TENANT)
# Roles of earlier installs that owned a function each; their rights in this database are removed.
LEGACY_ROLES = ("outreach_rpc_owner", "attribution_retention")

_CREATE_ROLE = """
do $role$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = {name}) then
        -- installs into other databases of the cluster may create it at the same moment
        begin
            execute pg_catalog.format('create role %I {attributes}', {name});
        exception when duplicate_object or unique_violation then
            null;
        end;
    end if;
end
$role$
"""


def _create_missing(conn: psycopg.Connection, role: str) -> None:
    conn.execute(
        sql.SQL(_CREATE_ROLE).format(name=sql.Literal(role), attributes=sql.SQL(ATTRIBUTES[role])),
    )


def _apply_settings(conn: psycopg.Connection, role: str) -> None:
    for name, value in SETTINGS.get(role, {}).items():
        current = conn.execute(
            "select pg_catalog.array_to_string(s.setconfig, ',') from pg_catalog.pg_db_role_setting as s "
            "join pg_catalog.pg_roles as r on r.oid = s.setrole where r.rolname = %s and s.setdatabase = 0",
            [role],
        ).fetchone()
        if f"{name}={value}" not in (current[0] if current else "").split(","):
            conn.execute(
                sql.SQL("alter role {} set {} = {}").format(sql.Identifier(role), sql.SQL(name), sql.SQL(value))
            )


def _is_superuser(conn: psycopg.Connection) -> bool:
    return conn.execute("select rolsuper from pg_catalog.pg_roles where rolname = current_user").fetchone()[0]


def _become_member(conn: psycopg.Connection, role: str) -> bool:
    """Make the installing login a member of ``role`` if it is not one; True when granted here."""
    if (
        _is_superuser(conn)
        or conn.execute("select pg_catalog.pg_has_role(current_user, %s, 'MEMBER')", [role]).fetchone()[0]
    ):
        return False
    try:
        conn.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(role)))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RuntimeError(
            f"install: {conn.info.user} must be a superuser, have CREATEROLE, or be a member of role {role} "
            f"(docs/postgres_security.md); PostgreSQL said: {exc.diag.message_primary}"
        ) from exc
    return True


def named_objects(component_sql: str) -> set[str]:
    """Names the component's SQL gives to objects of schema public (public.<name>)."""
    return set(re.findall(r"\bpublic\.([a-z_][a-z0-9_]*)", component_sql))


_FOREIGN_OWNED = """
select kind, identity, pg_catalog.pg_get_userbyid(owner) from (
    select case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view'
                          else 'table' end as kind,
           pg_catalog.format('public.%%I', c.relname) as identity, c.relowner as owner, c.oid, 'pg_class' as catalog
    from pg_catalog.pg_class as c
    where c.relnamespace = 'public'::pg_catalog.regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
      and c.relname = any (%(names)s)
      and not exists (select 1 from pg_catalog.pg_depend as d   -- identity/serial sequences follow their table
                      where d.classid = 'pg_class'::pg_catalog.regclass and d.objid = c.oid and d.deptype in ('a', 'i'))
    union all
    select case p.prokind when 'p' then 'procedure' else 'function' end, p.oid::pg_catalog.regprocedure::text,
           p.proowner, p.oid, 'pg_proc'
    from pg_catalog.pg_proc as p
    where p.pronamespace = 'public'::pg_catalog.regnamespace and p.proname = any (%(names)s)
    union all
    select 'type', pg_catalog.format('public.%%I', t.typname), t.typowner, t.oid, 'pg_type'
    from pg_catalog.pg_type as t
    where t.typnamespace = 'public'::pg_catalog.regnamespace and t.typname = any (%(names)s) and t.typrelid = 0
      and t.typcategory <> 'A'
) as o
where o.owner <> %(owner)s::pg_catalog.regrole
  and not exists (select 1 from pg_catalog.pg_depend as e
                  where e.objid = o.oid and e.classid = o.catalog::pg_catalog.regclass and e.deptype = 'e')
order by 1, 2
"""


def _adopt(conn: psycopg.Connection, component_sql: str, granted: list[str]) -> None:
    """Hand the objects an earlier install created (owned by a superuser, the installer or a
    legacy role) to the owner, so the component's SQL, running as the owner, may replace them."""
    names = sorted(named_objects(component_sql))
    search_path = conn.execute("show search_path").fetchone()[0]
    conn.execute("set local search_path = pg_catalog")  # regprocedure::text qualifies public.
    try:
        rows = conn.execute(_FOREIGN_OWNED, {"names": names, "owner": OWNER}).fetchall()
    finally:
        conn.execute(sql.SQL("set local search_path = {}").format(sql.SQL(search_path)))
    for kind, identity, owner in rows:
        owner_is_superuser = conn.execute("select rolsuper from pg_catalog.pg_roles where rolname = %s", [owner])
        if owner_is_superuser.fetchone()[0] and not _is_superuser(conn):
            raise RuntimeError(
                f"install: {identity} is owned by the superuser {owner}; run this install once as a superuser "
                f"to hand it to {OWNER} (docs/postgres_security.md, upgrading)"
            )
        if _become_member(conn, owner):
            granted.append(owner)
        try:
            conn.execute(
                sql.SQL("alter {} {} owner to {}").format(sql.SQL(kind), sql.SQL(identity), sql.Identifier(OWNER))
            )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise RuntimeError(
                f"install: {identity} is owned by {owner}, which {conn.info.user} cannot act as; run this install once "
                f"as a superuser (or as {owner}) to hand it to {OWNER}: {exc.diag.message_primary}"
            ) from exc


def prepare(conn: psycopg.Connection, component: str, component_sql: str) -> list[str]:
    """The installing login's part before the component's SQL; returns the memberships it granted itself."""
    for role in (OWNER, *COMPONENT_ROLES[component]):
        _create_missing(conn, role)
        _apply_settings(conn, role)
    granted = [OWNER] if _become_member(conn, OWNER) else []
    conn.execute(
        sql.SQL("grant usage, create on schema public to {}").format(sql.Identifier(OWNER)),
    )
    schema_users = [r for r in COMPONENT_ROLES[component] if r != BI]
    if schema_users:
        conn.execute(
            sql.SQL("grant usage on schema public to {}").format(sql.SQL(", ").join(map(sql.Identifier, schema_users)))
        )
    # No temporary objects for client roles: TEMP comes from PUBLIC by default (and an older
    # install granted it to service_role). A pg_temp type or cast is the first step of every
    # known attack on a SECURITY DEFINER function (docs/postgres_security.md).
    existing = [r for r in CLIENT_ROLES if _role_exists(conn, r)]
    conn.execute(
        sql.SQL("revoke temporary on database {} from {}").format(
            sql.Identifier(conn.info.dbname), sql.SQL(", ").join([sql.SQL("public"), *map(sql.Identifier, existing)])
        )
    )
    for legacy in LEGACY_ROLES:
        if _role_exists(conn, legacy):
            conn.execute(sql.SQL("revoke all on schema public from {}").format(sql.Identifier(legacy)))
    _adopt(conn, component_sql, granted)
    return granted


def finish(conn: psycopg.Connection, granted: list[str]) -> None:
    """The installing login's part after the component's SQL: the owner creates nothing more, and
    the installer keeps no membership it granted itself (no standing path from a login to the owner)."""
    conn.execute(sql.SQL("revoke create on schema public from {}").format(sql.Identifier(OWNER)))
    for role in granted:
        conn.execute(sql.SQL("revoke {} from current_user").format(sql.Identifier(role)))


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("select pg_catalog.to_regrole(%s) is not null", [role]).fetchone()[0]
