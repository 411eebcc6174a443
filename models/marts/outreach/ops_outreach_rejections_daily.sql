-- Outreach rows that did not count, per UTC day and reason: contract error codes from
-- quarantine, DUPLICATE_CLIENT_EVENT_ID, and the two rate-limit codes.

with

quarantined as (
    select
        quarantine.created_at_utc,
        quarantine.error_code as reason
    from {{ ref('stg_outreach__event_logs_quarantine') }} as quarantine
),

duplicates as (
    select
        duplicates.created_at_utc,
        'DUPLICATE_CLIENT_EVENT_ID' as reason
    from {{ ref('stg_outreach__event_logs_duplicates') }} as duplicates
),

rate_limited as (
    select
        events.created_at_utc,
        events.rate_limit_code as reason
    from {{ ref('stg_outreach__event_logs') }} as events
    where events.rate_limit_code is not null
),

unioned as (
    select * from quarantined
    union all
    select * from duplicates
    union all
    select * from rate_limited
)

select
    cast({{ dbt.date_trunc('day', 'unioned.created_at_utc') }} as date) as event_date,
    unioned.reason,
    count(*) as events
from unioned
group by 1, 2
