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
{%- set release_start = "cast('" ~ var('release_start_date') ~ "' as timestamp)" %}

with

released as (
    select * from {{ ref('spots_insights_v1') }}
),

policies as (
    select * from {{ ref('atomic_timing_policies_v1') }}
    where job_name = '{{ var("ops_release_job") }}'
),

enabled as (
    {%- for g in granularities %}
    select
        '{{ g }}' as time_granularity,
        {{ 7 if g == 'week' else 1 }} as period_days,
        {%- if g == 'week' %}
        {{ dbt.date_trunc('week', dbt.dateadd('day', 6, release_start)) }} as first_period_start,
        {{ dbt.date_trunc('week', dbt.dateadd('day', -7, release_cutoff())) }} as last_eligible_start
        {%- else %}
        {{ release_start }} as first_period_start,
        {{ dbt.date_trunc('day', dbt.dateadd('day', -1, release_cutoff())) }} as last_eligible_start
        {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

last_released as (
    select
        time_granularity,
        max(release_period_start) as last_released_period_start
    from released
    group by time_granularity
),

frontier as (
    select
        enabled.time_granularity,
        enabled.period_days,
        last_released.last_released_period_start,
        case
            when enabled.last_eligible_start >= enabled.first_period_start then enabled.last_eligible_start
        end as last_eligible_period_start,
        coalesce(
            {{ dbt.dateadd('day', 'enabled.period_days', 'last_released.last_released_period_start') }},
            enabled.first_period_start
        ) as first_unreleased_start
    from enabled
    left join last_released on enabled.time_granularity = last_released.time_granularity
),

overdue as (
    select
        frontier.*,
        case
            when frontier.first_unreleased_start <= frontier.last_eligible_period_start
                then {{ dbt.datediff('frontier.first_unreleased_start', 'frontier.last_eligible_period_start', 'day') }}
                    / frontier.period_days + 1
            else 0
        end as periods_behind,
        case
            when frontier.first_unreleased_start <= frontier.last_eligible_period_start
                then {{ dbt.dateadd('hour', reporting_delay_hours(),
                    dbt.dateadd('day', 'frontier.period_days', 'frontier.first_unreleased_start')) }}
        end as overdue_since
    from frontier
)

select
    cast(overdue.time_granularity as varchar) as time_granularity,
    cast(overdue.last_released_period_start as timestamp) as last_released_period_start,
    cast(overdue.last_eligible_period_start as timestamp) as last_eligible_period_start,
    cast(overdue.periods_behind as bigint) as periods_behind,
    cast(overdue.overdue_since as timestamp) as overdue_since,
    cast(coalesce({{ dbt.datediff('overdue.overdue_since', as_of, 'minute') }} / 60.0, 0) as double) as hours_overdue,
    cast(policies.job_name as varchar) as job_name,
    cast(policies.max_staleness_hours as bigint) as max_staleness_hours,
    cast(coalesce({{ dbt.datediff('overdue.overdue_since', as_of, 'minute') }} / 60.0, 0)
        > policies.max_staleness_hours as boolean) as is_stale,
    {{ as_of }} as as_of
from overdue
left join policies on true
