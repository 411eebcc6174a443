"""dbt-duckdb plugin: the pseudonym key on each connection, and the warehouse build lock.

1. The key, never in SQL text.

dbt writes every compiled statement to ``target/``, ``logs/dbt.log``, the manifest,
``run_results.json``, the partial-parse file and the docs site. A key rendered by Jinja
would land in all of them (DESIGN.md §2.14). Instead this plugin reads
``SPOTS_PSEUDONYM_KEY`` from the environment when dbt opens a connection and sets it as a
DuckDB variable on the connection and on each cursor dbt makes from it (variables are
per connection in DuckDB). SQL reads it with ``getvariable('spots_pseudonym_key')``
(macros ``pseudonymize`` and ``keyed_hash``); the key itself appears in no statement dbt
logs or writes.

Profile (``profiles.yml.example``)::

    plugins:
      - module: privacy_insights.dbt_plugin
        config: {require_key: true}     # false on the dev target: a development key is used

With ``require_key: false`` (the embedded dev target) an unset variable falls back to a
fixed development key, with a warning; otherwise a missing or short key fails the
connection with a message naming the variable and the rule.

2. The build lock (PostgreSQL targets, ``build_lock: <name>`` and ``dsn`` in the plugin
config). Two builds against one warehouse would race on every table and, worse, both
release the same periods with different noise. When dbt first opens its connection, the
plugin takes a PostgreSQL session advisory lock for (target, schema) on a connection of
its own and holds it until the dbt process ends (PostgreSQL releases it when the session
closes, also after a crash or kill). A second build waits for it, saying so and naming
the holder, for up to ``PRIVACY_INSIGHTS_BUILD_LOCK_WAIT`` seconds (default 1800), then
fails with a message naming the lock and what to do. On the DuckDB target the file lock
DuckDB takes on the warehouse file plays the same role (a second process cannot open it).
"""

from __future__ import annotations

import os
import time
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger

KEY_ENV = "SPOTS_PSEUDONYM_KEY"
KEY_VARIABLE = "spots_pseudonym_key"
DEVELOPMENT_KEY = "development-only-pseudonym-key"
MIN_KEY_LENGTH = 16
LOCK_WAIT_ENV = "PRIVACY_INSIGHTS_BUILD_LOCK_WAIT"
LOCK_NAMESPACE = "privacy_insights build"

log = AdapterLogger("privacy_insights")


class PseudonymKeyError(RuntimeError):
    """The key is missing or too short; the message names the variable and the rule."""


def pseudonym_key(require_key: bool, environ: dict[str, str] | None = None) -> str:
    """The key from the environment, validated; the development key only when allowed."""
    key = (environ if environ is not None else os.environ).get(KEY_ENV, "")
    if not key:
        if require_key:
            raise PseudonymKeyError(
                f"{KEY_ENV}: required on this target (a secret of at least {MIN_KEY_LENGTH} characters "
                "that keys participant pseudonyms and contribution bounding); export it before running dbt"
            )
        log.warning(f"{KEY_ENV} is not set: using the development key (dev target only)")
        return DEVELOPMENT_KEY
    if len(key) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(f"{KEY_ENV}: must be at least {MIN_KEY_LENGTH} characters, got {len(key)}")
    return key


def set_key_variable(connection: Any, key: str) -> None:
    """``SET VARIABLE`` on one DuckDB connection (the statement is not logged by dbt)."""
    literal = key.replace("'", "''")
    connection.execute(f"SET VARIABLE {KEY_VARIABLE} = '{literal}'")


class BuildLockTimeout(RuntimeError):
    """Another build held the warehouse build lock for longer than we were willing to wait."""


class BuildLock:
    """A PostgreSQL session advisory lock on (namespace, name), held until the process ends."""

    def __init__(self, dsn: str, name: str) -> None:
        self.dsn, self.name = dsn, name
        self.connection = None

    @property
    def description(self) -> str:
        return f"advisory lock '{LOCK_NAMESPACE}: {self.name}' on PostgreSQL ({self.dsn})"

    def _holder(self) -> str:
        row = self.connection.execute(
            """select a.pid, a.application_name, a.backend_start
               from pg_catalog.pg_locks l join pg_catalog.pg_stat_activity a on a.pid = l.pid
               where l.locktype = 'advisory' and l.granted
                 and l.classid::int = pg_catalog.hashtext(%s) and l.objid::int = pg_catalog.hashtext(%s)""",
            (LOCK_NAMESPACE, self.name),
        ).fetchone()
        return (
            f"pid {row[0]} ('{row[1]}', connected since {row[2]:%Y-%m-%d %H:%M:%S %Z})"
            if row
            else "a build that just ended"
        )

    def acquire(self, wait_seconds: float) -> None:
        if self.connection is not None:
            return
        import psycopg

        self.connection = psycopg.connect(
            self.dsn, autocommit=True, application_name=f"privacy-insights dbt build ({self.name}, pid {os.getpid()})"
        )
        started, announced = time.monotonic(), False
        while True:
            got = self.connection.execute(
                "select pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext(%s), pg_catalog.hashtext(%s))",
                (LOCK_NAMESPACE, self.name),
            ).fetchone()[0]
            if got:
                if announced:
                    log.info(f"acquired the warehouse build lock after {time.monotonic() - started:.0f} s")
                return
            holder = self._holder()
            if time.monotonic() - started >= wait_seconds:
                self.connection.close()
                self.connection = None
                raise BuildLockTimeout(
                    f"build lock: another build holds the {self.description}, held by {holder}; "
                    f"waited {wait_seconds:g} s ({LOCK_WAIT_ENV}). Let that build finish, then run this one again; "
                    "nothing was built or released by this run"
                )
            if not announced:
                log.info(
                    f"waiting for the warehouse build lock: another build holds the {self.description}, "
                    f"held by {holder}; waiting up to {wait_seconds:g} s ({LOCK_WAIT_ENV})"
                )
                announced = True
            time.sleep(1.0)


def lock_wait_seconds(environ: dict[str, str] | None = None) -> float:
    raw = (environ if environ is not None else os.environ).get(LOCK_WAIT_ENV, "1800")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{LOCK_WAIT_ENV}: must be a number of seconds, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{LOCK_WAIT_ENV}: must be >= 0, got {raw!r}")
    return value


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.require_key = str(plugin_config.get("require_key", True)).lower() not in ("false", "0", "no")
        self.key = pseudonym_key(self.require_key)
        name = plugin_config.get("build_lock")
        self.lock = None
        if name:
            if not plugin_config.get("dsn"):
                raise ValueError("privacy_insights.dbt_plugin: build_lock needs dsn (the libpq connection string)")
            schema = getattr(self.creds, "schema", None) or ""
            self.lock = BuildLock(str(plugin_config["dsn"]), f"{name}/{schema}")

    def configure_connection(self, conn: Any) -> None:
        if self.lock is not None:
            self.lock.acquire(lock_wait_seconds())
        set_key_variable(conn, self.key)

    def configure_cursor(self, cursor: Any) -> None:
        set_key_variable(cursor, self.key)
