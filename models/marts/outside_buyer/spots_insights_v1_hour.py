"""spots_insights_v1, hour granularity: DP release of the exact cell aggregates.

Incremental and never fully refreshed: a released period is frozen. The release logic
(budget, OpenDP noise, suppression on noisy values, metadata) is in
privacy_insights.dp.release; see the model docs in _outside_buyer__models.yml.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False)
    from privacy_insights.dp.dbt_entry import release_model

    return release_model(
        dbt,
        session,
        granularity="hour",
        cells=dbt.ref("int_spots__cell_aggregates"),
        spots_release=dbt.config.get("spots_release"),
        reporting_delay_hours=dbt.config.get("reporting_delay_hours"),
        upstream=[dbt.ref("spots_insights_v1_week"), dbt.ref("spots_insights_v1_day")],
    )
