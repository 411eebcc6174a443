-- Outreach events typed and trimmed, as a start of the staging layer. Contract-004
-- validation, source resolution, dedupe and rate-limit flags belong to the outreach
-- issue; nothing here is read by a mart yet.

with

source as (
    select * from {{ source('outreach', 'outreach_event_logs') }}
),

renamed as (
    select
        -- ids
        id as outreach_event_id,
        client_event_id,
        session_id,

        -- event
        trim(event) as event,
        trim(app_key) as app_key,
        trim(page_key) as page_key,

        -- attribution fields
        trim(utm_campaign) as utm_campaign,
        lower(trim(utm_source)) as utm_source,
        lower(trim(utm_medium)) as utm_medium,
        trim(store) as store,
        upper(trim(country)) as country,
        trim(ui_locale) as ui_locale,

        -- timestamps
        cast(created_at at time zone 'UTC' as timestamp) as created_at_utc
    from source
)

select * from renamed
