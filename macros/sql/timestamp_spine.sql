{#-
    One row per step from `start_sql` (inclusive) to `stop_sql` (exclusive), column
    `bucket_start` (timestamp). `step` is '1 hour', '1 day' or '7 days' ('1 week').

    Built on dbt-core's `dbt.date_spine`, whose end is inclusive and whose length is
    computed at compile time (`get_intervals_between`, one small query): the spine runs
    one step past `stop_sql` and keeps what starts before it, so a partial last step is
    kept exactly as `generate_series(start, stop, step)` with `< stop` would.
    tests/macros/timestamp_spine_matches_generate_series.sql checks that on both targets.
-#}
{% macro timestamp_spine(start_sql, stop_sql, step) -%}
    {{ return(adapter.dispatch('timestamp_spine', 'privacy_insights')(start_sql, stop_sql, step)) }}
{%- endmacro %}

{% macro default__timestamp_spine(start_sql, stop_sql, step) -%}
    {%- set dateparts = {'1 hour': 'hour', '1 day': 'day', '7 days': 'week', '1 week': 'week'} -%}
    {%- set datepart = dateparts.get(step | trim | lower) -%}
    {%- if not datepart -%}
        {{ exceptions.raise_compiler_error("timestamp_spine: step must be one of '1 hour', '1 day', '7 days' or '1 week'; got '" ~ step ~ "'") }}
    {%- endif -%}
    {%- set start = 'cast(' ~ start_sql ~ ' as timestamp)' -%}
    {%- set stop = 'cast(' ~ stop_sql ~ ' as timestamp)' -%}
    select cast(spine.date_{{ datepart }} as timestamp) as bucket_start
    from ({{ dbt.date_spine(datepart, start, dbt.dateadd(datepart, 1, stop)) }}) as spine
    where spine.date_{{ datepart }} < {{ stop }}
{%- endmacro %}
