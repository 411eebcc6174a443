"""Query fingerprints (contract 000 §6.2 "intersection attacks", §10 ``outside_buyer_query_fingerprints``).

Every delivered request's normalised slice (granularity, dates, sorted cities, segment
filters, suppressed or not; not the format) is hashed. A buyer may ask for at most
``max_distinct_fingerprints_per_window`` different slices per ``fingerprint_window_hours``
(rolling); asking again for a slice already asked in the window is free. This bounds
"repeated slicing to narrow a cohort": released cells never change, and the number of
different cuts of them a buyer can take per day is capped. File exports and the API share
the budget and the table ``query_fingerprints`` (first/last seen, requests per fingerprint).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

from privacy_insights.export.policy import ExportRefused, ExportRequest
from privacy_insights.export.store import Store


def check_budget(store: Store, request: ExportRequest, limit: int, window_hours: int, now: datetime) -> None:
    """Refuse (403, rule ``query_fingerprint_budget``) a new slice past the buyer's budget.

    Read from ``query_fingerprints`` (one row per buyer and slice, ``last_seen_at`` set on
    every delivery, in the delivery's transaction): a slice counts while its last delivery
    is in the window, so the work is bounded by the budget, not by the buyer's requests,
    and ``Retry-After`` is when the slice last asked for longest ago leaves the window."""
    since = now - timedelta(hours=window_hours)
    rows = store.query(
        f"select fingerprint, last_seen_at from {store.table('query_fingerprints')} "
        "where buyer_id = ? and last_seen_at > ?",  # half-open: gone at exactly Retry-After
        [request.buyer_id, store.ts(since)],
    )
    seen = {fp for fp, _ in rows}
    if request.fingerprint() in seen or len(seen) < limit:
        return
    oldest = min(_as_datetime(last) for _, last in rows)
    retry = max(1, math.ceil((oldest + timedelta(hours=window_hours) - now).total_seconds()))
    raise ExportRefused(
        "query_fingerprint_budget",
        "slice",
        f"buyer {request.buyer_id!r} already asked for {len(seen)} different slices in the last {window_hours} hours, "
        f"the most allowed (contract 000 §6.2: repeated slicing to narrow a cohort is denied); repeat a slice "
        f"already asked for, or ask for a new one in {retry} seconds",
        status=403,
        retry_after=retry,
    )


def record(store: Store, request: ExportRequest, now: datetime) -> None:
    """Note a delivered slice (inside the caller's transaction)."""
    table = store.table("query_fingerprints")
    slice_text = json.dumps(request.normalised_slice(), sort_keys=True)
    store.execute(
        f"insert into {table} (buyer_id, fingerprint, slice, first_seen_at, last_seen_at, requests) "
        "values (?, ?, ?, ?, ?, 1) on conflict (buyer_id, fingerprint) do update set "
        "last_seen_at = excluded.last_seen_at, requests = " + table.split(".")[-1] + ".requests + 1",
        [request.buyer_id, request.fingerprint(), slice_text, store.ts(now), store.ts(now)],
    )


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value

    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
