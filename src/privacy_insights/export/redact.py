"""Keep secrets out of everything the delivery writes: the audit, the server log, responses.

A caller may put an API key anywhere: in a query parameter (``?api_key=pik_...``), in the
path, in a value of an ordinary parameter (``cities=pik_...``), or cut short by an error
message that echoes 40 characters. So two layers:

- ``query_for_audit`` drops the value of every parameter whose *name* says it holds a
  secret (``api_key``, ``token``, ``password``, ``authorization``, ...);
- ``redact`` replaces, in any text, whatever *looks* like a credential: an API key or any
  part of one (``pik_`` and what follows it), a run of 40 or more hexadecimal digits, digits
  and letters mixed (a key's 48-digit secret without its prefix; a 32-digit release id is
  kept), and the credential after ``Bearer``/``Basic``.

Neither needs to know every place a key can go: the audit columns a caller can fill, every
error message and every log record pass through ``redact``.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
SECRET_NAME = re.compile(r"(?i)(key|token|secret|passw|pwd|auth|credential|signature|session|cookie)")
_PATTERNS = (
    (re.compile(r"(?i)pik_[^\s&;,\"'<>]*"), "pik_" + REDACTED),
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+|=|%20|\+)[^\s&;,\"'<>]+"), r"\1\2" + REDACTED),
    # a key's secret without its prefix: 40+ hex digits mixing digits and letters (a random
    # 48-digit secret lacks either with probability below 1e-9; "aaaa..." is not a secret)
    (re.compile(r"[0-9a-fA-F]{40,}"), lambda m: REDACTED if _mixed(m.group()) else m.group()),
)


def _mixed(text: str) -> bool:
    return any(c.isdigit() for c in text) and any(not c.isdigit() for c in text)


def redact(text: str | None) -> str | None:
    """The text with anything that looks like a credential replaced by ``[redacted]``."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def query_for_audit(params: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Query parameters as the audit keeps them: secret-named ones without their value, the
    rest redacted, repeated names as a list."""
    out: dict[str, str | list[str]] = {}
    for name, value in params:
        kept = REDACTED if SECRET_NAME.search(name) else redact(value)
        name = redact(name)
        if name in out:
            previous = out[name]
            out[name] = [*previous, kept] if isinstance(previous, list) else [previous, kept]
        else:
            out[name] = kept
    return out


class RedactingFilter(logging.Filter):
    """A log filter that redacts the formatted message and traceback of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_logs() -> None:
    """Add the filter to every handler configured so far (root, uvicorn's, ours)."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.Logger.manager.loggerDict))]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
