"""The city total's post-processing: the inverse-variance mean of its measurements."""

from __future__ import annotations

import numpy as np
import pytest

from privacy_insights.dp import consistency


def test_inverse_variance_total_weights_and_skips_missing():
    total = consistency.inverse_variance_total([(np.array([10.0, 10.0]), 1.0), (np.array([20.0, np.nan]), 4.0)])
    assert total == pytest.approx([12.0, 10.0])
