"""What the report may read, and a reader that keeps every statement it issues.

Only buyer-visible marts, the privacy-budget ledger and the ops request log: published (noisy)
numbers and their published uncertainty, never staging, intermediate or true counts. Asking
for any other relation is an error, and ``Source.queries`` lets a test check what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from privacy_insights import targets

LEDGER = ("outside_buyer", "spots_privacy_budget_ledger")
INSIGHTS = ("outside_buyer", "spots_insights_v1")
REQUEST_LOG = ("ops", "ops_buyer_request_log")
ALLOWED = (LEDGER, INSIGHTS, REQUEST_LOG)

COLUMNS = {
    LEDGER: [
        "time_granularity",
        "release_period_start",
        "release_version",
        "purpose",
        "status",
        "epsilon",
        "delta",
        "budget_window_days",
        "epsilon_cap",
        "window_epsilon",
        "as_of",
    ],
    INSIGHTS: [
        "time_granularity",
        "time_bucket_start_utc",
        "release_period_start",
        "release_level",
        "geo_bucket_id",
        "segment_door_type",
        "segment_category",
        "segment_context",
        "unique_participants_est",
        "doors_opened_est",
        "repeat_rate_est",
        "uncertainty_unique_participants_noise_scale",
        "uncertainty_unique_participants_moe95",
        "uncertainty_doors_opened_noise_scale",
        "uncertainty_doors_opened_moe95",
        "uncertainty_repeat_rate_moe95",
        "privacy_suppressed",
        "privacy_suppressed_reason",
    ],
    REQUEST_LOG: ["request_day", "buyer_id", "channel", "outcome", "rule", "row_count"],
}


@dataclass
class Source:
    """A warehouse seen through the allowed relations; ``queries`` holds every statement sent."""

    warehouse: targets.Warehouse
    queries: list[str] = field(default_factory=list)

    def _fetch(self, relation: tuple[str, str]) -> pd.DataFrame:
        if relation not in ALLOWED:
            raise ValueError(
                f"report: {'.'.join(relation)} is not a relation the report may read "
                f"(allowed: {', '.join('.'.join(r) for r in ALLOWED)})"
            )
        sql = f"select {', '.join(COLUMNS[relation])} from {self.warehouse.qualify(*relation)}"
        self.queries.append(sql)
        return self.warehouse.connection.sql(sql).df()

    def read(self, relation: tuple[str, str]) -> pd.DataFrame:
        """The relation; a missing one means the warehouse was never built (RuntimeError)."""
        try:
            return self._fetch(relation)
        except duckdb.CatalogException as exc:
            raise RuntimeError(
                f"report: {self.warehouse.qualify(*relation)} is missing; build the warehouse first "
                f"(`dbt build --target {self.warehouse.target}`)"
            ) from exc

    def read_optional(self, relation: tuple[str, str]) -> pd.DataFrame | None:
        """The relation, or None when the warehouse does not hold it."""
        try:
            return self._fetch(relation)
        except duckdb.CatalogException:
            return None

    def close(self) -> None:
        self.warehouse.close()


def open_source(target: str) -> Source:
    """The target's warehouse, read-only on dev (a missing file is an error, not a new empty warehouse)."""
    targets.check_target(target)
    if target != "dev":
        return Source(targets.connect(target))
    path = targets.duckdb_path()
    if not path.exists():
        raise RuntimeError(f"report: warehouse {path} does not exist; run `dbt build` first")
    con = duckdb.connect(str(path), read_only=True, config=targets.offline_config())
    return Source(targets.Warehouse(con, con.sql("select current_database()").fetchone()[0], target))
