-- Outreach time series per UTC hour by event and canonical source. Rate-limited events
-- are excluded.

with

events as (
    select * from {{ ref('stg_outreach__event_logs') }}
    where rate_limit_code is null
)

select
    {{ dbt.date_trunc('hour', 'events.created_at_utc') }} as event_hour,
    events.event,
    events.source_id_resolved,
    count(*) as events,
    count(distinct events.session_id) as distinct_sessions
from events
group by 1, 2, 3
