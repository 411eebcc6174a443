"""Buyer delivery of spots_insights_v1 (contract 000 §4.2, §5, §6, §7, §10): file exports here,
the HTTP API in ``privacy_insights.api``, one policy, one record mapping and one audit for both.

- ``records``: the flat warehouse row <-> nested §4.2 record mapping, derived from the JSON Schema;
- ``writer``: JSON Lines, JSON, CSV and Parquet bytes of records, and back;
- ``policy``: the query policy and its refusals (rule, field, HTTP status);
- ``validate``: JSON Schema + deny-list check of every record before delivery;
- ``store`` / ``audit`` / ``fingerprints``: the delivery store (buyers, key hashes, fingerprints, audit);
- ``run``: one file export with every outcome audited and no partial file left;
- ``files``: files created exclusively, never through a planted symlink;
- ``locations``: one delivery folder per target (store, published snapshots, exports);
- ``retention``: delivered files and audit rows past the retention, found through the audit;
- ``publish``: immutable snapshots of the frozen release for the API;
- ``dictionary``: the buyer's data dictionary.
"""

from __future__ import annotations

from privacy_insights.export.policy import ExportPolicy, ExportRefused, ExportRequest, KeyScopes, load_policy
from privacy_insights.export.retention import purge_expired
from privacy_insights.export.run import (
    ExportFailed,
    ExportInterrupted,
    ExportResult,
    export_file,
    open_warehouse_read_only,
    run_export,
)
from privacy_insights.export.store import Store, StoreUnavailable, open_store
from privacy_insights.export.validate import ExportInvalid

__all__ = [
    "ExportFailed",
    "ExportInterrupted",
    "ExportInvalid",
    "ExportPolicy",
    "ExportRefused",
    "ExportRequest",
    "ExportResult",
    "KeyScopes",
    "Store",
    "StoreUnavailable",
    "export_file",
    "load_policy",
    "open_store",
    "open_warehouse_read_only",
    "purge_expired",
    "run_export",
]
