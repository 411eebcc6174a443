{#- One row per step from `start` (inclusive) to `stop` (exclusive), column `bucket_start`. -#}
{% macro timestamp_spine(start_sql, stop_sql, step) -%}
    {{ return(adapter.dispatch('timestamp_spine', 'privacy_insights')(start_sql, stop_sql, step)) }}
{%- endmacro %}

{% macro default__timestamp_spine(start_sql, stop_sql, step) -%}
    select cast(spine.bucket_start as timestamp) as bucket_start
    from generate_series(cast({{ start_sql }} as timestamp), cast({{ stop_sql }} as timestamp), interval '{{ step }}') as spine(bucket_start)
    where spine.bucket_start < cast({{ stop_sql }} as timestamp)
{%- endmacro %}
