-- Campaign / source / medium summary: page views, CTA clicks, click-through rate and
-- distinct sessions over the whole history. Rate-limited events are excluded.

with

events as (
    select * from {{ ref('stg_outreach__event_logs') }}
    where rate_limit_code is null
),

summarised as (
    select
        utm_campaign,
        utm_source,
        utm_medium,
        source_id_resolved,
        sum(case when event = 'page_view' then 1 else 0 end) as page_views,
        sum(case when event = 'cta_click' then 1 else 0 end) as cta_clicks,
        count(distinct session_id) as distinct_sessions,
        min(created_at_utc) as first_event_at,
        max(created_at_utc) as last_event_at
    from events
    group by 1, 2, 3, 4
)

select
    summarised.*,
    case when page_views > 0 then cast(cta_clicks as double) / page_views end as click_through_rate
from summarised
