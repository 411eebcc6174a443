"""The pieces of the buyer API's hardening (issue 27) that need no server: the per-buyer response
cache, redaction, the one day parser, the address throttle and the rendered data dictionary."""

from __future__ import annotations

import json
from datetime import date

import pytest

from harness import REPO
from privacy_insights.api.release import Release
from privacy_insights.api.throttle import AddressThrottle
from privacy_insights.export import dictionary, writer
from privacy_insights.export.policy import ExportRefused, ExportRequest, parse_day
from privacy_insights.export.redact import query_for_audit, redact

KEY = "pik_0123456789abcdef_" + "5e" * 24


def _record(day: str, city: str = "jp-tyo") -> dict:
    return {
        "time_bucket_start_utc": f"{day}T00:00:00Z",
        "time_granularity": "day",
        "geo_bucket": {"type": "city", "id": city},
        "segment": {"door_type": "spot", "category": "coffee", "context": "morning"},
        "privacy": {"suppressed": False},
    }


def test_the_response_cache_is_per_buyer(monkeypatch):
    """Issue 27 point 6: a slice buyer A asked is computed again for buyer B (a cached answer
    for B would be faster, telling B what A asks); A's own repeat is served from the cache."""
    records = [_record(f"2026-10-0{d}") for d in range(1, 8)]
    release = Release({"release_id": "r"}, records, [json.dumps(r).encode() for r in records])
    selected = []
    real_select = release.select
    monkeypatch.setattr(release, "select", lambda request: selected.append(request.buyer_id) or real_select(request))

    def ask(buyer: str) -> tuple[bytes, int]:
        return release.body(ExportRequest(buyer, date(2026, 10, 1), date(2026, 10, 7), "day", ("jp-tyo",), "json"))

    assert ask("acme") == ask("rival") == ask("acme")
    assert ask("acme")[1] == 7
    assert selected == ["acme", "rival"]


@pytest.mark.parametrize(
    "text",
    [
        KEY,
        f"cities=['{KEY}']",
        f"got {KEY[:40]!r}",
        "5e" * 24,
        f"Authorization: Bearer {KEY}",
        f"Basic {KEY}",
        f"/v1/{KEY}/x",
        KEY.upper(),
    ],
)
def test_redact_leaves_no_part_of_a_secret(text):
    """Issue 27 point 4: a key, its secret alone, a key cut at 40 characters or upper-cased."""
    assert "5e5e" not in redact(text).lower()


def test_secret_named_parameters_lose_their_value():
    params = [("api_key", "whatever"), ("Token", "t"), ("password", "p"), ("cities", KEY), ("cities", "jp-tyo")]
    audited = query_for_audit(params)
    assert audited["api_key"] == audited["Token"] == audited["password"] == "[redacted]"
    assert audited["cities"] == ["pik_[redacted]", "jp-tyo"]
    kept = ("release f4d2c001057d8cab363c0fbdbe164069 served", "a" * 250)  # a release id, an over-long buyer id
    assert [redact(t) for t in kept] == list(kept)


@pytest.mark.parametrize(
    "text",
    ["2026-W40-1", "2026-283", "20261005", "2026-10-5", "２０２６-10-05", "2026-02-30", "9999-12-31", "1999-12-31", ""],
)
def test_parse_day_refuses_everything_but_a_day_in_range(text):
    """Issue 27 point 14: the one rule for the API's and the export command's days."""
    with pytest.raises(ExportRefused) as refused:
        parse_day("end", text)
    assert refused.value.rule == "date_format" and refused.value.field == "end"
    assert parse_day("start", "2026-10-05") == date(2026, 10, 5)
    assert parse_day("start", "2999-12-31") == date(2999, 12, 31)


def test_the_address_throttle_counts_a_rolling_minute():
    throttle = AddressThrottle(limit=3)
    for t in (0.0, 10.0, 20.0):
        assert throttle.retry_after("a", t) is None
        throttle.refused("a", t)
    assert throttle.retry_after("a", 30.0) == 30 and throttle.retry_after("b", 30.0) is None
    assert throttle.retry_after("a", 60.5) is None, "the first 401 left the minute"


def test_the_data_dictionary_holds_no_template():
    """Issue 27 point 17: every {{ doc() }} of the model YAML rendered from the docs blocks, in the
    JSON the API serves and the Markdown written beside every export."""
    as_json = json.dumps(dictionary.dictionary(REPO))
    markdown = dictionary.markdown(REPO)
    for text in (as_json, markdown):
        assert "{{" not in text and "{%" not in text and "doc(" not in text
    fields = dictionary.dictionary(REPO)["fields"]
    computed = {f["field"]: f["computation"] for f in fields}
    assert computed["privacy.dp.epsilon"].startswith("Epsilon of the whole release period")
    assert sum(c is not None for c in computed.values()) >= len(writer.csv_dtypes()) - 2
    with pytest.raises(ValueError, match="names no docs block"):
        dictionary.render("{{ doc('no_such_block') }}", {})
    with pytest.raises(ValueError, match="cannot render"):
        dictionary.render("{{ var('x') }}", {})


def test_log_records_are_redacted_with_their_tracebacks():
    """Issue 27 point 4, the server log: a message or an exception that carries a key."""
    import io
    import logging

    from privacy_insights.export.redact import RedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test_redaction")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"bad key {KEY}")
        except ValueError:
            logger.exception("request with %s failed", KEY)
    finally:
        logger.removeHandler(handler)
    assert "request with pik_[redacted] failed" in stream.getvalue() and "ValueError" in stream.getvalue()
    assert "5e5e" not in stream.getvalue()
