{{ config(materialized='incremental', full_refresh=false, on_schema_change='fail') }}

-- Append-only privacy-budget ledger of spots_insights_v1: one row per decision of the
-- release step, per (granularity, release period, release version). This model only
-- creates the table, typed and with its primary key (contract in the YAML); the rows are
-- appended by the release step (spots_insights_v1_releases, privacy_insights.dp.ledger)
-- in a transaction of its own that commits BEFORE any noise is drawn, so no number is
-- ever visible without its charge. dbt never rewrites it (full_refresh=false).
--   status `charged`: the period's epsilon (delta, rho) was spent; `denied`: no room in a
--   budget window, its cells are published suppressed (budget_exhausted), nothing spent.
--   purpose `initial`, `retry` (an earlier charge whose rows never landed: spent, released
--   again with fresh noise and charged again) or `correction` (opt-in, on a schedule; a
--   denied correction publishes nothing). Before any charge the release step checks this
--   table against the released rows (privacy_insights.dp.integrity).

select
    cast(null as varchar) as dataset,
    cast(null as varchar) as time_granularity,
    cast(null as timestamp) as release_period_start,
    cast(null as bigint) as release_version,
    cast(null as varchar) as purpose,
    cast(null as varchar) as status,
    cast(null as varchar) as mechanism,
    cast(null as double) as epsilon,
    cast(null as double) as delta,
    cast(null as double) as rho,
    cast(null as bigint) as budget_window_days,
    cast(null as double) as epsilon_cap,
    cast(null as double) as delta_cap,
    cast(null as double) as window_epsilon,
    cast(null as double) as window_delta,
    cast(null as bigint) as k_min,
    cast(null as bigint) as max_opens_per_participant,
    cast(null as bigint) as reporting_delay_hours,
    cast(null as timestamp) as as_of,
    cast(null as timestamp) as charged_at
where false
