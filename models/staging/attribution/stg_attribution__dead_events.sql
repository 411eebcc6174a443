-- Events rejected upstream, with the reason. The payload is not carried into the warehouse.

with

source as (
    select * from {{ source('attribution', 'dead_events') }}
),

renamed as (
    select
        -- ids
        id as dead_event_id,
        tenant_id,

        -- why
        error_reason,

        -- timestamps
        cast(created_at at time zone 'UTC' as timestamp) as created_at_utc
    from source
)

select * from renamed
