-- The lifetime view of spots_insights_v1's privacy loss, as of var('as_of'): per horizon (the
-- budget window, budget_window_days, and a year, 365 days), the epsilon charged to the busiest
-- window of that length (every charged period a window overlaps counts in full: the loss of a
-- person present in every period, by basic composition), the policy's worst case for that length
-- (every period of every enabled granularity released once, and once more when corrections are
-- on) and the cap the release step enforces (epsilon_cap; spots_release.annual_epsilon_cap,
-- null when off). Only ledger decisions taken at or before as_of count. No people: epsilons.
-- depends_on: {{ ref('spots_insights_v1') }}   (runs after the release step has charged the ledger)

{%- set release = var('spots_release') %}
{%- set window_days = release['budget_window_days'] | int %}
{%- set granularities = spots_enabled_granularities() %}
{%- set corrections = 2 if (release.get('corrections') or {}).get('enabled') else 1 %}
{%- set annual_cap = release.get('annual_epsilon_cap') %}
{%- set as_of_day = dbt.date_trunc('day', "cast('" ~ as_of_timestamp() ~ "' as timestamp)") %}

{%- set worst = {} %}
{%- for days in [window_days, 365] %}
    {%- set ns = namespace(total=0.0) %}
    {%- for g in granularities %}
        {%- set periods = (((days - 1) / 7) | round(0, 'ceil') | int + 1) if g == 'week' else days %}
        {%- set ns.total = ns.total + periods * (release['granularities'][g]['epsilon'] | float) %}
    {%- endfor %}
    {%- do worst.update({days: ns.total * corrections}) %}
{%- endfor %}

with

ledger as (
    select * from {{ ref('spots_privacy_budget_ledger') }}
),

charges as (
    select
        release_period_start as period_start,
        epsilon,
        {{ dbt.dateadd('day', "case when time_granularity = 'week' then 7 else 1 end", 'release_period_start') }}
            as period_end
    from ledger
    where status = 'charged' and as_of <= cast('{{ as_of_timestamp() }}' as timestamp)
),

horizons as (
    select
        {{ window_days }} as horizon_days,
        cast({{ release['epsilon_cap'] }} as double) as epsilon_cap,
        cast({{ worst[window_days] }} as double) as policy_worst_case
    union all
    select
        365 as horizon_days,
        cast({{ annual_cap if annual_cap is not none else 'null' }} as double) as epsilon_cap,
        cast({{ worst[365] }} as double) as policy_worst_case
),

{%- set first_window = dbt.dateadd('day', -364, release_start_timestamp()) %}

window_starts as (
    {{ timestamp_spine(first_window, dbt.dateadd('day', 1, as_of_day), '1 day') }}
),

windows as (
    select
        horizons.horizon_days,
        window_starts.bucket_start as window_start,
        sum(coalesce(charges.epsilon, 0)) as window_epsilon
    from horizons
    cross join window_starts
    left join charges
        on
            {{ dbt.dateadd('day', 'horizons.horizon_days', 'window_starts.bucket_start') }} > charges.period_start
            and window_starts.bucket_start < charges.period_end
    group by 1, 2
),

busiest as (
    select
        horizon_days,
        window_start,
        window_epsilon,
        row_number() over (partition by horizon_days order by window_epsilon desc, window_start asc) as busiest_rank
    from windows
)

select
    cast(horizons.horizon_days as bigint) as horizon_days,
    cast(busiest.window_start as timestamp) as busiest_window_start,
    cast(coalesce(busiest.window_epsilon, 0) as double) as epsilon_charged,
    cast(horizons.policy_worst_case as double) as policy_worst_case,
    cast(horizons.epsilon_cap as double) as epsilon_cap,
    cast('{{ as_of_timestamp() }}' as timestamp) as as_of
from horizons
left join busiest on horizons.horizon_days = busiest.horizon_days and busiest.busiest_rank = 1
