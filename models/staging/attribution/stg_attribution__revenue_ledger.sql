with

source as (
    select * from {{ source('attribution', 'revenue_ledger') }}
),

renamed as (
    select
        -- ids
        id as ledger_id,
        tenant_id,
        event_id,

        -- amount and state
        amount_cents,
        currency,
        state,

        -- timestamps
        cast(created_at at time zone 'UTC' as timestamp) as created_at_utc,
        cast(updated_at at time zone 'UTC' as timestamp) as updated_at_utc
    from source
)

select * from renamed
