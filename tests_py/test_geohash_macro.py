"""The SQL geohash macro agrees with an independent implementation (pygeohash).

Points: 10^4 uniform random points over the whole sphere, every precision-3 cell edge on
both axes (where bisection must choose the upper cell) and the float just below each
edge, and the corners and ±90 / ±180 edges. The macro is compiled by dbt from the
project and evaluated by DuckDB.
"""

from __future__ import annotations

import itertools
import json
import math

import duckdb
import numpy as np
import pygeohash
import pytest

from harness import DbtProject


def compiled_geohash_sql(project: DbtProject, precision: int) -> str:
    result = project.dbt(
        "compile",
        "--inline",
        f"select {{{{ geohash('latitude', 'longitude', {precision}) }}}} as geohash from points",
        "--output",
        "json",
        "--quiet",
    )
    return json.loads(result.stdout)["compiled"]


def points() -> list[tuple[float, float]]:
    rng = np.random.default_rng(20261125)
    random = list(zip(rng.uniform(-90, 90, 10_000), rng.uniform(-180, 180, 10_000), strict=True))
    lon_edges = [-180 + k * 360 / 256 for k in range(257)]
    lat_edges = [-90 + j * 180 / 128 for j in range(129)]
    edges = (
        [(0.0, lon) for lon in lon_edges]
        + [(lat, 0.0) for lat in lat_edges]
        + [(17.3, math.nextafter(lon, -math.inf)) for lon in lon_edges[1:]]
        + [(math.nextafter(lat, -math.inf), -42.1) for lat in lat_edges[1:]]
    )
    corners = list(itertools.product([-90.0, 0.0, 90.0], [-180.0, 0.0, 180.0]))
    return [(float(a), float(b)) for a, b in random + edges + corners]


def evaluate(sql: str, pts: list[tuple[float, float]]) -> list[str]:
    con = duckdb.connect()
    con.execute("create table points (n integer, latitude double, longitude double)")
    con.executemany("insert into points values (?, ?, ?)", [(i, a, b) for i, (a, b) in enumerate(pts)])
    rows = con.sql(f"select geohash from ({sql.replace('from points', ', n from points')}) order by n").fetchall()
    con.close()
    return [r[0] for r in rows]


@pytest.mark.parametrize("precision", [3, 1, 6])
def test_sql_geohash_matches_pygeohash(dev_project: DbtProject, precision: int):
    pts = points() if precision == 3 else points()[:2_000] + points()[10_000:]
    got = evaluate(compiled_geohash_sql(dev_project, precision), pts)
    expected = [pygeohash.encode(lat, lon, precision=precision) for lat, lon in pts]
    mismatches = [(p, g, e) for p, g, e in zip(pts, got, expected, strict=True) if g != e]
    assert len(got) == len(pts) >= (10_000 if precision == 3 else 2_000)
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:5]}"
