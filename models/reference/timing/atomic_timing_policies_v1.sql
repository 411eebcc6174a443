-- Timing policies (contract 000 §10, 040): per scheduled job, its cadence, the UTC window
-- it may run in and how stale its last successful run may get. `privacy-insights release`
-- reads the same seed; a freshness alert joins this model to audit.release_runs on job_name.

with

policies as (
    select * from {{ ref('timing_policies') }}
)

select
    job_name,
    cadence_minutes,
    window_start_hour_utc,
    window_end_hour_utc,
    max_staleness_hours,
    window_start_hour_utc = 0 and window_end_hour_utc = 24 as runs_any_time,
    window_start_hour_utc > window_end_hour_utc as window_wraps_midnight,
    description
from policies
