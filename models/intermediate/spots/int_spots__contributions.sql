{{ config(materialized='ephemeral') }}

-- Doors opened per participant per finest cell, for each enabled release granularity.
-- Per-person rows: ephemeral, so they are never written; summed to each measured level and
-- bounded to at most C_L cells of each level per participant-period in
-- int_spots__bounded_contributions.
--   hour cells: city x UTC hour      (door type and category `all`; context of the city's local hour)
--   day cells:  city x door type x category x context x UTC day
--   week cells: city x door type x category x context x ISO week (Monday)
-- Events outside every city are not released at city level (see ops_spots_geo_coverage),
-- nor are events before release_start_date. In an incremental build, only the periods
-- from the aggregation horizon on (macros/spots/spots_incremental.sql).

with

events as (
    select * from {{ ref('stg_spots__interaction_events') }}
    -- no period that starts earlier is ever released (int_spots__cell_domain), so
    -- older events would only be aggregated to be dropped by the domain join
    where
        counts_as_door_opened
        and city_code is not null
        and day_start >= {{ release_start_timestamp() }}
        -- in an incremental build, only the periods int_spots__cell_aggregates recomputes
        and day_start >= {{ spots_aggregation_horizon() or release_start_timestamp() }}
),

{% set granularities = spots_enabled_granularities() %}
{% if 'hour' in granularities %}
    cities as (
        select * from {{ ref('city_definitions') }}
    ),
{% endif %}

cells as (
    {% for granularity in granularities %}
        {%- if granularity == 'hour' %}
            select
                'hour' as granularity,
                events.day_start as period_start,
                events.hour_start as time_bucket_start_utc,
                events.city_code as geo_bucket_id,
                'all' as door_type,
                'all' as category,
                {{ local_context(local_timestamp('events.hour_start', 'cities.utc_offset_hours')) }} as context,
                events.participant_key,
                count(*) as doors_opened
            from events
            inner join cities on events.city_code = cities.city_code
            group by 1, 2, 3, 4, 5, 6, 7, 8
        {%- else %}
            {%- set bucket = 'day_start' if granularity == 'day' else 'week_start' %}
            select
                '{{ granularity }}' as granularity,
                {{ bucket }} as period_start,
                {{ bucket }} as time_bucket_start_utc,
                city_code as geo_bucket_id,
                door_type,
                category,
                context,
                participant_key,
                count(*) as doors_opened
            from events
            group by 1, 2, 3, 4, 5, 6, 7, 8
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from cells
