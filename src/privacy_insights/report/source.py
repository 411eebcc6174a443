"""What the report may read, and a reader that keeps every statement it issues.

From the warehouse: the buyer mart, the privacy-budget ledger and the public city names of
``reference.city_definitions`` (published numbers and public data, never staging,
intermediate or a true count). From the delivery store (export/store.py: SQLite beside the
warehouse on dev, schema ``audit`` on PostgreSQL): the audit of every file export and API
request, read when the report runs, so it counts the requests made since the last build
(the ops mart ``ops_buyer_request_log`` is only refreshed by a build). Asking for any other
relation is an error; ``Source.queries`` lets a test check what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from privacy_insights import targets
from privacy_insights.export import locations
from privacy_insights.export.store import AUDIT_TABLE, audit_table_for_dbt

LEDGER = ("outside_buyer", "spots_privacy_budget_ledger")
INSIGHTS = ("outside_buyer", "spots_insights_v1")
CITIES = ("reference", "city_definitions")
WAREHOUSE_RELATIONS = (LEDGER, INSIGHTS, CITIES)
AUDIT = ("audit", AUDIT_TABLE)  # in the delivery store, not the warehouse
ALLOWED = (*WAREHOUSE_RELATIONS, AUDIT)

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
    CITIES: ["city_code", "city_name"],
    # what the report keeps of an audit row (no slice, fingerprint, key id or message)
    AUDIT: ["request_day", "buyer_id", "channel", "outcome", "rule", "row_count", "requests"],
}


@dataclass
class Source:
    """A warehouse seen through the allowed relations, and its target's delivery audit.

    ``queries`` holds every statement sent to the warehouse and, for the audit, one line naming
    the store it was read from (``PRIVACY_INSIGHTS_DELIVERY_DIR`` places dev's, as for every
    delivery command).
    """

    warehouse: targets.Warehouse
    queries: list[str] = field(default_factory=list)

    def _fetch(self, relation: tuple[str, str]) -> pd.DataFrame:
        if relation not in WAREHOUSE_RELATIONS:
            raise ValueError(
                f"report: {'.'.join(relation)} is not a relation the report may read from the warehouse "
                f"(allowed: {', '.join('.'.join(r) for r in WAREHOUSE_RELATIONS)}; the delivery audit is "
                "read with read_audit)"
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

    def audit_location(self) -> tuple[str, str, str]:
        """(kind, schema, where) of the target's delivery store: SQLite file on dev, a PostgreSQL schema else."""
        target = self.warehouse.target
        kind = "postgres" if target in targets.POSTGRES_TARGETS else "sqlite"
        schema = targets.schema_prefix(target) + "audit"
        if kind == "postgres":
            return kind, schema, f"PostgreSQL schema {schema}"
        path = locations.sqlite_path()
        root = targets.project_root()
        return kind, schema, str(path.relative_to(root) if path.is_relative_to(root) else path)

    def read_audit(self) -> tuple[pd.DataFrame, str]:
        """Every audited buyer request of the target, as it stands now ([] before the first), and where
        it was read. A row stands for ``requests`` requests (the API's requests without a valid key
        are counted per minute in one row)."""
        kind, schema, where = self.audit_location()
        self.queries.append(f"delivery store {where}: select * from {AUDIT_TABLE}")
        frame = audit_table_for_dbt(kind, schema).to_pandas()
        frame["request_day"] = pd.to_datetime(frame["requested_at"], utc=True).dt.tz_localize(None).dt.normalize()
        return frame[COLUMNS[AUDIT]].reset_index(drop=True), where

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
