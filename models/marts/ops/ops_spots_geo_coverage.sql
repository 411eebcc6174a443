-- Internal operations table: how many staged SPOTS events fall inside a defined city
-- (released at city level) and how many fall outside every city (never released at
-- city level), per UTC day. Not for buyers.

with

events as (
    select * from {{ ref('stg_spots__interaction_events') }}
)

select
    events.day_start,
    count(*) as events_staged,
    count(events.city_code) as events_in_cities,
    count(*) - count(events.city_code) as events_outside_cities
from events
group by 1
