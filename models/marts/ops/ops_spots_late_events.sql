-- Late data against frozen releases: per released spots_insights_v1 period, how many
-- in-city door-open events arrived after the period was frozen. They are not in its
-- numbers, and by default never will be (a released cell never changes). The opt-in
-- corrections (var spots_release.corrections) follow a schedule and never read these
-- counts: a decision on a true count would not be private (docs/landing.md).

with

late as (
    select * from {{ ref('int_spots__late_arrivals') }}
)

select
    granularity,
    period_start,
    frozen_at,
    late_events,
    last_late_arrival_hour
from late
