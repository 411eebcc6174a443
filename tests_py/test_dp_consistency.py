"""Consistency post-processing: projections, raking and rounding that keep every margin."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from privacy_insights.dp import consistency

RNG = np.random.default_rng(7)  # test inputs only; no release path uses numpy.random


def test_simplex_projection_matches_a_generic_solver():
    values = RNG.normal(10, 30, (40, 6))
    totals = RNG.uniform(0, 100, 40)
    projected = consistency.project_to_simplex(values, totals)
    assert (projected >= 0).all() and np.allclose(projected.sum(axis=1), totals)
    for v, t, x in zip(values[:10], totals[:10], projected[:10], strict=True):
        best = minimize(
            lambda z, v=v: ((z - v) ** 2).sum(),
            np.full(6, t / 6),
            method="SLSQP",
            bounds=[(0, None)] * 6,
            constraints=[{"type": "eq", "fun": lambda z, t=t: z.sum() - t}],
        )
        assert np.allclose(x, best.x, atol=1e-3)


def test_largest_remainder_keeps_the_total_and_stays_within_one():
    values = consistency.project_to_simplex(RNG.normal(5, 5, (200, 9)), RNG.uniform(0, 80, 200))
    totals = np.floor(values.sum(axis=1) + 0.5).astype(np.int64)
    rounded = consistency.largest_remainder(values, totals)
    assert (rounded.sum(axis=1) == totals).all() and (rounded >= 0).all()
    assert (np.abs(rounded - values) < 1 + 1e-9).all()


def test_raking_fits_both_margins():
    totals = RNG.uniform(100, 3000, 100)
    rows = consistency.project_to_simplex(RNG.normal(totals[:, None] / 3, 20, (100, 3)), totals)
    cols = consistency.project_to_simplex(RNG.normal(totals[:, None] / 9, 20, (100, 9)), totals)
    table = consistency.rake(np.maximum(RNG.normal(20, 30, (100, 3, 9)), 0), rows, cols)
    assert (table >= 0).all()
    assert np.allclose(table.sum(axis=2), rows, atol=1e-6) and np.allclose(table.sum(axis=1), cols, atol=1e-6)


def test_controlled_rounding_keeps_integer_margins_exactly():
    totals = RNG.uniform(100, 3000, 100)
    rows = consistency.project_to_simplex(RNG.normal(totals[:, None] / 3, 20, (100, 3)), totals)
    cols = consistency.project_to_simplex(RNG.normal(totals[:, None] / 9, 20, (100, 9)), totals)
    table = consistency.rake(np.maximum(RNG.normal(20, 30, (100, 3, 9)), 0), rows, cols)
    total_int = np.floor(totals + 0.5).astype(np.int64)
    rows_int = consistency.largest_remainder(rows, total_int)
    cols_int = consistency.largest_remainder(cols, total_int)
    rounded = consistency.controlled_round(table, rows_int, cols_int)
    assert (rounded >= 0).all()
    assert (rounded.sum(axis=2) == rows_int).all() and (rounded.sum(axis=1) == cols_int).all()
    assert np.abs(rounded - table).max() < 3


def test_inverse_variance_total_weights_and_skips_missing():
    total = consistency.inverse_variance_total([(np.array([10.0, 10.0]), 1.0), (np.array([20.0, np.nan]), 4.0)])
    assert total == pytest.approx([12.0, 10.0])
