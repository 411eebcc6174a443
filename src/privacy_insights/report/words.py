"""Plain words for the codes the report shows: suppression reasons, request outcomes, cities.

Every suppression reason the release can write (the ``privacy_suppressed_reason`` values the
contract tests accept, macros/tests/contract/spots_insights_v1_contract.sql) has a plain word
here; tests_py/test_report.py reads that list, so a new reason without one fails a test.
"""

from __future__ import annotations

import pandas as pd

# (plain word for a figure legend, what it means, for the page's glossary)
REASONS = {
    "k_min": ("too few participants", "the noisy count of participants is below the release threshold"),
    "dominance": (
        "one participant too large a share",
        "one participant could account for more than 5 % of the doors opened",
    ),
    "complementary": (
        "withheld to protect a suppressed neighbour",
        "its own numbers cleared the rules, but a lone suppressed sibling could be derived from the parent "
        "minus the released cells",
    ),
    "budget_exhausted": ("privacy budget used up", "no budget left in the window, so nothing was measured"),
}
NO_REASON = "suppressed"  # a suppressed row without a reason (none is written today)
OUTCOME_WORDS = {"released": "released", **{code: word for code, (word, _) in REASONS.items()}}
OUTCOME_WORDS[NO_REASON] = "suppressed (no reason recorded)"


def outcome_word(code: str) -> str:
    """The plain word of a cell outcome; an unknown code is shown as itself, flagged."""
    return OUTCOME_WORDS.get(code, f"{code} (no plain word yet)")


def city_names(cities: pd.DataFrame | None) -> dict[str, str]:
    """City code -> name, from ``reference.city_definitions`` (public reference data); {} without it."""
    if cities is None or cities.empty:
        return {}
    return dict(zip(cities["city_code"], cities["city_name"], strict=True))


def city_label(code: str, names: dict[str, str]) -> str:
    """``Tokyo (jp-tyo)``: the name a reader knows and the code the data carries."""
    return f"{names[code]} ({code})" if code in names else code
