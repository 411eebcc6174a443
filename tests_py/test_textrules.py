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
