-- Outreach rows that did not count, per UTC day and reason: contract error codes from
-- quarantine, DUPLICATE_CLIENT_EVENT_ID, and the two rate-limit codes.

with

quarantined as (
    select created_at_utc, error_code as reason from {{ ref('stg_outreach__event_logs_quarantine') }}
),

duplicates as (
    select created_at_utc, 'DUPLICATE_CLIENT_EVENT_ID' as reason from {{ ref('stg_outreach__event_logs_duplicates') }}
),

rate_limited as (
    select created_at_utc, rate_limit_code as reason from {{ ref('stg_outreach__event_logs') }}
    where rate_limit_code is not null
),

unioned as (
    select * from quarantined
    union all
    select * from duplicates
    union all
    select * from rate_limited
)

select
    {{ dbt.date_trunc('day', 'created_at_utc') }} as event_date,
    reason,
    count(*) as events
from unioned
group by 1, 2
