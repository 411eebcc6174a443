"""Per-tenant BI logins: a BI tool reads one tenant's attribution marts, and only them (docs/bi.md).

A chart cannot run ``SET app.current_tenant_id`` before its query, so the attribution marts
return no rows to the shared BI role. ``add`` creates a login for one tenant instead:

- a member of the NOLOGIN group ``privacy_insights_bi_tenant`` (``install bi``), which a
  production dbt build grants SELECT on the tenant-scoped marts and nothing else;
- its row in ``public.bi_tenant_logins``: the marts' policies for the group show a login the
  rows of the tenant mapped to ``current_user`` (permissive ``bi_tenant_login_rows``) and
  nothing else (restrictive ``bi_tenant_login_policy``), whatever the session sets
  ``app.current_tenant_id`` to; ``SET ROLE`` to the group maps no tenant and shows nothing;
- every transaction read-only, and ``app.current_tenant_id`` preset to its tenant in this
  database (``ALTER ROLE ... IN DATABASE ... SET``) for SQL that reads the setting. PostgreSQL
  15 lets only a superuser (or a role granted SET on that parameter) preset a custom setting
  for a role; without that right the login is made without the preset and reads the same rows.

The password comes from ``PASSWORD_ENV`` or is generated and returned once, never written to a
file; PostgreSQL receives its SCRAM-SHA-256 verifier, computed here by libpq, so the password
itself is not in the statement (nor in a server log of statements).
"""

from __future__ import annotations

import os
import re
import secrets
import urllib.parse

import psycopg
from psycopg import sql

from privacy_insights.postgres.roles import BI_TENANT

PASSWORD_ENV = "PRIVACY_INSIGHTS_BI_TENANT_PASSWORD"
MAPPING = "public.bi_tenant_logins"
LOGIN_PREFIX = "privacy_insights_bi_tenant_"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_LOGIN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_tenant(text: str) -> str:
    """The tenant id in its canonical lower-case form; ValueError naming the rule otherwise."""
    tenant = text.strip().lower()
    if not _UUID.match(tenant):
        raise ValueError(
            f"tenant: {text!r} is not a UUID; expected 32 hex digits as 8-4-4-4-12 "
            "(e.g. 3f2a9c1e-0b7d-4e5f-9a8b-1c2d3e4f5a6b), the tenant_id of the attribution marts"
        )
    return tenant


def check_login(name: str) -> str:
    if not _LOGIN.match(name):
        raise ValueError(
            f"login: {name!r} is not a plain role name; expected a lower-case letter or _ then up to 62 "
            "lower-case letters, digits or _"
        )
    return name


def default_login(tenant: str) -> str:
    """``privacy_insights_bi_tenant_<the tenant's 32 hex digits>`` (59 characters, under PostgreSQL's 63)."""
    return LOGIN_PREFIX + check_tenant(tenant).replace("-", "")


def sqlalchemy_uri(
    login: str, password: str | None, host: str, port: int | str, dbname: str, driver: str = "postgresql+psycopg2"
) -> str:
    """The URI a SQLAlchemy-based tool (Superset) takes, user, password and database percent-encoded
    (RFC 3986); ``None`` leaves the placeholder ``<password>`` to fill in.

    ``quote(..., safe='')``, not ``quote_plus``: SQLAlchemy decodes ``+`` as a plus sign, so a
    space must be ``%20``; ``/``, ``@``, ``:`` and ``%`` are encoded too."""

    def enc(text: str) -> str:
        return urllib.parse.quote(text, safe="")

    secret = "<password>" if password is None else enc(password)
    return f"{driver}://{enc(login)}:{secret}@{host}:{port}/{enc(dbname)}"


def _require_installed(conn: psycopg.Connection) -> None:
    installed = conn.execute(
        "select pg_catalog.to_regrole(%s) is not null and pg_catalog.to_regclass(%s) is not null",
        [BI_TENANT, MAPPING],
    ).fetchone()[0]
    if not installed:
        raise RuntimeError(
            f"bi-tenant: database {conn.info.dbname} has no {MAPPING} or role {BI_TENANT}; "
            "run `privacy-insights postgres install bi` first"
        )


def _role_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select pg_catalog.to_regrole(%s) is not null", [name]).fetchone()[0]


def _denied(action: str, conn: psycopg.Connection, exc: psycopg.Error) -> RuntimeError:
    return RuntimeError(
        f"bi-tenant {action}: {conn.info.user} may not do this here; run it as the database owner with "
        f"CREATEROLE, or as a superuser (docs/bi.md). PostgreSQL said: {exc.diag.message_primary}"
    )


def add(conn: psycopg.Connection, tenant: str, login: str | None = None, password: str | None = None) -> dict:
    """Create the login of ``tenant`` (one transaction); returns what a BI tool needs to connect.

    ``password``: None generates one (returned under ``password``, shown once); otherwise the
    caller's (from ``PASSWORD_ENV``), which is not returned."""
    tenant = check_tenant(tenant)
    login = check_login(login) if login else default_login(tenant)
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(24)
    elif not password:
        raise ValueError(f"{PASSWORD_ENV}: empty; unset it to have a password generated")
    verifier = conn.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256").decode()
    with conn.transaction():
        _require_installed(conn)
        if _role_exists(conn, login):
            raise RuntimeError(
                f"login: role {login} exists already; remove it first (`bi-tenant remove {login}`) "
                "or choose another name with --login"
            )
        try:
            conn.execute(
                sql.SQL(
                    "create role {} login inherit nosuperuser nocreatedb nocreaterole nobypassrls noreplication "
                    "in role {} password {}"
                ).format(sql.Identifier(login), sql.Identifier(BI_TENANT), sql.Literal(verifier))
            )
            conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(sql.Identifier(login)))
            conn.execute(f"insert into {MAPPING} (login, tenant_id) values (%s, %s)", [login, tenant])
        except psycopg.errors.InsufficientPrivilege as exc:
            raise _denied("add", conn, exc) from exc
        preset = _preset_tenant(conn, login, tenant)
    host = conn.info.host if not conn.info.host.startswith("/") else "<host>"
    result = {
        "login": login,
        "tenant_id": tenant,
        "database": conn.info.dbname,
        "tenant_preset": preset,
        "sqlalchemy_uri": sqlalchemy_uri(
            login, password if generated else None, host, conn.info.port, conn.info.dbname
        ),
    }
    if generated:
        result["password"] = password
    else:
        result["password_from"] = PASSWORD_ENV
    return result


def _preset_tenant(conn: psycopg.Connection, login: str, tenant: str) -> bool:
    """``app.current_tenant_id`` as the login's default in this database, where PostgreSQL allows
    it (a savepoint: refused, the login is made without it; isolation does not depend on it)."""
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("alter role {} in database {} set app.current_tenant_id = {}").format(
                    sql.Identifier(login), sql.Identifier(conn.info.dbname), sql.Literal(tenant)
                )
            )
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def list_logins(conn: psycopg.Connection) -> list[dict]:
    """Every login of this database's map, with whether its role still exists."""
    _require_installed(conn)
    rows = conn.execute(
        f"select m.login, m.tenant_id::text, m.created_at, pg_catalog.to_regrole(m.login) is not null "
        f"from {MAPPING} as m order by m.tenant_id, m.login"
    ).fetchall()
    return [
        {"login": login, "tenant_id": tenant, "created_at": created.isoformat(), "role_exists": exists}
        for login, tenant, created, exists in rows
    ]


def remove(conn: psycopg.Connection, login: str) -> dict:
    """Drop a login that this database's map lists (never any other role), and its row."""
    login = check_login(login)
    with conn.transaction():
        _require_installed(conn)
        try:
            row = conn.execute(f"delete from {MAPPING} where login = %s returning tenant_id::text", [login]).fetchone()
            if row is None:
                raise RuntimeError(
                    f"login: {login} is not a tenant BI login of database {conn.info.dbname} "
                    "(`privacy-insights postgres bi-tenant list`); nothing removed"
                )
            if _role_exists(conn, login):
                member = conn.execute(
                    "select pg_catalog.pg_has_role(%s, %s, 'MEMBER') and not r.rolsuper "
                    "from pg_catalog.pg_roles as r where r.rolname = %s",
                    [login, BI_TENANT, login],
                ).fetchone()[0]
                if not member:
                    raise RuntimeError(f"login: role {login} is not a member of {BI_TENANT}; nothing removed")
                conn.execute(sql.SQL("drop role {}").format(sql.Identifier(login)))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise _denied("remove", conn, exc) from exc
    return {"removed": login, "tenant_id": row[0], "database": conn.info.dbname}


def password_from_env() -> str | None:
    return os.environ.get(PASSWORD_ENV)
