-- The geo hierarchy holds together: each failing row names the place and the rule.
-- A locality hangs off its city; a neighbourhood off a locality of the same city; codes
-- extend their parent's code; a place's centre lies inside its city's circle.

with

places as (
    select * from {{ ref('geo_localities_v1') }}
),

cities as (
    select * from {{ ref('city_definitions') }}
),

checked as (
    select
        places.locality_code,
        case
            when places.level = 'locality' and places.parent_locality_code is not null
                then 'a locality has no parent locality'
            when places.level = 'neighbourhood' and coalesce(parents.level, '') != 'locality'
                then 'a neighbourhood lies in a locality'
            when places.level = 'neighbourhood' and coalesce(parents.city_code, '') != places.city_code
                then 'a neighbourhood lies in a locality of its own city'
            when not starts_with(places.locality_code, places.parent_code || '.')
                then 'the code extends the parent code with .<slug>'
            when not regexp_full_match(places.locality_code, '[a-z]{2}-[a-z]{3}(\.[a-z0-9-]+){1,2}')
                then 'the code is lower-case <city_code>.<slug>[.<slug>]'
            when
                2 * 6371.0088 * asin(sqrt(
                    power(sin(radians(places.centre_latitude - cities.centre_latitude) / 2), 2)
                    + cos(radians(cities.centre_latitude)) * cos(radians(places.centre_latitude))
                    * power(sin(radians(places.centre_longitude - cities.centre_longitude) / 2), 2)
                )) > cities.radius_km
                then 'the centre lies inside its city''s circle'
        end as broken_rule
    from places
    left join places as parents on places.parent_locality_code = parents.locality_code
    left join cities on places.city_code = cities.city_code
)

select * from checked
where broken_rule is not null
