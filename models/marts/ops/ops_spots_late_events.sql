-- Late data against frozen releases: per released spots_insights_v1 period, how many
-- in-city door-open events arrived after the period was frozen. They are not in its
-- numbers, and by default never will be (a released cell never changes); with
-- var spots_release.corrections.enabled a period with at least min_late_events of them is
-- released again with fresh noise and its own ledger charge (README "Late data").

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
