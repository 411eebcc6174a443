-- Attribution events as the PostgreSQL landing zone guarantees them, mirrored on any
-- target: one row per (tenant, idempotency key) (the first by created_at), no payload
-- carrying a PII key (those are in stg_attribution__events_quarantine), nothing past
-- the 90-day retention. The payload itself never enters the warehouse.

with

checked as (
    select * from {{ ref('base_attribution__events_checked') }}
    where
        rejection_reason is null
        and idempotency_rank = 1
        and not is_past_retention
)

select
    -- ids
    event_id,
    tenant_id,
    idempotency_key,

    -- event
    event_type,
    channel_code,
    revenue_cents,
    processing_status,

    -- timestamps
    occurred_at_utc,
    processed_at_utc,
    created_at_utc
from checked
