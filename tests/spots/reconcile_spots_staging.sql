-- Every raw SPOTS event is accounted for: staged, held back by the release delay,
-- quarantined with a reason, or a later copy of an event_id (duplicates). Never silently
-- dropped. Checked per check day (the UTC day of occurred_at, macro spots_check_day; the
-- staging models carry it as day_start and occurred_day), so a row counted on the wrong
-- day fails too. Returns a row for each day whose counts differ.
-- Held back rows are counted by validating again only the days that can hold them (days
-- ending after the release cutoff and starting by as_of, macro spots_day_may_hold_back):
-- on every other day a valid event is staged or after as_of.

with

raw_rows as (
    select
        {{ spots_check_day('raw_events.occurred_at') }} as check_day,
        count(*) as raw_rows,
        0 as staged_rows,
        0 as held_back_rows,
        0 as quarantined_rows,
        0 as duplicate_rows
    from {{ source('spots', 'spots_interaction_events') }} as raw_events
    group by 1
),

staged as (
    select
        day_start as check_day,
        0 as raw_rows,
        count(*) as staged_rows,
        0 as held_back_rows,
        0 as quarantined_rows,
        0 as duplicate_rows
    from {{ ref('stg_spots__interaction_events') }}
    group by 1
),

quarantined as (
    select
        occurred_day as check_day,
        0 as raw_rows,
        0 as staged_rows,
        0 as held_back_rows,
        count(*) as quarantined_rows,
        0 as duplicate_rows
    from {{ ref('stg_spots__interaction_events_quarantine') }}
    group by 1
),

duplicates as (
    select
        occurred_day as check_day,
        0 as raw_rows,
        0 as staged_rows,
        0 as held_back_rows,
        0 as quarantined_rows,
        count(*) as duplicate_rows
    from {{ ref('stg_spots__interaction_events_duplicates') }}
    group by 1
),

held_back_days as (
    select raw_rows.check_day
    from raw_rows
    where {{ spots_day_may_hold_back('raw_rows.check_day') }}
),

held_back_candidates as (
    {{ spots_checked_events('select held_back_days.check_day from held_back_days') }}
),

held_back as (
    select
        held_back_candidates.check_day,
        0 as raw_rows,
        0 as staged_rows,
        count(*) as held_back_rows,
        0 as quarantined_rows,
        0 as duplicate_rows
    from held_back_candidates
    where
        held_back_candidates.rejection_reason is null
        and not {{ hour_is_past_delay(dbt.date_trunc('hour', utc_timestamp('held_back_candidates.occurred_at'))) }}
    group by 1
),

counts as (
    select * from raw_rows
    union all
    select * from staged
    union all
    select * from held_back
    union all
    select * from quarantined
    union all
    select * from duplicates
)

select
    check_day,
    sum(raw_rows) as raw_rows,
    sum(staged_rows) as staged_rows,
    sum(held_back_rows) as held_back_rows,
    sum(quarantined_rows) as quarantined_rows,
    sum(duplicate_rows) as duplicate_rows
from counts
group by 1
having sum(raw_rows) != sum(staged_rows) + sum(held_back_rows) + sum(quarantined_rows) + sum(duplicate_rows)
