"""PostgreSQL objects that only PostgreSQL can enforce, installed by ``privacy-insights postgres install``.

Each component is one idempotent SQL file in this folder, run in one transaction over a
psycopg connection made from libpq's environment variables (PGHOST, PGDATABASE, ...).
The SQL runs as the NOLOGIN owner role (``roles.OWNER``), so it owns every object it
creates; the installing login only prepares roles and schema rights around it (``roles``).
After it, no function of the owner is executable by PUBLIC: EXECUTE is granted by name.
Definitions shared with Python and dbt (what "blank" text is, how a PII key is normalised
and which keys are PII) are rendered into the SQL from the Python package at install time.
Reference data the database needs (the outreach source registry) is loaded from the
project's seeds, so the seeds stay the one source of truth.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql

from privacy_insights.postgres import reference, roles

COMPONENTS = ("outreach", "attribution", "bi", *reference.COMPONENTS)


def _placeholders() -> dict[str, str]:
    """Shared definitions rendered into the SQL files, so PostgreSQL uses the same ones as Python and dbt."""
    from privacy_insights import textrules
    from privacy_insights.attribution import pii_keys

    return {**textrules.sql_placeholders(), **pii_keys.sql_placeholders()}


def render(component: str) -> str:
    """The component's SQL with the shared definitions filled in ('' for a component of roles only)."""
    path = resources.files(__package__).joinpath(f"{component}.sql")
    if not path.is_file():
        return ""
    text = path.read_text()
    for token, value in _placeholders().items():
        text = text.replace(token, value)
    return text


def _upsert_csv(conn: psycopg.Connection, path: Path, table: str, key: str, columns: tuple[str, ...]) -> None:
    """Insert or update every row of a seed CSV (booleans written as true/false) into ``table``."""
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            values = [row[c].lower() == "true" if c == "active" else row[c] for c in columns]
            conn.execute(
                f"insert into {table} ({names}) values ({', '.join(['%s'] * len(columns))}) "
                f"on conflict ({key}) do update set {updates}",
                values,
            )


def _load_outreach_registry(conn: psycopg.Connection, seeds_dir: Path) -> None:
    _upsert_csv(
        conn,
        seeds_dir / "outreach_sources.csv",
        "public.outreach_sources",
        "source_id",
        ("source_id", "label", "active"),
    )
    _upsert_csv(
        conn,
        seeds_dir / "outreach_source_aliases.csv",
        "public.outreach_source_aliases",
        "alias",
        ("alias", "source_id", "active"),
    )


# Safety net for the whole class: whatever the SQL forgot, no function or relation of the
# owner in schema public keeps a privilege for PUBLIC.
_REVOKE_FROM_PUBLIC = """
do $public$
declare
    v_object pg_catalog.text;
begin
    for v_object in
        select pg_catalog.format('function %s', p.oid::pg_catalog.regprocedure)
        from pg_catalog.pg_proc as p
        where p.pronamespace = 'public'::pg_catalog.regnamespace and p.proowner = current_user::pg_catalog.regrole
          and (p.proacl is null or exists (select 1 from pg_catalog.aclexplode(p.proacl) as a where a.grantee = 0))
        union all
        select pg_catalog.format('table %s', c.oid::pg_catalog.regclass)
        from pg_catalog.pg_class as c
        where c.relnamespace = 'public'::pg_catalog.regnamespace and c.relowner = current_user::pg_catalog.regrole
          and exists (select 1 from pg_catalog.aclexplode(c.relacl) as a where a.grantee = 0)
    loop
        execute pg_catalog.format('revoke all on %s from public', v_object);
    end loop;
end
$public$
"""


# Before the component's SQL: its objects keep no privilege it does not grant itself (from an
# earlier install, or granted by hand), so the SQL and privileges.yml are the whole truth.
_RESET_GRANTS = """
do $reset$
declare
    v_statement pg_catalog.text;
begin
    for v_statement in
        select distinct pg_catalog.format('revoke all on %s from %s', o.object,
            case when a.grantee = 0 then 'public'
                 else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) end)
        from (
            select pg_catalog.format('function %s', p.oid::pg_catalog.regprocedure) as object, p.proacl as acl
            from pg_catalog.pg_proc as p
            where p.pronamespace = 'public'::pg_catalog.regnamespace and p.proowner = current_user::pg_catalog.regrole
              and p.proname = any ({names})
            union all
            select pg_catalog.format(case c.relkind when 'S' then 'sequence %s' else 'table %s' end,
                                     c.oid::pg_catalog.regclass), acl.acl
            from pg_catalog.pg_class as c
            cross join lateral (select c.relacl union all
                                select t.attacl from pg_catalog.pg_attribute as t where t.attrelid = c.oid) as acl(acl)
            where c.relnamespace = 'public'::pg_catalog.regnamespace and c.relowner = current_user::pg_catalog.regrole
              and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and c.relname = any ({names})
        ) as o
        cross join lateral pg_catalog.aclexplode(o.acl) as a
        where a.grantee <> current_user::pg_catalog.regrole
    loop
        execute v_statement;
    end loop;
end
$reset$
"""


def install(conn: psycopg.Connection, component: str, seeds_dir: Path) -> None:
    """Create or update one component's objects, owned by the owner role; re-running changes nothing."""
    if component not in COMPONENTS:
        raise ValueError(f"component: unknown {component!r}; expected one of {', '.join(COMPONENTS)}")
    text = reference.render(component, render(component))
    with conn.transaction():
        granted = roles.prepare(conn, component, text)
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(roles.OWNER)))
        # Functions the owner creates from now on start without EXECUTE for PUBLIC.
        conn.execute("alter default privileges revoke execute on functions from public")
        if text:
            names = sorted(roles.named_objects(text))
            conn.execute(sql.SQL(_RESET_GRANTS).format(names=sql.Literal(names)))
            conn.execute(text)
        if component == "outreach":
            _load_outreach_registry(conn, seeds_dir)
        reference.load(conn, component, seeds_dir)
        conn.execute(_REVOKE_FROM_PUBLIC)
        conn.execute("reset role")
        roles.finish(conn, granted)


def connect(**overrides) -> psycopg.Connection:
    """A connection from libpq's environment variables (overridable, e.g. dbname=...)."""
    return psycopg.connect(**overrides)
