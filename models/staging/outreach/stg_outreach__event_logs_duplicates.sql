-- Valid outreach rows repeating an earlier client_event_id: not counted again (contract
-- 004 idempotency). Each row names the event that was kept.

with

checked as (
    select * from {{ ref('base_outreach__event_logs_checked') }}
    where client_event_rank > 1
)

select
    outreach_event_id,
    client_event_id,
    created_at_utc,
    kept_outreach_event_id
from checked
