{{ config(materialized='incremental', full_refresh=false) }}

-- Append-only privacy-budget ledger of spots_insights_v1: one row per (granularity,
-- release period), written the first time the period is published and never changed.
-- Status `charged`: the period's epsilon (delta, rho) was spent; `denied`: the budget
-- window had no room, the period's cells are published suppressed (budget_exhausted)
-- and nothing was spent.

with

releases as (
    select * from {{ ref('spots_insights_v1') }}
),

periods as (
    select
        dataset,
        time_granularity,
        release_period_start,
        max(privacy_dp_mechanism) as mechanism,
        max(privacy_dp_epsilon) as epsilon,
        max(privacy_dp_delta) as delta,
        max(privacy_dp_rho) as rho,
        max(privacy_dp_budget_window_days) as budget_window_days,
        {{ var('spots_release')['epsilon_cap'] }} as epsilon_cap,
        max(privacy_k_min_enforced) as k_min_enforced,
        max(privacy_dp_max_cells_per_participant) as max_cells_per_participant,
        max(privacy_dp_max_opens_per_cell) as max_opens_per_cell,
        max(reporting_delay_hours) as reporting_delay_hours,
        count(*) as cells_total,
        sum(case when privacy_suppressed then 0 else 1 end) as cells_released,
        case when max(privacy_dp_epsilon) > 0 then 'charged' else 'denied' end as status,
        min(released_at) as released_at
    from releases
    group by dataset, time_granularity, release_period_start
)

select * from periods
{% if is_incremental() %}
where not exists (
    select 1
    from {{ this }} as ledger
    where ledger.time_granularity = periods.time_granularity
        and ledger.release_period_start = periods.release_period_start
)
{% endif %}
