-- No released bucket ends later than as_of - reporting_delay_hours, and every row
-- states the delay it was released with (>= 72).

select
    time_granularity,
    time_bucket_start_utc,
    reporting_delay_hours
from {{ ref('spots_insights_v1') }}
where
    reporting_delay_hours < 72
    or case time_granularity
        when 'hour' then {{ dbt.dateadd('hour', 1, 'time_bucket_start_utc') }}
        when 'day' then {{ dbt.dateadd('day', 1, 'time_bucket_start_utc') }}
        else {{ dbt.dateadd('day', 7, 'time_bucket_start_utc') }}
    end > {{ dbt.dateadd('hour', -72, 'released_at') }}
