-- Privacy-budget usage of spots_insights_v1 per budget window and granularity, as of
-- var('as_of') (contract 000 §10, 032 `outside_buyer_privacy_budget_usage_v1`). The window
-- rule is the release step's (privacy_insights.dp.budget): every run of
-- budget_window_days consecutive UTC days is a window, and a period's charge counts in
-- every window it overlaps; the cap holds for all granularities together. One row per
-- window (one for each start day from the first window that reaches release_start_date
-- to the as_of day) and granularity: what that granularity spent in the window, what it
-- would add if every period not decided yet were released at its configured epsilon,
-- and the window's totals against the cap. Only ledger decisions taken at or before
-- as_of count. No people, no cells: epsilons and period counts only.
-- depends_on: {{ ref('spots_insights_v1') }}   (runs after the release step has charged the ledger)

{%- set release = var('spots_release') %}
{%- set window_days = release['budget_window_days'] | int %}
{%- set gaussian = release['mechanism'] == 'gaussian' %}
{%- set granularities = spots_enabled_granularities() %}
{%- set release_start = release_start_timestamp() %}
{%- set as_of_day = dbt.date_trunc('day', "cast('" ~ as_of_timestamp() ~ "' as timestamp)") %}
{%- set horizon = dbt.dateadd('day', window_days, as_of_day) %}

with

ledger as (
    select * from {{ ref('spots_privacy_budget_ledger') }}
),

decisions as (
    select
        time_granularity,
        release_period_start as period_start,
        status,
        epsilon,
        case when time_granularity = 'week' then 7 else 1 end as period_days,
        coalesce(delta, 0) as delta
    from ledger
    where as_of <= cast('{{ as_of_timestamp() }}' as timestamp)
),

decided_periods as (
    select distinct
        time_granularity,
        period_start
    from decisions
),

window_starts as (
    {{ timestamp_spine(dbt.dateadd('day', 1 - window_days, release_start), dbt.dateadd('day', 1, as_of_day), '1 day') }}
),

windows as (
    select
        bucket_start as window_start,
        {{ dbt.dateadd('day', window_days, 'bucket_start') }} as window_end
    from window_starts
),

days as (
    {{ timestamp_spine(release_start, horizon, '1 day') }}
),

weeks as (
    {{ timestamp_spine(first_release_week_start(), horizon, '7 days') }}
),

-- every period of an enabled granularity that may be released, with its configured cost
calendar as (
    {%- for g in granularities %}
        select
            '{{ g }}' as time_granularity,
            bucket_start as period_start,
            {{ 7 if g == 'week' else 1 }} as period_days,
            cast({{ release['granularities'][g]['epsilon'] }} as double) as epsilon,
            cast({{ release['gaussian_delta'] if gaussian else 0 }} as double) as delta
        from {{ 'weeks' if g == 'week' else 'days' }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

pending as (
    select calendar.*
    from calendar
    left join decided_periods
        on
            calendar.time_granularity = decided_periods.time_granularity
            and calendar.period_start = decided_periods.period_start
    where decided_periods.period_start is null
),

granularities as (
    select distinct time_granularity from calendar
    union
    select distinct time_granularity from decisions
),

grid as (
    select
        windows.window_start,
        windows.window_end,
        granularities.time_granularity
    from windows
    cross join granularities
),

spent as (
    select
        grid.window_start,
        grid.time_granularity,
        count(case when decisions.status = 'charged' then 1 end) as periods_charged,
        count(case when decisions.status = 'denied' then 1 end) as periods_denied,
        coalesce(sum(case when decisions.status = 'charged' then decisions.epsilon end), 0) as epsilon_spent,
        coalesce(sum(case when decisions.status = 'charged' then decisions.delta end), 0) as delta_spent
    from grid
    left join decisions
        on
            grid.time_granularity = decisions.time_granularity
            and grid.window_end > decisions.period_start
            and {{ dbt.dateadd('day', 'decisions.period_days', 'decisions.period_start') }} > grid.window_start
    group by 1, 2
),

projected as (
    select
        grid.window_start,
        grid.time_granularity,
        count(pending.period_start) as periods_pending,
        coalesce(sum(pending.epsilon), 0) as epsilon_pending,
        coalesce(sum(pending.delta), 0) as delta_pending
    from grid
    left join pending
        on
            grid.time_granularity = pending.time_granularity
            and grid.window_end > pending.period_start
            and {{ dbt.dateadd('day', 'pending.period_days', 'pending.period_start') }} > grid.window_start
    group by 1, 2
),

usage as (
    select
        grid.window_start,
        grid.window_end,
        grid.time_granularity,
        spent.periods_charged,
        spent.periods_denied,
        projected.periods_pending,
        spent.epsilon_spent,
        projected.epsilon_pending,
        spent.delta_spent,
        projected.delta_pending,
        sum(spent.epsilon_spent) over (partition by grid.window_start) as window_epsilon_spent,
        sum(projected.epsilon_pending) over (partition by grid.window_start) as window_epsilon_pending,
        sum(spent.delta_spent) over (partition by grid.window_start) as window_delta_spent,
        sum(projected.delta_pending) over (partition by grid.window_start) as window_delta_pending
    from grid
    inner join spent
        on grid.window_start = spent.window_start and grid.time_granularity = spent.time_granularity
    inner join projected
        on grid.window_start = projected.window_start and grid.time_granularity = projected.time_granularity
)

select
    cast(window_start as timestamp) as window_start,
    cast(window_end as timestamp) as window_end,
    cast(time_granularity as varchar) as time_granularity,
    cast({{ window_days }} as bigint) as budget_window_days,
    cast({{ release['epsilon_cap'] }} as double) as epsilon_cap,
    cast({{ release['delta_cap'] }} as double) as delta_cap,
    cast(periods_charged as bigint) as periods_charged,
    cast(periods_denied as bigint) as periods_denied,
    cast(periods_pending as bigint) as periods_pending,
    cast(epsilon_spent as double) as epsilon_spent,
    cast(epsilon_pending as double) as epsilon_pending,
    cast(epsilon_spent + epsilon_pending as double) as epsilon_projected,
    cast(delta_spent as double) as delta_spent,
    cast(window_epsilon_spent as double) as window_epsilon_spent,
    cast({{ release['epsilon_cap'] }} - window_epsilon_spent as double) as window_epsilon_remaining,
    cast(window_epsilon_spent + window_epsilon_pending as double) as window_epsilon_projected,
    cast(window_epsilon_spent / {{ release['epsilon_cap'] }} as double) as window_share_spent,
    cast(window_delta_spent as double) as window_delta_spent,
    cast(window_epsilon_pending > 0 as boolean) as window_open,
    cast('{{ as_of_timestamp() }}' as timestamp) as as_of
from usage
