-- SPOTS events that break a staging rule, with the rule. Never silently dropped:
-- raw = staged + held back by the delay + quarantined + duplicates (tested).
-- Only the event id and arrival time are kept, so quarantine copies no personal data.

with

checked as (
    select * from {{ ref('base_spots__interaction_events_checked') }}
    where
        rejection_reason is not null
        and not is_duplicate
)

select
    event_id,
    ingested_at,
    rejection_reason
from checked
