-- SPOTS events, coarsened and delayed: the only form in which they leave staging.
-- Kept: a keyed pseudonym of the person, door type, category, context, geohash3 and
-- city, hour/day/week buckets (UTC, weeks from Monday) and the UTC hour it arrived in (to
-- count late arrivals against frozen releases). Dropped: every identifier,
-- the precise coordinates, the exact time and the free text.
-- Held back: events whose hour bucket ends after as_of - reporting_delay_hours.
-- Incremental by UTC day (macros/spots/spots_incremental.sql): a build restages every day
-- whose count of stageable raw rows differs from its count of staged rows.

{{ config(**period_incremental('day_start')) }}

with

checked as (
    select * from {{ ref('base_spots__interaction_events_checked') }}
    where rejection_reason is null
),

{% if is_incremental() %}
    {% set occurred_utc = utc_timestamp('checked.occurred_at') %}
    -- per UTC day, the rows this build would stage (valid, not held back)...
    stageable_days as (
        select
            {{ dbt.date_trunc('day', occurred_utc) }} as day_start,
            count(*) as stageable_rows
        from checked
        where {{ hour_is_past_delay(dbt.date_trunc('hour', occurred_utc)) }}
        group by 1
    ),

    -- ...and the rows staged so far
    staged_days as (
        select
            day_start,
            count(*) as staged_rows
        from {{ this }}
        group by 1
    ),

    -- raw rows are only ever added, so a day whose counts differ has new rows: events no
    -- longer held back, events no longer in the future of as_of, late arrivals
    days_to_stage as (
        select stageable_days.day_start
        from stageable_days
        left join staged_days on stageable_days.day_start = staged_days.day_start
        where staged_days.staged_rows is null or staged_days.staged_rows != stageable_days.stageable_rows
    ),

    to_stage as (
        select checked.*
        from checked
        where {{ dbt.date_trunc('day', occurred_utc) }} in (select days_to_stage.day_start from days_to_stage)
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
