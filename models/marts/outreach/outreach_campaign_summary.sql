-- Campaign / source / medium summary: page views, CTA clicks, click-through rate and
-- distinct sessions over the whole history. Rate-limited events are excluded.

with

events as (
    select * from {{ ref('stg_outreach__event_logs') }}
    where rate_limit_code is null
),

summarised as (
    select
        events.utm_campaign,
        events.utm_source,
        events.utm_medium,
        events.source_id_resolved,
        count(case when events.event = 'page_view' then 1 end) as page_views,
        count(case when events.event = 'cta_click' then 1 end) as cta_clicks,
        count(distinct events.session_id) as distinct_sessions,
        min(events.created_at_utc) as first_event_at,
        max(events.created_at_utc) as last_event_at
    from events
    group by 1, 2, 3, 4
)

select
    summarised.*,
    case
        when summarised.page_views > 0 then cast(summarised.cta_clicks as double) / summarised.page_views
    end as click_through_rate
from summarised
