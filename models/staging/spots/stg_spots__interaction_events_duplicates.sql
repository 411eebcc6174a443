-- Later copies of a SPOTS event_id: not counted again. The first copy by ingested_at
-- (ties broken by the row's other fields) is the one staged; these are the rest.
-- Only the event id, arrival time, reason and the UTC day the copy occurred on (its check
-- day, macro spots_check_day) are kept (no personal data).
-- Incremental by that day, like stg_spots__interaction_events (docs/analytics_engineer.md "Incremental builds").

{{ config(**period_incremental('occurred_day')) }}
{{ config(pre_hook="{{ spots_clear_checked_days('occurred_day') }}") }}
{{ config(post_hook="{{ spots_drop_first_copies_unless_built() }}") }}
-- depends_on: {{ ref('stg_spots__interaction_events_days') }}
{% if not execute %}-- depends_on: {{ ref('base_spots__interaction_events_to_check') }}{% endif %}
-- depends_on: {{ ref('stg_spots__interaction_events') }}

with

checked as (
    {% if is_incremental() and days_checked_now('stg_spots__interaction_events_days') %}
        select * from {{ ref('base_spots__interaction_events_to_check') }}
    {% else %}
        select * from {{ ref('base_spots__interaction_events_checked') }}
    {% endif %}
    where is_duplicate
)

select
    event_id,
    ingested_at,
    rejection_reason as reason,
    check_day as occurred_day
from checked
