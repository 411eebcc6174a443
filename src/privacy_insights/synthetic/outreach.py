"""Outreach page events (contract 004) as they land in ``raw.outreach_event_logs``.

Besides ordinary traffic, the first chunk carries what staging must catch:
- rows breaking each validation rule (``BAD_KINDS``, with the contract's error code),
- duplicate ``client_event_id`` values (some with the very same ``created_at``),
- unknown, inactive and aliased ``utm_source`` values in mixed case and padding,
- a burst of 620 events inside one minute (over the global 500/minute limit) and one
  session sending 130 events inside one hour (over the per-session 100/hour limit).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from privacy_insights.synthetic.common import labels, timestamps, uuid_sql
from privacy_insights.synthetic.config import GeneratorConfig

EVENTS = ["page_view", "cta_click"]
PAGES = ["/", "/pricing", "/about", "/download", "/blog/launch", "/features", "/invite"]
CAMPAIGNS = ["Spring_Launch", "summer-promo", "BrandAwareness", "retargeting_Q3", "Referral2026", " padded campaign "]
SOURCES = [
    "google",
    "facebook",
    "instagram",
    "newsletter",
    "linkedin",
    "tiktok",
    "reddit",
    " FB ",
    "IG",
    "Meta",
    "adwords",
    "email",
    "x",  # aliases, some padded or upper case
    "myspace",
    "tt",  # inactive source, inactive alias
    "coolblog",
    "hn",
    "   ",
]  # unknown, and blank (coerced to unknown)
SOURCE_P = np.array([14, 12, 10, 8, 5, 6, 4, 3, 3, 2, 2, 3, 2, 1, 1, 2, 1, 1], dtype=float)
MEDIUMS = ["cpc", "social", "email", "Organic", "referral", ""]
STORES = ["web", "ios_app_store", "google_play", "unknown", " web "]
COUNTRIES = ["US", "gb", "DE", "fr", "BR", "JP", "USA", "u1", " ca "]
LOCALES = ["en-US", "en", "fr-FR", "de-DE", "pt-BR", "ja", "en US", "x"]

# Kind -> (what is broken, the contract-004 error code staging must assign)
BAD_KINDS = {
    1: ("event not page_view or cta_click", "INVALID_EVENT"),
    2: ("store not in web | ios_app_store | google_play | unknown", "INVALID_STORE"),
    3: ("session_id not matching ^anon_[A-Za-z0-9_-]{16,32}$", "INVALID_SESSION"),
    4: ("page_key blank after trim", "INVALID_INPUT"),
    5: ("app_key longer than 40 characters", "INVALID_INPUT"),
    6: ("utm_campaign longer than 128 characters", "INVALID_INPUT"),
}
GLOBAL_BURST = 620  # events inside one minute
SESSION_BURST = 130  # events of one session inside one hour
BURST_SESSION = -1  # session index used by the session burst


def generate_chunk(cfg: GeneratorConfig, rng: np.random.Generator, offset: int, n: int) -> pa.Table:
    n_sessions = max(50, cfg.n_outreach // 6)
    session = np.floor(n_sessions * rng.random(n) ** 1.5).astype(np.int64)
    created_s = cfg.start_epoch_s + rng.integers(0, cfg.days * 86_400, n)

    if offset == 0 and n >= GLOBAL_BURST + SESSION_BURST:
        burst_minute = cfg.start_epoch_s + 86_400 + 12 * 3_600  # day 2, 12:00 UTC
        created_s[:GLOBAL_BURST] = burst_minute + rng.integers(0, 60, GLOBAL_BURST)
        session[:GLOBAL_BURST] = n_sessions + np.arange(GLOBAL_BURST)  # distinct sessions
        s_end = GLOBAL_BURST + SESSION_BURST
        created_s[GLOBAL_BURST:s_end] = (
            cfg.start_epoch_s + 3 * 86_400 + 9 * 3_600 + rng.integers(0, 3_600, SESSION_BURST)
        )
        session[GLOBAL_BURST:s_end] = BURST_SESSION
    created_us = created_s * 1_000_000 + rng.integers(0, 1_000_000, n)

    # Duplicates repeat an earlier row's client_event_id, a few microseconds later or at the same instant.
    row_id = np.arange(offset, offset + n, dtype=np.int64)
    client_row = row_id.copy()
    dup = (rng.random(n) < cfg.outreach_duplicate_share) & (np.arange(n) > 0)
    original = (rng.random(n) * np.arange(n)).astype(np.int64)
    client_row[dup] = row_id[original[dup]]
    created_us[dup] = created_us[original[dup]] + rng.choice([0, 0, 5, 1_500_000], dup.sum())
    session[dup] = session[original[dup]]
    no_client_id = (rng.random(n) < 0.10) & ~dup

    bad = rng.random(n) < cfg.outreach_bad_share
    return pa.table(
        {
            "row_id": pa.array(row_id),
            "client_row": pa.array(client_row, mask=no_client_id),
            "session_idx": pa.array(session),
            "event": labels(rng.choice(2, n, p=[0.8, 0.2]), EVENTS),
            "page_key": labels(rng.integers(0, len(PAGES), n), PAGES),
            "utm_campaign": labels(rng.integers(0, len(CAMPAIGNS), n), CAMPAIGNS),
            "utm_source": labels(rng.choice(len(SOURCES), n, p=SOURCE_P / SOURCE_P.sum()), SOURCES),
            "utm_medium": labels(rng.integers(0, len(MEDIUMS), n), MEDIUMS),
            "store": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(STORES), n).astype(np.int32), mask=rng.random(n) < 0.2), pa.array(STORES)
            ),
            "country": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(COUNTRIES), n).astype(np.int32), mask=rng.random(n) < 0.1),
                pa.array(COUNTRIES),
            ),
            "ui_locale": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(LOCALES), n).astype(np.int32), mask=rng.random(n) < 0.1), pa.array(LOCALES)
            ),
            "created_at": timestamps(created_us),
            "bad_kind": pa.array(np.where(bad, rng.integers(1, len(BAD_KINDS) + 1, n), 0).astype(np.int8)),
        }
    )


def select_sql(seed: int) -> str:
    """Turn a generated chunk (registered as ``chunk``) into raw rows."""
    return f"""
select
    {uuid_sql(f"'o{seed}-' || row_id")} as id,
    case when bad_kind = 1 then 'click' else event::varchar end as event,
    case when bad_kind = 5 then repeat('kinly-web-', 5) else 'kinly-web' end as app_key,
    case when bad_kind = 4 then '   ' else page_key::varchar end as page_key,
    case when bad_kind = 6 then repeat('LongCampaign', 12) else utm_campaign::varchar end as utm_campaign,
    utm_source::varchar as utm_source,
    utm_medium::varchar as utm_medium,
    'unknown' as source_id_resolved,
    case when bad_kind = 2 then 'amazon_store' else store::varchar end as store,
    case
        when bad_kind = 3 then 'sess_' || session_idx
        else 'anon_' || substr(md5('s{seed}-' || session_idx), 1, 22)
    end as session_id,
    country::varchar as country,
    ui_locale::varchar as ui_locale,
    case when client_row is null then null else {uuid_sql(f"'c{seed}-' || client_row")} end as client_event_id,
    created_at
from chunk
"""
