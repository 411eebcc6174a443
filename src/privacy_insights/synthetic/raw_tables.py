"""Column definitions of the raw (landing) tables, as upstream systems write them.

The raw schema is deliberately loose (text, no constraints): it is what arrives, bad rows
included; staging validates it. Types are DuckDB's and map onto PostgreSQL unchanged when
the tables are created through the attached database.
"""

from __future__ import annotations

RAW_TABLES: dict[str, list[tuple[str, str]]] = {
    # SPOTS product events (contract 000): identifiers, precise location and free text
    # that must never pass staging.
    "spots_interaction_events": [
        ("event_id", "varchar"),
        ("user_id", "varchar"),
        ("agent_id", "varchar"),
        ("ai_signature", "varchar"),
        ("device_id", "varchar"),
        ("ip_address", "varchar"),
        ("event_type", "varchar"),
        ("door_type", "varchar"),
        ("category", "varchar"),
        ("occurred_at", "timestamptz"),
        ("latitude", "double"),
        ("longitude", "double"),
        ("message", "varchar"),
        ("ingested_at", "timestamptz"),
    ],
    # Outreach page events (contract 004), as the logging RPC or a legacy path wrote them.
    "outreach_event_logs": [
        ("id", "varchar"),
        ("event", "varchar"),
        ("app_key", "varchar"),
        ("page_key", "varchar"),
        ("utm_campaign", "varchar"),
        ("utm_source", "varchar"),
        ("utm_medium", "varchar"),
        ("source_id_resolved", "varchar"),
        ("store", "varchar"),
        ("session_id", "varchar"),
        ("country", "varchar"),
        ("ui_locale", "varchar"),
        ("client_event_id", "varchar"),
        ("created_at", "timestamptz"),
    ],
    # Attribution (contract 003): exported copies of the landing tables.
    "attribution_events": [
        ("id", "varchar"),
        ("tenant_id", "varchar"),
        ("idempotency_key", "varchar"),
        ("event_type", "varchar"),
        ("channel_code", "varchar"),
        ("revenue_cents", "bigint"),
        ("raw_payload", "varchar"),
        ("processing_status", "varchar"),
        ("processed_at", "timestamptz"),
        ("occurred_at", "timestamptz"),
        ("created_at", "timestamptz"),
    ],
    "attribution_allocations": [
        ("id", "varchar"),
        ("tenant_id", "varchar"),
        ("event_id", "varchar"),
        ("channel_code", "varchar"),
        ("allocated_revenue_cents", "bigint"),
        ("confidence_score", "double"),
        ("created_at", "timestamptz"),
    ],
    "revenue_ledger": [
        ("id", "varchar"),
        ("tenant_id", "varchar"),
        ("event_id", "varchar"),
        ("amount_cents", "bigint"),
        ("currency", "varchar"),
        ("state", "varchar"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ],
    "revenue_state_transitions": [
        ("id", "varchar"),
        ("ledger_id", "varchar"),
        ("from_state", "varchar"),
        ("to_state", "varchar"),
        ("reason", "varchar"),
        ("transitioned_at", "timestamptz"),
    ],
    "dead_events": [
        ("id", "varchar"),
        ("tenant_id", "varchar"),
        ("raw_payload", "varchar"),
        ("error_reason", "varchar"),
        ("created_at", "timestamptz"),
    ],
    "reconciliation_runs": [
        ("id", "varchar"),
        ("tenant_id", "varchar"),
        ("started_at", "timestamptz"),
        ("finished_at", "timestamptz"),
        ("status", "varchar"),
        ("events_checked", "bigint"),
        ("mismatches", "bigint"),
    ],
}

TABLES_BY_CONTRACT: dict[str, tuple[str, ...]] = {
    "spots": ("spots_interaction_events",),
    "outreach": ("outreach_event_logs",),
    "attribution": (
        "attribution_events",
        "attribution_allocations",
        "revenue_ledger",
        "revenue_state_transitions",
        "dead_events",
        "reconciliation_runs",
    ),
}


def create_table_sql(qualified_name: str, table: str) -> str:
    columns = ",\n    ".join(f'"{name}" {sql_type}' for name, sql_type in RAW_TABLES[table])
    return f"create table {qualified_name} (\n    {columns}\n)"


def column_list(table: str) -> str:
    return ", ".join(f'"{name}"' for name, _ in RAW_TABLES[table])
