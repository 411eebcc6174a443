-- Internal operations view: how many staged SPOTS events fall inside a defined city
-- (released at city level) and how many fall outside every city (never released at
-- city level), per UTC day. Not for buyers.

with

events as (
    select * from {{ ref('stg_spots__interaction_events') }}
)

select
    day_start,
    count(*) as events_staged,
    sum(case when city_code is not null then 1 else 0 end) as events_in_cities,
    sum(case when city_code is null then 1 else 0 end) as events_outside_cities
from events
group by day_start
