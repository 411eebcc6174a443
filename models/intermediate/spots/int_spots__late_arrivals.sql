-- Late data: per released period, how many in-city door-open events arrived after the
-- period was frozen (its latest charge in the budget ledger). Staging keeps only the UTC
-- hour of arrival, so "after" means in a later hour than the freeze: an event that arrived
-- in the very hour of the freeze is not counted (it may have made it into the release). They are not in the
-- released numbers and never change them (a released cell never changes); the ops model
-- ops_spots_late_events reports them. No release decision reads them (the opt-in
-- corrections follow a schedule: docs/landing.md). Counts only; no per-person rows.

with

ledger as (
    select * from {{ ref('spots_privacy_budget_ledger') }}
),

frozen as (
    select
        time_granularity as granularity,
        release_period_start as period_start,
        max(charged_at) as frozen_at
    from ledger
    where status = 'charged'
    group by 1, 2
),

arrivals as (
    select * from {{ ref('int_spots__door_open_arrivals') }}
),

late as (
    select
        frozen.granularity,
        frozen.period_start,
        frozen.frozen_at,
        cast(coalesce(sum(arrivals.door_open_events), 0) as bigint) as late_events,
        max(arrivals.ingested_hour_start) as last_late_arrival_hour
    from frozen
    left join arrivals
        on
            arrivals.ingested_hour_start > {{ dbt.date_trunc('hour', 'frozen.frozen_at') }}
            and frozen.period_start
            = case frozen.granularity when 'week' then arrivals.week_start else arrivals.day_start end
    group by 1, 2, 3
)

select * from late
