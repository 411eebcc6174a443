-- Per-day summary of SPOTS staging, stored for the next build (docs/analytics_engineer.md "Incremental builds",
-- docs/incremental_builds.md): for each check day, the raw rows it had when last checked,
-- where they went (staged, quarantined, later copies, held back by the delay), the latest
-- staged hour and the clock it was checked at. Built after the three staging models, it
-- recounts only the days this build checked (their rows just changed); every other day keeps
-- its row. The next build's stg_spots__interaction_events_days reads it instead of
-- counting every raw row again, when the raw table's row count shows nothing was added.
-- Counts only, no event data.

{{ config(**period_incremental('check_day')) }}
{{ config(pre_hook="{{ spots_clear_checked_days('check_day') }}") }}

with

checked_days as (
    select
        checked_day.check_day,
        checked_day.raw_rows
    from {{ ref('stg_spots__interaction_events_days') }} as checked_day
    {% if is_incremental() and days_checked_now('stg_spots__interaction_events_days') %}
        where checked_day.to_check
    {% endif %}
),

staged as (
    select
        staged.day_start as check_day,
        count(*) as staged_rows,
        max(staged.hour_start) as last_staged_hour
    from {{ ref('stg_spots__interaction_events') }} as staged
    where staged.day_start in (select checked_days.check_day from checked_days)
    group by 1
),

quarantined as (
    select
        quarantined.occurred_day as check_day,
        count(*) as quarantined_rows,
        -- bigint on every target (a sum is HUGEINT in DuckDB, which the postgres target stores as numeric)
        cast(sum(
            case when quarantined.rejection_reason = 'occurred_at: after as_of (in the future)' then 1 else 0 end
        ) as bigint) as future_rows
    from {{ ref('stg_spots__interaction_events_quarantine') }} as quarantined
    where quarantined.occurred_day in (select checked_days.check_day from checked_days)
    group by 1
),

duplicates as (
    select
        copies.occurred_day as check_day,
        count(*) as duplicate_rows
    from {{ ref('stg_spots__interaction_events_duplicates') }} as copies
    where copies.occurred_day in (select checked_days.check_day from checked_days)
    group by 1
),

counted as (
    select
        checked_days.check_day,
        cast(checked_days.raw_rows as bigint) as raw_rows,
        cast(coalesce(staged.staged_rows, 0) as bigint) as staged_rows,
        cast(coalesce(quarantined.quarantined_rows, 0) as bigint) as quarantined_rows,
        cast(coalesce(duplicates.duplicate_rows, 0) as bigint) as duplicate_rows,
        cast(coalesce(quarantined.future_rows, 0) as bigint) as future_rows,
        staged.last_staged_hour
    from checked_days
    left join staged on checked_days.check_day = staged.check_day
    left join quarantined on checked_days.check_day = quarantined.check_day
    left join duplicates on checked_days.check_day = duplicates.check_day
)

select
    check_day,
    raw_rows,
    staged_rows,
    quarantined_rows,
    duplicate_rows,
    raw_rows - staged_rows - quarantined_rows - duplicate_rows as held_back_rows,
    future_rows,
    last_staged_hour,
    cast('{{ as_of_timestamp() }}' as timestamp) as checked_as_of,
    {{ release_cutoff() }} as checked_cutoff,
    {{ spots_run_started_at() }} as counted_at
from counted
