"""Pure functions from the report's frames (published numbers only) to the tables it shows."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from privacy_insights.dp.budget import Charge
from privacy_insights.report.words import REASONS

PERIOD_DAYS = {"hour": 1, "day": 1, "week": 7}  # an hour release's period is its UTC day
GRANULARITIES = ["week", "day", "hour"]
OUTCOMES = ["released", *REASONS]
METRICS = [  # (label, estimate column, moe95 column, noise-scale column or None)
    (
        "unique participants",
        "unique_participants_est",
        "uncertainty_unique_participants_moe95",
        "uncertainty_unique_participants_noise_scale",
    ),
    ("doors opened", "doors_opened_est", "uncertainty_doors_opened_moe95", "uncertainty_doors_opened_noise_scale"),
    ("repeat rate", "repeat_rate_est", "uncertainty_repeat_rate_moe95", None),
]


def charges(ledger: pd.DataFrame) -> list[Charge]:
    """The ledger's charged rows as budget charges (denied rows spent nothing)."""
    rows = ledger[ledger["status"] == "charged"]
    return [
        Charge(
            r.time_granularity,
            pd.Timestamp(r.release_period_start).date(),
            PERIOD_DAYS[r.time_granularity],
            float(r.epsilon),
            float(r.delta),
        )
        for r in rows.itertuples()
    ]


def window_days_range(ledger: pd.DataFrame) -> list[date]:
    """Every day from the first charged period to the end of the last one (or the last as_of, if later)."""
    found = charges(ledger)
    if not found:
        return []
    first = min(c.period_start for c in found)
    last = max(c.period_end for c in found) - timedelta(days=1)
    if "as_of" in ledger and ledger["as_of"].notna().any():
        last = max(last, pd.Timestamp(ledger["as_of"].max()).date() - timedelta(days=1))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def window_totals(ledger: pd.DataFrame, window_days: int, days: list[date] | None = None) -> pd.DataFrame:
    """Epsilon held by the rolling window that ends on each day, by granularity.

    The window ending on day d covers d - window_days + 1 .. d; a charge counts in full in every
    window its period overlaps (``privacy_insights.dp.budget``, the rule the release enforces).
    Index: the window's last day; a column per granularity (week, day, hour); no column is dropped.
    """
    days = window_days_range(ledger) if days is None else days
    found = charges(ledger)
    frame = pd.DataFrame(0.0, index=pd.DatetimeIndex(pd.to_datetime(days), name="window_end"), columns=GRANULARITIES)
    for day in days:
        start, end = day - timedelta(days=window_days - 1), day + timedelta(days=1)
        for c in found:
            if c.overlaps(start, end):
                frame.loc[pd.Timestamp(day), c.granularity] += c.epsilon
    return frame


def budget_summary(ledger: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Per granularity: periods charged and denied, epsilon charged, its share of the latest and busiest window."""
    busiest = totals.sum(axis=1).idxmax() if len(totals) else None
    rows = []
    for g in GRANULARITIES:
        mine = ledger[ledger["time_granularity"] == g]
        if mine.empty:
            continue
        charged = mine[mine["status"] == "charged"]
        rows.append(
            {
                "granularity": g,
                "periods_charged": len(charged),
                "periods_denied": int((mine["status"] == "denied").sum()),
                "retries_or_corrections": int((charged["purpose"] != "initial").sum()),
                "epsilon_charged": float(charged["epsilon"].sum()),
                "epsilon_latest_window": float(totals[g].iloc[-1]) if len(totals) else 0.0,
                "epsilon_busiest_window": float(totals.loc[busiest, g]) if busiest is not None else 0.0,
            }
        )
    return pd.DataFrame(rows)


def cells_by_city(insights: pd.DataFrame) -> pd.DataFrame:
    """Cells per city (every granularity and level): a column per outcome, released or the suppression reason."""
    outcome = insights["privacy_suppressed_reason"].where(insights["privacy_suppressed"].astype(bool), "released")
    outcome = outcome.fillna("suppressed")
    table = pd.crosstab(insights["geo_bucket_id"], outcome)
    for o in OUTCOMES:
        if o not in table:
            table[o] = 0
    table = table[OUTCOMES + sorted(c for c in table.columns if c not in OUTCOMES)]
    table.index.name = "city"
    table.columns.name = None
    return table.sort_index()


def published_error(insights: pd.DataFrame) -> pd.DataFrame:
    """Per granularity, level and metric over released cells: the published estimate and its 95 % margin."""
    released = insights[~insights["privacy_suppressed"].astype(bool)]
    rows = []
    for (g, level), cells in released.groupby(["time_granularity", "release_level"], sort=True):
        for label, est, moe, scale in METRICS:
            values = cells[[est, moe]].dropna()
            if values.empty:
                continue
            positive = values[values[est] > 0]
            rows.append(
                {
                    "granularity": g,
                    "level": level,
                    "metric": label,
                    "cells": len(values),
                    "median_estimate": float(values[est].median()),
                    "median_noise_scale": float(cells[scale].median()) if scale else float("nan"),
                    "median_moe95": float(values[moe].median()),
                    "median_relative_moe95": float((positive[moe] / positive[est]).median())
                    if len(positive)
                    else float("nan"),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "granularity",
            "level",
            "metric",
            "cells",
            "median_estimate",
            "median_noise_scale",
            "median_moe95",
            "median_relative_moe95",
        ],
    )


def error_bar_period(insights: pd.DataFrame) -> tuple[str, pd.Timestamp] | None:
    """The (granularity, bucket) with the most released city-level cells: day before week, then the latest."""
    city = insights[(insights["release_level"] == "city") & ~insights["privacy_suppressed"].astype(bool)]
    if city.empty:
        return None
    counts = city.groupby(["time_granularity", "time_bucket_start_utc"]).size().reset_index(name="n")
    counts["order"] = counts["time_granularity"].map({"day": 0, "week": 1, "hour": 2})
    counts = counts.sort_values(["n", "order", "time_bucket_start_utc"], ascending=[False, True, False])
    best = counts.iloc[0]
    return best["time_granularity"], pd.Timestamp(best["time_bucket_start_utc"])


def error_bar_cells(insights: pd.DataFrame, granularity: str, bucket: pd.Timestamp, limit: int = 30) -> pd.DataFrame:
    """Released city-level cells of one bucket, largest first (ties by city): estimates and margins per metric."""
    cells = insights[
        (insights["release_level"] == "city")
        & ~insights["privacy_suppressed"].astype(bool)
        & (insights["time_granularity"] == granularity)
        & (pd.to_datetime(insights["time_bucket_start_utc"]) == bucket)
    ]
    columns = ["geo_bucket_id"] + [c for _, est, moe, _ in METRICS for c in (est, moe)]
    cells = cells[columns].sort_values(["unique_participants_est", "geo_bucket_id"], ascending=[False, True])
    return cells.head(limit).reset_index(drop=True)


def interval(estimate: pd.Series, moe: pd.Series, low: float, high: float | None) -> pd.DataFrame:
    """The published interval estimate +- moe cut to the values the metric can take ([low, high]):
    columns low, high, and low_cut / high_cut (True where the interval reached past the bound)."""
    lo, hi = estimate - moe, estimate + moe
    return pd.DataFrame(
        {
            "low": lo.clip(lower=low),
            "high": hi if high is None else hi.clip(upper=high),
            "low_cut": lo < low,
            "high_cut": pd.Series(False, index=hi.index) if high is None else hi > high,
        }
    )


def exports_by_day(log: pd.DataFrame) -> pd.DataFrame:
    """Requests per UTC day (rows) and outcome (columns)."""
    weights = log["requests"].fillna(1) if "requests" in log else pd.Series(1, index=log.index)
    table = pd.crosstab(pd.to_datetime(log["request_day"]), log["outcome"], values=weights, aggfunc="sum")
    table = table.fillna(0).astype(int)
    table.index.name = "request_day"
    table.columns.name = None
    return table.sort_index()


def _requests(rows: pd.DataFrame) -> int:
    """Requests the audit rows stand for (a row of API requests without a valid key counts several)."""
    return int(rows["requests"].fillna(1).sum()) if "requests" in rows else len(rows)


def exports_by_buyer(log: pd.DataFrame) -> pd.DataFrame:
    """Per buyer and channel: requests, delivered, rows delivered, and refusals by the rule that decided them."""
    log = log.assign(buyer_id=log["buyer_id"].fillna("(no valid key)"))
    rows = []
    for (buyer, channel), group in log.groupby(["buyer_id", "channel"], sort=True):
        delivered = group[group["outcome"] == "delivered"]
        refused = group[group["outcome"] != "delivered"]
        weights = refused["requests"].fillna(1) if "requests" in refused else pd.Series(1, index=refused.index)
        rules = weights.groupby(refused["rule"].fillna(refused["outcome"])).sum().astype(int).sort_index()
        rows.append(
            {
                "buyer_id": buyer,
                "channel": channel,
                "requests": _requests(group),
                "delivered": _requests(delivered),
                "rows_delivered": int(delivered["row_count"].fillna(0).sum()),
                "not_delivered_by_rule": ", ".join(f"{rule} {n}" for rule, n in rules.items()) or "—",
            }
        )
    return pd.DataFrame(rows)
