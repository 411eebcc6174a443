-- Landing completeness of the SPOTS source, one row (macros/spots/landing_completeness.sql):
--   loaded_through    the loader's watermark of raw spots_interaction_events (null: none)
--   complete_through  periods ending at or before it are complete: loaded_through less
--                     landing_grace_hours; with no watermark, null (hold: nothing is
--                     complete) or the release cutoff (landing_without_watermark: trust_clock)
--   completeness      `watermark`, `missing` (held) or `clock` (trusted without a watermark)
-- The cell domain lists only complete periods, so the release step never sees a period whose
-- landing is not known complete. Loader metadata only, no event is read. On the split build
-- (docs/spark.md) it crosses from Spark in the hand-off beside the cell aggregates.

{%- if spots_handoff_dir() %}
    -- split build: the completeness Spark computed, checked against this build's vars
    {{ config(materialized='view') }}
    {{ spots_handoff_select('int_spots__landing_completeness') }}
{%- else %}
    {%- set grace = landing_grace_hours() %}
    {%- set trust_clock = landing_without_watermark() == 'trust_clock' %}

    with

    watermarks as (
        select * from {{ ref('stg_spots__load_watermark') }}
        where table_name = 'spots_interaction_events'
    ),

    latest as (
        select max(loaded_through) as loaded_through
        from watermarks
    )

    select
        cast(loaded_through as {{ dbt.type_timestamp() }}) as loaded_through,
        cast(case
            when loaded_through is not null then {{ dbt.dateadd('hour', -1 * grace, 'loaded_through') }}
            {%- if trust_clock %}
                else {{ release_cutoff() }}
            {%- endif %}
        end as {{ dbt.type_timestamp() }}) as complete_through,
        cast(case
            when loaded_through is not null then 'watermark'
            else '{{ "clock" if trust_clock else "missing" }}'
        end as {{ dbt.type_string() }}) as completeness,
        cast({{ grace }} as {{ dbt.type_bigint() }}) as grace_hours
    from latest
{%- endif %}
