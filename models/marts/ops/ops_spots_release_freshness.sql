-- Release freshness of spots_insights_v1 per enabled granularity, as of var('as_of')
-- (contract 000 §10, 038 `outside_buyer_cache_run_freshness_v1`): the last period
-- released (rows landed in spots_insights_v1, suppressed ones included) against the last
-- period the release clock makes eligible (its end at least reporting_delay_hours before
-- as_of), how many eligible periods are not released yet, and how long the oldest of
-- them has been overdue. Stale when that exceeds max_staleness_hours of the timing
-- policy of the release job (var ops_release_job, seed timing_policies). Periods
-- before release_start_date are never released and never counted.

{%- set granularities = spots_enabled_granularities() %}
{%- set as_of = "cast('" ~ as_of_timestamp() ~ "' as timestamp)" %}
{%- set release_start = release_start_timestamp() %}

with

released as (
    select * from {{ ref('spots_insights_v1') }}
),

policies as (
    select * from {{ ref('atomic_timing_policies_v1') }}
    where job_name = '{{ var("ops_release_job") }}'
),

enabled as (
    select enabled_granularities.time_granularity
    from (values {{ "('" ~ granularities | join("'), ('") ~ "')" }}) as enabled_granularities (time_granularity)
),

calendar as (
    select
        time_granularity,
        case when time_granularity = 'week' then 7 else 1 end as period_days,
        case
            when time_granularity = 'week'
                then {{ first_release_week_start() }}
            else {{ release_start }}
        end as first_period_start,
        case
            when time_granularity = 'week'
                then {{ dbt.date_trunc('week', dbt.dateadd('day', -7, release_cutoff())) }}
            else {{ dbt.date_trunc('day', dbt.dateadd('day', -1, release_cutoff())) }}
        end as last_eligible_start
    from enabled
),

last_released as (
    select
        time_granularity,
        max(release_period_start) as last_released_period_start
    from released
    group by 1
),

frontier as (
    select
        calendar.time_granularity,
        calendar.period_days,
        last_released.last_released_period_start,
        case
            when calendar.last_eligible_start >= calendar.first_period_start then calendar.last_eligible_start
        end as last_eligible_period_start,
        coalesce(
            {{ dbt.dateadd('day', 'calendar.period_days', 'last_released.last_released_period_start') }},
            calendar.first_period_start
        ) as first_unreleased_start
    from calendar
    left join last_released on calendar.time_granularity = last_released.time_granularity
),

{%- set behind_days = dbt.datediff('frontier.first_unreleased_start', 'frontier.last_eligible_period_start', 'day') %}

overdue as (
    select
        frontier.*,
        case
            when frontier.first_unreleased_start <= frontier.last_eligible_period_start
                then {{ behind_days }} / frontier.period_days + 1  -- noqa: LT05
            else 0
        end as periods_behind,
        case
            when frontier.first_unreleased_start <= frontier.last_eligible_period_start
                then {{ dbt.dateadd('hour', reporting_delay_hours(),
                    dbt.dateadd('day', 'frontier.period_days', 'frontier.first_unreleased_start')) }}
        end as overdue_since
    from frontier
),

hours as (
    select
        overdue.*,
        coalesce({{ dbt.datediff('overdue.overdue_since', as_of, 'minute') }} / 60.0, 0) as hours_overdue  -- noqa: LT05
    from overdue
)

select
    cast(hours.time_granularity as varchar) as time_granularity,
    cast(hours.last_released_period_start as timestamp) as last_released_period_start,
    cast(hours.last_eligible_period_start as timestamp) as last_eligible_period_start,
    cast(hours.periods_behind as bigint) as periods_behind,
    cast(hours.overdue_since as timestamp) as overdue_since,
    cast(hours.hours_overdue as double) as hours_overdue,
    cast(policies.job_name as varchar) as job_name,
    cast(policies.max_staleness_hours as bigint) as max_staleness_hours,
    cast(hours.hours_overdue > policies.max_staleness_hours as boolean) as is_stale,
    {{ as_of }} as as_of
from hours
left join policies on true
