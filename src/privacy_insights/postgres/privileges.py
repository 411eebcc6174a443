"""The allow-list of the PostgreSQL install (``privileges.yml``), read, checked and loaded.

``load()`` reads the file and refuses an entry that breaks its own rules (an unknown kind,
role or privilege, a missing reason, a SECURITY DEFINER function open to PUBLIC, anon or
authenticated without the contract clause that needs it). ``write_to(conn, schema)`` puts it
into tables of ``schema`` for the pgTAP suite (tests_py/pgtap/privileges.sql), which compares
them with the catalog: ``settings`` (one row), ``objects`` (kind, identity, security_definer,
rls_forced), ``reach`` (role, identity, privilege), where a grant to ``public`` reaches every
listed role, as has_*_privilege sees it, ``dbt_published`` (role, schema) and
``restrictive_policies`` (role, policy): every table outside the installed schemas that such a
role may read must force RLS and carry that restrictive policy for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

PRIVILEGES = {
    "database": {"CREATE", "TEMPORARY"},
    "schemas": {"USAGE", "CREATE"},
    "tables": {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"},
    "sequences": {"USAGE", "SELECT", "UPDATE"},
    "functions": {"EXECUTE"},
    "types": {"USAGE"},
}
# Kind of an object in the catalog, by section of the file.
KINDS = {"tables": "table", "sequences": "sequence", "functions": "function", "types": "type"}
COLUMN_PRIVILEGES = {"SELECT", "INSERT", "UPDATE", "REFERENCES"}
OPEN_TO_CLIENTS = ("public", "anon", "authenticated")


@dataclass(frozen=True)
class Entry:
    kind: str  # database, schema, table, sequence, function, type
    identity: str  # 'database', 'schema public', 'public.x', 'public.f(text, integer)'
    grants: dict[str, tuple[str, ...]]
    why: str
    security_definer: bool = False
    rls_forced: bool = False
    contract: str = ""


@dataclass(frozen=True)
class AllowList:
    owner: str
    installed_schemas: tuple[str, ...]
    roles: tuple[str, ...]
    dbt_published: tuple[tuple[str, str], ...]  # (role, schema) whose tables dbt may grant SELECT on
    entries: tuple[Entry, ...]
    restrictive_policies: tuple[tuple[str, str], ...] = ()  # (role, policy) on every table dbt grants it

    def reach(self) -> set[tuple[str, str, str]]:
        """(role, identity, privilege) every listed role must reach, PUBLIC's grants given to all."""
        rows = set()
        for entry in self.entries:
            for role, privileges in entry.grants.items():
                for role_reached in self.roles if role == "public" else (role,):
                    rows |= {(role_reached, entry.identity, p) for p in privileges}
        return rows


def _privilege_ok(section: str, privilege: str) -> bool:
    if "(" in privilege:  # column privilege: NAME(col, ...)
        name = privilege.split("(", 1)[0]
        return section == "tables" and name in COLUMN_PRIVILEGES and privilege.endswith(")")
    return privilege in PRIVILEGES[section]


def _entry(section: str, identity: str, spec: dict, roles: tuple[str, ...]) -> Entry:
    where = f"privileges.yml {section}.{identity}"
    unknown = set(spec) - {"grants", "why", "security_definer", "rls", "contract"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if not str(spec.get("why") or "").strip():
        raise ValueError(f"{where}: why: required (what needs this object and its grants)")
    grants = {}
    for role, privileges in (spec.get("grants") or {}).items():
        if role not in roles:
            raise ValueError(f"{where}: grants: role {role!r} is not listed under roles")
        bad = [p for p in privileges if not _privilege_ok(section, p)]
        if bad:
            raise ValueError(f"{where}: grants: {bad} are not privileges of {section}")
        grants[role] = tuple(privileges)
    definer = bool(spec.get("security_definer", False))
    if definer and section != "functions":
        raise ValueError(f"{where}: security_definer: only functions can be SECURITY DEFINER")
    if spec.get("rls") not in (None, "forced") or (spec.get("rls") and section != "tables"):
        raise ValueError(f"{where}: rls: the only value is `forced`, on tables")
    contract = str(spec.get("contract") or "").strip()
    if definer and any(role in grants for role in OPEN_TO_CLIENTS) and not contract:
        raise ValueError(
            f"{where}: contract: required: a SECURITY DEFINER function that "
            f"{', '.join(r for r in OPEN_TO_CLIENTS if r in grants)} can execute needs the contract clause behind it"
        )
    kind = "schema" if section == "schemas" else KINDS.get(section, section)
    return Entry(
        kind=kind,
        identity=f"schema {identity}" if section == "schemas" else identity,
        grants=grants,
        why=str(spec["why"]).strip(),
        security_definer=definer,
        rls_forced=spec.get("rls") == "forced",
        contract=contract,
    )


def load(path: Path | None = None) -> AllowList:
    """The allow-list (default: privileges.yml of this package), checked against its own rules."""
    text = path.read_text() if path else resources.files(__package__).joinpath("privileges.yml").read_text()
    data = yaml.safe_load(text)
    roles = tuple(data["roles"])
    entries = [_entry("database", "database", data["database"], roles)]
    for section in ("schemas", "tables", "sequences", "functions", "types"):
        entries += [_entry(section, name, spec or {}, roles) for name, spec in (data.get(section) or {}).items()]
    published = data["dbt_published"]
    for role, spec in published["grants"].items():
        if role not in roles or not str(spec.get("why") or "").strip():
            raise ValueError(f"privileges.yml dbt_published.grants.{role}: a role listed under roles, with a why")
        unknown = set(spec) - {"schemas", "why", "restrictive_policy"}
        if unknown:
            raise ValueError(f"privileges.yml dbt_published.grants.{role}: unknown keys {sorted(unknown)}")
    return AllowList(
        owner=data["owner"],
        installed_schemas=tuple(data["installed_schemas"]),
        roles=roles,
        dbt_published=tuple(
            (role, prefix + schema)
            for role, spec in published["grants"].items()
            for schema in spec["schemas"]
            for prefix in published["schema_prefixes"]
        ),
        entries=tuple(entries),
        restrictive_policies=tuple(
            (role, spec["restrictive_policy"])
            for role, spec in published["grants"].items()
            if spec.get("restrictive_policy")
        ),
    )


def write_to(
    conn: psycopg.Connection, schema: str, allow: AllowList | None = None, excluded: tuple[str, ...] = ()
) -> None:
    """(Re)create ``schema`` with the allow-list's settings, objects and reach, for the pgTAP suite.
    ``schema`` and ``excluded`` (e.g. pgTAP's own schema) are left out of the suite's checks."""
    allow = allow or load()
    s = sql.Identifier(schema)
    with conn.transaction():
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(s))
        conn.execute(sql.SQL("create schema {}").format(s))
        conn.execute(
            sql.SQL(
                "create table {}.settings (owner text not null, installed_schemas text[] not null, "
                "roles text[] not null, excluded_schemas text[] not null)"
            ).format(s)
        )
        conn.execute(
            sql.SQL(
                "create table {}.objects (kind text not null, identity text primary key, "
                "security_definer boolean not null, rls_forced boolean not null)"
            ).format(s)
        )
        conn.execute(
            sql.SQL("create table {}.dbt_published (role text, schema text, primary key (role, schema))").format(s)
        )
        conn.execute(
            sql.SQL("create table {}.restrictive_policies (role text primary key, policy text not null)").format(s)
        )
        conn.execute(
            sql.SQL(
                "create table {}.reach (role text, identity text, privilege text, "
                "primary key (role, identity, privilege))"
            ).format(s)
        )
        conn.execute(
            sql.SQL("insert into {}.settings values (%s, %s, %s, %s)").format(s),
            [allow.owner, list(allow.installed_schemas), list(allow.roles), [schema, *excluded]],
        )
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL("insert into {}.objects values (%s, %s, %s, %s)").format(s),
                [(e.kind, e.identity, e.security_definer, e.rls_forced) for e in allow.entries],
            )
            cur.executemany(sql.SQL("insert into {}.reach values (%s, %s, %s)").format(s), sorted(allow.reach()))
            cur.executemany(sql.SQL("insert into {}.dbt_published values (%s, %s)").format(s), allow.dbt_published)
            cur.executemany(
                sql.SQL("insert into {}.restrictive_policies values (%s, %s)").format(s), allow.restrictive_policies
            )
