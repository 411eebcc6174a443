"""spots_insights_v1 release step: every granularity and level of a build, decided together.

Incremental and never fully refreshed: a released period is frozen, rows are only ever
appended (a correction or a retry is a new release_version; old rows stay). The step reads
the complete budget ledger, checks it against the landed rows, plans (holding periods whose
landing is not complete), charges the ledger and commits BEFORE drawing any noise, then
returns the new rows (privacy_insights.dp.dbt_entry). See the model docs in
_outside_buyer__models.yml.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False)
    from privacy_insights.dp.dbt_entry import release_model

    return release_model(
        dbt,
        session,
        cells=dbt.ref("int_spots__cell_aggregates"),
        ledger=dbt.ref("spots_privacy_budget_ledger"),
        completeness=dbt.ref("int_spots__landing_completeness"),
        spots_release=dbt.config.get("spots_release"),
        reporting_delay_hours=dbt.config.get("reporting_delay_hours"),
        as_of=dbt.config.get("as_of"),
        release_start_date=dbt.config.get("release_start_date"),
    )
