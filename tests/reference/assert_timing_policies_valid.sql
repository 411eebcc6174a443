-- Timing policies obey the rules privacy_insights.clock.policy enforces at run time.

select
    job_name,
    'cadence_minutes divides a day' as broken_rule
from {{ ref('atomic_timing_policies_v1') }}
where cadence_minutes < 1 or 1440 % cadence_minutes != 0
union all
select
    job_name,
    'window hours in 0-23 and 1-24, start != end' as broken_rule
from {{ ref('atomic_timing_policies_v1') }}
where
    window_start_hour_utc not between 0 and 23 or window_end_hour_utc not between 1 and 24
    or window_start_hour_utc = window_end_hour_utc
union all
select
    job_name,
    'max_staleness_hours covers at least one cadence' as broken_rule
from {{ ref('atomic_timing_policies_v1') }}
where max_staleness_hours * 60 < cadence_minutes
