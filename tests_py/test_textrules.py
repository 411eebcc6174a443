"""The one definition of blank text is the same in Python and in the dbt macro."""

from __future__ import annotations

import re

from harness import REPO
from privacy_insights import textrules


def test_dbt_macro_lists_the_same_blank_code_points():
    macro = (REPO / "macros/sql/blank.sql").read_text()
    listed = re.search(r"macro blank_codepoints\(\).*?return\(\[([^\]]*)\]", macro, re.S).group(1)
    assert tuple(int(n) for n in listed.replace("\n", " ").split(",")) == textrules.BLANK_CODEPOINTS


def test_blank_covers_unicode_whitespace_and_zero_width():
    for text in ["", " ", "\t", "\r\n", "\u00a0", "\u3000", "\u200b", "\ufeff\u2003", None]:
        assert textrules.is_blank(text), repr(text)
    assert not textrules.is_blank("\u00a0x\u3000")
    assert textrules.trim_blank("\u200b web\t") == "web"
    assert textrules.has_blank("en\u00a0US") and not textrules.has_blank("en-US")
    # every character str.isspace() calls whitespace is blank (str.isspace follows Unicode White_Space
    # plus the C0 separators U+001C..U+001F, which are not whitespace in Unicode)
    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()} - {chr(c) for c in range(0x1C, 0x20)}
    assert spaces <= set(textrules.BLANK_CHARS)


def test_dbt_macros_map_case_for_the_same_ascii_letters_and_country_pattern():
    macro = (REPO / "macros/sql/ascii_case.sql").read_text()
    upper = re.search(r"macro ascii_upper_letters\(\) %\}\{\{ return\('([^']*)'\)", macro).group(1)
    lower = re.search(r"macro ascii_lower_letters\(\) %\}\{\{ return\('([^']*)'\)", macro).group(1)
    assert (upper, lower) == (textrules.ASCII_UPPER, textrules.ASCII_LOWER)
    rules = (REPO / "macros/outreach/outreach_rules.sql").read_text()
    country = re.search(r"macro outreach_country_pattern\(\) %\}\{\{ return\('([^']*)'\)", rules).group(1)
    assert country == textrules.COUNTRY_PATTERN


def test_only_ascii_letters_change_case():
    # look-alikes that lower()/upper() fold into ASCII stay as they are
    assert textrules.ascii_lower("LinKedIn\u212a") == "linkedin\u212a"  # Kelvin sign kept
    assert textrules.ascii_upper("\u0131t") == "\u0131T"  # dotless i kept
    assert textrules.ascii_upper("\u017fe") == "\u017fE"  # long s kept
    assert "\u212a".lower() == "k" and "\u0131".upper() == "I", "what str.lower/upper would have done"
    assert textrules.ascii_lower(None) is None and textrules.ascii_upper(None) is None
    assert re.fullmatch(textrules.COUNTRY_PATTERN, "it") and not re.fullmatch(textrules.COUNTRY_PATTERN, "\u0131t")
