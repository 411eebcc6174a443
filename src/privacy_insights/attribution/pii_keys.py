"""Which payload keys are PII (contract 003), and how a key is normalised before comparing.

One definition for three engines. Contract 003 lists ``email``, ``phone``, ``ssn``,
``ip_address``, ``first_name``, ``last_name`` and ``address``; ``EQUIVALENTS`` adds keys that
carry the same data under another name. A payload key is PII when its *normalised* form
equals the normalised form of one of those keys. Normalising a key:

1. replace each character by its *fold*: Unicode NFKC, case-fold, diacritics removed
   (NFKD without combining marks), then a documented look-alike table
   (``CONFUSABLES``: Cyrillic, Greek, Armenian and small-capital letters that look Latin);
2. keep only ``a-z`` and ``0-9``: whitespace, zero-width characters, ``-``, ``_``, ``.``,
   camelCase boundaries and every other character disappear.

So ``" E-Mail"``, ``"emailAddress"``, ``"e\u200bmail"``, ``"ｅｍａｉｌ"`` (fullwidth),
``"еmail"`` (Cyrillic ``е``) and ``"\\u0065mail"`` (a JSON escape, decoded by every JSON
parser) all normalise to ``email``.

PostgreSQL and DuckDB have no common NFKC or look-alike function, so the folds are turned
into *data* that each engine applies with plain ``replace``/``translate``/``regexp_replace``:

- ``REPLACEMENTS``: characters whose fold is several letters (``ﬁ`` -> ``fi``, ``ß`` -> ``ss``);
- ``CHAR_MAP``: characters whose fold is one letter or digit (``Ａ`` -> ``a``, ``е`` -> ``e``).

Only folds that can be part of a PII key matter: a character whose fold occurs in no listed
key can never complete one, so it is dropped like punctuation (at worst a key becomes PII
that strictly is not, never the reverse). ASCII letters and digits are always kept.

Python applies the data in ``normalise``; ``sql_normalise`` renders it for PostgreSQL (the
installer fills it into the trigger) and ``dbt_macro`` writes ``macros/attribution/pii_keys.sql``
for the DuckDB staging models (regenerate with ``python -m privacy_insights.attribution.pii_keys``;
a test fails when the file is stale). ``tests_py/pii_key_cases.py`` drives all three.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

CONTRACT_KEYS = ("email", "phone", "ssn", "ip_address", "first_name", "last_name", "address")

# Documented equivalents: other names for the same personal data (compared after normalising).
EQUIVALENTS: dict[str, tuple[str, ...]] = {
    "email": ("email_address", "mail_address"),
    "phone": ("phone_number", "telephone", "telephone_number", "mobile", "mobile_number", "cell_phone"),
    "ssn": ("social_security_number",),
    "ip_address": ("ip", "ip_addr", "ipv4", "ipv6", "client_ip", "remote_addr"),
    "first_name": ("given_name", "forename", "full_name"),
    "last_name": ("surname", "family_name"),
    "address": ("street_address", "home_address", "postal_address", "mailing_address"),
}

# Letters that look Latin but NFKC keeps apart (after case-folding, so lower case only).
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "һ": "h",
    "н": "h",
    "і": "i",
    "ј": "j",
    "к": "k",
    "ӏ": "l",
    "м": "m",
    "о": "o",
    "р": "p",
    "ԛ": "q",
    "ѕ": "s",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ԁ": "d",
    "ԝ": "w",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "μ": "m",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ζ": "z",
    "ϲ": "c",
    "ϳ": "j",
    # Armenian
    "օ": "o",
    "ս": "u",
    "հ": "h",
    "ո": "n",
    # Latin letters outside ASCII and small capitals
    "ı": "i",
    "ɑ": "a",
    "ɡ": "g",
    "ɩ": "i",
    "ɪ": "i",
    "ʟ": "l",
    "ɴ": "n",
    "ʀ": "r",
    "ᴀ": "a",
    "ᴄ": "c",
    "ᴅ": "d",
    "ᴇ": "e",
    "ᴍ": "m",
    "ᴏ": "o",
    "ᴘ": "p",
    "ᴛ": "t",
    "ꜱ": "s",
}

_KEEP = re.compile(r"[^a-z0-9]")
_PLANES = 0x20000  # NFKC folds to ASCII only occur in the first two planes


def _fold(char: str) -> str:
    """A character's fold: NFKC, case-fold, no diacritics, look-alikes replaced, only a-z0-9 kept."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", char).casefold())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = "".join(CONFUSABLES.get(c, c) for c in text)
    return _KEEP.sub("", text)


def _ascii_normalise(key: str) -> str:
    return _KEEP.sub("", key.lower())


@lru_cache(maxsize=1)
def pii_forms() -> dict[str, str]:
    """Normalised form -> contract key, for every contract key and equivalent."""
    forms = {}
    for contract_key in CONTRACT_KEYS:
        for key in (contract_key, *EQUIVALENTS.get(contract_key, ())):
            forms[_ascii_normalise(key)] = contract_key
    return forms


@lru_cache(maxsize=1)
def _folds() -> tuple[dict[str, str], dict[str, str]]:
    """(REPLACEMENTS, CHAR_MAP): the folds that can take part in a PII key, in code-point order."""
    forms = list(pii_forms())
    letters = set("".join(forms))
    replacements: dict[str, str] = {}
    char_map: dict[str, str] = {chr(c): chr(c).lower() for c in range(ord("A"), ord("Z") + 1)}
    for cp in range(0x80, _PLANES):
        char = chr(cp)
        if unicodedata.category(char) in ("Cs", "Cn"):
            continue
        fold = _fold(char)
        if len(fold) == 1 and fold in letters:
            char_map[char] = fold
        elif len(fold) > 1 and any(fold in form for form in forms):
            replacements[char] = fold
    return replacements, char_map


def replacements() -> dict[str, str]:
    return _folds()[0]


def char_map() -> dict[str, str]:
    return _folds()[1]


@lru_cache(maxsize=1)
def _translation() -> dict[int, str]:
    return {ord(c): f for c, f in (replacements() | char_map()).items()}


def normalise(key: str) -> str:
    """The key as compared with the PII list (see the module docstring)."""
    return _KEEP.sub("", str(key).translate(_translation()))


def contract_key(key: str) -> str | None:
    """The contract-003 key this payload key stands for, or None when it is not PII."""
    return pii_forms().get(normalise(key))


# --- SQL renderings (PostgreSQL and DuckDB evaluate the same expression) -----------------------


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_normalise(expression: str) -> str:
    """SQL that normalises the text ``expression`` exactly as ``normalise`` does."""
    sql = expression
    for char, fold in replacements().items():
        sql = f"replace({sql}, {_literal(char)}, {_literal(fold)})"
    chars = char_map()
    sql = f"translate({sql}, {_literal(''.join(chars))}, {_literal(''.join(chars.values()))})"
    return f"regexp_replace({sql}, '[^a-z0-9]', '', 'g')"


def sql_contract_key(normalised: str) -> str:
    """SQL mapping a normalised key to its contract key, else null."""
    by_key: dict[str, list[str]] = {}
    for form, key in pii_forms().items():
        by_key.setdefault(key, []).append(form)
    whens = "\n        ".join(
        f"when {normalised} in ({', '.join(_literal(f) for f in sorted(forms))}) then {_literal(key)}"
        for key, forms in by_key.items()
    )
    return f"case\n        {whens}\n    end"


def sql_placeholders() -> dict[str, str]:
    """Tokens the PostgreSQL installer replaces in attribution.sql."""
    return {"__PII_KEY_NORMALISED__": sql_normalise("key"), "__PII_CONTRACT_KEY__": sql_contract_key("normalised")}


MACRO_PATH = Path("macros/attribution/pii_keys.sql")


def dbt_macro() -> str:
    """The dbt macro file: the same normalisation and list, for the DuckDB staging models."""
    return f"""{{#-
    GENERATED by `python -m privacy_insights.attribution.pii_keys` from
    src/privacy_insights/attribution/pii_keys.py; do not edit (a test fails when it is stale).
    Contract-003 PII keys and their documented equivalents, compared after normalising the
    key (NFKC, case-fold, no diacritics, look-alike letters, only a-z0-9 kept), exactly as
    the PostgreSQL trigger and the Python stripper do.
-#}}

{{#- The normalised form of the text `expression`. -#}}
{{% macro pii_key_normalised(expression) -%}}
    {sql_normalise("{{ expression }}")}
{{%- endmacro %}}

{{#- The contract key a normalised key stands for, else null. -#}}
{{% macro pii_contract_key(normalised) -%}}
    {sql_contract_key("({{ normalised }})")}
{{%- endmacro %}}
"""


if __name__ == "__main__":  # python -m privacy_insights.attribution.pii_keys [project dir]
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    (root / MACRO_PATH).write_text(dbt_macro())
    print(f"wrote {root / MACRO_PATH}")
