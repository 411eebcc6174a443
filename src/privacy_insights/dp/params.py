"""The spots_insights_v1 release policy, read from the dbt var ``spots_release``.

Every value is checked here, and an error names the field and the rule it breaks.

Shape of the var (dbt_project.yml holds the documented defaults)::

    mechanism: laplace | gaussian
    gaussian_delta: 1.0e-6            # delta of one gaussian release period
    budget_window_days: 30
    epsilon_cap: 30.0                 # epsilon any window may hold, all granularities together
    delta_cap: 1.0e-4                 # gaussian: delta any window may hold
    dominance_max_share: 0.05
    false_release_probability: 0.01   # chance a cell with k - 1 true participants is released
    ratio_moe95_bound: 0.10           # a ratio is published only when its 95 % margin is at most this
    metric_epsilon_shares: {unique_participants: .., doors_opened: .., repeaters: ..}
    levels:                           # day and week: the measured levels, their epsilon shares and bounds C_L
      city: {epsilon_share: .., max_cells_per_participant: ..}     # hour periods use the city's C_L
      city_door_type: {epsilon_share: .., min_city_participants: .., max_cells_per_participant: ..}
      ...
    granularities:
      hour: {enabled: .., epsilon: .., k_min: .., max_opens_per_participant: ..}
      day: ...
      week: ...
    annual_epsilon_cap: null          # optional: epsilon any 365-day window may hold (off when absent or null)
    corrections: {enabled: false, after_days: ..}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GRANULARITIES = ("hour", "day", "week")
PRIORITY = ("week", "day", "hour")  # when the cap binds (docs/privacy_reviewer.md "Privacy parameters")
MECHANISMS = ("laplace", "gaussian")
METRICS = ("unique_participants", "doors_opened", "repeaters")
# The measured levels of a day or week period, coarsest first. Each rolls up the segment
# dimensions it does not name to `all`. Hour periods measure the city level only.
LEVELS = ("city", "city_door_type", "city_category", "city_segment")
CONTRACT_MIN_K = 100  # contract 000 G4
CONTRACT_MIN_DELAY_HOURS = 72  # contract 000 G3
CONTRACT_MAX_DOMINANCE = 0.05  # contract 000 G4: top contributor <= 5 %
MAX_FALSE_RELEASE = 0.05  # a threshold that lets more than 1 in 20 under-k cells through is refused
ANNUAL_WINDOW_DAYS = 365  # the lifetime view: worst-case loss per person over a year, and its optional cap
MAX_CORRECTION_AFTER_DAYS = 90
MAX_CELLS_PER_PARTICIPANT = 64  # a bound C_L above this buys noise, not coverage: refused as a likely typo
MAX_RATIO_MOE95_BOUND = 0.5  # a margin of +-0.5 on a share in [0, 1] says nothing: a bound above it is refused


class PolicyError(ValueError):
    """A release parameter breaks a rule; the message names the field and the rule."""


def _number(cfg: Mapping[str, Any], field: str, path: str) -> float:
    if field not in cfg:
        raise PolicyError(f"{path}.{field}: missing")
    value = cfg[field]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PolicyError(f"{path}.{field}: must be a finite number, got {value!r}")
    return float(value)


def _whole(cfg: Mapping[str, Any], field: str, path: str, minimum: int) -> int:
    value = _number(cfg, field, path)
    if value != int(value) or value < minimum:
        raise PolicyError(f"{path}.{field}: must be a whole number >= {minimum}, got {cfg[field]!r}")
    return int(value)


def _flag(cfg: Mapping[str, Any], field: str, path: str) -> bool:
    value = cfg.get(field)
    if not isinstance(value, bool):
        raise PolicyError(f"{path}.{field}: must be true or false, got {value!r}")
    return value


def _mapping(cfg: Mapping[str, Any], field: str, path: str) -> Mapping[str, Any]:
    value = cfg.get(field)
    if not isinstance(value, Mapping):
        raise PolicyError(f"{path}.{field}: missing (a mapping)")
    return value


@dataclass(frozen=True)
class LevelPolicy:
    """A measured level of day and week periods."""

    level: str
    epsilon_share: float  # share of the period's epsilon (or rho) spent on this level
    min_city_participants: int  # measured for a city-period only if its noisy city count reaches this
    max_cells_per_participant: int = 1  # bound C_L: cells of this level one participant adds to per period


@dataclass(frozen=True)
class GranularityPolicy:
    """Per-granularity release parameters (hour uses stricter defaults than day and week)."""

    granularity: str
    enabled: bool
    epsilon: float  # privacy loss of one release period, all levels and metrics together
    k_min: int  # contract k: no released cell has noisy participants below it
    max_opens_per_participant: int  # bound M: a participant's doors opened in a period, clamped

    @property
    def period_days(self) -> int:
        return 7 if self.granularity == "week" else 1


@dataclass(frozen=True)
class ReleasePolicy:
    mechanism: str
    delta: float  # approximate-DP delta per period (gaussian only; laplace is pure, delta 0)
    budget_window_days: int
    epsilon_cap: float  # total epsilon allowed in any budget window, all granularities
    delta_cap: float  # total delta allowed in any budget window (0 for laplace)
    metric_shares: dict[str, float]  # split of each level's epsilon (or rho) across metrics
    level_policies: dict[str, LevelPolicy]
    dominance_max_share: float
    false_release_probability: float
    reporting_delay_hours: int
    granularities: dict[str, GranularityPolicy]
    corrections_enabled: bool = False
    corrections_after_days: int = 7  # a period released earlier than this after its end is corrected once then
    annual_epsilon_cap: float | None = None  # epsilon any 365-day window may hold (None: no annual cap)
    ratio_moe95_bound: float = 0.10  # a ratio is published only when its 95 % margin is at most this (dp.ratios)

    def for_granularity(self, granularity: str) -> GranularityPolicy:
        if granularity not in self.granularities:
            raise PolicyError(f"granularity: must be one of {', '.join(GRANULARITIES)}, got {granularity!r}")
        return self.granularities[granularity]

    def levels(self, granularity: str) -> dict[str, LevelPolicy]:
        """The levels a period of ``granularity`` measures: hour periods the city level only."""
        if granularity == "hour":
            return {"city": LevelPolicy("city", 1.0, 0, self.level_policies["city"].max_cells_per_participant)}
        return self.level_policies

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(g for g in GRANULARITIES if self.granularities[g].enabled)

    def worst_case_window_epsilon(self, window_days: int | None = None) -> float:
        """Epsilon one person can lose in a window of ``window_days`` (default: the budget window)
        if every enabled period is released once: a window of W days overlaps W day periods,
        W hour periods and ceil((W - 1) / 7) + 1 weeks. With corrections on, each period can be
        released twice (its correction is charged to the same windows), so the figure doubles;
        the caps still bind."""
        window = window_days or self.budget_window_days
        periods = {"hour": window, "day": window, "week": math.ceil((window - 1) / 7) + 1}
        once = sum(periods[g] * self.granularities[g].epsilon for g in self.enabled)
        return once * (2 if self.corrections_enabled else 1)

    def caps(self) -> list[tuple[int, float, float]]:
        """Every (window days, epsilon cap, delta cap) the planner enforces: the budget window and,
        when set, the 365-day annual window (its delta cap is the window's scaled to a year)."""
        out = [(self.budget_window_days, self.epsilon_cap, self.delta_cap)]
        if self.annual_epsilon_cap is not None:
            out.append((ANNUAL_WINDOW_DAYS, self.annual_epsilon_cap, math.inf))
        return out


def _levels(cfg: Mapping[str, Any], path: str) -> dict[str, LevelPolicy]:
    raw = _mapping(cfg, "levels", path)
    if set(raw) != set(LEVELS):
        raise PolicyError(f"{path}.levels: must name exactly {', '.join(LEVELS)}, got {sorted(raw)}")
    levels = {}
    for level in LEVELS:
        lpath = f"{path}.levels.{level}"
        lcfg = raw[level]
        if not isinstance(lcfg, Mapping):
            raise PolicyError(f"{lpath}: must be a mapping with epsilon_share and max_cells_per_participant")
        share = _number(lcfg, "epsilon_share", lpath)
        if not 0 < share < 1 or level == "city" and share == 1:
            raise PolicyError(f"{lpath}.epsilon_share: must be in (0, 1), got {share}")
        minimum = 0 if level == "city" else _whole(lcfg, "min_city_participants", lpath, 0)
        cells = _whole(lcfg, "max_cells_per_participant", lpath, 1)
        if cells > MAX_CELLS_PER_PARTICIPANT:
            raise PolicyError(
                f"{lpath}.max_cells_per_participant: must be at most {MAX_CELLS_PER_PARTICIPANT} (the noise of every "
                f"cell of the level grows with it), got {cells}"
            )
        if level == "city" and cells != 1:
            raise PolicyError(
                f"{lpath}.max_cells_per_participant: must be 1 (one city per participant and period: a city that "
                "does not measure a finer level spends its share on a second city measurement, and a person in two "
                f"cities could reach both; docs/privacy_reviewer.md), got {cells}"
            )
        levels[level] = LevelPolicy(level, share, minimum, cells)
    total = sum(lv.epsilon_share for lv in levels.values())
    if abs(total - 1) > 1e-9:
        raise PolicyError(f"{path}.levels: the epsilon_share values must sum to 1, got {total:g}")
    fine, parents = levels["city_segment"], (levels["city_door_type"], levels["city_category"])
    if any(fine.min_city_participants < p.min_city_participants for p in parents):
        raise PolicyError(
            f"{path}.levels.city_segment.min_city_participants: must be >= the city_door_type and city_category "
            f"minimums (segments are made consistent with both), got {fine.min_city_participants}"
        )
    return levels


def parse_policy(raw: str | Mapping[str, Any], reporting_delay_hours: int | str) -> ReleasePolicy:
    """Validate the ``spots_release`` var (a mapping or its JSON) into a ReleasePolicy."""
    path = "spots_release"
    if raw is None or raw == "":
        raise PolicyError(f"{path}: missing (set the dbt var spots_release; see dbt_project.yml)")
    if reporting_delay_hours is None or str(reporting_delay_hours).strip() == "":
        raise PolicyError("reporting_delay_hours: missing (set the dbt var reporting_delay_hours)")
    cfg = json.loads(raw) if isinstance(raw, str) else dict(raw)
    mechanism = cfg.get("mechanism")
    if mechanism not in MECHANISMS:
        raise PolicyError(f"{path}.mechanism: must be one of {', '.join(MECHANISMS)}, got {mechanism!r}")
    delta, delta_cap = 0.0, 0.0
    if mechanism == "gaussian":
        delta = _number(cfg, "gaussian_delta", path)
        if not 0 < delta < 1e-3:
            raise PolicyError(f"{path}.gaussian_delta: must be in (0, 0.001), got {delta}")
        delta_cap = _number(cfg, "delta_cap", path)
        if not delta <= delta_cap < 1e-2:
            raise PolicyError(f"{path}.delta_cap: must be >= gaussian_delta ({delta:g}) and < 0.01, got {delta_cap}")
    window = _whole(cfg, "budget_window_days", path, 1)
    cap = _number(cfg, "epsilon_cap", path)
    if cap <= 0:
        raise PolicyError(f"{path}.epsilon_cap: must be > 0, got {cap}")
    dominance = _number(cfg, "dominance_max_share", path)
    if not 0 < dominance <= CONTRACT_MAX_DOMINANCE:
        raise PolicyError(
            f"{path}.dominance_max_share: must be in (0, {CONTRACT_MAX_DOMINANCE}] (contract 000 G4), got {dominance}"
        )
    false_release = _number(cfg, "false_release_probability", path)
    if not 0 < false_release <= MAX_FALSE_RELEASE:
        raise PolicyError(f"{path}.false_release_probability: must be in (0, {MAX_FALSE_RELEASE}], got {false_release}")

    ratio_bound = _number(cfg, "ratio_moe95_bound", path)
    if not 0 < ratio_bound <= MAX_RATIO_MOE95_BOUND:
        raise PolicyError(f"{path}.ratio_moe95_bound: must be in (0, {MAX_RATIO_MOE95_BOUND}], got {ratio_bound}")

    shares_cfg = cfg.get("metric_epsilon_shares") or {}
    if set(shares_cfg) != set(METRICS):
        raise PolicyError(
            f"{path}.metric_epsilon_shares: must name exactly {', '.join(METRICS)}, got {sorted(shares_cfg)}"
        )
    shares = {m: _number(shares_cfg, m, f"{path}.metric_epsilon_shares") for m in METRICS}
    if any(s <= 0 for s in shares.values()) or abs(sum(shares.values()) - 1) > 1e-9:
        raise PolicyError(
            f"{path}.metric_epsilon_shares: each must be > 0 and together they must sum to 1, got {shares}"
        )
    levels = _levels(cfg, path)

    try:
        delay = int(str(reporting_delay_hours))
    except ValueError:
        raise PolicyError(
            f"reporting_delay_hours: must be a whole number of hours, got {reporting_delay_hours!r}"
        ) from None
    if delay < CONTRACT_MIN_DELAY_HOURS:
        raise PolicyError(
            f"reporting_delay_hours: must be >= {CONTRACT_MIN_DELAY_HOURS} (contract 000 G3), got {delay}"
        )

    granularities = {}
    for g in GRANULARITIES:
        gpath = f"{path}.granularities.{g}"
        gcfg = (cfg.get("granularities") or {}).get(g)
        if not isinstance(gcfg, Mapping):
            raise PolicyError(f"{gpath}: missing")
        enabled = _flag(gcfg, "enabled", gpath)
        epsilon = _number(gcfg, "epsilon", gpath)
        if not 0 < epsilon <= cap:
            raise PolicyError(f"{gpath}.epsilon: must be > 0 and <= epsilon_cap ({cap:g}), got {epsilon}")
        k_min = _whole(gcfg, "k_min", gpath, CONTRACT_MIN_K)
        opens = _whole(gcfg, "max_opens_per_participant", gpath, 1)
        if opens > dominance * k_min:
            raise PolicyError(
                f"{gpath}.max_opens_per_participant: must be <= dominance_max_share * k_min "
                f"({dominance} * {k_min} = {dominance * k_min:g}) so no released cell can be dominated, got {opens}"
            )
        granularities[g] = GranularityPolicy(g, enabled, epsilon, k_min, opens)
    if not any(p.enabled for p in granularities.values()):
        raise PolicyError(f"{path}.granularities: at least one granularity must be enabled")

    corrections = cfg.get("corrections") or {"enabled": False, "after_days": 7}
    if not isinstance(corrections, Mapping):
        raise PolicyError(f"{path}.corrections: must be a mapping with enabled and after_days")
    if "min_late_events" in corrections:
        raise PolicyError(
            f"{path}.corrections.min_late_events: no longer used: whether a period is corrected must not depend "
            "on its late-event count (a true count); corrections follow a schedule, after_days "
            '(docs/landing.md "Corrections")'
        )
    corrections_enabled = _flag(corrections, "enabled", f"{path}.corrections")
    after_days = _whole(corrections, "after_days", f"{path}.corrections", 1)
    if after_days > MAX_CORRECTION_AFTER_DAYS:
        raise PolicyError(
            f"{path}.corrections.after_days: must be at most {MAX_CORRECTION_AFTER_DAYS}, got {after_days}"
        )
    annual_cap = cfg.get("annual_epsilon_cap")
    if annual_cap is not None:
        annual_cap = _number(cfg, "annual_epsilon_cap", path)
        if annual_cap < cap:
            raise PolicyError(
                f"{path}.annual_epsilon_cap: must be >= epsilon_cap ({cap:g}) or null (off): a year holds every "
                f"{window}-day window, got {annual_cap:g}"
            )
    return ReleasePolicy(
        mechanism,
        delta,
        window,
        cap,
        delta_cap,
        shares,
        levels,
        dominance,
        false_release,
        delay,
        granularities,
        corrections_enabled,
        after_days,
        annual_cap,
        ratio_bound,
    )
