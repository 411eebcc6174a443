{#-
    Incremental outreach staging (docs/analytics_engineer.md "Incremental builds"). Outreach staging does not
    depend on as_of, and its per-row windows (rate limits by UTC minute and by session and
    UTC hour) never cross a UTC day of created_at; only the idempotency rank (the first row
    of each client_event_id) spans days. So a build re-validates the UTC days of created_at
    that stg_outreach__event_logs_days marks to check, each row ranked among every row of
    its client_event_id, and the other days stay as they are.
-#}

{#- The UTC day of created_at_utc (a UTC timestamp without zone); 1900-01-01 when missing. -#}
{% macro outreach_check_day(created_at_utc) -%}
    coalesce({{ dbt.date_trunc('day', created_at_utc) }}, cast('1900-01-01' as timestamp))
{%- endmacro %}

{#- client_event_id as a UUID when it is one in the canonical form (after trim), else null. -#}
{% macro outreach_client_event_uuid(client_event_id) -%}
    case
        when {{ matches_pattern(trim_blank('cast(' ~ client_event_id ~ ' as varchar)'), outreach_uuid_pattern()) }}
            then cast({{ trim_blank('cast(' ~ client_event_id ~ ' as varchar)') }} as uuid)
    end
{%- endmacro %}

{#-
    A select of raw outreach rows normalised exactly as contract 004's RPC does, with the
    first rule each breaks and, for valid rows, its rank among rows with the same
    client_event_id (and the row kept for it), and its check day (outreach_check_day).
    scope_days: none for every raw row; else a query returning one column check_day, and
    only rows of those days are returned (ranked among every row of their client_event_id,
    on any day). keep_copies: with scope_days, also return those other rows.
-#}
{% macro outreach_checked_events(scope_days=none, keep_copies=false) -%}
with

{% if scope_days is none %}
    source as (
        select * from {{ source('outreach', 'outreach_event_logs') }}
    ),
{% else %}
    scope_days as (
        {{ scope_days }}
    ),

    scope_rows as (
        select raw_logs.*
        from {{ source('outreach', 'outreach_event_logs') }} as raw_logs
        where {{ outreach_check_day("cast(raw_logs.created_at at time zone 'UTC' as timestamp)") }}
            in (select scope_days.check_day from scope_days)
    ),

    scope_ids as (
        select distinct {{ outreach_client_event_uuid('scope_rows.client_event_id') }} as client_event_id
        from scope_rows
    ),

    -- the other rows carrying the scope's client_event_ids, whatever day they were created on
    source as (
        select * from scope_rows
        union all
        select raw_logs.*
        from {{ source('outreach', 'outreach_event_logs') }} as raw_logs
        where
            {{ outreach_check_day("cast(raw_logs.created_at at time zone 'UTC' as timestamp)") }}
            not in (select scope_days.check_day from scope_days)
            and {{ outreach_client_event_uuid('raw_logs.client_event_id') }}
            in (select scope_ids.client_event_id from scope_ids)
    ),
{% endif %}

normalised as (
    select
        -- ids
        cast(id as varchar) as outreach_event_id,
        nullif({{ trim_blank('cast(client_event_id as varchar)') }}, '') as client_event_id_text,
        {{ outreach_client_event_uuid('client_event_id') }} as client_event_id,
        {{ trim_blank('cast(session_id as varchar)') }} as session_id,

        -- event
        -- `event` is the contract's column name
        {{ trim_blank('cast(event as varchar)') }} as event,  -- noqa: RF04
        {{ trim_blank('cast(app_key as varchar)') }} as app_key,
        {{ trim_blank('cast(page_key as varchar)') }} as page_key,

        -- attribution fields: blank utm_* and store become 'unknown' before validation
        {{ outreach_or_unknown('cast(utm_campaign as varchar)') }} as utm_campaign,
        -- case: ASCII letters only (macro ascii_lower), so a look-alike never becomes the ASCII value
        {{ ascii_lower(outreach_or_unknown('cast(utm_source as varchar)')) }} as utm_source,
        {{ ascii_lower(outreach_or_unknown('cast(utm_medium as varchar)')) }} as utm_medium,
        {{ outreach_or_unknown('cast(store as varchar)') }} as store,

        -- optional context: invalid values are nulled, never rejected
        -- country: two ASCII letters as sent, then upper case (never upper() first: 'ıt' is not IT)
        case
            when {{ matches_pattern(trim_blank('cast(country as varchar)'), outreach_country_pattern()) }}
                then {{ ascii_upper(trim_blank('cast(country as varchar)')) }}
        end as country,
        case
            when
                length({{ trim_blank('cast(ui_locale as varchar)') }}) between 2 and 35
                and not {{ has_blank(trim_blank('cast(ui_locale as varchar)')) }}
                then {{ trim_blank('cast(ui_locale as varchar)') }}
        end as ui_locale,

        -- timestamps
        cast(created_at at time zone 'UTC' as timestamp) as created_at_utc,
        {{ outreach_check_day("cast(created_at at time zone 'UTC' as timestamp)") }} as check_day
    from source
),

checked as (
    select
        normalised.*,
        {{ outreach_rejection('event', 'store', 'session_id', 'app_key', 'page_key', 'utm_campaign',
                              'utm_source', 'utm_medium', 'client_event_id_text', 'client_event_id') }} as rejection
    from normalised
),

-- Idempotency among valid rows: the first by created_at (ties: row id) of each
-- client_event_id has rank 1; later ones are duplicates of `kept_outreach_event_id`.
ranked as (
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
)

select * from ranked
{%- if scope_days is not none and not keep_copies %}
    where ranked.check_day in (select scope_days.check_day from scope_days)
{%- endif %}
{%- endmacro %}

{#- The days stg_outreach__event_logs_days marks to check in this invocation. -#}
{% macro outreach_days_to_check() -%}
    select checked_days.check_day
    from {{ ref('stg_outreach__event_logs_days') }} as checked_days
    where checked_days.to_check
{%- endmacro %}

{#- Pre-hook of the incremental outreach staging models: deletes the rows of the days this
    build checks (every row when the days model was not built in this invocation). -#}
{% macro outreach_clear_checked_days() -%}
    {%- if is_incremental() and days_checked_now('stg_outreach__event_logs_days') -%}
        delete from {{ this }}
        where {{ outreach_check_day('created_at_utc') }} in ({{ outreach_days_to_check() }})
    {%- elif is_incremental() -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of fct_outreach_events_daily (incremental by event_date, the check day of its
    events): deletes the event dates of the days this build checks (every row when the days
    model was not built in this invocation). -#}
{% macro outreach_clear_checked_event_dates() -%}
    {%- if is_incremental() and days_checked_now('stg_outreach__event_logs_days') -%}
        delete from {{ this }}
        where {{ outreach_check_day('cast(event_date as timestamp)') }} in ({{ outreach_days_to_check() }})
    {%- elif is_incremental() -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}
