with

source as (
    select * from {{ source('attribution', 'attribution_allocations') }}
),

renamed as (
    select
        -- ids
        id as allocation_id,
        tenant_id,
        event_id,

        -- allocation
        channel_code,
        allocated_revenue_cents,
        confidence_score,

        -- timestamps
        cast(created_at at time zone 'UTC' as timestamp) as created_at_utc
    from source
)

select * from renamed
