-- For BI users: one row per (city, category, day or week bucket) of every released period,
-- with the numbers of the finest released level that covers it: the city x category cell
-- when it was released, otherwise the city total (category `all`). Post-processing of
-- released rows only (no new privacy cost); `covering_level` says which level answered.

{# (column of spots_insights_v1, name here): each taken from the covering level's row #}
{% set covering_columns = [
    ('unique_participants_est', 'unique_participants_est'),
    ('doors_opened_est', 'doors_opened_est'),
    ('repeat_rate_est', 'repeat_rate_est'),
    ('repeat_rate_withheld_reason', 'repeat_rate_withheld_reason'),
    ('uncertainty_unique_participants_moe95', 'unique_participants_moe95'),
    ('uncertainty_unique_participants_lower95', 'unique_participants_lower95'),
    ('uncertainty_doors_opened_moe95', 'doors_opened_moe95'),
    ('uncertainty_doors_opened_lower95', 'doors_opened_lower95'),
    ('uncertainty_repeat_rate_moe95', 'repeat_rate_moe95'),
    ('uncertainty_ratio_moe95_bound', 'ratio_moe95_bound'),
] %}

with

released as (
    select * from {{ ref('spots_insights_v1') }}
    where time_granularity in ('day', 'week')
),

categories as (
    select * from {{ ref('categories') }}
),

cities as (
    select distinct
        time_granularity,
        time_bucket_start_utc,
        release_period_start,
        release_version,
        geo_bucket_type,
        geo_bucket_id
    from released
    where release_level = 'city'
),

grid as (
    select
        cities.*,
        categories.category
    from cities
    cross join categories
),

category_cells as (
    select * from released
    where release_level = 'city_category' and not privacy_suppressed
),

city_cells as (
    select * from released
    where release_level = 'city' and not privacy_suppressed
),

covered as (
    select
        grid.time_granularity,
        grid.time_bucket_start_utc,
        grid.release_period_start,
        grid.release_version,
        grid.geo_bucket_type,
        grid.geo_bucket_id,
        grid.category as segment_category,
        case
            when category_cells.release_level is not null then 'city_category'
            when city_cells.release_level is not null then 'city'
        end as covering_level,
        -- every number from the covering level's row: a released category cell may withhold its
        -- repeat rate (margin above the bound), which must then stay null, not become the city's
        {%- for column, alias in covering_columns %}
            case
                when category_cells.release_level is not null then category_cells.{{ column }}
                else city_cells.{{ column }}
            end as {{ alias }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from grid
    left join category_cells
        on
            grid.time_granularity = category_cells.time_granularity
            and grid.time_bucket_start_utc = category_cells.time_bucket_start_utc
            and grid.geo_bucket_id = category_cells.geo_bucket_id
            and grid.category = category_cells.segment_category
    left join city_cells
        on
            grid.time_granularity = city_cells.time_granularity
            and grid.time_bucket_start_utc = city_cells.time_bucket_start_utc
            and grid.geo_bucket_id = city_cells.geo_bucket_id
)

select * from covered
where covering_level is not null
