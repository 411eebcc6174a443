-- Attribution events, typed. The raw payload stays in the landing zone; staging keeps
-- only whether it carries a PII key (contract 003 guardrail), never the payload itself.

with

source as (
    select * from {{ source('attribution', 'attribution_events') }}
),

renamed as (
    select
        -- ids
        id as event_id,
        tenant_id,
        idempotency_key,

        -- event
        event_type,
        channel_code,
        revenue_cents,
        processing_status,
        regexp_matches(raw_payload, '"(email|phone|ssn|ip_address|first_name|last_name|address)"\s*:') as payload_has_pii_key,

        -- timestamps
        cast(occurred_at at time zone 'UTC' as timestamp) as occurred_at_utc,
        cast(processed_at at time zone 'UTC' as timestamp) as processed_at_utc,
        cast(created_at at time zone 'UTC' as timestamp) as created_at_utc
    from source
)

select * from renamed
