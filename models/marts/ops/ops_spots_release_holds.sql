-- Periods of spots_insights_v1 held for an incomplete landing, as of var('as_of') (README
-- "Late data and complete landings"): every period of an enabled granularity that starts on
-- or after release_start_date, ends at least reporting_delay_hours before as_of, has no
-- ledger decision yet, and ends after the landing's complete_through (the loader's
-- watermark less landing_grace_hours; null without a watermark, so every such period).
-- The release step holds exactly these (its cell domain stops at complete_through): not
-- charged, not published; the first build after the watermark passes their end releases
-- them. One row per held period; empty when nothing is held. No people, no counts.
-- depends_on: {{ ref('spots_insights_v1') }}   (runs after the release step has charged the ledger)

{%- set granularities = spots_enabled_granularities() %}
{%- set release_start = release_start_timestamp() %}

with

ledger as (
    select * from {{ ref('spots_privacy_budget_ledger') }}
),

completeness as (
    select * from {{ ref('int_spots__landing_completeness') }}
),

decided as (
    select distinct
        time_granularity,
        release_period_start
    from ledger
    where as_of <= cast('{{ as_of_timestamp() }}' as timestamp)
),

days as (
    {{ timestamp_spine(release_start, release_cutoff(), '1 day') }}
),

weeks as (
    {{ timestamp_spine(first_release_week_start(), release_cutoff(), '7 days') }}
),

calendar as (
    {%- for g in granularities %}
        select
            '{{ g }}' as time_granularity,
            bucket_start as release_period_start,
            {{ dbt.dateadd('day', 7 if g == 'week' else 1, 'bucket_start') }} as period_end
        from {{ 'weeks' if g == 'week' else 'days' }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

held as (
    select
        calendar.time_granularity,
        calendar.release_period_start,
        calendar.period_end,
        completeness.loaded_through,
        completeness.complete_through,
        completeness.completeness,
        completeness.grace_hours
    from calendar
    cross join completeness
    left join decided
        on
            calendar.time_granularity = decided.time_granularity
            and calendar.release_period_start = decided.release_period_start
    where
        decided.release_period_start is null
        and calendar.period_end <= {{ release_cutoff() }}
        and (completeness.complete_through is null or calendar.period_end > completeness.complete_through)
)

select
    cast(time_granularity as varchar) as time_granularity,
    cast(release_period_start as timestamp) as release_period_start,
    cast(period_end as timestamp) as period_end,
    cast({{ dbt.dateadd('hour', reporting_delay_hours(), 'period_end') }} as timestamp) as due_at,
    cast(loaded_through as timestamp) as loaded_through,
    cast(complete_through as timestamp) as complete_through,
    cast(completeness as varchar) as completeness,
    cast(grace_hours as bigint) as grace_hours,
    cast('{{ as_of_timestamp() }}' as timestamp) as as_of
from held
