-- Outreach events per UTC day by event, campaign, source, medium, store and canonical
-- source: the contract's allowed aggregate counts. Rate-limited events are excluded.
-- Incremental by UTC day (docs/incremental_builds.md): a build recomputes the days
-- stg_outreach__event_logs_days marks to check (the only days whose staged rows changed; a
-- day's rows and rate limits never depend on another day), every day when that model was
-- not built in this invocation; --full-refresh recomputes all.

{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
{{ config(pre_hook="{{ outreach_clear_checked_event_dates() }}") }}
-- depends_on: {{ ref('stg_outreach__event_logs_days') }}

with

events as (
    select * from {{ ref('stg_outreach__event_logs') }}
    where rate_limit_code is null
    {% if is_incremental() and days_checked_now('stg_outreach__event_logs_days') %}
        and {{ outreach_check_day('created_at_utc') }} in ({{ outreach_days_to_check() }})
    {% endif %}
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
