"""PostgreSQL objects that only PostgreSQL can enforce, installed by ``privacy-insights postgres install``.

Each component is one idempotent SQL file in this folder, run in one transaction over a
psycopg connection made from libpq's environment variables (PGHOST, PGDATABASE, ...).
Reference data the database needs (the outreach source registry) is loaded from the
project's seeds, so the seeds stay the one source of truth.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import psycopg

COMPONENTS = ("outreach", "attribution")


def _sql(component: str) -> str:
    return resources.files(__package__).joinpath(f"{component}.sql").read_text()


def _load_outreach_registry(conn: psycopg.Connection, seeds_dir: Path) -> None:
    with (seeds_dir / "outreach_sources.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            conn.execute(
                "insert into public.outreach_sources (source_id, label, active) values (%s, %s, %s) "
                "on conflict (source_id) do update set label = excluded.label, active = excluded.active",
                (row["source_id"], row["label"], row["active"].lower() == "true"))
    with (seeds_dir / "outreach_source_aliases.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            conn.execute(
                "insert into public.outreach_source_aliases (alias, source_id, active) values (%s, %s, %s) "
                "on conflict (alias) do update set source_id = excluded.source_id, active = excluded.active",
                (row["alias"], row["source_id"], row["active"].lower() == "true"))


def install(conn: psycopg.Connection, component: str, seeds_dir: Path) -> None:
    """Create or update one component's objects; re-running changes nothing."""
    if component not in COMPONENTS:
        raise ValueError(f"component: unknown {component!r}; expected one of {', '.join(COMPONENTS)}")
    with conn.transaction():
        conn.execute(_sql(component))
        if component == "outreach":
            _load_outreach_registry(conn, seeds_dir)


def connect(**overrides) -> psycopg.Connection:
    """A connection from libpq's environment variables (overridable, e.g. dbname=...)."""
    return psycopg.connect(**overrides)
