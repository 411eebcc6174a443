"""City definitions and the geohash3 -> city map derived from them.

``city_geohash3_map.csv`` is derived data: every geohash precision-3 cell that a city's
circle (centre, radius) touches belongs to that city; a cell touched by two circles goes
to the city whose centre is nearest the cell's centre. Regenerate it with
``privacy-insights seeds city-map`` after editing ``city_definitions.csv``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import pygeohash

EARTH_RADIUS_KM = 6371.0088
GEOHASH_PRECISION = 3
SAMPLE_STEP_KM = 2.0  # far below a geohash3 cell (~156 km x 156 km at the equator)


@dataclass(frozen=True)
class City:
    code: str
    name: str
    country_code: str
    latitude: float
    longitude: float
    radius_km: float
    population_millions: float
    utc_offset_hours: float


def read_cities(path: Path) -> list[City]:
    with path.open(newline="") as handle:
        return [
            City(
                code=row["city_code"],
                name=row["city_name"],
                country_code=row["country_code"],
                latitude=float(row["centre_latitude"]),
                longitude=float(row["centre_longitude"]),
                radius_km=float(row["radius_km"]),
                population_millions=float(row["metro_population_millions"]),
                utc_offset_hours=float(row["utc_offset_hours"]),
            )
            for row in csv.DictReader(handle)
        ]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def cells_touched(city: City) -> set[str]:
    """geohash3 cells that contain at least one point of the city's circle."""
    cells: set[str] = set()
    steps = int(city.radius_km // SAMPLE_STEP_KM) + 1
    km_per_deg_lat = math.pi * EARTH_RADIUS_KM / 180
    km_per_deg_lon = km_per_deg_lat * max(math.cos(math.radians(city.latitude)), 1e-6)
    for i in range(-steps, steps + 1):
        for j in range(-steps, steps + 1):
            dy, dx = i * SAMPLE_STEP_KM, j * SAMPLE_STEP_KM
            if dx * dx + dy * dy > city.radius_km**2:
                continue
            lat = city.latitude + dy / km_per_deg_lat
            lon = city.longitude + dx / km_per_deg_lon
            cells.add(pygeohash.encode(lat, lon, precision=GEOHASH_PRECISION))
    return cells


def build_city_geohash3_map(cities: list[City]) -> list[tuple[str, str]]:
    """Sorted (geohash3, city_code) pairs; each cell maps to exactly one city."""
    claims: dict[str, list[City]] = {}
    for city in cities:
        for cell in cells_touched(city):
            claims.setdefault(cell, []).append(city)
    mapping = []
    for cell, claimants in claims.items():
        centre = pygeohash.decode(cell)
        nearest = min(
            claimants,
            key=lambda c: (haversine_km(centre.latitude, centre.longitude, c.latitude, c.longitude), c.code),
        )
        mapping.append((cell, nearest.code))
    return sorted(mapping)


def write_city_geohash3_map(definitions: Path, output: Path) -> int:
    """Rewrite the map CSV from the definitions; returns the number of cells."""
    cities = read_cities(definitions)
    codes = [c.code for c in cities]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"city_code: must be unique in {definitions}; repeated: {', '.join(duplicates)}")
    rows = build_city_geohash3_map(cities)
    with output.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["geohash3", "city_code"])
        writer.writerows(rows)
    return len(rows)
