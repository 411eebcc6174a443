"""The spots_insights_v1 release policy, read from the dbt var ``spots_release``.

Every value is checked here, and an error names the field and the rule it breaks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

GRANULARITIES = ("hour", "day", "week")
MECHANISMS = ("laplace", "gaussian")
METRICS = ("unique_participants", "doors_opened", "repeaters")
CONTRACT_MIN_K = 100            # contract 000 G4
CONTRACT_MIN_DELAY_HOURS = 72   # contract 000 G3
CONTRACT_MAX_DOMINANCE = 0.05   # contract 000 G4: top contributor <= 5 %


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


@dataclass(frozen=True)
class GranularityPolicy:
    """Per-granularity release parameters (hour uses stricter defaults than day and week)."""

    granularity: str
    epsilon: float                    # privacy loss of one release period, all metrics together
    k_min: int                        # suppress cells whose noisy participants are below k
    max_cells_per_participant: int    # contribution bound C: cells per person per period
    max_opens_per_cell: int           # contribution bound M: doors opened per person per cell

    @property
    def period_days(self) -> int:
        return 7 if self.granularity == "week" else 1


@dataclass(frozen=True)
class ReleasePolicy:
    mechanism: str
    delta: float                      # approximate-DP delta (gaussian only; laplace is pure, delta 0)
    budget_window_days: int
    epsilon_cap: float                # total epsilon allowed in any budget window, all granularities
    metric_shares: dict[str, float]   # split of each release's epsilon (or rho) across metrics
    dominance_max_share: float
    reporting_delay_hours: int
    granularities: dict[str, GranularityPolicy]

    def for_granularity(self, granularity: str) -> GranularityPolicy:
        if granularity not in self.granularities:
            raise PolicyError(f"granularity: must be one of {', '.join(GRANULARITIES)}, got {granularity!r}")
        return self.granularities[granularity]


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
    delta = _number(cfg, "gaussian_delta", path) if mechanism == "gaussian" else 0.0
    if mechanism == "gaussian" and not 0 < delta < 1e-3:
        raise PolicyError(f"{path}.gaussian_delta: must be in (0, 0.001), got {delta}")
    window = _whole(cfg, "budget_window_days", path, 1)
    cap = _number(cfg, "epsilon_cap", path)
    if cap <= 0:
        raise PolicyError(f"{path}.epsilon_cap: must be > 0, got {cap}")
    dominance = _number(cfg, "dominance_max_share", path)
    if not 0 < dominance <= CONTRACT_MAX_DOMINANCE:
        raise PolicyError(f"{path}.dominance_max_share: must be in (0, {CONTRACT_MAX_DOMINANCE}] (contract 000 G4), got {dominance}")

    shares_cfg = cfg.get("metric_epsilon_shares") or {}
    if set(shares_cfg) != set(METRICS):
        raise PolicyError(f"{path}.metric_epsilon_shares: must name exactly {', '.join(METRICS)}, got {sorted(shares_cfg)}")
    shares = {m: _number(shares_cfg, m, f"{path}.metric_epsilon_shares") for m in METRICS}
    if any(s <= 0 for s in shares.values()) or abs(sum(shares.values()) - 1) > 1e-9:
        raise PolicyError(f"{path}.metric_epsilon_shares: each must be > 0 and together they must sum to 1, got {shares}")

    try:
        delay = int(str(reporting_delay_hours))
    except ValueError:
        raise PolicyError(f"reporting_delay_hours: must be a whole number of hours, got {reporting_delay_hours!r}") from None
    if delay < CONTRACT_MIN_DELAY_HOURS:
        raise PolicyError(f"reporting_delay_hours: must be >= {CONTRACT_MIN_DELAY_HOURS} (contract 000 G3), got {delay}")

    granularities = {}
    for g in GRANULARITIES:
        gpath = f"{path}.granularities.{g}"
        gcfg = (cfg.get("granularities") or {}).get(g)
        if not isinstance(gcfg, Mapping):
            raise PolicyError(f"{gpath}: missing")
        epsilon = _number(gcfg, "epsilon", gpath)
        if not 0 < epsilon <= cap:
            raise PolicyError(f"{gpath}.epsilon: must be > 0 and <= epsilon_cap ({cap}), got {epsilon}")
        k_min = _whole(gcfg, "k_min", gpath, CONTRACT_MIN_K)
        cells = _whole(gcfg, "max_cells_per_participant", gpath, 1)
        opens = _whole(gcfg, "max_opens_per_cell", gpath, 1)
        if opens > dominance * k_min:
            raise PolicyError(
                f"{gpath}.max_opens_per_cell: must be <= dominance_max_share * k_min "
                f"({dominance} * {k_min} = {dominance * k_min:g}) so no released cell can be dominated, got {opens}"
            )
        granularities[g] = GranularityPolicy(g, epsilon, k_min, cells, opens)
    return ReleasePolicy(mechanism, delta, window, cap, shares, dominance, delay, granularities)
