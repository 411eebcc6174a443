"""One table of crafted outreach inputs and their contract-004 outcomes.

Drives both the PostgreSQL RPC test and the dbt staging test, so the two paths must agree.
``expect`` is an error code, or a dict of the normalised values of an accepted row.
"""

from __future__ import annotations

BASE = {"event": "page_view", "app_key": "kinly-web", "page_key": "/pricing", "utm_campaign": "Spring_Launch",
        "utm_source": "google", "utm_medium": "cpc", "store": None, "country": None, "ui_locale": None}


def session(i: int) -> str:
    return f"anon_case{i:03d}_abcdefghijk"


CASES: list[tuple[str, dict, object]] = [
    ("valid minimal", {}, {"source_id_resolved": "google", "store": "unknown"}),
    ("alias padded and upper case", {"utm_source": " FB "}, {"utm_source": "fb", "source_id_resolved": "facebook"}),
    ("alias resolves", {"utm_source": "IG"}, {"utm_source": "ig", "source_id_resolved": "instagram"}),
    ("inactive source", {"utm_source": "myspace"}, {"source_id_resolved": "unknown"}),
    ("inactive alias", {"utm_source": "tt"}, {"source_id_resolved": "unknown"}),
    ("unknown source", {"utm_source": "coolblog"}, {"source_id_resolved": "unknown"}),
    ("blank source coerced", {"utm_source": "   "}, {"utm_source": "unknown", "source_id_resolved": "unknown"}),
    ("blank medium and campaign coerced", {"utm_medium": "", "utm_campaign": "  "},
     {"utm_medium": "unknown", "utm_campaign": "unknown"}),
    ("campaign case kept, trimmed", {"utm_campaign": "  Spring_Launch  "}, {"utm_campaign": "Spring_Launch"}),
    ("medium lower-cased", {"utm_medium": " CPC "}, {"utm_medium": "cpc"}),
    ("country upper-cased", {"country": " gb "}, {"country": "GB"}),
    ("country invalid nulled", {"country": "usa"}, {"country": None}),
    ("locale with space nulled", {"ui_locale": "en US"}, {"ui_locale": None}),
    ("locale too short nulled", {"ui_locale": "x"}, {"ui_locale": None}),
    ("locale kept", {"ui_locale": " fr-FR "}, {"ui_locale": "fr-FR"}),
    ("blank store coerced", {"store": "  "}, {"store": "unknown"}),
    ("store trimmed", {"store": " web "}, {"store": "web"}),
    ("event unknown", {"event": "click"}, "INVALID_EVENT"),
    ("event blank", {"event": "  "}, "INVALID_EVENT"),
    ("event case differs", {"event": "PAGE_VIEW"}, "INVALID_EVENT"),
    ("store unknown", {"store": "amazon_store"}, "INVALID_STORE"),
    ("store case differs", {"store": "WEB"}, "INVALID_STORE"),
    ("session wrong prefix", {"session_id": "sess_abcdefghijklmnop"}, "INVALID_SESSION"),
    ("session too short", {"session_id": "anon_short"}, "INVALID_SESSION"),
    ("session too long", {"session_id": "anon_" + "a" * 33}, "INVALID_SESSION"),
    ("session bad character", {"session_id": "anon_abcdefghijklmnop!"}, "INVALID_SESSION"),
    ("app_key blank", {"app_key": "   "}, "INVALID_INPUT"),
    ("app_key too long", {"app_key": "k" * 41}, "INVALID_INPUT"),
    ("page_key blank", {"page_key": ""}, "INVALID_INPUT"),
    ("page_key too long", {"page_key": "/" + "p" * 80}, "INVALID_INPUT"),
    ("campaign too long", {"utm_campaign": "C" * 129}, "INVALID_INPUT"),
    ("source too long", {"utm_source": "s" * 129}, "INVALID_INPUT"),
    ("medium too long", {"utm_medium": "m" * 129}, "INVALID_INPUT"),
    ("event checked before store", {"event": "x", "store": "bad"}, "INVALID_EVENT"),
    ("store checked before session", {"store": "bad", "session_id": "nope"}, "INVALID_STORE"),
    ("session checked before input", {"session_id": "nope", "app_key": ""}, "INVALID_SESSION"),
]


def inputs(i: int, overrides: dict) -> dict:
    return BASE | {"session_id": session(i)} | overrides
