"""Differential privacy for spots_insights_v1: parameters, mechanisms, budget, release.

- ``params``      the release policy (vars of the dbt project), validated
- ``mechanisms``  OpenDP discrete Laplace / discrete Gaussian, calibrated from the bounds
- ``budget``      rolling-window privacy budget across granularities
- ``release``     noise, suppression on noisy values, derived metrics, privacy metadata
- ``dbt_entry``   what the thin dbt Python models call
"""
