"""Install-time work of the ``clock`` and ``geo`` components: render their SQL and load seeds.

Both components mirror public seeds into PostgreSQL. The seeds stay the one source: each
install replaces the rows inside the install's transaction (readers see the old rows or
the new ones, never a mix), so re-running changes nothing and an edited seed is picked up.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg

from privacy_insights.geo_names import SEPARATORS, fold_table, geohash3_bounds, shape_geojson

COMPONENTS = ("clock", "geo")
SHAPE_SOURCE = "16-gon approximating a circle of radius_km around the point (privacy_insights.geo_names)"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render(component: str, sql: str) -> str:
    """The component's SQL with its install-time values filled in (others unchanged)."""
    if component != "geo":
        return sql
    source, target = fold_table()
    return (
        sql.replace("__FOLD_FROM__", _literal(source))
        .replace("__FOLD_TO__", _literal(target))
        .replace("__SEPARATORS__", _literal(SEPARATORS))
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _load_clock(conn: psycopg.Connection, seeds_dir: Path) -> None:
    from privacy_insights.clock.policy import parse_policy

    policies = [parse_policy(row, line) for line, row in enumerate(_rows(seeds_dir / "timing_policies.csv"), 2)]
    conn.execute("delete from public.atomic_timing_policies_v1")
    for p in policies:
        conn.execute(
            "insert into public.atomic_timing_policies_v1 (job_name, cadence_minutes, window_start_hour_utc, "
            "window_end_hour_utc, max_staleness_hours, description) values (%s, %s, %s, %s, %s, %s)",
            (
                p.job_name,
                p.cadence_minutes,
                p.window_start_hour_utc,
                p.window_end_hour_utc,
                p.max_staleness_hours,
                p.description,
            ),
        )


def _load_geo(conn: psycopg.Connection, seeds_dir: Path) -> None:
    cities = _rows(seeds_dir / "city_definitions.csv")
    localities = _rows(seeds_dir / "geo_localities.csv")
    conn.execute("delete from public.geo_cities_v1")  # cascades to every other geo table
    with conn.cursor() as cur:
        cur.executemany(
            "insert into public.geo_cities_v1 values (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    c["city_code"],
                    c["city_name"],
                    c["country_code"],
                    float(c["centre_latitude"]),
                    float(c["centre_longitude"]),
                    float(c["radius_km"]),
                    float(c["utc_offset_hours"]),
                )
                for c in cities
            ],
        )
        cur.executemany(
            "insert into public.geo_city_geohash3_v1 values (%s, %s, %s, %s, %s, %s)",
            [
                (m["geohash3"], m["city_code"], *geohash3_bounds(m["geohash3"]))
                for m in _rows(seeds_dir / "city_geohash3_map.csv")
            ],
        )
        ordered = sorted(localities, key=lambda row: row["level"] != "locality")  # parents first
        cur.executemany(
            "insert into public.geo_localities_v1 values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    r["locality_code"],
                    r["city_code"],
                    r["parent_locality_code"] or None,
                    r["level"],
                    r["locality_name"],
                    float(r["centre_latitude"]),
                    float(r["centre_longitude"]),
                    float(r["radius_km"]),
                    r["coordinate_source"],
                    int(r["geonames_id"]) if r["geonames_id"] else None,
                )
                for r in ordered
            ],
        )
        cur.executemany(
            "insert into public.geo_locality_shapes_v1 values (%s, %s, 'approximate_circle', %s)",
            [
                (
                    r["locality_code"],
                    json.dumps(
                        shape_geojson(
                            r["locality_code"],
                            float(r["centre_latitude"]),
                            float(r["centre_longitude"]),
                            float(r["radius_km"]),
                        )
                    ),
                    SHAPE_SOURCE,
                )
                for r in localities
            ],
        )
        places = {c["city_code"]: ("city", c["city_code"]) for c in cities}
        places |= {r["locality_code"]: (r["level"], r["city_code"]) for r in localities}
        names = [(c["city_name"], c["city_code"], "city", c["city_code"], "name") for c in cities]
        names += [(r["locality_name"], r["locality_code"], r["level"], r["city_code"], "name") for r in localities]
        for line, alias in enumerate(_rows(seeds_dir / "geo_place_aliases.csv"), start=2):
            if alias["place_code"] not in places:
                raise ValueError(
                    f"geo_place_aliases.csv line {line}: place_code: must be a city or locality code; "
                    f"got {alias['place_code']!r}"
                )
            level, city = places[alias["place_code"]]
            names.append((alias["alias"], alias["place_code"], level, city, "alias"))
        cur.executemany(
            "insert into public.geo_place_names_v1 (display_name, place_code, place_level, city_code, "
            "name_kind) values (%s, %s, %s, %s, %s) on conflict do nothing",
            names,
        )


def load(conn: psycopg.Connection, component: str, seeds_dir: Path) -> None:
    """Replace the component's rows from the seeds (no-op for components without seeds here)."""
    if component == "clock":
        _load_clock(conn, seeds_dir)
    elif component == "geo":
        _load_geo(conn, seeds_dir)
