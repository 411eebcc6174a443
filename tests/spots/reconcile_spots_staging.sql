-- Every raw SPOTS event is accounted for: staged, held back by the release delay,
-- quarantined with a reason, or a later copy of an event_id (duplicates). Never silently
-- dropped. Returns a row when the sums differ.

with

raw_events as (
    select count(*) as n from {{ source('spots', 'spots_interaction_events') }}
),

staged as (
    select count(*) as n from {{ ref('stg_spots__interaction_events') }}
),

quarantined as (
    select count(*) as n from {{ ref('stg_spots__interaction_events_quarantine') }}
),

duplicates as (
    select count(*) as n from {{ ref('stg_spots__interaction_events_duplicates') }}
),

held_back as (
    select count(*) as n
    from {{ ref('base_spots__interaction_events_checked') }}
    where
        rejection_reason is null
        and not {{ hour_is_past_delay(dbt.date_trunc('hour', utc_timestamp('occurred_at'))) }}
)

select
    raw_events.n as raw_rows,
    staged.n as staged_rows,
    held_back.n as held_back_rows,
    quarantined.n as quarantined_rows,
    duplicates.n as duplicate_rows
from raw_events, staged, held_back, quarantined, duplicates
where raw_events.n != staged.n + held_back.n + quarantined.n + duplicates.n
