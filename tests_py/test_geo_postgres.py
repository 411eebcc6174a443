"""The geo reference on a real PostgreSQL (component ``geo``): RPCs as ``authenticated``,
refusals for ``anon``, clear errors on bad input, and index use (EXPLAIN of the statements
the functions actually run, through auto_explain)."""

from __future__ import annotations

import csv
import math
import re

import psycopg
import pytest

from harness import REPO, scratch_database
from pg_reference import as_role, connect, install
from privacy_insights.geo_names import normalize_place_name

pytestmark = pytest.mark.postgres
SEEDS = REPO / "seeds"
TABLES = ["geo_cities_v1", "geo_city_geohash3_v1", "geo_localities_v1", "geo_locality_shapes_v1", "geo_place_names_v1"]


def seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def snapshot(database: str) -> dict[str, list[tuple]]:
    with connect(database) as conn:
        return {t: conn.execute(f"select * from public.{t} order by 1, 2").fetchall() for t in TABLES}


@pytest.fixture(scope="module")
def geo_db(postgres_available):
    with scratch_database() as name:
        install(name, "geo")
        first = snapshot(name)
        install(name, "geo")
        assert snapshot(name) == first, "a second install changed the reference"
        yield name


def rows(database: str, sql: str, params=(), role: str = "authenticated") -> list[tuple]:
    with as_role(database, role) as conn:
        return conn.execute(sql, params).fetchall()


def test_install_mirrors_the_seeds(geo_db):
    counts = {t: rows(geo_db, f"select count(*) from public.{t}", role="service_role")[0][0] for t in TABLES}
    localities = seed("geo_localities")
    assert counts == {
        "geo_cities_v1": len(seed("city_definitions")),
        "geo_city_geohash3_v1": len(seed("city_geohash3_map")),
        "geo_localities_v1": len(localities),
        "geo_locality_shapes_v1": len(localities),
        "geo_place_names_v1": len(seed("city_definitions")) + len(localities) + len(seed("geo_place_aliases")),
    }


def test_list_cities_and_a_citys_localities(geo_db):
    cities = {r[0]: r for r in rows(geo_db, "select * from public.geo_list_cities_v1()")}
    assert set(cities) == {c["city_code"] for c in seed("city_definitions")}
    assert cities["jp-tyo"][1] == "Tokyo" and cities["jp-tyo"][7:] == (23, 10)
    assert cities["fr-par"][7:] == (20, 4) and cities["us-nyc"][7:] == (5, 8) and cities["gb-lon"][7:] == (0, 0)

    tokyo = rows(geo_db, "select * from public.geo_list_city_localities_v1('jp-tyo')")
    expected = {r["locality_code"] for r in seed("geo_localities") if r["city_code"] == "jp-tyo"}
    assert {r[0] for r in tokyo} == expected and len(tokyo) == 33
    wards = {r[0] for r in tokyo if r[1] == "locality"}
    neighbourhoods = rows(geo_db, "select * from public.geo_list_city_localities_v1('jp-tyo', 'neighbourhood')")
    assert len(neighbourhoods) == 10 and all(r[1] == "neighbourhood" and r[3] in wards for r in neighbourhoods)
    assert rows(geo_db, "select count(*) from public.geo_list_city_localities_v1('gb-lon')") == [(0,)]


@pytest.mark.parametrize(
    "name, code",
    [
        ("SAO PAULO", "br-sao"),
        ("São Paulo", "br-sao"),
        ("nyc", "us-nyc"),
        ("New-York", "us-nyc"),
        ("東京", "jp-tyo"),
        ("tokyo", "jp-tyo"),
        ("MONTRÉAL", "ca-mtl"),
        ("montreal", "ca-mtl"),
        ("münchen", "de-muc"),
    ],
)
def test_lookup_city_ignores_case_accents_and_separators(geo_db, name, code):
    assert [r[0] for r in rows(geo_db, "select * from public.geo_lookup_city_code_v1(%s)", [name])] == [code]


@pytest.mark.parametrize(
    "name, code",
    [
        ("CHUO", "jp-tyo.chuo"),
        ("chūō", "jp-tyo.chuo"),
        ("  Hotel de  Ville ", "fr-par.04-hotel-de-ville"),
        ("MENILMONTANT", "fr-par.20-menilmontant"),
        ("Neukoelln", "de-ber.neukoelln"),
        ("neukölln", "de-ber.neukoelln"),
        ("bronx", "us-nyc.bronx"),
        ("The Bronx", "us-nyc.bronx"),
        ("Paris 11", "fr-par.11-popincourt"),
        ("11e arrondissement", "fr-par.11-popincourt"),
        ("渋谷", "jp-tyo.shibuya"),
        ("saint germain des pres", "fr-par.06-luxembourg.saint-germain-des-pres"),
        ("Marais", "fr-par.04-hotel-de-ville.le-marais"),
    ],
)
def test_lookup_locality_ignores_case_accents_and_separators(geo_db, name, code):
    assert [r[0] for r in rows(geo_db, "select * from public.geo_lookup_locality_code_v1(%s)", [name])] == [code]


def test_lookup_scoped_to_a_city_and_unknown_names(geo_db):
    lookup = "select locality_code from public.geo_lookup_locality_code_v1(%s, %s)"
    assert rows(geo_db, lookup, ["Kita", "jp-tyo"]) == [("jp-tyo.kita",)]
    assert rows(geo_db, lookup, ["Kita", "de-ber"]) == []
    assert rows(geo_db, "select * from public.geo_lookup_city_code_v1('Atlantis')") == []
    assert rows(geo_db, "select * from public.geo_lookup_locality_code_v1('Tokyo')") == []  # a city, not a locality


def test_sql_key_is_the_python_key(geo_db):
    names = (
        [c["city_name"] for c in seed("city_definitions")]
        + [r["locality_name"] for r in seed("geo_localities")]
        + [a["alias"] for a in seed("geo_place_aliases")]
        + ["Straße Œuvre Łódź", "Đà Nẵng", "O'Hare (North)"]
    )
    keys = rows(geo_db, "select n, public.geo_normalize_name_v1(n) from unnest(%s::text[]) as n", [names])
    assert {n: k for n, k in keys} == {n: normalize_place_name(n) for n in names}


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_geohash3_bounds_cover_the_citys_cells(geo_db):
    paris = rows(geo_db, "select * from public.geo_list_city_geohash3_bounds_v1('fr-par')")
    assert {r[1] for r in paris} == {m["geohash3"] for m in seed("city_geohash3_map") if m["city_code"] == "fr-par"}
    centre = next(c for c in seed("city_definitions") if c["city_code"] == "fr-par")
    lat, lon = float(centre["centre_latitude"]), float(centre["centre_longitude"])
    assert any(s <= lat <= n and w <= lon <= e for _, _, s, w, n, e in paris)
    for _, _, s, w, n, e in paris:  # geohash3 cells: 1.40625 degrees wide and high
        assert math.isclose(n - s, 1.40625) and math.isclose(e - w, 1.40625)


def test_locality_shape_is_geojson_around_its_point(geo_db):
    feature = rows(geo_db, "select public.geo_get_locality_shape_geojson_v1('jp-tyo.shibuya.ebisu')")[0][0]
    assert feature["type"] == "Feature" and feature["id"] == "jp-tyo.shibuya.ebisu"
    props, ring = feature["properties"], feature["geometry"]["coordinates"][0]
    assert feature["geometry"]["type"] == "Polygon" and props["shape_precision"] == "approximate_circle"
    assert props["parent_locality_code"] == "jp-tyo.shibuya" and props["city_code"] == "jp-tyo"
    assert len(ring) == 17 and ring[0] == ring[-1]
    lon, lat = props["centre"]
    distances = [haversine_km(lat, lon, y, x) for x, y in ring]
    assert all(abs(d - props["radius_km"]) < 0.01 for d in distances), distances


@pytest.mark.parametrize(
    "sql, error, message",
    [
        (
            "select * from public.geo_list_city_localities_v1('JP-TYO')",
            psycopg.errors.InvalidParameterValue,
            "p_city_code: must be a city code like 'jp-tyo'",
        ),
        (
            "select * from public.geo_list_city_localities_v1(null)",
            psycopg.errors.InvalidParameterValue,
            "p_city_code: must be a city code like 'jp-tyo' .*got null",
        ),
        (
            "select * from public.geo_list_city_localities_v1('xx-yyy')",
            psycopg.errors.NoDataFound,
            "p_city_code: no city 'xx-yyy'",
        ),
        (
            "select * from public.geo_list_city_localities_v1('jp-tyo', 'ward')",
            psycopg.errors.InvalidParameterValue,
            "p_level: must be null, 'locality' or 'neighbourhood'; got 'ward'",
        ),
        (
            "select * from public.geo_lookup_city_code_v1('   ')",
            psycopg.errors.InvalidParameterValue,
            "p_name: required",
        ),
        (
            "select * from public.geo_lookup_city_code_v1(null)",
            psycopg.errors.InvalidParameterValue,
            "p_name: required",
        ),
        (
            "select * from public.geo_lookup_city_code_v1(repeat('a', 201))",
            psycopg.errors.InvalidParameterValue,
            "p_name: at most 200 characters; got 201",
        ),
        (
            "select * from public.geo_lookup_locality_code_v1('--', null)",
            psycopg.errors.InvalidParameterValue,
            "p_name: must contain a letter or a digit",
        ),
        (
            "select * from public.geo_lookup_locality_code_v1('Kita', 'tokyo')",
            psycopg.errors.InvalidParameterValue,
            "p_city_code: must be a city code",
        ),
        (
            "select * from public.geo_list_city_geohash3_bounds_v1('zz-zzz')",
            psycopg.errors.NoDataFound,
            "p_city_code: no city 'zz-zzz'",
        ),
        (
            "select public.geo_get_locality_shape_geojson_v1('Shibuya')",
            psycopg.errors.InvalidParameterValue,
            "p_locality_code: must be a locality code like 'jp-tyo.shibuya'",
        ),
        (
            "select public.geo_get_locality_shape_geojson_v1('jp-tyo.atlantis')",
            psycopg.errors.NoDataFound,
            "p_locality_code: no locality 'jp-tyo.atlantis'",
        ),
    ],
)
def test_bad_input_is_a_clear_error(geo_db, sql, error, message):
    with as_role(geo_db, "authenticated") as conn, pytest.raises(error, match=message):
        conn.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from public.geo_list_cities_v1()",
        "select * from public.geo_list_city_localities_v1('jp-tyo')",
        "select * from public.geo_lookup_city_code_v1('tokyo')",
        "select * from public.geo_lookup_locality_code_v1('Kita')",
        "select * from public.geo_list_city_geohash3_bounds_v1('jp-tyo')",
        "select public.geo_get_locality_shape_geojson_v1('jp-tyo.shibuya')",
        "select * from public.geo_localities_v1",
        "select * from public.geo_place_names_v1",
    ],
)
def test_anon_gets_nothing(geo_db, sql):
    with as_role(geo_db, "anon") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql)


def nested_plans(database: str, sql: str, params=()) -> str:
    """The plans of every statement ``sql`` runs, functions included (auto_explain, sent to
    the client as LOG messages). enable_seqscan = off: these tables fit in a page or two, so
    the planner would rightly scan them; what the test proves is that the lookup's own
    predicate can be answered by an index, as it will be once the reference grows."""
    messages: list[str] = []
    with connect(database) as conn:
        conn.add_notice_handler(lambda diag: messages.append(diag.message_primary or ""))
        for setting in (
            "load 'auto_explain'",
            "set auto_explain.log_min_duration = 0",
            "set auto_explain.log_nested_statements = on",
            "set client_min_messages = log",
            "set enable_seqscan = off",
            "set role authenticated",
        ):
            conn.execute(setting)
        conn.execute(sql, params).fetchall()
    return "\n".join(messages)


@pytest.mark.parametrize(
    "sql, index",
    [
        ("select * from public.geo_lookup_city_code_v1('São Paulo')", "geo_place_names_v1_key_idx"),
        ("select * from public.geo_lookup_locality_code_v1('Chūō', 'jp-tyo')", "geo_place_names_v1_key_idx"),
        ("select * from public.geo_list_city_localities_v1('jp-tyo')", "geo_localities_v1_city_level_idx"),
        ("select * from public.geo_list_city_geohash3_bounds_v1('jp-tyo')", "geo_city_geohash3_v1_city_idx"),
    ],
)
def test_lookups_use_an_index(geo_db, sql, index):
    plans = nested_plans(geo_db, sql)
    assert re.search(rf"Index (Only )?Scan (using|on) {index}\b", plans), plans
    assert "Seq Scan" not in plans, plans
