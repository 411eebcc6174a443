{#-
    Contract 004 rules, in one place for every model that applies them. The PostgreSQL
    RPC (src/privacy_insights/postgres/outreach.sql) applies the same rules in the same
    order; tests_py/outreach_cases.py drives both with one table of cases.
-#}
{% macro outreach_events() %}{{ return(['page_view', 'cta_click']) }}{% endmacro %}
{% macro outreach_stores() %}{{ return(['web', 'ios_app_store', 'google_play', 'unknown']) }}{% endmacro %}
{#- country: two ASCII letters, matched on the trimmed input before it is upper-cased (textrules.COUNTRY_PATTERN). -#}
{% macro outreach_country_pattern() %}{{ return('[A-Za-z]{2}') }}{% endmacro %}
{% macro outreach_session_pattern() %}{{ return('anon_[A-Za-z0-9_-]{16,32}') }}{% endmacro %}
{#- client_event_id: the canonical 8-4-4-4-12 form only, as the RPC checks it (not each engine's own UUID parser). -#}
{% macro outreach_uuid_pattern() %}{{ return('[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}') }}{% endmacro %}

{#- Trimmed text (macro trim_blank); blank becomes `unknown` (utm_* and store are coerced before validation). -#}
{% macro outreach_or_unknown(expression) -%}
    coalesce(nullif({{ trim_blank(expression) }}, ''), 'unknown')
{%- endmacro %}

{#-
    The first rule a normalised row breaks, as '<CODE>: <field> <rule>', or null.
    Order: event, store, session, then required text and length caps (contract order).
-#}
{% macro outreach_rejection(event, store, session_id, app_key, page_key, utm_campaign, utm_source, utm_medium, client_event_id_text, client_event_id) -%}
    case
        when {{ event }} is null or {{ event }} not in ('{{ outreach_events() | join("', '") }}')
            then 'INVALID_EVENT: event must be page_view or cta_click'
        when {{ store }} not in ('{{ outreach_stores() | join("', '") }}')
            then 'INVALID_STORE: store must be web, ios_app_store, google_play or unknown'
        when {{ session_id }} is null or not {{ matches_pattern(session_id, outreach_session_pattern()) }}
            then 'INVALID_SESSION: session_id must match ^{{ outreach_session_pattern() }}$'
        when {{ app_key }} is null or {{ app_key }} = '' or length({{ app_key }}) > 40
            then 'INVALID_INPUT: app_key must be 1 to 40 characters after trim'
        when {{ page_key }} is null or {{ page_key }} = '' or length({{ page_key }}) > 80
            then 'INVALID_INPUT: page_key must be 1 to 80 characters after trim'
        when length({{ utm_campaign }}) > 128
            then 'INVALID_INPUT: utm_campaign must be at most 128 characters'
        when length({{ utm_source }}) > 128
            then 'INVALID_INPUT: utm_source must be at most 128 characters'
        when length({{ utm_medium }}) > 128
            then 'INVALID_INPUT: utm_medium must be at most 128 characters'
        when {{ client_event_id_text }} is not null and {{ client_event_id }} is null
            then 'INVALID_INPUT: client_event_id must be a UUID'
    end
{%- endmacro %}
