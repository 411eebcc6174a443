-- What an hour release would buy (docs/privacy_reviewer.md, "Privacy parameters", why hour is off by default).
-- Exact counts from staging: run it on a warehouse you may read raw-derived data from, never
-- publish the output. Each participant-day gives one city x hour cell (their first hour, a
-- stand-in for the keyed choice), as the hour release's one-cell-per-period bounding would;
-- a cell would be released when its participants clear the hour threshold (k = 150 plus the
-- margin of the hour's noise: 176 at epsilon 0.25, docs/privacy_reviewer.md).
--   .venv/bin/dbt show --select hour_release_coverage --vars '{as_of: "2026-11-03T00:00:00Z"}'

{% set threshold = 176 %}

with

opens as (
    select
        participant_key,
        city_code,
        hour_start,
        day_start
    from {{ ref('stg_spots__interaction_events') }}
    where
        counts_as_door_opened
        and city_code is not null
        and day_start >= cast('{{ var("release_start_date") }}' as timestamp)
        and day_start + interval 1 day <= {{ release_cutoff() }}
),

chosen as (
    select
        participant_key,
        day_start,
        arg_min(city_code, hour_start) as city_code,
        min(hour_start) as hour_start
    from opens
    group by participant_key, day_start
),

cells as (
    select
        city_code,
        hour_start,
        count(*) as participants
    from chosen
    group by city_code, hour_start
),

opens_per_cell as (
    select
        city_code,
        hour_start,
        count(*) as door_opens
    from opens
    group by city_code, hour_start
)

select
    count(*) as nonempty_city_hours,
    count(*) filter (where c.participants >= {{ threshold }}) as city_hours_over_threshold,
    sum(o.door_opens) filter (where c.participants >= {{ threshold }}) / sum(o.door_opens)
        as share_of_door_opens_in_released_city_hours,
    median(c.participants) as median_participants
from cells as c
inner join opens_per_cell as o on c.city_code = o.city_code and c.hour_start = o.hour_start
