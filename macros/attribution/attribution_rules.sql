{#- PII keys: macros/attribution/pii_keys.sql (generated from privacy_insights.attribution.pii_keys). -#}

{#- Rows created before as_of - attribution_retention_days are past retention (contract 003: 90 days). -#}
{% macro attribution_retention_cutoff() -%}
    {{ dbt.dateadd('day', -1 * (var('attribution_retention_days') | int), "cast('" ~ as_of_timestamp() ~ "' as timestamp)") }}
{%- endmacro %}
