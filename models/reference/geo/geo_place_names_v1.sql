-- Every name a place can be looked up by: city names, locality and neighbourhood names,
-- and the aliases seed (other spellings, scripts and languages), each with the code it
-- resolves to. PostgreSQL serves the same list through geo_lookup_*_v1 with an indexed,
-- accent- and case-folded key (src/privacy_insights/postgres/geo.sql).

with

cities as (
    select * from {{ ref('city_definitions') }}
),

localities as (
    select * from {{ ref('geo_localities') }}
),

aliases as (
    select * from {{ ref('geo_place_aliases') }}
),

places as (
    select
        city_code as place_code,
        'city' as place_level,
        city_code,
        city_name as place_name
    from cities
    union all
    select
        locality_code,
        level,
        city_code,
        locality_name
    from localities
),

names as (
    select
        place_code,
        place_level,
        city_code,
        place_name as display_name,
        'name' as name_kind
    from places
    union all
    select
        aliases.place_code,
        places.place_level,
        places.city_code,
        aliases.alias as display_name,
        'alias' as name_kind
    from aliases
    left join places on aliases.place_code = places.place_code
)

select * from names
