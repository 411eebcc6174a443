-- In-city door-open events per UTC day, ISO week and UTC hour of arrival: what
-- int_spots__late_arrivals counts against frozen releases. Counts only, bounded by days x
-- hours rather than by events, so on the split build it crosses from Spark beside the cell
-- aggregates (docs/spark.md).

{%- if spots_handoff_dir() %}
    -- split build: the counts Spark wrote, checked against this build's vars
    {{ config(materialized='view') }}
    {{ spots_handoff_select('int_spots__door_open_arrivals') }}
{%- else %}

    with

    events as (
        select * from {{ ref('stg_spots__interaction_events') }}
        where counts_as_door_opened and city_code is not null
    )

    select
        day_start,
        week_start,
        ingested_hour_start,
        cast(count(*) as bigint) as door_open_events
    from events
    group by day_start, week_start, ingested_hour_start
{%- endif %}
