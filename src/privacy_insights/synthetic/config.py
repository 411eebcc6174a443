"""Knobs of the synthetic raw-data generator (each is a CLI flag of ``privacy-insights generate``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

DEFAULT_START = datetime(2026, 9, 1, tzinfo=UTC)


def _share(name: str, value: float) -> None:
    if not 0.0 <= value <= 0.5:
        raise ValueError(f"{name}: must be a share between 0 and 0.5, got {value}")


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Shares are fractions of each table's rows."""

    events: int  # SPOTS interaction events (at least 10^3; no upper bound: rows are streamed)
    seed: int = 42
    start: datetime = DEFAULT_START  # first day of SPOTS and outreach activity (UTC midnight)
    days: int = 61  # length of the activity window in days
    users: int | None = None  # participants; default events // 20, at least 200
    cities: tuple[str, ...] = ()  # restrict activity to these city codes (default: all)
    outside_city_share: float = 0.05  # users living outside every defined city
    bad_share: float = 0.01  # SPOTS rows breaking a staging rule
    outreach_events: int | None = None  # default events // 10, at least 2,000
    outreach_bad_share: float = 0.03  # outreach rows breaking a contract-004 rule
    outreach_duplicate_share: float = 0.02  # rows repeating an earlier client_event_id
    attribution_events: int | None = None  # default events // 20, at least 1,000
    attribution_days: int = 150  # attribution history (longer than the 90-day retention)
    attribution_duplicate_share: float = 0.02  # rows repeating an idempotency key
    attribution_pii_share: float = 0.01  # payloads carrying a PII key at some depth
    chunk_rows: int = 200_000  # rows handed to the sink at once; the rows do not depend on it (stream.py)
    tables: tuple[str, ...] = field(default=("spots", "outreach", "attribution"))
    profile: str = "baseline"  # SPOTS activity shape: baseline or realistic (synthetic/spots.py)

    def __post_init__(self) -> None:
        if self.events < 1_000:
            raise ValueError(f"events: must be at least 1,000, got {self.events:,}")
        if self.days < 7:
            raise ValueError(f"days: must be at least 7 so weekly cycles exist, got {self.days}")
        if self.start.tzinfo is None or self.start.utcoffset().total_seconds() != 0:
            raise ValueError("start: must be a UTC timestamp")
        if self.chunk_rows < 1_000:
            raise ValueError(f"chunk_rows: must be at least 1,000, got {self.chunk_rows:,}")
        for name in (
            "outside_city_share",
            "bad_share",
            "outreach_bad_share",
            "outreach_duplicate_share",
            "attribution_duplicate_share",
            "attribution_pii_share",
        ):
            _share(name, getattr(self, name))
        if self.profile not in ("baseline", "realistic"):
            raise ValueError(f"profile: must be baseline or realistic, got {self.profile!r}")
        unknown = set(self.tables) - {"spots", "outreach", "attribution"}
        if unknown:
            raise ValueError(f"tables: unknown {sorted(unknown)}; expected spots, outreach, attribution")

    @property
    def n_users(self) -> int:
        return self.users if self.users is not None else max(200, self.events // 20)

    @property
    def n_outreach(self) -> int:
        return self.outreach_events if self.outreach_events is not None else max(2_000, self.events // 10)

    @property
    def n_attribution(self) -> int:
        return self.attribution_events if self.attribution_events is not None else max(1_000, self.events // 20)

    @property
    def start_epoch_s(self) -> int:
        return int(self.start.timestamp())
