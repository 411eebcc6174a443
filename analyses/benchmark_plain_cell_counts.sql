-- Benchmark baseline (a), not a buyer query: the cells of spots_insights_v1 (hour, day,
-- week) computed by one plain SQL aggregation over the raw events, with no validation,
-- quarantine, pseudonym, contribution bounding, noise, suppression or tests. It is the
-- floor a privacy pipeline can approach; `privacy-insights benchmark` compiles and times
-- it (docs/benchmark.md). It reads raw identifiers, so its output never leaves the
-- benchmark's scratch schema.

with

events as (
    select
        source.user_id,
        source.door_type,
        source.category,
        cities.city_code,
        cities.utc_offset_hours,
        cast(source.occurred_at at time zone 'UTC' as timestamp) as occurred_at_utc
    from {{ source('spots', 'spots_interaction_events') }} as source  -- noqa: RF04
    inner join {{ ref('event_types') }} as event_types
        on source.event_type = event_types.event_type and event_types.counts_as_door_opened
    inner join {{ ref('city_geohash3_map') }} as city_map
        on {{ geohash('source.latitude', 'source.longitude', 3) }} = city_map.geohash3
    inner join {{ ref('city_definitions') }} as cities
        on city_map.city_code = cities.city_code
),

bucketed as (
    select
        *,
        {{ dbt.date_trunc('hour', 'occurred_at_utc') }} as hour_start,
        {{ dbt.date_trunc('day', 'occurred_at_utc') }} as day_start,
        {{ dbt.date_trunc('week', 'occurred_at_utc') }} as week_start,
        {{ local_context(local_timestamp('occurred_at_utc', 'utc_offset_hours')) }} as context
    from events
    where occurred_at_utc >= cast('{{ var("release_start_date") }}' as timestamp)
),

per_person as (
    select
        'hour' as granularity,
        hour_start as time_bucket_start_utc,
        city_code,
        door_type,
        'all' as category,
        {{ local_context(local_timestamp('hour_start', 'utc_offset_hours')) }} as context,
        user_id,
        count(*) as doors_opened
    from bucketed
    where {{ dbt.dateadd('day', 1, 'day_start') }} <= {{ release_cutoff() }}
    group by all
    union all
    select
        'day' as granularity,
        day_start as time_bucket_start_utc,
        city_code,
        door_type,
        category,
        context,
        user_id,
        count(*) as doors_opened
    from bucketed
    where {{ dbt.dateadd('day', 1, 'day_start') }} <= {{ release_cutoff() }}
    group by all
    union all
    select
        'week' as granularity,
        week_start as time_bucket_start_utc,
        city_code,
        door_type,
        category,
        context,
        user_id,
        count(*) as doors_opened
    from bucketed
    where
        week_start >= cast('{{ var("release_start_date") }}' as timestamp)
        and {{ dbt.dateadd('day', 7, 'week_start') }} <= {{ release_cutoff() }}
    group by all
)

select
    granularity,
    time_bucket_start_utc,
    city_code,
    door_type,
    category,
    context,
    count(*) as participants,
    sum(doors_opened) as doors_opened,
    count(*) filter (where doors_opened >= 2) as repeaters
from per_person
group by all
