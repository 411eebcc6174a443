{{ config(materialized='ephemeral') }}

-- Raw attribution events with what the PostgreSQL landing zone would have enforced:
-- the first PII key in the payload (the trigger would have rejected the row), the rank
-- among rows of the same (tenant, idempotency key) (the unique index would have kept
-- the first), and whether the row is past the 90-day retention. Ephemeral: it carries
-- the payload, which is never written to the warehouse.

with

source as (
    select * from {{ source('attribution', 'attribution_events') }}
),

checked as (
    select
        -- ids
        cast(id as varchar) as event_id,
        cast(tenant_id as varchar) as tenant_id,
        idempotency_key,

        -- event
        event_type,
        channel_code,
        revenue_cents,
        processing_status,
        nullif({{ attribution_pii_key('cast(raw_payload as varchar)') }}, '') as pii_key,

        -- timestamps
        cast(occurred_at at time zone 'UTC' as timestamp) as occurred_at_utc,
        cast(processed_at at time zone 'UTC' as timestamp) as processed_at_utc,
        cast(created_at at time zone 'UTC' as timestamp) as created_at_utc
    from source
)

select
    checked.*,
    case when pii_key is null then
        row_number() over (
            partition by tenant_id, idempotency_key, pii_key is null
            order by created_at_utc, event_id
        )
    end as idempotency_rank,
    created_at_utc < {{ attribution_retention_cutoff() }} as is_past_retention
from checked
