"""The budget ledger and the release table must tell the same story before anything is charged.

The planner trusts the ledger: a deleted charge would let a period be charged and released
again under the same version, an epsilon edited down would leave room for charges the
caps forbid. So before any charge the release step compares the two (``check``) and stops
the build, naming every period, when they disagree:

- every landed (granularity, period, version) has its ledger row;
- each ledger row is intact: ``charged`` with an epsilon > 0 (finite, delta >= 0),
  ``denied`` with epsilon and delta 0, and, for a version that landed, the epsilon and
  delta its released rows state (``privacy_dp_epsilon``, ``privacy_dp_delta``: what the
  params said the charge was when it was made);
- the reverse: every ledger row landed, except what a build legitimately leaves behind:
  a charge whose rows never landed that this build retries (the newest version) or that a
  later ``retry`` version replaced, a denied period this build republishes (the newest
  version), and a denied correction (which publishes nothing);
- each period's versions are 1, 2, ... without a gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

TOLERANCE = 1e-12


class LedgerMismatch(RuntimeError):
    """The ledger and the release table disagree; the message names the periods."""


@dataclass(frozen=True)
class Landed:
    """What the release table holds for one (granularity, period, version)."""

    min_epsilon: float
    max_epsilon: float
    min_delta: float
    max_delta: float


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def problems(ledger: pd.DataFrame, landed: dict[tuple[str, date, int], Landed]) -> list[str]:
    """Every disagreement, one line each, naming the period and version."""
    found: list[str] = []
    rows: dict[tuple[str, date, int], object] = {}
    versions: dict[tuple[str, date], list[int]] = {}
    for r in ledger.itertuples():
        key = (r.time_granularity, pd.Timestamp(r.release_period_start).date(), int(r.release_version))
        rows[key] = r
        versions.setdefault(key[:2], []).append(key[2])

    def name(key: tuple[str, date, int]) -> str:
        return f"{key[0]} {key[1]} v{key[2]}"

    for key in sorted(set(landed) - set(rows)):
        found.append(f"{name(key)}: released rows but no ledger row (a deleted charge)")
    for key, r in sorted(rows.items()):
        epsilon, delta = float(r.epsilon), float(0.0 if pd.isna(r.delta) else r.delta)
        if r.status == "charged":
            if not (math.isfinite(epsilon) and epsilon > 0) or not (math.isfinite(delta) and delta >= 0):
                found.append(f"{name(key)}: charged with epsilon {epsilon:g} and delta {delta:g} (must be > 0, >= 0)")
        elif r.status == "denied":
            if epsilon != 0 or delta != 0:
                found.append(f"{name(key)}: denied with epsilon {epsilon:g} and delta {delta:g} (must be 0)")
        else:
            found.append(f"{name(key)}: status {r.status!r} (must be charged or denied)")
        rows_landed = landed.get(key)
        if rows_landed is not None:
            if not (_close(rows_landed.min_epsilon, epsilon) and _close(rows_landed.max_epsilon, epsilon)):
                found.append(
                    f"{name(key)}: ledger epsilon {epsilon:g} but its released rows state "
                    f"{rows_landed.min_epsilon:g}..{rows_landed.max_epsilon:g}"
                )
            if not (_close(rows_landed.min_delta, delta) and _close(rows_landed.max_delta, delta)):
                found.append(
                    f"{name(key)}: ledger delta {delta:g} but its released rows state "
                    f"{rows_landed.min_delta:g}..{rows_landed.max_delta:g}"
                )
            continue
        newest = max(versions[key[:2]])
        following = rows.get((key[0], key[1], key[2] + 1))
        if r.status == "charged" and (key[2] == newest or (following is not None and following.purpose == "retry")):
            continue  # a charge whose rows never landed: retried now, or already retried
        if r.status == "denied" and (r.purpose == "correction" or key[2] == newest):
            continue  # a denied correction publishes nothing; a denied period is republished now
        found.append(f"{name(key)}: a ledger row ({r.status}, {r.purpose}) whose released rows are gone")
    for period, numbers in sorted(versions.items()):
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            found.append(f"{period[0]} {period[1]}: ledger versions {sorted(numbers)} have a gap (a deleted row)")
    return found


def check(ledger: pd.DataFrame, landed: dict[tuple[str, date, int], Landed], ledger_name: str) -> None:
    """Raise LedgerMismatch naming every disagreement; nothing has been charged yet."""
    found = problems(ledger, landed)
    if found:
        shown = "; ".join(found[:20]) + (f"; and {len(found) - 20} more" if len(found) > 20 else "")
        raise LedgerMismatch(
            f"budget ledger {ledger_name} and the released rows disagree, so this build charges and releases "
            f"nothing: {shown}. Restore the ledger rows (from a backup or the database's history) so that every "
            "released version has its charge as it was made; the ledger is append-only and never edited."
        )
