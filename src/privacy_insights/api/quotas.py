"""Per-buyer quotas of the API (contract 000 §6.3): requests per minute and rows per UTC day.

Counted from the audit itself (the delivery store), so they hold across restarts. Requests
that count against the rate: every authenticated request that was answered (delivered or
refused); throttled ones do not, so a client that waits ``Retry-After`` gets through.
Rows per day: rows delivered by the API since 00:00 UTC (a counter per buyer and day that
``audit.insert`` keeps with each delivered row, so the check reads one row). Exceeding either is a 429 with
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


def check_rows(store: Store, buyer: Buyer, rows: int, now: datetime) -> None:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    used = store.query(
        f"select coalesce(sum(rows), 0) from {store.table('api_rows_per_day')} where buyer_id = ? and day = ?",
        [buyer.buyer_id, store.day(now)],
    )[0][0]
    if used + rows > buyer.rows_per_day:
        retry = max(1, math.ceil((midnight + timedelta(days=1) - now).total_seconds()))
        raise ExportRefused(
            "rows_per_day",
            "rows",
            f"this slice has {rows} rows and {used} of {buyer.rows_per_day} rows per day are used "
            f"(contract 000 §6.3); the quota resets at 00:00 UTC, in {retry} seconds",
            status=429,
            retry_after=retry,
        )
