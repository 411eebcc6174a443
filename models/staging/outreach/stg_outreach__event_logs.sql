-- Valid outreach events, normalised as contract 004 specifies, with the canonical source
-- resolved, duplicate client_event_ids removed (the first by created_at is kept, ties
-- broken by row id), and rate limits flagged in arrival order (created_at, then row id),
-- exactly as the RPC counts them:
--   RATE_LIMIT_GLOBAL   the event is past the 500th in its UTC minute
--   RATE_LIMIT_SESSION  otherwise, it is past the 100th of its session in its UTC hour
-- The RPC checks the global bucket first, so a globally limited event does not count
-- against its session. Flagged events stay here; marts exclude them. This is the last
-- model with per-event rows and session ids: marts only aggregate it.
-- Incremental by UTC day of created_at (macros/outreach/outreach_incremental.sql): a build
-- rewrites the days stg_outreach__event_logs_days marks to check; rate-limit windows never
-- cross a day.

{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
{{ config(pre_hook="{{ outreach_clear_checked_days() }}") }}
-- depends_on: {{ ref('stg_outreach__event_logs_days') }}
{% if not execute %}-- depends_on: {{ ref('base_outreach__event_logs_to_check') }}{% endif %}

with

checked as (
    {% if is_incremental() and days_checked_now('stg_outreach__event_logs_days') %}
        select * from {{ ref('base_outreach__event_logs_to_check') }}
    {% else %}
        select * from {{ ref('base_outreach__event_logs_checked') }}
    {% endif %}
    where rejection is null and coalesce(client_event_rank, 1) = 1
),

sources as (
    select * from {{ ref('outreach_sources') }}
    where active
),

aliases as (
    select * from {{ ref('outreach_source_aliases') }}
    where active
),

resolved as (
    select
        -- ids
        checked.outreach_event_id,
        checked.client_event_id,
        checked.session_id,

        -- event
        checked.event,
        checked.app_key,
        checked.page_key,

        -- attribution: registry, then alias, else unknown (resolution never rejects a row)
        checked.utm_campaign,
        checked.utm_source,
        checked.utm_medium,
        coalesce(sources.source_id, aliases.source_id, 'unknown') as source_id_resolved,
        checked.store,
        checked.country,
        checked.ui_locale,

        -- timestamps
        checked.created_at_utc
    from checked
    left join sources on checked.utm_source = sources.source_id
    left join aliases on checked.utm_source = aliases.alias
),

global_ranked as (
    select
        resolved.*,
        row_number() over (
            partition by {{ dbt.date_trunc('minute', 'created_at_utc') }}
            order by resolved.created_at_utc, resolved.outreach_event_id
        ) <= {{ var('outreach_global_limit_per_minute') }} as within_global_limit
    from resolved
),

session_ranked as (
    select
        global_ranked.*,
        row_number() over (
            partition by
                global_ranked.session_id,
                {{ dbt.date_trunc('hour', 'created_at_utc') }},
                global_ranked.within_global_limit
            order by global_ranked.created_at_utc, global_ranked.outreach_event_id
        ) <= {{ var('outreach_session_limit_per_hour') }} as within_session_limit
    from global_ranked
)

select
    outreach_event_id,
    client_event_id,
    session_id,
    event,
    app_key,
    page_key,
    utm_campaign,
    utm_source,
    utm_medium,
    source_id_resolved,
    store,
    country,
    ui_locale,
    created_at_utc,
    case
        when not within_global_limit then 'RATE_LIMIT_GLOBAL'
        when not within_session_limit then 'RATE_LIMIT_SESSION'
    end as rate_limit_code
from session_ranked
