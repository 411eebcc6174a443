# The audit of every buyer request (file exports and API calls), read from the delivery store.
# The store is not the warehouse (a DuckDB warehouse allows one writer, and a build holds it:
# see privacy_insights/export/store.py), so this thin Python model reads it with the package
# instead of a dbt source: SQLite beside the warehouse on dev, schema `audit` on PostgreSQL.


def model(dbt, session):
    dbt.config(materialized="table")
    from privacy_insights.export.store import audit_table_for_dbt

    return audit_table_for_dbt(dbt.config.get("delivery_store"), dbt.config.get("delivery_schema"))
