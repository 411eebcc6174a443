-- SPOTS events, coarsened and delayed: the only form in which they leave staging.
-- Kept: a keyed pseudonym of the person, door type, category, context, geohash3 and
-- city, hour/day/week buckets (UTC, weeks from Monday) and the UTC hour it arrived in (to
-- count late arrivals against frozen releases). Dropped: every identifier,
-- the precise coordinates, the exact time and the free text.
-- Held back: events whose hour bucket ends after as_of - reporting_delay_hours.
-- Incremental by UTC day (macros/spots/spots_incremental.sql): a build restages every day
-- from the last staged hour's day on, and every older day a newly landed row belongs to
-- (arrived in or after the latest staged arrival hour: rows land in ingested_at order).

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='day_start',
    on_schema_change='fail',
) }}

with

checked as (
    select * from {{ ref('base_spots__interaction_events_checked') }}
    where rejection_reason is null
),

{% if is_incremental() %}
    {% set as_of = "cast('" ~ as_of_timestamp() ~ "' as timestamp)" %}
    -- an empty table (nothing was eligible yet) restages everything; arrival times after
    -- as_of (bad clocks) neither set the high-water mark nor restage a day
    staged as (
        select
            coalesce({{ dbt.date_trunc('day', 'max(hour_start)') }}, cast('0001-01-01' as timestamp)) as first_open_day,
            coalesce(
                max(case when ingested_hour_start <= {{ as_of }} then ingested_hour_start end),
                cast('0001-01-01' as timestamp)
            ) as last_ingested_hour
        from {{ this }}
    ),

    {% set occurred_day = dbt.date_trunc('day', "cast(checked.occurred_at at time zone 'UTC' as timestamp)") %}
    {% set ingested_hour = dbt.date_trunc('hour', "cast(checked.ingested_at at time zone 'UTC' as timestamp)") %}
    landed as (
        select
            {{ occurred_day }} as day_start,
            {{ ingested_hour }} as ingested_hour_start
        from checked
    ),

    days_to_stage as (
        select distinct landed.day_start
        from landed
        cross join staged
        where
            landed.day_start >= staged.first_open_day
            or landed.ingested_hour_start between staged.last_ingested_hour and {{ as_of }}
    ),

    to_stage as (
        select checked.*
        from checked
        where {{ occurred_day }} in (select days_to_stage.day_start from days_to_stage)
    ),
{% else %}
    to_stage as (
        select * from checked
    ),
{% endif %}

city_map as (
    select * from {{ ref('city_geohash3_map') }}
),

cities as (
    select * from {{ ref('city_definitions') }}
),

coarsened as (
    select
        -- ids
        {{ pseudonymize('to_stage.user_id') }} as participant_key,

        -- what
        to_stage.event_type,
        to_stage.counts_as_door_opened,
        to_stage.door_type,
        to_stage.category,

        -- where
        {{ geohash('to_stage.latitude', 'to_stage.longitude', 3) }} as geohash3,

        -- when (UTC, without zone)
        cast(to_stage.occurred_at at time zone 'UTC' as timestamp) as occurred_at_utc,
        cast(to_stage.ingested_at at time zone 'UTC' as timestamp) as ingested_at_utc
    from to_stage
),

placed as (
    select
        coarsened.participant_key,
        coarsened.event_type,
        coarsened.counts_as_door_opened,
        coarsened.door_type,
        coarsened.category,
        coarsened.geohash3,
        city_map.city_code,
        {{ local_context(local_timestamp('coarsened.occurred_at_utc', 'cities.utc_offset_hours')) }} as context,
        {{ dbt.date_trunc('hour', 'coarsened.occurred_at_utc') }} as hour_start,
        {{ dbt.date_trunc('day', 'coarsened.occurred_at_utc') }} as day_start,
        {{ dbt.date_trunc('week', 'coarsened.occurred_at_utc') }} as week_start,
        {{ dbt.date_trunc('hour', 'coarsened.ingested_at_utc') }} as ingested_hour_start,
        {{ spots_run_started_at() }} as staged_at
    from coarsened
    left join city_map on coarsened.geohash3 = city_map.geohash3
    left join cities on city_map.city_code = cities.city_code
)

select * from placed
where {{ dbt.dateadd('hour', 1, 'hour_start') }} <= {{ release_cutoff() }}
