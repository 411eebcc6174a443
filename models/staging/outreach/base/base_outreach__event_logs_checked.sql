{{ config(materialized='ephemeral') }}

-- Every raw outreach row normalised exactly as contract 004's RPC does (trim and blank as
-- macros/sql/blank.sql define them: Unicode whitespace and zero-width characters), with the first
-- rule it breaks and, for valid rows, its rank among rows with the same client_event_id.
-- Ephemeral: it carries session ids and is never written on its own.

with

source as (
    select * from {{ source('outreach', 'outreach_event_logs') }}
),

normalised as (
    select
        -- ids
        cast(id as varchar) as outreach_event_id,
        nullif({{ trim_blank('cast(client_event_id as varchar)') }}, '') as client_event_id_text,
        case
            when {{ matches_pattern(trim_blank('cast(client_event_id as varchar)'), outreach_uuid_pattern()) }}
                then cast({{ trim_blank('cast(client_event_id as varchar)') }} as uuid)
        end as client_event_id,
        {{ trim_blank('cast(session_id as varchar)') }} as session_id,

        -- event
        -- `event` is the contract's column name
        {{ trim_blank('cast(event as varchar)') }} as event,  -- noqa: RF04
        {{ trim_blank('cast(app_key as varchar)') }} as app_key,
        {{ trim_blank('cast(page_key as varchar)') }} as page_key,

        -- attribution fields: blank utm_* and store become 'unknown' before validation
        {{ outreach_or_unknown('cast(utm_campaign as varchar)') }} as utm_campaign,
        lower({{ outreach_or_unknown('cast(utm_source as varchar)') }}) as utm_source,
        lower({{ outreach_or_unknown('cast(utm_medium as varchar)') }}) as utm_medium,
        {{ outreach_or_unknown('cast(store as varchar)') }} as store,

        -- optional context: invalid values are nulled, never rejected
        case
            when {{ matches_pattern("upper(" ~ trim_blank('cast(country as varchar)') ~ ")", "[A-Z]{2}") }}
                then upper({{ trim_blank('cast(country as varchar)') }})
        end as country,
        case
            when
                length({{ trim_blank('cast(ui_locale as varchar)') }}) between 2 and 35
                and not {{ has_blank(trim_blank('cast(ui_locale as varchar)')) }}
                then {{ trim_blank('cast(ui_locale as varchar)') }}
        end as ui_locale,

        -- timestamps
        cast(created_at at time zone 'UTC' as timestamp) as created_at_utc
    from source
),

checked as (
    select
        normalised.*,
        {{ outreach_rejection('event', 'store', 'session_id', 'app_key', 'page_key', 'utm_campaign',
                              'utm_source', 'utm_medium', 'client_event_id_text', 'client_event_id') }} as rejection
    from normalised
)

-- Idempotency among valid rows: the first by created_at (ties: row id) of each
-- client_event_id has rank 1; later ones are duplicates of `kept_outreach_event_id`.
select
    checked.*,
    case
        when checked.rejection is null and checked.client_event_id is not null then
            row_number() over (
                partition by checked.client_event_id, checked.rejection is null
                order by checked.created_at_utc, checked.outreach_event_id
            )
    end as client_event_rank,
    case
        when checked.rejection is null and checked.client_event_id is not null then
            first_value(checked.outreach_event_id) over (
                partition by checked.client_event_id, checked.rejection is null
                order by checked.created_at_utc, checked.outreach_event_id
            )
    end as kept_outreach_event_id
from checked
