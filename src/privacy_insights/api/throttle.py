"""Requests without a valid API key: throttled per client address, audited in aggregate.

A buyer's key is rate-limited by its own quota (quotas.py). Requests that carry no valid key
cannot be charged to anyone, so a client address gets at most ``limit`` 401s (a missing,
malformed, wrong, unknown or revoked key) per rolling minute; past that, every request from
that address is answered 429 with ``Retry-After`` without being looked at (no key check, no
store), until the oldest 401 leaves the minute. The client address is the connecting peer, or,
behind the reverse proxy on 127.0.0.1, the address the proxy puts in ``X-Forwarded-For``
(uvicorn trusts it from 127.0.0.1 only; docs/buyer_api.md "Deployment").

In the audit, such requests are counted rather than listed: one row per minute, endpoint,
status and rule, whose ``requests`` column grows (``AnonymousAudit``), so a flood of bad keys
costs an update per request and no new rows.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from privacy_insights.export import audit
from privacy_insights.export.store import Store

WINDOW_SECONDS = 60.0


@dataclass
class AddressThrottle:
    limit: int
    window: float = WINDOW_SECONDS
    max_addresses: int = 100_000
    refusals: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, address: str, now: float) -> deque[float] | None:
        times = self.refusals.get(address)
        while times and times[0] <= now - self.window:
            times.popleft()
        if times is not None and not times:
            del self.refusals[address]
            return None
        return times

    def retry_after(self, address: str, now: float) -> int | None:
        """Seconds until the address may be answered again, or None when it is under its limit."""
        times = self._recent(address, now)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window - now))

    def refused(self, address: str, now: float) -> None:
        """Count one 401 answered to the address."""
        if address not in self.refusals and len(self.refusals) >= self.max_addresses:
            for other in list(self.refusals):  # forget addresses whose minute has passed
                self._recent(other, now)
        self.refusals.setdefault(address, deque()).append(now)


@dataclass
class AnonymousAudit:
    """One audit row per minute, endpoint, status and rule for requests without a valid key.
    Call only under the API's store gate (one writer at a time)."""

    store: Store
    rows: dict[tuple, tuple[str, datetime]] = field(default_factory=dict)

    def write(self, entry: audit.AuditEntry) -> None:
        key = (entry.endpoint, entry.http_status, entry.outcome, entry.rule)
        current = self.rows.get(key)
        if current is not None and entry.requested_at - current[1] < timedelta(seconds=WINDOW_SECONDS):
            if audit.add_request(self.store, current[0], entry.latency_ms):
                return
        self.rows[key] = (audit.insert(self.store, entry), entry.requested_at)
        if len(self.rows) > 10_000:  # endpoints are route templates, so this only trims old windows
            cutoff = entry.requested_at - timedelta(seconds=WINDOW_SECONDS)
            self.rows = {k: v for k, v in self.rows.items() if v[1] >= cutoff}
