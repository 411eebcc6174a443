-- The copy of each SPOTS event_id that is kept (docs/incremental_builds.md, "The first-copy
-- table"): one row per event_id with a copy that breaks no rule but the clock's, for the
-- copy that comes first (macro spots_checked_events: by ingested_at, then the row's other
-- fields), whether it is staged, held back by the delay or quarantined as after as_of.
-- Only the event id, its arrival time and the UTC day it occurred on (its check day) are
-- kept: the columns stg_spots__interaction_events_duplicates keeps for the other copies.
--
-- Incremental by that day, like the staging models, and built after them: a build rewrites
-- the rows of the days it checked (the first copies among their raw rows, ranked against
-- the stored first copies of the days it did not check) and keeps every other row. The next
-- build looks the checked days' event_ids up here instead of among every raw row: a day
-- checked reads its own raw rows and this table's keys, not history.

{{ config(**period_incremental('occurred_day')) }}
{{ config(pre_hook="{{ spots_clear_checked_days('occurred_day') }}") }}
-- depends_on: {{ ref('stg_spots__interaction_events_days') }}
{% if not execute %}-- depends_on: {{ ref('base_spots__interaction_events_to_check') }}{% endif %}
-- depends_on: {{ ref('stg_spots__interaction_events') }}
-- depends_on: {{ ref('stg_spots__interaction_events_quarantine') }}
-- depends_on: {{ ref('stg_spots__interaction_events_duplicates') }}

with

checked as (
    {% if is_incremental() and days_checked_now('stg_spots__interaction_events_days') %}
        select * from {{ ref('base_spots__interaction_events_to_check') }}
    {% else %}
        select * from {{ ref('base_spots__interaction_events_checked') }}
    {% endif %}
    where event_id_rank = 1
)

select
    event_id,
    ingested_at,
    check_day as occurred_day
from checked
