"""Per-buyer quotas of the API (contract 000 §6.3): requests per minute and rows per UTC day.

Counted from the audit itself (the delivery store), so they hold across restarts. Requests
that count against the rate: every request a buyer's key makes that was answered (delivered
or refused, whatever was wrong with it); throttled ones do not, so a client that waits
``Retry-After`` gets through. The check and the audit row of the request it admits are
written in one store transaction that names the buyer (``Store.transaction(lock=...)``), so
concurrent requests are counted exactly, across threads and server processes.

Rows per day: rows delivered by the API since 00:00 UTC (a counter per buyer and day that
``audit.insert`` keeps with each delivered row, so the check reads one row). Once the day's
rows are used up, every request is refused before its slice is read (``check_rows_left``): the
answer says nothing that depends on the data. A slice larger than what is left is refused
too (``check_rows``), and since that answer does depend on the slice, the caller counts it
against the fingerprint budget like a delivery. Exceeding either quota is a 429 with
``Retry-After`` (seconds).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from privacy_insights.api.keys import Buyer
from privacy_insights.export.fingerprints import _as_datetime
from privacy_insights.export.policy import ExportRefused
from privacy_insights.export.store import AUDIT_TABLE, Store


def check_rate(store: Store, buyer: Buyer, now: datetime) -> None:
    since = now - timedelta(minutes=1)
    count, oldest = store.query(
        f"select count(*), min(requested_at) from {store.table(AUDIT_TABLE)} where buyer_id = ? and channel = 'api' "
        "and outcome in ('delivered', 'refused') and requested_at >= ?",
        [buyer.buyer_id, store.ts(since)],
    )[0]
    if count >= buyer.requests_per_minute:
        retry = max(1, math.ceil((_as_datetime(oldest) + timedelta(minutes=1) - now).total_seconds()))
        raise ExportRefused(
            "rate_limit_per_minute",
            "requests",
            f"{count} requests in the last minute, at most {buyer.requests_per_minute} per minute for "
            f"buyer {buyer.buyer_id!r} (contract 000 §6.3); retry in {retry} seconds",
            status=429,
            retry_after=retry,
        )


def _rows_used(store: Store, buyer: Buyer, now: datetime) -> int:
    return store.query(
        f"select coalesce(sum(rows), 0) from {store.table('api_rows_per_day')} where buyer_id = ? and day = ?",
        [buyer.buyer_id, store.day(now)],
    )[0][0]


def _rows_refusal(buyer: Buyer, now: datetime, what: str) -> ExportRefused:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    retry = max(1, math.ceil((midnight + timedelta(days=1) - now).total_seconds()))
    return ExportRefused(
        "rows_per_day",
        "rows",
        f"{what} of the {buyer.rows_per_day} rows per day of buyer {buyer.buyer_id!r} (contract 000 §6.3); "
        f"the quota resets at 00:00 UTC, in {retry} seconds",
        status=429,
        retry_after=retry,
    )


def check_rows_left(store: Store, buyer: Buyer, now: datetime) -> None:
    """Refuse before the slice is read when the day's rows are used up."""
    if _rows_used(store, buyer, now) >= buyer.rows_per_day:
        raise _rows_refusal(buyer, now, "no rows are left today")


def check_rows(store: Store, buyer: Buyer, rows: int, now: datetime) -> None:
    """Refuse a slice of ``rows`` records that does not fit in what is left today (the message
    names what is left, never the slice's size)."""
    used = _rows_used(store, buyer, now)
    if used + rows > buyer.rows_per_day:
        raise _rows_refusal(buyer, now, f"this slice does not fit in the {max(0, buyer.rows_per_day - used)} left")
