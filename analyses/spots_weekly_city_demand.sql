-- Example buyer query: weekly demand by city and category, released cells only.
-- Every number here is a DP estimate; suppressed cells are left out, never estimated.

select
    time_bucket_start_utc as week_start,
    geo_bucket_id as city_code,
    segment_category as category,
    sum(doors_opened_est) as doors_opened_est,
    count(*) as released_cells
from {{ ref('spots_insights_v1') }}
where
    time_granularity = 'week'
    and not privacy_suppressed
group by 1, 2, 3
order by 1, 2, 3
