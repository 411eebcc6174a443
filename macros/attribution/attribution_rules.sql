{#- Contract 003 PII keys; staging mirrors the PostgreSQL trigger fn_detect_pii_keys. -#}
{% macro attribution_pii_keys() %}{{ return(['email', 'phone', 'ssn', 'ip_address', 'first_name', 'last_name', 'address']) }}{% endmacro %}

{#-
    The first PII key found as an object key anywhere in a JSON text, lower-cased, or ''.
    In valid JSON a quoted string followed by ':' is always a key, at any depth.
-#}
{% macro attribution_pii_key(json_text) -%}
    lower(regexp_extract({{ json_text }}, '"((?i){{ attribution_pii_keys() | join("|") }})"\s*:', 1))
{%- endmacro %}

{#- Rows created before as_of - attribution_retention_days are past retention (contract 003: 90 days). -#}
{% macro attribution_retention_cutoff() -%}
    {{ dbt.dateadd('day', -1 * (var('attribution_retention_days') | int), "cast('" ~ as_of_timestamp() ~ "' as timestamp)") }}
{%- endmacro %}
