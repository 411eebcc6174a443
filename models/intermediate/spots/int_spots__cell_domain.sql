-- The public cell domain of spots_insights_v1: every cell that may be released, built
-- from the seeds and the release clock only, never from the data, so a cell's existence
-- reveals nothing (DESIGN.md §2.2). Only periods that are fully eligible are listed:
-- they start on or after release_start_date and end at least reporting_delay_hours
-- before as_of. Only enabled granularities (var spots_release) are listed. Hour cells are
-- city x hour (segments `all`, context from the city's local hour); day and week cells are
-- city x door type x category x context, the finest level (coarser levels are sums).

with

cities as (
    select * from {{ ref('city_definitions') }}
),

door_types as (
    select * from {{ ref('door_types') }}
),

categories as (
    select * from {{ ref('categories') }}
),

contexts as (
    select * from {{ ref('contexts') }}
),

{% set granularities = spots_enabled_granularities() %}

{% if 'hour' in granularities %}
    hours as (
        {{ timestamp_spine("'" ~ var('release_start_date') ~ "'", release_cutoff(), '1 hour') }}
    ),

    hour_cells as (
        select
            'hour' as granularity,
            {{ dbt.date_trunc('day', 'hours.bucket_start') }} as period_start,
            hours.bucket_start as time_bucket_start_utc,
            cities.city_code as geo_bucket_id,
            'all' as door_type,
            'all' as category,
            {{ local_context(local_timestamp('hours.bucket_start', 'cities.utc_offset_hours')) }} as context
        from hours
        cross join cities
        where {{ dbt.dateadd('day', 1, dbt.date_trunc('day', 'hours.bucket_start')) }} <= {{ release_cutoff() }}
    ),
{% endif %}

{% if 'day' in granularities %}
    days as (
        {{ timestamp_spine("'" ~ var('release_start_date') ~ "'", release_cutoff(), '1 day') }}
    ),

    day_cells as (
        select
            'day' as granularity,
            days.bucket_start as period_start,
            days.bucket_start as time_bucket_start_utc,
            cities.city_code as geo_bucket_id,
            door_types.door_type,
            categories.category,
            contexts.context
        from days
        cross join cities
        cross join door_types
        cross join categories
        cross join contexts
        where {{ dbt.dateadd('day', 1, 'days.bucket_start') }} <= {{ release_cutoff() }}
    ),
{% endif %}

{% if 'week' in granularities %}
    weeks as (
        {{ timestamp_spine(first_release_week_start(), release_cutoff(), '7 days') }}
    ),

    week_cells as (
        select
            'week' as granularity,
            weeks.bucket_start as period_start,
            weeks.bucket_start as time_bucket_start_utc,
            cities.city_code as geo_bucket_id,
            door_types.door_type,
            categories.category,
            contexts.context
        from weeks
        cross join cities
        cross join door_types
        cross join categories
        cross join contexts
        where {{ dbt.dateadd('day', 7, 'weeks.bucket_start') }} <= {{ release_cutoff() }}
    ),
{% endif %}

cells as (
    {% for granularity in granularities %}
        select
            *,
            'city' as geo_bucket_type
        from {{ granularity }}_cells
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from cells
