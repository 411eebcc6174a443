-- The public cell domain of spots_insights_v1: every cell that may be released, built
-- from the seeds, the release clock and the loader's watermark only, never from the data,
-- so a cell's existence reveals nothing (DESIGN.md §2.2). Only periods that are fully
-- eligible are listed: they start on or after release_start_date, end at least
-- reporting_delay_hours before as_of, and end at or before the landing's complete_through
-- (int_spots__landing_completeness; a period past the delay whose landing is not complete
-- is held: it has no cells, so it is neither charged nor published until a build after its
-- data is complete). Only enabled granularities (var spots_release) are listed. Every cell
-- names its measured level (contribution bounds are per level: int_spots__bounded_contributions).
-- Hour cells are city x hour, level city (segments `all`, context from the city's local hour);
-- day and week cells are, per level, city (segments `all`), city x door type, city x category
-- and city x door type x category x context (city_segment); dimensions a level does not name are `all`.

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

completeness as (
    select * from {{ ref('int_spots__landing_completeness') }}
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
        cross join completeness
        where
            {{ dbt.dateadd('day', 1, dbt.date_trunc('day', 'hours.bucket_start')) }} <= {{ release_cutoff() }}
            and {{ dbt.dateadd('day', 1, dbt.date_trunc('day', 'hours.bucket_start')) }}
            <= completeness.complete_through
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
        cross join completeness
        where
            {{ dbt.dateadd('day', 1, 'days.bucket_start') }} <= {{ release_cutoff() }}
            and {{ dbt.dateadd('day', 1, 'days.bucket_start') }} <= completeness.complete_through
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
        cross join completeness
        where
            {{ dbt.dateadd('day', 7, 'weeks.bucket_start') }} <= {{ release_cutoff() }}
            and {{ dbt.dateadd('day', 7, 'weeks.bucket_start') }} <= completeness.complete_through
    ),
{% endif %}

finest as (
    {% for granularity in granularities %}
        select
            granularity,
            period_start,
            time_bucket_start_utc,
            geo_bucket_id,
            door_type,
            category,
            context,
            'city' as geo_bucket_type
        from {{ granularity }}_cells
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

{%- set dimensions = {
    'city': ("'all'", "'all'", "'all'"),
    'city_door_type': ('door_type', "'all'", "'all'"),
    'city_category': ("'all'", 'category', "'all'"),
    'city_segment': ('door_type', 'category', 'context'),
} %}
{%- set parts = [] %}
{%- if 'hour' in granularities %}{% do parts.append(('hour', 'city')) %}{% endif %}
{%- if 'day' in granularities or 'week' in granularities %}
    {%- for level in spots_levels('day') %}{% do parts.append(('day_week', level)) %}{% endfor %}
{%- endif %}

cells as (
    {% for kind, level in parts %}
        {%- set door, category, context = ('door_type', 'category', 'context') if kind == 'hour'
            else dimensions[level] %}
        select distinct
            granularity,
            period_start,
            '{{ level }}' as level,  -- noqa: RF04
            time_bucket_start_utc,
            geo_bucket_id,
            {{ door }} as door_type,
            {{ category }} as category,
            {{ context }} as context,
            geo_bucket_type
        from finest
        where granularity {{ "= 'hour'" if kind == 'hour' else "!= 'hour'" }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from cells
