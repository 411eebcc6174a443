with

source as (
    select * from {{ source('attribution', 'reconciliation_runs') }}
),

renamed as (
    select
        -- ids
        id as reconciliation_run_id,
        tenant_id,

        -- outcome
        status,
        events_checked,
        mismatches,

        -- timestamps
        cast(started_at at time zone 'UTC' as timestamp) as started_at_utc,
        cast(finished_at at time zone 'UTC' as timestamp) as finished_at_utc
    from source
)

select * from renamed
