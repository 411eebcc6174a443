-- The geo hierarchy city -> locality -> neighbourhood (contract 000 §10, 042), one row
-- per locality or neighbourhood, with its city and parent. Public reference data for the
-- app and internal maps only: nothing below city scale reaches the outside-buyer marts
-- (tests_py/test_geo_reference.py proves no buyer model depends on this).

with

localities as (
    select * from {{ ref('geo_localities') }}
),

cities as (
    select * from {{ ref('city_definitions') }}
),

joined as (
    select
        -- ids
        localities.locality_code,
        localities.level,
        localities.city_code,
        localities.parent_locality_code,
        coalesce(localities.parent_locality_code, localities.city_code) as parent_code,
        -- `depth`: a published column
        case localities.level when 'locality' then 1 else 2 end as depth,  -- noqa: RF04

        -- names
        localities.locality_name,
        cities.city_name,
        cities.country_code,

        -- approximate shape: a circle around a point (not a boundary)
        localities.centre_latitude,
        localities.centre_longitude,
        localities.radius_km,
        localities.coordinate_source,
        localities.geonames_id
    from localities
    left join cities on localities.city_code = cities.city_code
)

select * from joined
