"""Timing policies (contract 000 §10, ``atomic_timing_policies_v1``) and the release clock.

A policy says, per job: how often it runs (``cadence_minutes``, a divisor of a day, so
its slots line up with UTC midnight), when it may run (``[window_start_hour_utc,
window_end_hour_utc)``, wrapping past midnight when start > end) and how old its last
successful run may get before the ops freshness alert fires (``max_staleness_hours``).
The CSV seed is the one source: dbt loads it (model ``atomic_timing_policies_v1``), the
release command reads it, ``postgres install clock`` copies it into PostgreSQL.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW_ENV = "PRIVACY_INSIGHTS_NOW"
# The release clock as dbt reads it from the environment (macro as_of_timestamp), beside --vars as_of.
AS_OF_ENV = "PRIVACY_INSIGHTS_AS_OF"
JOB_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class TimingPolicy:
    job_name: str
    cadence_minutes: int
    window_start_hour_utc: int
    window_end_hour_utc: int
    max_staleness_hours: int
    description: str

    def in_window(self, now: datetime) -> bool:
        start, end, hour = self.window_start_hour_utc, self.window_end_hour_utc, now.hour
        if start < end:
            return start <= hour < end
        return hour >= start or hour < end  # wraps past midnight, e.g. 22 -> 4

    def window_text(self) -> str:
        return f"{self.window_start_hour_utc:02d}:00-{self.window_end_hour_utc:02d}:00 UTC"

    def slot_start(self, now: datetime) -> datetime:
        """Start of the cadence slot holding ``now``: a job runs at most once per slot."""
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        minutes = (now - midnight) // timedelta(minutes=1)
        return midnight + timedelta(minutes=minutes - minutes % self.cadence_minutes)


def _int_field(row: dict, field: str, line: int, low: int, high: int) -> int:
    text = (row.get(field) or "").strip()
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"timing policy line {line}: {field}: must be a whole number; got {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"timing policy line {line}: {field}: must be between {low} and {high}; got {value}")
    return value


def parse_policy(row: dict, line: int) -> TimingPolicy:
    """One CSV row as a policy; an error names the line, the field and the rule."""
    job = (row.get("job_name") or "").strip()
    if not JOB_NAME.fullmatch(job):
        raise ValueError(f"timing policy line {line}: job_name: must match {JOB_NAME.pattern}; got {job!r}")
    cadence = _int_field(row, "cadence_minutes", line, 1, MINUTES_PER_DAY)
    if MINUTES_PER_DAY % cadence:
        raise ValueError(
            f"timing policy line {line}: cadence_minutes: must divide a day (1440) so slots align "
            f"with UTC midnight; got {cadence}"
        )
    start = _int_field(row, "window_start_hour_utc", line, 0, 23)
    end = _int_field(row, "window_end_hour_utc", line, 1, 24)
    if start == end:
        raise ValueError(
            f"timing policy line {line}: window_end_hour_utc: must differ from window_start_hour_utc "
            "(use 0 and 24 for any time)"
        )
    staleness = _int_field(row, "max_staleness_hours", line, 1, 24 * 366)
    if staleness * 60 < cadence:
        raise ValueError(
            f"timing policy line {line}: max_staleness_hours: must be at least one cadence "
            f"({cadence} minutes); got {staleness}"
        )
    return TimingPolicy(job, cadence, start, end, staleness, (row.get("description") or "").strip())


def load_policies(path: Path) -> dict[str, TimingPolicy]:
    with path.open(newline="") as handle:
        policies: dict[str, TimingPolicy] = {}
        for line, row in enumerate(csv.DictReader(handle), start=2):
            policy = parse_policy(row, line)
            if policy.job_name in policies:
                raise ValueError(f"timing policy line {line}: job_name: must be unique; {policy.job_name!r} repeats")
            policies[policy.job_name] = policy
    return policies


def get_policy(path: Path, job_name: str) -> TimingPolicy:
    policies = load_policies(path)
    if job_name not in policies:
        raise ValueError(
            f"job: no timing policy named {job_name!r} in {path.name}; known: {', '.join(sorted(policies)) or 'none'}"
        )
    return policies[job_name]


def parse_now(text: str | None, real_now: datetime | None = None) -> datetime:
    """The run's clock: ``text`` (``--now`` or ``PRIVACY_INSIGHTS_NOW``) or the real UTC clock.

    A simulated clock lets tests and backfills replay a schedule; it may not run ahead
    of the real clock, since a future as_of would release buckets younger than the delay.
    """
    real_now = real_now or datetime.now(UTC)
    if text is None or not text.strip():
        return real_now
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise ValueError(f"now: must be an ISO 8601 UTC timestamp like 2026-11-02T05:00:00Z; got {raw!r}") from None
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"now: must be in UTC (end with Z or +00:00); got {raw!r}")
    value = value.astimezone(UTC)
    if value > real_now:
        raise ValueError(
            f"now: must not be in the future (got {raw}, the real clock says "
            f"{real_now:%Y-%m-%dT%H:%M:%SZ}): releases are never real-time"
        )
    return value


def now_from_environment(cli_value: str | None) -> datetime:
    return parse_now(cli_value if cli_value is not None else os.environ.get(NOW_ENV))


def as_of_for(now: datetime) -> datetime:
    """The dbt var ``as_of`` for a run at ``now``: UTC, truncated to the hour."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def as_of_var(as_of: datetime) -> str:
    return as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
