with

source as (
    select * from {{ source('attribution', 'revenue_state_transitions') }}
),

renamed as (
    select
        -- ids
        id as transition_id,
        ledger_id,

        -- transition
        from_state,
        to_state,
        reason,

        -- timestamps
        cast(transitioned_at at time zone 'UTC' as timestamp) as transitioned_at_utc
    from source
)

select * from renamed
