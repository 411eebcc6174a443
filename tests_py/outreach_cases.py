"""One table of crafted outreach inputs and their contract-004 outcomes.

Drives both the PostgreSQL RPC test and the dbt staging test, so the two paths must agree.
``expect`` is an error code, or a dict of the normalised values of an accepted row.
"Blank" and "trim" mean one thing on both paths (privacy_insights.textrules): Unicode
whitespace (incl. U+00A0, U+3000, tab, CR/LF) and zero-width characters.
"""

from __future__ import annotations

BASE = {
    "event": "page_view",
    "app_key": "kinly-web",
    "page_key": "/pricing",
    "utm_campaign": "Spring_Launch",
    "utm_source": "google",
    "utm_medium": "cpc",
    "store": None,
    "country": None,
    "ui_locale": None,
    "client_event_id": None,
}
UUID_TEXT = "6f1c2a58-7c2b-4e0e-9d55-0f6c1d2b3a4e"


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
    (
        "blank medium and campaign coerced",
        {"utm_medium": "", "utm_campaign": "  "},
        {"utm_medium": "unknown", "utm_campaign": "unknown"},
    ),
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
    # One definition of blank: Unicode whitespace and zero-width characters (issue 12, point 5).
    ("page_key no-break space only", {"page_key": "\u00a0"}, "INVALID_INPUT"),
    ("page_key ideographic space only", {"page_key": "\u3000"}, "INVALID_INPUT"),
    ("page_key CR/LF only", {"page_key": "\r\n"}, "INVALID_INPUT"),
    ("page_key zero-width space only", {"page_key": "\u200b"}, "INVALID_INPUT"),
    ("app_key tab only", {"app_key": "\t"}, "INVALID_INPUT"),
    ("app_key BOM and em space only", {"app_key": "\ufeff\u2003"}, "INVALID_INPUT"),
    ("event padded with no-break spaces", {"event": "\u00a0page_view\u3000"}, {"store": "unknown"}),
    ("campaign padded with unicode spaces", {"utm_campaign": "\u2003Spring\u200b"}, {"utm_campaign": "Spring"}),
    ("source zero-width only coerced", {"utm_source": "\u200b"}, {"utm_source": "unknown"}),
    ("medium tab only coerced", {"utm_medium": "\t"}, {"utm_medium": "unknown"}),
    ("store ideographic space coerced", {"store": "\u3000"}, {"store": "unknown"}),
    ("store padded with tab", {"store": "\tweb\n"}, {"store": "web"}),
    ("country padded with no-break space", {"country": "\u00a0fr"}, {"country": "FR"}),
    ("locale with inner no-break space nulled", {"ui_locale": "en\u00a0US"}, {"ui_locale": None}),
    ("locale with inner ideographic space nulled", {"ui_locale": "ja\u3000JP"}, {"ui_locale": None}),
    ("locale padded with tab kept", {"ui_locale": "\tde-DE"}, {"ui_locale": "de-DE"}),
    ("inner no-break space kept", {"page_key": "/a\u00a0b"}, {"store": "unknown"}),
    # client_event_id: a UUID (8-4-4-4-12 hex) or absent; anything else is INVALID_INPUT, not SQL error 22P02.
    ("client_event_id malformed", {"client_event_id": "not-a-uuid"}, "INVALID_INPUT"),
    ("client_event_id without hyphens", {"client_event_id": UUID_TEXT.replace("-", "")}, "INVALID_INPUT"),
    ("client_event_id in braces", {"client_event_id": "{" + UUID_TEXT + "}"}, "INVALID_INPUT"),
    ("client_event_id checked after utm", {"client_event_id": "x", "utm_medium": "m" * 129}, "INVALID_INPUT"),
    ("client_event_id upper case accepted", {"client_event_id": UUID_TEXT.upper()}, {"store": "unknown"}),
    ("client_event_id blank is absent", {"client_event_id": "\u00a0"}, {"store": "unknown"}),
    # Confusables (issue 26): only ASCII letters are case-mapped (textrules), and country is
    # validated in the form it was sent, so a look-alike never becomes the ASCII value it imitates.
    ("country dotless i nulled", {"country": "\u0131t"}, {"country": None}),
    ("country long s nulled", {"country": "\u017fe"}, {"country": None}),
    ("country fullwidth nulled", {"country": "\uff29\uff34"}, {"country": None}),
    ("country lower-case ASCII upper-cased", {"country": "it"}, {"country": "IT"}),
    (
        "source with Kelvin sign kept, not the registry's",
        {"utm_source": "lin\u212aedin"},
        {"utm_source": "lin\u212aedin", "source_id_resolved": "unknown"},
    ),
    ("source ASCII capitals lower-cased", {"utm_source": "LinkedIn"}, {"source_id_resolved": "linkedin"}),
    (
        "source dotted capital I kept",
        {"utm_source": "\u0130G"},
        {"utm_source": "\u0130g", "source_id_resolved": "unknown"},
    ),
    ("medium non-ASCII capital kept", {"utm_medium": "\u00c9MAIL"}, {"utm_medium": "\u00c9mail"}),
]


def inputs(i: int, overrides: dict) -> dict:
    return BASE | {"session_id": session(i)} | overrides
