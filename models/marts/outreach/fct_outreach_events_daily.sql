-- Outreach events per UTC day by event, campaign, source, medium, store and canonical
-- source: the contract's allowed aggregate counts. Rate-limited events are excluded.

with

events as (
    select * from {{ ref('stg_outreach__event_logs') }}
    where rate_limit_code is null
)

select
    cast({{ dbt.date_trunc('day', 'events.created_at_utc') }} as date) as event_date,
    events.event,
    events.utm_campaign,
    events.utm_source,
    events.utm_medium,
    events.store,
    events.source_id_resolved,
    count(*) as events,
    count(distinct events.session_id) as distinct_sessions
from events
group by 1, 2, 3, 4, 5, 6, 7
