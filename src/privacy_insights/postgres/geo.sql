-- Contract 000 §10 (037, 042, 043, 045, 046, 047): the public geo reference on PostgreSQL.
-- Idempotent: safe to run again. `privacy-insights postgres install geo` then reloads every
-- row from the seeds (city_definitions, city_geohash3_map, geo_localities, geo_place_aliases)
-- in the same transaction, so the tables always equal the seeds.
--
-- Runs as the NOLOGIN owner role privacy_insights_owner, which owns every object below.
-- Reads are for `authenticated` only (not `anon`, not buyers). Every function is SECURITY
-- INVOKER over tables `authenticated` may read anyway (public reference data), pins
-- `search_path = pg_catalog, pg_temp` and names every object with its schema.
-- Bad input raises SQLSTATE 22023 (invalid_parameter_value) naming the parameter and the
-- rule; an unknown code raises P0002 (no_data_found). A name that matches nothing returns no rows.

-- The lookup key of a place name: Latin letters lower-cased, accents and ligatures folded
-- to ASCII, separators collapsed to one space (privacy_insights.geo_names, which renders
-- the translate table below at install time). IMMUTABLE and locale-independent, so it can
-- back the indexed column and fold the query the same way.
create or replace function public.geo_normalize_name_v1(p_name text)
returns text
language sql
immutable
strict
parallel safe
set search_path = pg_catalog, pg_temp
as $$
    select pg_catalog.btrim(pg_catalog.regexp_replace(
        pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
        pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
            pg_catalog.translate(p_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' || __FOLD_FROM__,
                                         'abcdefghijklmnopqrstuvwxyz' || __FOLD_TO__),
            'ß', 'ss'), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'þ', 'th'), 'Þ', 'th'), 'ĳ', 'ij'), 'Ĳ', 'ij'),
        __SEPARATORS__, ' ', 'g'))
$$;

create table if not exists public.geo_cities_v1 (
    city_code text primary key check (city_code ~ '^[a-z]{2}-[a-z]{3}$'),
    city_name text not null,
    country_code text not null check (country_code ~ '^[A-Z]{2}$'),
    centre_latitude double precision not null check (centre_latitude between -90 and 90),
    centre_longitude double precision not null check (centre_longitude between -180 and 180),
    radius_km double precision not null check (radius_km > 0),
    utc_offset_hours double precision not null
);

create table if not exists public.geo_city_geohash3_v1 (
    geohash3 text primary key check (geohash3 ~ '^[0-9b-hjkmnp-z]{3}$'),
    city_code text not null references public.geo_cities_v1 (city_code) on delete cascade,
    south double precision not null,
    west double precision not null,
    north double precision not null,
    east double precision not null,
    check (south < north and west < east)
);
create index if not exists geo_city_geohash3_v1_city_idx on public.geo_city_geohash3_v1 (city_code, geohash3);

create table if not exists public.geo_localities_v1 (
    locality_code text primary key check (locality_code ~ '^[a-z]{2}-[a-z]{3}(\.[a-z0-9-]+){1,2}$'),
    city_code text not null references public.geo_cities_v1 (city_code) on delete cascade,
    parent_locality_code text references public.geo_localities_v1 (locality_code) on delete cascade,
    level text not null check (level in ('locality', 'neighbourhood')),
    locality_name text not null,
    centre_latitude double precision not null check (centre_latitude between -90 and 90),
    centre_longitude double precision not null check (centre_longitude between -180 and 180),
    radius_km double precision not null check (radius_km > 0),
    coordinate_source text not null check (coordinate_source in ('geonames', 'approximate')),
    geonames_id bigint,
    check ((level = 'locality') = (parent_locality_code is null)),
    check (pg_catalog.starts_with(locality_code, city_code || '.'))
);
create index if not exists geo_localities_v1_city_level_idx
    on public.geo_localities_v1 (city_code, level, locality_code);

-- Shapes (047): a polygon per locality, today a 16-gon approximating a circle of radius_km
-- around the point (shape_precision says so); a boundary source can replace the rows.
create table if not exists public.geo_locality_shapes_v1 (
    locality_code text primary key references public.geo_localities_v1 (locality_code) on delete cascade,
    geometry jsonb not null check (geometry ->> 'type' = 'Polygon'),
    shape_precision text not null check (shape_precision in ('approximate_circle', 'boundary')),
    source text not null
);

-- Every name a place resolves from, with its folded key (045).
create table if not exists public.geo_place_names_v1 (
    display_name text not null check (pg_catalog.length(display_name) between 1 and 200),
    place_code text not null,
    place_level text not null check (place_level in ('city', 'locality', 'neighbourhood')),
    city_code text not null references public.geo_cities_v1 (city_code) on delete cascade,
    name_kind text not null check (name_kind in ('name', 'alias')),
    name_key text generated always as (public.geo_normalize_name_v1(display_name)) stored,
    primary key (display_name, place_code)
);
create index if not exists geo_place_names_v1_key_idx on public.geo_place_names_v1 (name_key, place_level);

-- Access: RLS on, read-only for authenticated and the service role; nothing for anon.
do $access$
declare
    t text;
begin
    foreach t in array array['geo_cities_v1', 'geo_city_geohash3_v1', 'geo_localities_v1',
                             'geo_locality_shapes_v1', 'geo_place_names_v1'] loop
        execute pg_catalog.format('alter table public.%I enable row level security', t);
        execute pg_catalog.format('revoke all on public.%I from public, anon, authenticated, service_role', t);
        execute pg_catalog.format('grant select on public.%I to authenticated, service_role', t);
        execute pg_catalog.format('drop policy if exists reference_read on public.%I', t);
        execute pg_catalog.format(
            'create policy reference_read on public.%I for select to authenticated, service_role using (true)', t);
    end loop;
end
$access$;

-- Input checks shared by the RPCs: each returns its valid argument or raises.
create or replace function public.geo_require_city_code_v1(p_city_code text)
returns text
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_city_code is null or p_city_code !~ '^[a-z]{2}-[a-z]{3}$' then
        raise exception 'p_city_code: must be a city code like ''jp-tyo'' (two lower-case letters, a hyphen, three lower-case letters); got %',
            coalesce(pg_catalog.quote_literal(p_city_code), 'null') using errcode = '22023';
    end if;
    if not exists (select 1 from public.geo_cities_v1 as c where c.city_code = p_city_code) then
        raise exception 'p_city_code: no city %; public.geo_list_cities_v1() lists them', pg_catalog.quote_literal(p_city_code)
            using errcode = 'P0002';
    end if;
    return p_city_code;
end
$$;

create or replace function public.geo_require_name_key_v1(p_name text)
returns text
language plpgsql
immutable
security invoker
set search_path = pg_catalog, pg_temp
as $$
declare
    v_key text;
begin
    if p_name is null or pg_catalog.btrim(p_name) = '' then
        raise exception 'p_name: required (a city, locality or neighbourhood name)' using errcode = '22023';
    end if;
    if pg_catalog.length(p_name) > 200 then
        raise exception 'p_name: at most 200 characters; got %', pg_catalog.length(p_name) using errcode = '22023';
    end if;
    v_key := public.geo_normalize_name_v1(p_name);
    if v_key = '' then
        raise exception 'p_name: must contain a letter or a digit; got %', pg_catalog.quote_literal(p_name)
            using errcode = '22023';
    end if;
    return v_key;
end
$$;

-- 043: every city, with how many localities and neighbourhoods the reference holds for it.
create or replace function public.geo_list_cities_v1()
returns table (city_code text, city_name text, country_code text, centre_latitude double precision,
               centre_longitude double precision, radius_km double precision, utc_offset_hours double precision,
               locality_count integer, neighbourhood_count integer)
language sql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
    select c.city_code, c.city_name, c.country_code, c.centre_latitude, c.centre_longitude, c.radius_km,
           c.utc_offset_hours,
           (select pg_catalog.count(*)::integer from public.geo_localities_v1 as l
             where l.city_code = c.city_code and l.level = 'locality'),
           (select pg_catalog.count(*)::integer from public.geo_localities_v1 as l
             where l.city_code = c.city_code and l.level = 'neighbourhood')
    from public.geo_cities_v1 as c
    order by c.city_code
$$;

-- 042: a city's localities and neighbourhoods (p_level: null for both, 'locality' or 'neighbourhood').
create or replace function public.geo_list_city_localities_v1(p_city_code text, p_level text default null)
returns table (locality_code text, level text, locality_name text, parent_locality_code text,
               centre_latitude double precision, centre_longitude double precision, radius_km double precision)
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
begin
    perform public.geo_require_city_code_v1(p_city_code);
    if p_level is not null and p_level not in ('locality', 'neighbourhood') then
        raise exception 'p_level: must be null, ''locality'' or ''neighbourhood''; got %', pg_catalog.quote_literal(p_level)
            using errcode = '22023';
    end if;
    return query
        select l.locality_code, l.level, l.locality_name, l.parent_locality_code, l.centre_latitude,
               l.centre_longitude, l.radius_km
        from public.geo_localities_v1 as l
        where l.city_code = p_city_code and (p_level is null or l.level = p_level)
        order by l.level, l.locality_code;
end
$$;

-- 045: a place name to city codes, case- and accent-insensitive, names and aliases.
create or replace function public.geo_lookup_city_code_v1(p_name text)
returns table (city_code text, city_name text, country_code text, matched_name text, name_kind text)
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_key text := public.geo_require_name_key_v1(p_name);
begin
    return query
        select distinct on (c.city_code) c.city_code, c.city_name, c.country_code, n.display_name, n.name_kind
        from public.geo_place_names_v1 as n
        join public.geo_cities_v1 as c on c.city_code = n.place_code
        where n.name_key = v_key and n.place_level = 'city'
        order by c.city_code, n.name_kind desc, n.display_name;     -- one row per city, its own name first
end
$$;

-- 045: a place name to locality or neighbourhood codes, optionally within one city.
create or replace function public.geo_lookup_locality_code_v1(p_name text, p_city_code text default null)
returns table (locality_code text, level text, locality_name text, city_code text, parent_locality_code text,
               matched_name text, name_kind text)
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_key text := public.geo_require_name_key_v1(p_name);
begin
    if p_city_code is not null then
        perform public.geo_require_city_code_v1(p_city_code);
    end if;
    return query
        select distinct on (l.locality_code) l.locality_code, l.level, l.locality_name, l.city_code,
               l.parent_locality_code, n.display_name, n.name_kind
        from public.geo_place_names_v1 as n
        join public.geo_localities_v1 as l on l.locality_code = n.place_code
        where n.name_key = v_key and n.place_level in ('locality', 'neighbourhood')
          and (p_city_code is null or n.city_code = p_city_code)
        order by l.locality_code, n.name_kind desc, n.display_name;  -- one row per place, its own name first
end
$$;

-- 046: the geohash3 cells of a city (released at city level) with their bounds, for maps.
create or replace function public.geo_list_city_geohash3_bounds_v1(p_city_code text)
returns table (city_code text, geohash3 text, south double precision, west double precision,
               north double precision, east double precision)
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
begin
    perform public.geo_require_city_code_v1(p_city_code);
    return query
        select g.city_code, g.geohash3, g.south, g.west, g.north, g.east
        from public.geo_city_geohash3_v1 as g
        where g.city_code = p_city_code
        order by g.geohash3;
end
$$;

-- 047: a locality's shape as a GeoJSON Feature (RFC 7946: [longitude, latitude], closed ring).
create or replace function public.geo_get_locality_shape_geojson_v1(p_locality_code text)
returns jsonb
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
declare
    result jsonb;
begin
    if p_locality_code is null or p_locality_code !~ '^[a-z]{2}-[a-z]{3}(\.[a-z0-9-]+){1,2}$' then
        raise exception 'p_locality_code: must be a locality code like ''jp-tyo.shibuya'' (<city_code>.<slug>[.<slug>]); got %',
            coalesce(pg_catalog.quote_literal(p_locality_code), 'null') using errcode = '22023';
    end if;
    select pg_catalog.jsonb_build_object(
        'type', 'Feature',
        'id', l.locality_code,
        'geometry', s.geometry,
        'properties', pg_catalog.jsonb_build_object(
            'locality_code', l.locality_code, 'locality_name', l.locality_name, 'level', l.level,
            'city_code', l.city_code, 'parent_locality_code', l.parent_locality_code,
            'centre', pg_catalog.jsonb_build_array(l.centre_longitude, l.centre_latitude),
            'radius_km', l.radius_km, 'shape_precision', s.shape_precision, 'source', s.source))
    into result
    from public.geo_localities_v1 as l
    join public.geo_locality_shapes_v1 as s on s.locality_code = l.locality_code
    where l.locality_code = p_locality_code;
    if result is null then
        raise exception 'p_locality_code: no locality %; public.geo_list_city_localities_v1(city) lists them',
            pg_catalog.quote_literal(p_locality_code) using errcode = 'P0002';
    end if;
    return result;
end
$$;

do $grants$
declare
    f text;
begin
    foreach f in array array['public.geo_normalize_name_v1(text)', 'public.geo_require_city_code_v1(text)',
                             'public.geo_require_name_key_v1(text)', 'public.geo_list_cities_v1()',
                             'public.geo_list_city_localities_v1(text, text)', 'public.geo_lookup_city_code_v1(text)',
                             'public.geo_lookup_locality_code_v1(text, text)',
                             'public.geo_list_city_geohash3_bounds_v1(text)',
                             'public.geo_get_locality_shape_geojson_v1(text)'] loop
        execute pg_catalog.format('revoke all on function %s from public, anon', f);
        execute pg_catalog.format('grant execute on function %s to authenticated, service_role', f);
    end loop;
end
$grants$;
