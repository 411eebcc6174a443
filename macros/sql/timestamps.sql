{#-
    Timestamp expressions that differ between engines (README "Spark").

    utc_timestamp(x)       the instant x as a UTC timestamp without zone. DuckDB: x at time
                           zone 'UTC'. Spark: a plain cast, since the spark target's session
                           time zone is UTC (profiles.yml.example).
    timestamp_is_finite(x) false for DuckDB's +/-infinity. Spark has no infinite timestamps,
                           but a Parquet file written by DuckDB stores them as the largest and
                           smallest 64-bit microsecond counts, which Spark reads as ordinary
                           (year 294247) values: those two counts are the infinities.
    iso_day_of_week(x)     1 (Monday) to 7 (Sunday).
-#}
{% macro utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'privacy_insights')(expression)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expression) -%}
    cast({{ expression }} at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro spark__utc_timestamp(expression) -%}
    cast({{ expression }} as timestamp)
{%- endmacro %}

{% macro timestamp_is_finite(expression) -%}
    {{ return(adapter.dispatch('timestamp_is_finite', 'privacy_insights')(expression)) }}
{%- endmacro %}

{% macro default__timestamp_is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}

{% macro spark__timestamp_is_finite(expression) -%}
    (unix_micros({{ expression }}) not in (9223372036854775807, -9223372036854775807))
{%- endmacro %}

{% macro iso_day_of_week(expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'privacy_insights')(expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(expression) -%}
    extract(isodow from {{ expression }})
{%- endmacro %}

{% macro spark__iso_day_of_week(expression) -%}
    extract(dayofweek_iso from {{ expression }})
{%- endmacro %}
