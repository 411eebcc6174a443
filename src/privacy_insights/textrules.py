"""One definition of "blank" text and of case mapping, shared by Python, PostgreSQL and the dbt staging models.

A value is *blank* when nothing is left after trimming ``BLANK_CHARS`` from both ends:
Unicode ``White_Space`` (tab, LF, VT, FF, CR, space, U+0085, U+00A0, U+1680, U+2000 to
U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) and the invisible zero-width characters
(U+180E, U+200B, U+200C, U+200D, U+2060, U+FEFF). Every engine trims with the same set:

- Python: ``trim_blank`` (``str.strip(BLANK_CHARS)``);
- PostgreSQL: ``btrim(value, <set>)``, the set rendered by ``sql_chars`` into the SQL the
  installer runs (``privacy_insights.postgres``);
- dbt (DuckDB): macro ``trim_blank`` in ``macros/sql/blank.sql``, which lists the same code
  points (``tests_py/test_textrules.py`` checks the two lists are equal).

Both SQL engines' ``trim``/``btrim`` and ``translate`` work on code points, so the three agree;
``tests_py/outreach_cases.py`` drives the RPC and the staging models through the edge cases.

**Case** is mapped for the 26 ASCII letters only (``ASCII_UPPER`` <-> ``ASCII_LOWER``), with
``translate``, never with ``lower``/``upper``: those fold look-alikes into ASCII (the Kelvin
sign U+212A lower-cases to ``k``, the dotless ``ı`` upper-cases to ``I``, ``ſ`` to ``S``) and,
in PostgreSQL, depend on the database's locale. So a value is validated in the form it was
sent (contract 004's country: ``COUNTRY_PATTERN`` on the trimmed input, then upper case), and
a look-alike never turns into the ASCII value it imitates: a ``utm_source`` spelled with a
Kelvin sign stays distinct and resolves to ``unknown``, never to a registry source. Python:
``ascii_lower``/``ascii_upper``; PostgreSQL: the installer renders the two alphabets into the
RPC; dbt: macros ``ascii_lower``/``ascii_upper`` in ``macros/sql/ascii_case.sql`` (same letters,
checked by ``tests_py/test_textrules.py``).
"""

from __future__ import annotations

import string

WHITE_SPACE = (
    0x09,
    0x0A,
    0x0B,
    0x0C,
    0x0D,
    0x20,
    0x85,
    0xA0,
    0x1680,
    *range(0x2000, 0x200B),
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
)
ZERO_WIDTH = (0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)
BLANK_CODEPOINTS: tuple[int, ...] = tuple(sorted(WHITE_SPACE + ZERO_WIDTH))
BLANK_CHARS = "".join(map(chr, BLANK_CODEPOINTS))


ASCII_UPPER = string.ascii_uppercase
ASCII_LOWER = string.ascii_lowercase
COUNTRY_PATTERN = "[A-Za-z]{2}"  # contract 004 country, matched on the whole trimmed input


def ascii_lower(value: str | None) -> str | None:
    """``value`` with A-Z lower-cased and every other character kept."""
    return None if value is None else value.translate(str.maketrans(ASCII_UPPER, ASCII_LOWER))


def ascii_upper(value: str | None) -> str | None:
    """``value`` with a-z upper-cased and every other character kept."""
    return None if value is None else value.translate(str.maketrans(ASCII_LOWER, ASCII_UPPER))


def trim_blank(value: str | None) -> str | None:
    """``value`` without blank characters at either end (None stays None)."""
    return None if value is None else value.strip(BLANK_CHARS)


def is_blank(value: str | None) -> bool:
    """True for None and for text made only of blank characters."""
    return not trim_blank(value)


def has_blank(value: str) -> bool:
    """True when any blank character occurs anywhere in ``value``."""
    return any(c in BLANK_CHARS for c in value)


def sql_placeholders() -> dict[str, str]:
    """The definitions the PostgreSQL installer renders into its SQL, as SQL literals."""
    return {
        "__BLANK_CHARS__": sql_chars(),
        "__ASCII_UPPER__": f"'{ASCII_UPPER}'",
        "__ASCII_LOWER__": f"'{ASCII_LOWER}'",
    }


def sql_chars() -> str:
    """The set as a SQL expression both PostgreSQL and DuckDB evaluate: chr(9) || chr(10) || ..."""
    return "(" + " || ".join(f"chr({cp})" for cp in BLANK_CODEPOINTS) + ")"
