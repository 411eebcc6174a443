"""The report's PNG figures, drawn with the shared helpers of ``privacy_insights.utility.plots``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from privacy_insights.report.compute import METRICS
from privacy_insights.utility.plots import (
    GRANULARITY_COLOURS,
    GRANULARITY_ORDER,
    outcomes_by_city,
    plt,
    save,
    spread_per_day,
    stacked_bars,
)

OUTCOME_COLOURS = {
    "delivered": "#66a61e",
    "refused": "#e6ab02",
    "throttled": "#a6761d",
    "failed": "#e41a1c",
    "interrupted": "#999999",
}


def budget(ledger: pd.DataFrame, totals: pd.DataFrame, cap: float, window_days: int, path: Path) -> Path:
    """Top: epsilon charged per day of each period. Bottom: what the window ending that day holds, against the cap."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    days = totals.index
    stacked_bars(
        top,
        days,
        spread_per_day(ledger, days),
        GRANULARITY_COLOURS,
        {g: f"{g} (epsilon per day of its period)" for g in GRANULARITY_ORDER},
        width=0.9,
    )
    top.set_ylabel("epsilon charged")
    top.set_ylim(0, top.get_ylim()[1] * 1.35)  # room for the legend
    top.set_title("Privacy budget: charges per period (top) and the rolling window (bottom)", fontsize=10)
    stacked_bars(bottom, days, {g: totals[g] for g in GRANULARITY_ORDER}, GRANULARITY_COLOURS, width=1.0)
    bottom.axhline(cap, color="red", linestyle="--", label=f"cap {cap:g}")
    bottom.set_ylim(0, max(cap, float(totals.sum(axis=1).max())) * 1.25)
    bottom.set_ylabel(f"epsilon in the {window_days}-day\nwindow ending that day")
    for ax in (top, bottom):
        ax.legend(loc="upper left", fontsize=7)
    fig.autofmt_xdate()
    return save(fig, path)


def cells_by_city(table: pd.DataFrame, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(11, 4))
    outcomes_by_city(table, ax, "share of the city's cells\n(every granularity and level)", share=True)
    ax.set_title("Released and suppressed cells of spots_insights_v1 by city", fontsize=10)
    return save(fig, path)


def error_bars(cells: pd.DataFrame, granularity: str, bucket: pd.Timestamp, path: Path) -> Path:
    """One panel per metric: the released city-level estimates of one bucket with their published 95 % margin."""
    fig, axes = plt.subplots(len(METRICS), 1, figsize=(max(6, 0.35 * len(cells) + 2), 7.5), sharex=True)
    x = np.arange(len(cells))
    for ax, (label, est, moe, _) in zip(axes, METRICS, strict=True):
        shown = cells[est].notna()
        ax.errorbar(
            x[shown],
            cells.loc[shown, est],
            yerr=cells.loc[shown, moe],
            fmt="o",
            markersize=4,
            capsize=3,
            color="#1f78b4",
            ecolor="#555555",
        )
        ax.set_ylabel(label, fontsize=8)
        if est == "repeat_rate_est":
            ax.set_ylim(-0.05, 1.05)
    axes[-1].set_xticks(x, cells["geo_bucket_id"], rotation=90, fontsize=7)
    axes[0].set_title(
        f"Released {granularity} of {bucket:%Y-%m-%d}, city level: estimate ± published 95 % margin", fontsize=10
    )
    return save(fig, path)


def export_activity(by_day: pd.DataFrame, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(max(5, 0.3 * len(by_day) + 3), 3.5))
    days = by_day.index.strftime("%Y-%m-%d")  # one bar per day with requests, labelled by its date
    stacked_bars(ax, days, {o: by_day[o] for o in by_day.columns}, OUTCOME_COLOURS, width=0.8)
    ax.set_ylabel("buyer requests")
    ax.set_title("Buyer requests per UTC day by outcome (file exports and API)", fontsize=10)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=7)
    fig.autofmt_xdate()
    return save(fig, path)
