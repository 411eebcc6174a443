-- Later copies of a SPOTS event_id: not counted again. The first copy by ingested_at
-- (ties broken by the row's other fields) is the one staged; these are the rest.
-- Only the event id, arrival time and reason are kept (no personal data).

with

checked as (
    select * from {{ ref('base_spots__interaction_events_checked') }}
    where is_duplicate
)

select
    event_id,
    ingested_at,
    rejection_reason as reason
from checked
