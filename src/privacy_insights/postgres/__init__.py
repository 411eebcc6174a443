"""PostgreSQL objects that only PostgreSQL can enforce, installed by ``privacy-insights postgres install``.

Each component is one idempotent SQL file in this folder, run in one transaction over a
psycopg connection made from libpq's environment variables (PGHOST, PGDATABASE, ...).
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

from privacy_insights.postgres import reference

COMPONENTS = ("outreach", "attribution", "bi", *reference.COMPONENTS)


def _placeholders() -> dict[str, str]:
    """Shared definitions rendered into the SQL files, so PostgreSQL uses the same ones as Python and dbt."""
    from privacy_insights import textrules
    from privacy_insights.attribution import pii_keys

    return {"__BLANK_CHARS__": textrules.sql_chars(), **pii_keys.sql_placeholders()}


def render(component: str) -> str:
    """The component's SQL with the shared definitions filled in."""
    text = resources.files(__package__).joinpath(f"{component}.sql").read_text()
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


def install(conn: psycopg.Connection, component: str, seeds_dir: Path) -> None:
    """Create or update one component's objects; re-running changes nothing."""
    if component not in COMPONENTS:
        raise ValueError(f"component: unknown {component!r}; expected one of {', '.join(COMPONENTS)}")
    with conn.transaction():
        conn.execute(reference.render(component, render(component)))
        if component == "outreach":
            _load_outreach_registry(conn, seeds_dir)
        reference.load(conn, component, seeds_dir)


def connect(**overrides) -> psycopg.Connection:
    """A connection from libpq's environment variables (overridable, e.g. dbname=...)."""
    return psycopg.connect(**overrides)
