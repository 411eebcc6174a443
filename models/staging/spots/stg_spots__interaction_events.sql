-- SPOTS events, coarsened and delayed: the only form in which they leave staging.
-- Kept: a keyed pseudonym of the person, door type, category, context, geohash3 and
-- city, hour/day/week buckets (UTC, weeks from Monday) and the UTC hour it arrived in (to
-- count late arrivals against frozen releases). Dropped: every identifier,
-- the precise coordinates, the exact time and the free text.
-- Held back: events whose hour bucket ends after as_of - reporting_delay_hours.
-- Incremental by UTC day (docs/analytics_engineer.md "Incremental builds"): a build restages the days
-- stg_spots__interaction_events_days marks to check (new raw rows, rows the delay held back
-- or the clock put after as_of, a copy of an event now first on another day), re-validating
-- only their raw rows (base_spots__interaction_events_to_check).

{{ config(**period_incremental('day_start')) }}
{{ config(pre_hook="{{ spots_clear_checked_days('day_start') }}") }}
{{ config(post_hook="{{ spots_drop_first_copies_unless_built() }}") }}
-- depends_on: {{ ref('stg_spots__interaction_events_days') }}
{% if not execute %}-- depends_on: {{ ref('base_spots__interaction_events_to_check') }}{% endif %}

with

{% if is_incremental() and days_checked_now('stg_spots__interaction_events_days') %}
    to_stage as (
        select * from {{ ref('base_spots__interaction_events_to_check') }}
        where rejection_reason is null
    ),
{% else %}
    to_stage as (
        select * from {{ ref('base_spots__interaction_events_checked') }}
        where rejection_reason is null
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
        {{ utc_timestamp('to_stage.occurred_at') }} as occurred_at_utc,
        {{ utc_timestamp('to_stage.ingested_at') }} as ingested_at_utc
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
where {{ hour_is_past_delay('hour_start') }}
