-- Operations alerts firing as of var('as_of'), one row each (contract 000 §10: 032
-- `outside_buyer_maybe_alert_budget`, 038 `outside_buyer_maybe_alert_cron_stale`). Rebuilt
-- on every build, so the table holds exactly what fires now: empty when all is well.
--   budget_above_threshold  the busiest open budget window (one a later release may still
--                           charge) has spent at least ops_budget_alert_share of epsilon_cap
--   budget_exhausted        a period of a granularity overlapping an open window was denied
--                           (published suppressed): the cap binds, releases have gaps
--   release_stale           a granularity's oldest unreleased eligible period has been
--                           overdue longer than the release job's max_staleness_hours
--   release_held_incomplete a period of a granularity is past the delay but its landing is
--                           not known complete (ops_spots_release_holds): held, not charged,
--                           not published, until the loader's watermark passes its end

{%- set share = var('ops_budget_alert_share') | float %}
{%- if share <= 0 or share > 1 %}
    {{ exceptions.raise_compiler_error("var ops_budget_alert_share: must be a share of the cap in (0, 1]; got '" ~ var('ops_budget_alert_share') ~ "'") }}
{%- endif %}

with

budget as (
    select * from {{ ref('ops_spots_budget_usage') }}
),

freshness as (
    select * from {{ ref('ops_spots_release_freshness') }}
),

holds as (
    select * from {{ ref('ops_spots_release_holds') }}
),

open_windows as (
    select distinct
        window_start,
        window_end,
        window_epsilon_spent,
        epsilon_cap,
        window_share_spent,
        as_of
    from budget
    where window_open
),

busiest as (
    select
        open_windows.*,
        count(*) over () as windows_above,
        row_number() over (
            order by open_windows.window_share_spent desc, open_windows.window_start asc
        ) as busiest_rank
    from open_windows
    where open_windows.window_share_spent >= {{ share }}
),

budget_alerts as (
    select
        'budget_above_threshold' as alert_type,
        {{ dbt.concat(["cast(cast(window_start as date) as varchar)", "'..'",
            "cast(cast(" ~ dbt.dateadd('day', -1, 'window_end') ~ " as date) as varchar)"]) }} as subject,
        window_share_spent as observed,
        {{ share }} as threshold,
        as_of as detected_at,
        {{ dbt.concat(["'budget window spent epsilon '", "cast(round(window_epsilon_spent, 4) as varchar)",
            "' of the cap '", "cast(epsilon_cap as varchar)", "' ('", "cast(windows_above as varchar)",
            "' open window(s) at or above the alert share); later periods may be denied (budget_exhausted)'"]) }}
            as details
    from busiest
    where busiest_rank = 1
),

exhausted_alerts as (
    select
        'budget_exhausted' as alert_type,
        time_granularity as subject,
        cast(max(periods_denied) as double) as observed,
        cast(0 as double) as threshold,
        max(as_of) as detected_at,
        {{ dbt.concat(["cast(max(periods_denied) as varchar)", "' '", "time_granularity",
            "' period(s) denied for lack of budget (published suppressed, budget_exhausted) in an open window; '",
            "'the cap binds: lower the per-period epsilon, disable a granularity or accept the gaps'"]) }} as details
    from budget
    where window_open and periods_denied > 0
    group by 2
),

stale_alerts as (
    select
        'release_stale' as alert_type,
        time_granularity as subject,
        hours_overdue as observed,
        cast(max_staleness_hours as double) as threshold,
        as_of as detected_at,
        {{ dbt.concat(["cast(periods_behind as varchar)", "' eligible '", "time_granularity",
             "' period(s) not released; last released '",
             "coalesce(cast(cast(last_released_period_start as date) as varchar), 'none')",
             "', last eligible '", "cast(cast(last_eligible_period_start as date) as varchar)",
             "'; overdue since '", "cast(overdue_since as varchar)", "' (job '", "job_name", "')'"]) }} as details
    from freshness
    where is_stale
),

held_periods as (
    select
        time_granularity,
        count(*) as periods_held,
        min(release_period_start) as first_held,
        max(as_of) as as_of,
        case
            when max(completeness) = 'missing' then 'without a watermark (raw.spots_load_watermark)'
            else {{ dbt.concat(["'complete through '", "cast(max(complete_through) as varchar)",
                "' (loaded through '", "cast(max(loaded_through) as varchar)", "')'"]) }}
        end as landing
    from holds
    group by 1
),

held_alerts as (
    select
        'release_held_incomplete' as alert_type,
        time_granularity as subject,
        cast(periods_held as double) as observed,
        cast(0 as double) as threshold,
        as_of as detected_at,
        {{ dbt.concat(["cast(periods_held as varchar)", "' '", "time_granularity",
            "' period(s) past the delay held, not charged, not published: the landing is '", "landing",
            "'; first held '", "cast(cast(first_held as date) as varchar)",
            "'; released by the first build after the watermark passes their end'"]) }} as details
    from held_periods
),

alerts as (
    select * from budget_alerts
    union all
    select * from exhausted_alerts
    union all
    select * from stale_alerts
    union all
    select * from held_alerts
)

select
    cast({{ dbt.concat(['alert_type', "':'", 'subject']) }} as varchar) as alert_key,
    cast(alert_type as varchar) as alert_type,
    cast(subject as varchar) as subject,
    cast(observed as double) as observed,
    cast(threshold as double) as threshold,
    cast(detected_at as timestamp) as detected_at,
    cast(details as varchar) as details
from alerts
