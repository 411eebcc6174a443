"""The budget ledger table: read the complete history, append a plan's charges first.

The ledger (model ``spots_privacy_budget_ledger``: typed, contracted, primary key
(time_granularity, release_period_start, release_version)) is written only here, by the
release step, in a transaction of its own that commits before any noise is drawn. A
build that dies after that commit leaves charges whose rows never landed; the next build's
plan releases those periods again under a new version and charges them again, so no
number is ever visible without its charge. The primary key, enforced by the database
(DuckDB, or PostgreSQL through the attach), refuses a second charge of the same
(granularity, period, version), e.g. from a build that bypassed the build lock.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from privacy_insights.dp.plan import LEDGER_COLUMNS

LEDGER_MODEL = "spots_privacy_budget_ledger"


class LedgerConflict(RuntimeError):
    """Another build charged the same period first."""


def quoted(database: str, schema: str, identifier: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in (database, schema, identifier))


def read_history(ledger: Any) -> pd.DataFrame:
    """Every ledger row (all builds, granularities and versions) from the ledger relation."""
    return ledger.project(", ".join(LEDGER_COLUMNS)).df()


def append_charges(session: Any, ledger: str, rows: pd.DataFrame) -> None:
    """Insert ``rows`` and commit, on a connection of their own, before any noise is drawn."""
    if rows.empty:
        return
    con = session.cursor()
    try:
        con.execute("begin transaction")
        con.register("privacy_insights_new_charges", rows[LEDGER_COLUMNS])
        con.execute(
            f"insert into {ledger} ({', '.join(LEDGER_COLUMNS)}) "
            f"select {', '.join(LEDGER_COLUMNS)} from privacy_insights_new_charges"
        )
        con.execute("commit")
    except Exception as exc:
        try:
            con.execute("rollback")
        except Exception:  # the failed statement may already have ended the transaction
            pass
        text = str(exc)
        if "duplicate key" in text.lower() or "constraint" in text.lower():
            periods = ", ".join(
                f"{r.time_granularity} {pd.Timestamp(r.release_period_start).date()} v{r.release_version}"
                for r in rows.itertuples()
            )
            raise LedgerConflict(
                f"budget ledger {ledger}: another build already charged {periods} (primary key "
                "time_granularity, release_period_start, release_version). Nothing was charged or released by "
                "this build; run it again once the other build has finished, and it will see those charges."
            ) from exc
        raise
    finally:
        con.close()
