"""Buyers and their API keys (contract 000 §7.3: credential revocation).

A key looks like ``pik_<key id>_<secret>``: the key id (16 hex characters) is not secret and
is how a key is looked up; the secret (48 hex characters, 192 random bits) is shown once,
when the key is issued, and only its SHA-256 is stored (a fast hash is right for a random
192-bit secret: there is nothing to guess). Checking a key costs the same whatever is
wrong with it: the look-up by key id always runs (with an empty id for a malformed key), a
hash is always computed and always compared in constant time (``hmac.compare_digest``,
against a dummy hash when the id is unknown), and every failure answers the same 401.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from privacy_insights.export.policy import GRANULARITIES, ExportPolicy, ExportRefused, KeyScopes, check_buyer_id
from privacy_insights.export.store import Store

KEY_PATTERN = re.compile(r"pik_([0-9a-f]{16})_([0-9a-f]{48})")
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class Buyer:
    buyer_id: str
    requests_per_minute: int
    rows_per_day: int
    fingerprints_per_window: int


@dataclass(frozen=True)
class Principal:
    buyer: Buyer
    key_id: str
    scopes: KeyScopes


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _scopes(policy: ExportPolicy, buyer_id: str, granularities, max_cities) -> KeyScopes:
    granularities = tuple(dict.fromkeys(granularities or ("day", "week")))
    unknown = [g for g in granularities if g not in GRANULARITIES]
    if unknown:
        raise ValueError(f"granularities: {unknown} not one of {', '.join(GRANULARITIES)}")
    if "hour" in granularities and buyer_id not in policy.hour_granularity_buyers:
        raise ValueError(
            f"granularities: hour is allowed only for buyers listed in export_policy.yml "
            f"hour_granularity_buyers; {buyer_id!r} is not"
        )
    max_cities = policy.max_cities_per_request if max_cities is None else max_cities
    if not 1 <= max_cities <= policy.max_cities_per_request:
        raise ValueError(f"max_cities: must be 1 to {policy.max_cities_per_request} (export policy), got {max_cities}")
    return KeyScopes(granularities, max_cities)


def _issue(store: Store, buyer_id: str, scopes: KeyScopes, now: datetime) -> tuple[str, str]:
    key_id, secret = secrets.token_hex(8), secrets.token_hex(24)
    store.execute(
        f"insert into {store.table('buyer_api_keys')} (key_id, buyer_id, secret_sha256, granularities, "
        "max_cities, created_at, revoked_at) values (?, ?, ?, ?, ?, ?, null)",
        [key_id, buyer_id, _hash(secret), json.dumps(list(scopes.granularities)), scopes.max_cities, store.ts(now)],
    )
    return f"pik_{key_id}_{secret}", key_id


def add_buyer(
    store: Store,
    policy: ExportPolicy,
    buyer_id: str,
    granularities=None,
    max_cities=None,
    requests_per_minute=None,
    rows_per_day=None,
    fingerprints_per_window=None,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Register a buyer and issue its first key; returns (key, key id). The key is not stored."""
    check_buyer_id(buyer_id)
    now = _now(now)
    scopes = _scopes(policy, buyer_id, granularities, max_cities)
    limits = {
        "requests_per_minute": requests_per_minute or policy.api_requests_per_minute,
        "rows_per_day": rows_per_day or policy.api_rows_per_day,
        "fingerprints_per_window": fingerprints_per_window or policy.max_distinct_fingerprints_per_window,
    }
    for name, value in limits.items():
        if value < 1:
            raise ValueError(f"{name}: must be at least 1, got {value}")
    with store.transaction():
        if store.query(f"select 1 from {store.table('buyers')} where buyer_id = ?", [buyer_id]):
            raise ValueError(f"buyer_id: {buyer_id!r} already exists; use `buyers rotate` for a new key")
        store.execute(
            f"insert into {store.table('buyers')} (buyer_id, created_at, revoked_at, requests_per_minute, "
            "rows_per_day, fingerprints_per_window) values (?, ?, null, ?, ?, ?)",
            [
                buyer_id,
                store.ts(now),
                limits["requests_per_minute"],
                limits["rows_per_day"],
                limits["fingerprints_per_window"],
            ],
        )
        return _issue(store, buyer_id, scopes, now)


def _active_keys(store: Store, buyer_id: str) -> list[tuple]:
    return store.query(
        f"select key_id, granularities, max_cities from {store.table('buyer_api_keys')} "
        "where buyer_id = ? and revoked_at is null order by created_at desc",
        [buyer_id],
    )


def _require_buyer(store: Store, buyer_id: str) -> None:
    check_buyer_id(buyer_id)
    if not store.query(f"select 1 from {store.table('buyers')} where buyer_id = ?", [buyer_id]):
        raise ValueError(f"buyer_id: no buyer {buyer_id!r}; add it with `buyers add`")


def rotate(
    store: Store, policy: ExportPolicy, buyer_id: str, granularities=None, max_cities=None, now: datetime | None = None
) -> tuple[str, str, list[str]]:
    """Issue a new key (same scopes unless given) and revoke the buyer's other keys at once."""
    now = _now(now)
    with store.transaction():
        _require_buyer(store, buyer_id)
        active = _active_keys(store, buyer_id)
        old_granularities = tuple(json.loads(active[0][1])) if active else None
        scopes = _scopes(
            policy,
            buyer_id,
            granularities or old_granularities,
            max_cities if max_cities is not None else (active[0][2] if active else None),
        )
        store.execute(
            f"update {store.table('buyer_api_keys')} set revoked_at = ? where buyer_id = ? and revoked_at is null",
            [store.ts(now), buyer_id],
        )
        store.execute(f"update {store.table('buyers')} set revoked_at = null where buyer_id = ?", [buyer_id])
        key, key_id = _issue(store, buyer_id, scopes, now)
    return key, key_id, [row[0] for row in active]


def revoke(store: Store, buyer_id: str, key_id: str | None = None, now: datetime | None = None) -> list[str]:
    """Revoke one key, or every key of the buyer; the next request with it gets 401."""
    now = _now(now)
    with store.transaction():
        _require_buyer(store, buyer_id)
        keys = [k for k, _, _ in _active_keys(store, buyer_id) if key_id is None or k == key_id]
        if key_id is not None and not keys:
            raise ValueError(f"key_id: {key_id!r} is not an active key of buyer {buyer_id!r}")
        for k in keys:
            store.execute(
                f"update {store.table('buyer_api_keys')} set revoked_at = ? where key_id = ?", [store.ts(now), k]
            )
        if key_id is None:
            store.execute(
                f"update {store.table('buyers')} set revoked_at = ? where buyer_id = ?", [store.ts(now), buyer_id]
            )
    return keys


def list_buyers(store: Store) -> list[dict]:
    """Buyers, limits and keys (ids and scopes only: no secret or hash)."""
    buyers = store.query(
        f"select buyer_id, created_at, revoked_at, requests_per_minute, rows_per_day, "
        f"fingerprints_per_window from {store.table('buyers')} order by buyer_id"
    )
    keys = store.query(
        f"select buyer_id, key_id, granularities, max_cities, created_at, revoked_at "
        f"from {store.table('buyer_api_keys')} order by created_at"
    )
    out = []
    for b in buyers:
        out.append(
            {
                "buyer_id": b[0],
                "created_at": str(b[1]),
                "revoked_at": None if b[2] is None else str(b[2]),
                "requests_per_minute": b[3],
                "rows_per_day": b[4],
                "fingerprints_per_window": b[5],
                "keys": [
                    {
                        "key_id": k[1],
                        "granularities": json.loads(k[2]),
                        "max_cities": k[3],
                        "created_at": str(k[4]),
                        "revoked_at": None if k[5] is None else str(k[5]),
                    }
                    for k in keys
                    if k[0] == b[0]
                ],
            }
        )
    return out


_PRINCIPAL = (
    "select k.secret_sha256, k.revoked_at, b.revoked_at, k.buyer_id, k.granularities, k.max_cities, "
    "b.requests_per_minute, b.rows_per_day, b.fingerprints_per_window, k.key_id "
    "from {keys} as k join {buyers} as b on b.buyer_id = k.buyer_id "
)


def _principals(store: Store, where: str, params: list) -> list[tuple]:
    sql = _PRINCIPAL.format(keys=store.table("buyer_api_keys"), buyers=store.table("buyers"))
    return store.query(sql + where, params)


def _active(row: tuple) -> bool:
    """Neither the key nor its buyer is revoked: the one rule for the API and file exports."""
    return row[1] is None and row[2] is None


def _principal(row: tuple) -> Principal:
    return Principal(Buyer(row[3], row[6], row[7], row[8]), row[9], KeyScopes(tuple(json.loads(row[4])), row[5]))


def authenticate(store: Store, authorization: str | None) -> Principal | None:
    """The key's buyer and scopes, or None; the same work whatever is wrong (see module doc)."""
    token = ""
    if authorization and authorization[:7].lower() == "bearer ":
        token = authorization[7:].strip()
    match = KEY_PATTERN.fullmatch(token)
    key_id, secret = match.groups() if match else ("", "")
    rows = _principals(store, "where k.key_id = ?", [key_id])
    stored = rows[0][0] if rows else _DUMMY_HASH
    matches = hmac.compare_digest(_hash(secret), stored)
    if not (rows and matches and match) or not _active(rows[0]):
        return None
    return _principal(rows[0])


def registered(store: Store, buyer_id: str) -> Principal:
    """The buyer as the API admits it, for a delivery that has no key (a file export): registered,
    not revoked, with the scopes of its newest active key (``rotate`` leaves one). Raises
    ExportRefused (403) naming the rule otherwise."""
    check_buyer_id(buyer_id)
    rows = _principals(store, "where k.buyer_id = ? order by k.created_at desc", [buyer_id])
    active = [row for row in rows if _active(row)]
    if active:
        return _principal(active[0])
    if not rows and not store.query(f"select 1 from {store.table('buyers')} where buyer_id = ?", [buyer_id]):
        raise ExportRefused(
            "buyer_registered",
            "buyer_id",
            f"{buyer_id!r} is not a registered buyer of this target: register it first "
            f"(`privacy-insights buyers add {buyer_id} --target <target>`)",
            status=403,
        )
    raise ExportRefused(
        "buyer_revoked",
        "buyer_id",
        f"buyer {buyer_id!r} is revoked (no active key): nothing is delivered to it until `buyers rotate` "
        "issues a new key",
        status=403,
    )
