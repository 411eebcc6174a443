-- SPOTS events, coarsened and delayed: the only form in which they leave staging.
-- Kept: a keyed pseudonym of the person, door type, category, context, geohash3 and
-- city, hour/day/week buckets (UTC, weeks from Monday) and the UTC hour it arrived in (to
-- count late arrivals against frozen releases). Dropped: every identifier,
-- the precise coordinates, the exact time and the free text.
-- Held back: events whose hour bucket ends after as_of - reporting_delay_hours.

with

checked as (
    select * from {{ ref('base_spots__interaction_events_checked') }}
    where rejection_reason is null
),

city_map as (
    select * from {{ ref('city_geohash3_map') }}
),

cities as (
    select * from {{ ref('city_definitions') }}
),

coarsened as (
    select
        -- ids
        {{ pseudonymize('checked.user_id') }} as participant_key,

        -- what
        checked.event_type,
        checked.counts_as_door_opened,
        checked.door_type,
        checked.category,

        -- where
        {{ geohash('checked.latitude', 'checked.longitude', 3) }} as geohash3,

        -- when (UTC, without zone)
        cast(checked.occurred_at at time zone 'UTC' as timestamp) as occurred_at_utc,
        cast(checked.ingested_at at time zone 'UTC' as timestamp) as ingested_at_utc
    from checked
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
        {{ dbt.date_trunc('hour', 'coarsened.ingested_at_utc') }} as ingested_hour_start
    from coarsened
    left join city_map on coarsened.geohash3 = city_map.geohash3
    left join cities on city_map.city_code = cities.city_code
)

select * from placed
where {{ dbt.dateadd('hour', 1, 'hour_start') }} <= {{ release_cutoff() }}
