{{ config(materialized='ephemeral') }}

-- Doors opened per participant per cell, for each release granularity. Per-person rows:
-- ephemeral, so they are never written; bounded in int_spots__bounded_contributions.
--   hour cells: city x door type x hour   (category 'all'; context of the city's local hour)
--   day cells:  city x door type x category x context x day
--   week cells: city x door type x category x context x ISO week (Monday)
-- Events outside every city are not released at city level (see ops_spots_geo_coverage),
-- nor are events before release_start_date.

with

events as (
    select * from {{ ref('stg_spots__interaction_events') }}
    where counts_as_door_opened and city_code is not null
        -- no period that starts earlier is ever released (int_spots__cell_domain), so
        -- older events would only be aggregated to be dropped by the domain join
        and day_start >= cast('{{ var("release_start_date") }}' as timestamp)
),

cities as (
    select * from {{ ref('city_definitions') }}
),

hour_cells as (
    select
        'hour' as granularity,
        events.day_start as period_start,
        events.hour_start as time_bucket_start_utc,
        events.city_code as geo_bucket_id,
        events.door_type,
        'all' as category,
        {{ local_context(local_timestamp('events.hour_start', 'cities.utc_offset_hours')) }} as context,
        events.participant_key,
        count(*) as doors_opened
    from events
    inner join cities on events.city_code = cities.city_code
    group by 1, 2, 3, 4, 5, 6, 7, 8
),

{% for granularity, bucket in [('day', 'day_start'), ('week', 'week_start')] %}
{{ granularity }}_cells as (
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
){% if not loop.last %},{% endif %}
{% endfor %}

select * from hour_cells
union all
select * from day_cells
union all
select * from week_cells
