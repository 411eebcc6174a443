"""SPOTS interaction events, in two profiles (``GeneratorConfig.profile``).

``baseline`` (the shape every utility target is measured on):
- Activity per user is heavy-tailed (user rank ~ U^2 over the population, so a few users
  are far busier than most) plus three extreme users who each make 0.3 % of all events.
- Each user lives in a city drawn by metro population, or outside every city; 8 % of
  events happen while travelling to another city.
- Time follows a diurnal cycle and a weekly cycle in the place's local (standard) time.
- ``bad_share`` of rows break one staging rule each (see ``BAD_KINDS``).

``realistic`` changes three things:
- habits: each person has a favourite door type and category (drawn once, from the same
  shares) and uses them for 70 % of their events;
- launch-city concentration: three launch cities hold 60 % of the people, the other cities
  share the rest by metro population;
- seasonality: a stronger weekend peak and 1 % growth per day over the window.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from privacy_insights.geo import City
from privacy_insights.synthetic.common import labels, timestamps, unit_hash, uuid_sql
from privacy_insights.synthetic.config import GeneratorConfig

EVENT_TYPES = ["door_opened", "door_viewed", "door_saved"]
EVENT_TYPE_P = [0.70, 0.22, 0.08]
DOOR_TYPES = ["spot", "event", "community"]
DOOR_TYPE_P = [0.55, 0.30, 0.15]
CATEGORIES = ["coffee", "food", "music", "outdoor", "art", "sports", "tech", "community", "other"]
CATEGORY_P = [0.20, 0.18, 0.12, 0.10, 0.08, 0.09, 0.07, 0.08, 0.08]
# Local hour-of-day profile: quiet nights, a morning bump, lunch, a long evening peak.
DIURNAL = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.6, 1.5, 3, 4, 3.5, 3, 3.5, 4.5, 4, 3, 3, 3.5, 4.5, 6, 6.5, 6, 5, 3.5, 2], dtype=float
)
# Monday .. Sunday
WEEKLY = np.array([0.9, 0.9, 0.95, 1.0, 1.2, 1.45, 1.3])
WEEKLY_REALISTIC = np.array([0.8, 0.85, 0.9, 1.0, 1.3, 1.8, 1.6])
GROWTH_PER_DAY = 0.01
HABIT_SHARE = 0.70
LAUNCH_CITIES = ("us-nyc", "gb-lon", "jp-tyo")
LAUNCH_SHARE = 0.60
EXTREME_USERS = 3
EXTREME_SHARE_EACH = 0.003
TRAVEL_SHARE = 0.08

# Each kind of bad row and the staging rule it breaks (quarantine reason).
BAD_KINDS = {
    1: "door_type not in the door_types seed",
    2: "category not in the categories seed",
    3: "event_type not a known event type, or (odd row ids) a repeated event_id delivered again later",
    4: "occurred_at missing, or by row id % 5: in 2099, +infinity, -infinity, in year 1",
    5: "latitude outside [-90, 90]",
    6: "user_id missing, or (odd row ids) only a tab",
}

MESSAGES = [
    "see you at the {place} tonight!",
    "call me on +1 555 01{n:02d} when you get there",
    "my email is guest{n}@example.com, send the details",
    "anyone going to {place}? ping me",
    "lost my keys near {place}, IP cam showed 10.0.{n}.7",
    "great vibe at {place}, will come back",
]
PLACES = ["the corner cafe", "riverside park", "the jazz bar", "hall 4", "the night market"]


def message_pool(rng: np.random.Generator, size: int = 200) -> list[str]:
    """Free-text messages (some carrying PII on purpose: staging must drop them all)."""
    return [
        MESSAGES[int(rng.integers(len(MESSAGES)))].format(
            place=PLACES[int(rng.integers(len(PLACES)))], n=int(rng.integers(100))
        )
        for _ in range(size)
    ]


def sample_users(rng: np.random.Generator, n: int, n_users: int) -> np.ndarray:
    u = rng.random(n)
    regular = EXTREME_USERS + np.floor((n_users - EXTREME_USERS) * rng.random(n) ** 2).astype(np.int64)
    extreme = np.floor(u / EXTREME_SHARE_EACH).astype(np.int64)  # 0, 1, 2 for the first 0.9 %
    return np.where(u < EXTREME_USERS * EXTREME_SHARE_EACH, extreme, regular)


def city_weights(cfg: GeneratorConfig, cities: list[City]) -> np.ndarray:
    """Share of people living in each city: by metro population, or launch-concentrated."""
    population = np.array([c.population_millions for c in cities], dtype=float)
    if cfg.profile != "realistic":
        return population
    launch = np.array([c.code in LAUNCH_CITIES for c in cities])
    if not launch.any() or launch.all():
        return population
    return np.where(launch, LAUNCH_SHARE / launch.sum(), (1 - LAUNCH_SHARE) * population / population[~launch].sum())


def habitual(
    rng: np.random.Generator, user: np.ndarray, cfg: GeneratorConfig, shares: list[float], salt: int
) -> np.ndarray:
    """Each person's favourite (drawn once from ``shares``) for HABIT_SHARE of events, else any."""
    cdf = np.cumsum(shares)
    favourite = np.minimum(np.searchsorted(cdf / cdf[-1], unit_hash(user, cfg.seed * 7 + salt)), len(shares) - 1)
    anything = rng.choice(len(shares), len(user), p=shares)
    return np.where(rng.random(len(user)) < HABIT_SHARE, favourite, anything)


def generate_chunk(
    cfg: GeneratorConfig, cities: list[City], rng: np.random.Generator, offset: int, n: int, messages: list[str]
) -> pa.Table:
    lat0 = np.array([c.latitude for c in cities])
    lon0 = np.array([c.longitude for c in cities])
    radius = np.array([c.radius_km for c in cities])
    utc_offset = np.array([c.utc_offset_hours for c in cities])
    city_cdf = np.cumsum(city_weights(cfg, cities))
    city_cdf /= city_cdf[-1]
    realistic = cfg.profile == "realistic"

    user = sample_users(rng, n, cfg.n_users)
    home = np.minimum(np.searchsorted(city_cdf, unit_hash(user, cfg.seed * 7 + 1)), len(cities) - 1)
    travelling = rng.random(n) < TRAVEL_SHARE
    city = np.where(travelling, np.minimum(np.searchsorted(city_cdf, rng.random(n)), len(cities) - 1), home)
    outside = (unit_hash(user, cfg.seed * 7 + 2) < cfg.outside_city_share) & ~travelling

    # Points inside the city's circle (uniform over the disc) ...
    r_km = radius[city] * np.sqrt(rng.random(n))
    theta = rng.random(n) * 2 * np.pi
    lat = lat0[city] + r_km * np.cos(theta) / 111.2
    lon = lon0[city] + r_km * np.sin(theta) / (111.2 * np.cos(np.radians(lat0[city])))
    # ... or around the user's own place, anywhere between 55 S and 70 N.
    home_lat = -55 + 125 * unit_hash(user, cfg.seed * 7 + 3)
    home_lon = -180 + 360 * unit_hash(user, cfg.seed * 7 + 4)
    lat = np.where(outside, np.clip(home_lat + rng.normal(0, 0.05, n), -90, 90), lat)
    lon = np.where(outside, ((home_lon + rng.normal(0, 0.05, n) + 180) % 360) - 180, lon)
    offset_h = np.where(outside, np.round(lon / 15), utc_offset[city])

    first_weekday = cfg.start.weekday()
    if realistic:
        day_weights = WEEKLY_REALISTIC[(first_weekday + np.arange(cfg.days)) % 7] * (1 + GROWTH_PER_DAY) ** np.arange(
            cfg.days
        )
    else:
        day_weights = WEEKLY[(first_weekday + np.arange(cfg.days)) % 7]
    day = rng.choice(cfg.days, size=n, p=day_weights / day_weights.sum())
    local_hour = rng.choice(24, size=n, p=DIURNAL / DIURNAL.sum())
    local_s = day * 86_400 + local_hour * 3_600 + rng.integers(0, 3_600, n)
    occurred_s = cfg.start_epoch_s + local_s - np.round(offset_h * 3_600).astype(np.int64)
    ingest_delay_s = rng.exponential(600, n).astype(np.int64)

    bad = rng.random(n) < cfg.bad_share
    bad_kind = np.where(bad, rng.integers(1, len(BAD_KINDS) + 1, n), 0)
    has_message = rng.random(n) < 0.35

    return pa.table(
        {
            "row_id": pa.array(np.arange(offset, offset + n, dtype=np.int64)),
            "user_idx": pa.array(user),
            "event_type": labels(rng.choice(3, n, p=EVENT_TYPE_P), EVENT_TYPES),
            "door_type": labels(
                habitual(rng, user, cfg, DOOR_TYPE_P, 5) if realistic else rng.choice(3, n, p=DOOR_TYPE_P), DOOR_TYPES
            ),
            "category": labels(
                habitual(rng, user, cfg, CATEGORY_P, 6) if realistic else rng.choice(len(CATEGORIES), n, p=CATEGORY_P),
                CATEGORIES,
            ),
            "occurred_at": timestamps(occurred_s * 1_000_000),
            "ingested_at": timestamps((occurred_s + ingest_delay_s) * 1_000_000),
            "latitude": pa.array(np.round(lat, 6)),
            "longitude": pa.array(np.round(lon, 6)),
            "message": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(messages), n).astype(np.int32), mask=~has_message), pa.array(messages)
            ),
            "ip": pa.array((rng.integers(1, 224, n).astype(np.int64) << 24) | rng.integers(0, 1 << 24, n)),
            "bad_kind": pa.array(bad_kind.astype(np.int8)),
        }
    )


def select_sql(seed: int) -> str:
    """Turn a generated chunk (registered as ``chunk``) into raw rows."""
    return f"""
select
    {uuid_sql(f"'e{seed}-' || case when bad_kind = 3 and row_id % 2 = 1 then row_id - 1 else row_id end")} as event_id,
    case when bad_kind = 6 and row_id % 2 = 1 then chr(9)
         when bad_kind = 6 then null else 'usr_' || substr(md5('u{seed}-' || user_idx), 1, 16) end as user_id,
    'agt_' || substr(md5('a{seed}-' || user_idx), 1, 16) as agent_id,
    sha256('s{seed}-' || user_idx) as ai_signature,
    'dev_' || substr(md5('d{seed}-' || user_idx), 1, 20) as device_id,
    (ip >> 24) || '.' || ((ip >> 16) & 255) || '.' || ((ip >> 8) & 255) || '.' || (ip & 255) as ip_address,
    case when bad_kind = 3 and row_id % 2 = 0 then 'teleported' else event_type::varchar end as event_type,
    case when bad_kind = 1 then 'portal' else door_type::varchar end as door_type,
    case when bad_kind = 2 then 'gambling' else category::varchar end as category,
    case when bad_kind != 4 then occurred_at
         when row_id % 5 = 1 then timestamptz '2099-06-01 12:00:00+00'
         when row_id % 5 = 2 then timestamptz 'infinity'
         when row_id % 5 = 3 then timestamptz '-infinity'
         when row_id % 5 = 4 then timestamptz '0001-01-01 00:00:00+00' end as occurred_at,
    case when bad_kind = 5 then latitude + 200 else latitude end as latitude,
    longitude,
    message::varchar as message,
    case when bad_kind = 3 and row_id % 2 = 1 then ingested_at + interval 3650 day else ingested_at end as ingested_at
from chunk
"""
