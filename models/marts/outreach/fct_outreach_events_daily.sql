-- Outreach events per UTC day by event, campaign, source, medium, store and canonical
-- source: the contract's allowed aggregate counts. Rate-limited events are excluded.

with

events as (
    select * from {{ ref('stg_outreach__event_logs') }}
    where rate_limit_code is null
)

select
    {{ dbt.date_trunc('day', 'created_at_utc') }} as event_date,
    event,
    utm_campaign,
    utm_source,
    utm_medium,
    store,
    source_id_resolved,
    count(*) as events,
    count(distinct session_id) as distinct_sessions
from events
group by 1, 2, 3, 4, 5, 6, 7
