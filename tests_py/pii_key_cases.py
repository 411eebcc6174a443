"""One table of payload keys and whether each is a contract-003 PII key (and which).

Drives the Python stripper, the PostgreSQL trigger and the dbt staging quarantine alike
(tests_py/test_attribution_pii_keys.py), so the three must agree. ``key_json`` is the key
as it appears in the JSON text (escapes included); every JSON parser decodes it the same way.
"""

from __future__ import annotations

import json

CASES: list[tuple[str, str, str | None]] = [
    ("plain", '"email"', "email"),
    ("leading space", '" email"', "email"),
    ("trailing space", '"email "', "email"),
    ("hyphen", '"e-mail"', "email"),
    ("camelCase equivalent", '"emailAddress"', "email"),
    ("upper case", '"EMAIL"', "email"),
    ("Cyrillic e", '"\u0435mail"', "email"),
    ("fullwidth letters", '"\uff45\uff4d\uff41\uff49\uff4c"', "email"),
    ("zero-width space inside", '"e\u200bmail"', "email"),
    ("JSON-escaped letter", '"\\u0065mail"', "email"),
    ("JSON-escaped zero-width joiner", '"ph\\u200done"', "phone"),
    ("mathematical bold", '"\U0001d41e\U0001d426\U0001d41a\U0001d422\U0001d425"', "email"),
    ("combining accent", '"e\u0301mail"', "email"),
    ("tab and no-break space", '"\\tphone\u00a0"', "phone"),
    ("snake case", '"ip_address"', "ip_address"),
    ("kebab case", '"IP-Address"', "ip_address"),
    ("equivalent ip", '"ip"', "ip_address"),
    ("ligature fi", '"\ufb01rst_name"', "first_name"),
    ("Pascal case", '"FirstName"', "first_name"),
    ("equivalent surname", '"Surname"', "last_name"),
    ("sharp s", '"\u00dfn"', "ssn"),
    ("Greek omicron", '"ph\u03bfne"', "phone"),
    ("equivalent street address", '"street_address"', "address"),
    ("not PII: similar prefix", '"emails_sent"', None),
    ("not PII: channel", '"channel"', None),
    ("not PII: event_type", '"event_type"', None),
    ("not PII: ip inside a word", '"tip"', None),
    ("not PII: address inside a word", '"addressee_count"', None),
    ("not PII: phone model", '"phone_model_year"', None),
]


def key(key_json: str) -> str:
    """The decoded key."""
    return json.loads(key_json)


def payload_json(key_json: str, nested: bool) -> str:
    """A JSON payload with the key at the top or deep inside an array."""
    if nested:
        return '{"campaign": "x", "items": [{"sku": "A"}, {"meta": {' + key_json + ': "v"}}]}'
    return '{"campaign": "x", ' + key_json + ': "v"}'
