"""Place-name folding, approximate locality shapes and geohash3 bounds for the geo reference.

``normalize_place_name`` is the lookup key of ``geo_lookup_*_v1`` on PostgreSQL: lower
case, accents and ligatures folded to ASCII (``Chūō`` -> ``chuo``, ``Straße`` ->
``strasse``), separators (spaces, hyphens, dots, apostrophes, ...) collapsed to one space.
PostgreSQL computes the same key with an IMMUTABLE SQL function built from
``fold_table()`` at install time (``translate`` + ``replace``), so the indexed column and
the query use one function and no extension (``unaccent`` is a contrib extension whose
function is not IMMUTABLE, so it cannot back an index without a wrapper).
Scripts without case or accents (``東京``, ``Москва``) pass through unchanged apart from
case folding of Latin letters.
"""

from __future__ import annotations

import math
import re
import unicodedata

import pygeohash

# Letters NFKD does not decompose, folded by hand (both cases).
MULTI_CHAR = {"ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th", "ĳ": "ij", "Ĳ": "ij"}
SINGLE_EXTRA = {
    "ø": "o",
    "Ø": "o",
    "đ": "d",
    "Đ": "d",
    "ð": "d",
    "Ð": "d",
    "ł": "l",
    "Ł": "l",
    "ı": "i",
    "ħ": "h",
    "Ħ": "h",
    "ŧ": "t",
    "Ŧ": "t",
}
# Latin-1 Supplement, Latin Extended-A and -B, Latin Extended Additional (Vietnamese).
LATIN_RANGES = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))
SEPARATORS = r"[\s\-_.,;:'’‘`´\"()/&+]+"
SHAPE_VERTICES = 16
EARTH_RADIUS_KM = 6371.0088


def fold_table() -> tuple[str, str]:
    """(from, to) for SQL ``translate``: each accented Latin letter to its lower-case ASCII base."""
    source, target = [], []
    for low, high in LATIN_RANGES:
        for code in range(low, high + 1):
            char = chr(code)
            if char in MULTI_CHAR:
                continue
            base = SINGLE_EXTRA.get(char) or "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            base = base.lower()
            if len(base) == 1 and "a" <= base <= "z":
                source.append(char)
                target.append(base)
    return "".join(source), "".join(target)


_FROM, _TO = fold_table()
_TRANSLATE = str.maketrans(_FROM, _TO)


def normalize_place_name(name: str) -> str:
    """The lookup key of a place name (the Python twin of ``public.geo_normalize_name_v1``)."""
    text = "".join(c.lower() if "A" <= c <= "Z" else c for c in name).translate(_TRANSLATE)
    for char, replacement in MULTI_CHAR.items():
        text = text.replace(char, replacement)
    return re.sub(SEPARATORS, " ", text).strip()


def circle_polygon(
    latitude: float, longitude: float, radius_km: float, vertices: int = SHAPE_VERTICES
) -> list[list[float]]:
    """A closed GeoJSON ring ([lon, lat] pairs, counter-clockwise) approximating a circle."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180 and radius_km > 0):
        raise ValueError(
            f"shape: needs latitude in [-90, 90], longitude in [-180, 180], radius_km > 0; "
            f"got {latitude}, {longitude}, {radius_km}"
        )
    km_per_deg_lat = math.pi * EARTH_RADIUS_KM / 180
    km_per_deg_lon = km_per_deg_lat * math.cos(math.radians(latitude))
    ring = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        ring.append(
            [
                round(longitude + radius_km * math.cos(angle) / km_per_deg_lon, 5),
                round(latitude + radius_km * math.sin(angle) / km_per_deg_lat, 5),
            ]
        )
    return ring + [ring[0]]


def shape_geojson(code: str, latitude: float, longitude: float, radius_km: float) -> dict:
    """The GeoJSON geometry of a locality's approximate shape."""
    return {"type": "Polygon", "coordinates": [circle_polygon(latitude, longitude, radius_km)]}


def geohash3_bounds(geohash: str) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a geohash cell, in degrees."""
    cell = pygeohash.decode_exactly(geohash)
    return (
        cell.latitude - cell.latitude_error,
        cell.longitude - cell.longitude_error,
        cell.latitude + cell.latitude_error,
        cell.longitude + cell.longitude_error,
    )
