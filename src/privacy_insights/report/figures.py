"""The report's PNG figures (matplotlib, through the helpers of ``privacy_insights.utility.plots``).

Each figure has both axes labelled with their unit (epsilon is unitless; counts say what they
count and over which period), cities by name, codes in plain words, and says where it cut a
published interval at a bound the value cannot cross.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter

from privacy_insights.report.compute import METRICS, interval
from privacy_insights.report.words import city_label, outcome_word
from privacy_insights.utility.plots import (
    GRANULARITY_COLOURS,
    GRANULARITY_ORDER,
    OUTCOME_COLOURS,
    OUTCOME_ORDER,
    plt,
    save,
    spread_per_day,
    stacked_bars,
)

REQUEST_COLOURS = {
    "delivered": "#66a61e",
    "refused": "#e6ab02",
    "throttled": "#a6761d",
    "failed": "#e41a1c",
    "interrupted": "#999999",
}
REQUEST_WORDS = {
    "delivered": "delivered",
    "refused": "refused by a delivery rule",
    "throttled": "throttled (too many requests)",
    "failed": "failed (server side)",
    "interrupted": "interrupted (client went away)",
}
CHARGE_WORDS = {
    "week": "week releases (each week's epsilon spread over its 7 days)",
    "day": "day releases",
    "hour": "hour releases (a day's hours together)",
}
ESTIMATE, MARGIN, CUT = "#1f78b4", "#555555", "#d62728"
# Per metric of compute.METRICS: the axis label (with {period}) and the values it can take.
AXES = {
    "unique participants": ("unique participants (people in the {period})", 0.0, None),
    "doors opened": ("doors opened (openings in the {period})", 0.0, None),
    "repeat rate": ("repeat rate (% of participants who\nopened 2+ doors in the {period})", 0.0, 1.0),
}


def budget(ledger: pd.DataFrame, totals: pd.DataFrame, cap: float, window_days: int, path: Path) -> Path:
    return save(draw_budget(ledger, totals, cap, window_days), path)


def draw_budget(ledger: pd.DataFrame, totals: pd.DataFrame, cap: float, window_days: int) -> Figure:
    """Top: epsilon charged per day of each period. Bottom: what the window ending that day holds, against the cap."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.4), sharex=True)
    days = totals.index
    stacked_bars(
        top,
        days,
        spread_per_day(ledger, days),
        GRANULARITY_COLOURS,
        CHARGE_WORDS,
        width=0.9,
    )
    top.set_ylabel("epsilon charged per day\n(privacy loss, unitless)")
    top.set_ylim(0, top.get_ylim()[1] * 1.35)  # room for the legend
    top.set_title("Privacy budget: charges per day (top) and the rolling window they fill (bottom)", fontsize=10)
    held = {g: f"{g} releases" for g in GRANULARITY_ORDER}
    stacked_bars(bottom, days, {g: totals[g] for g in GRANULARITY_ORDER}, GRANULARITY_COLOURS, held, width=1.0)
    bottom.axhline(cap, color="red", linestyle="--", label=f"cap: epsilon {cap:g} per {window_days}-day window")
    bottom.set_ylim(0, max(cap, float(totals.sum(axis=1).max())) * 1.5)  # the legend above the cap's line
    bottom.set_ylabel(f"epsilon held by the {window_days}-day\nwindow ending that day (unitless)")
    bottom.set_xlabel("UTC day (top: the day charged; bottom: the window's last day)")
    for ax in (top, bottom):
        ax.legend(loc="upper left", fontsize=7)
    fig.autofmt_xdate()
    return fig


def cells_by_city(table: pd.DataFrame, names: dict[str, str], path: Path) -> Path:
    return save(draw_cells_by_city(table, names), path)


def draw_cells_by_city(table: pd.DataFrame, names: dict[str, str]) -> Figure:
    """One horizontal bar per city: its cells as shares by outcome (plain words), the released count and
    share written beside the bar; the city with the largest released share on top."""
    totals = table.sum(axis=1)
    shares = table.div(totals.where(totals > 0, 1), axis=0)
    order = (
        pd.DataFrame({"share": shares["released"], "cells": totals, "code": table.index.to_numpy()})
        .sort_values(["share", "cells", "code"], ascending=[True, True, False])
        .index
    )  # barh draws from the bottom: the last row is on top
    n = len(order)
    fig, ax = plt.subplots(figsize=(10, 0.2 * n + 1.9))
    y = np.arange(n)
    left = np.zeros(n)
    known = [o for o in OUTCOME_ORDER if o in shares]
    for code in known + [c for c in shares.columns if c not in known]:
        values = shares.loc[order, code].to_numpy(dtype=float)
        if values.sum() > 0:
            colour = OUTCOME_COLOURS.get(code, "#999999")
            ax.barh(y, values, left=left, height=0.8, color=colour, label=outcome_word(code))
            left += values
    ax.set_yticks(y, [city_label(c, names) for c in order], fontsize=7)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of the city's cells (%), every granularity and release level")
    ax.set_ylabel("city (name and code)")
    for yi, city in zip(y, order, strict=True):
        released, total = int(table.loc[city, "released"]), int(totals[city])
        label = f"{released:,} of {total:,} released ({released / max(total, 1):.0%})"
        ax.text(1.01, yi, label, transform=ax.get_yaxis_transform(), fontsize=7, va="center", clip_on=False)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=8, frameon=False)
    ax.set_title(
        f"spots_insights_v1: released and suppressed cells in each of {n} cities (counts beside the bars)",
        fontsize=10,
        pad=8 + 12 * int(np.ceil(len(ax.get_legend_handles_labels()[1]) / 3)),
    )
    return fig


def period_words(granularity: str, bucket: pd.Timestamp) -> tuple[str, str]:
    """(the period in a unit's words, the bucket in a title's words): ("day", "day 2026-10-12 (UTC)")."""
    if granularity == "week":
        end = bucket + pd.Timedelta(days=6)
        return "week", f"week {bucket:%Y-%m-%d} to {end:%Y-%m-%d} (UTC)"
    if granularity == "hour":
        return "hour", f"hour {bucket:%Y-%m-%d %H:00} (UTC)"
    return "day", f"day {bucket:%Y-%m-%d} (UTC)"


def error_bars(cells: pd.DataFrame, granularity: str, bucket: pd.Timestamp, names: dict[str, str], path: Path) -> Path:
    fig = draw_error_bars(cells, granularity, bucket, names)
    fig.savefig(path, dpi=110, metadata={"Software": None})  # (save() would lay it out again, over the legend)
    plt.close(fig)
    return path


def draw_error_bars(cells: pd.DataFrame, granularity: str, bucket: pd.Timestamp, names: dict[str, str]) -> Figure:
    """One panel per metric, a row per city (largest on top): the released estimate and its published 95 %
    margin, cut at the bound the value cannot cross (0 for counts, 0 % and 100 % for the rate); a cut end is a
    red triangle, and each panel counts its cut intervals."""
    unit, when = period_words(granularity, bucket)
    n = len(cells)
    fig, axes = plt.subplots(1, len(METRICS), figsize=(12, 0.24 * n + 2.6), sharey=True)
    y = np.arange(n)[::-1]  # the first (largest) city on top
    for ax, (label, est, moe, _) in zip(axes, METRICS, strict=True):
        xlabel, low, high = AXES[label]
        shown = cells[est].notna().to_numpy()
        values = cells.loc[shown, est].astype(float)
        bounds = interval(values, cells.loc[shown, moe].astype(float), low, high)
        ys = y[shown]
        ax.hlines(ys, bounds["low"], bounds["high"], color=MARGIN, linewidth=1.2)
        for side, edge, marker in (("low", "low_cut", "<"), ("high", "high_cut", ">")):
            whole, cut = ~bounds[edge].to_numpy(), bounds[edge].to_numpy()
            ax.plot(bounds[side][whole], ys[whole], "|", color=MARGIN, markersize=6)
            ax.plot(bounds[side][cut], ys[cut], marker, color=CUT, markersize=5, linestyle="none")
        ax.plot(values, ys, "o", color=ESTIMATE, markersize=4)
        ax.axvline(low, color="#bbbbbb", linewidth=0.8, zorder=0)
        if high is not None:
            ax.axvline(high, color="#bbbbbb", linewidth=0.8, zorder=0)
            ax.set_xlim(low - 0.03, high + 0.03)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        else:
            ax.set_xlim(left=low - 0.03 * float(bounds["high"].max() or 1))
        cut = int((bounds["low_cut"] | bounds["high_cut"]).sum())
        where = "at 0" if high is None else "at 0 % or 100 %"
        ax.set_title(f"{label}: {cut} of {len(values)} intervals cut {where}", fontsize=9)
        ax.set_xlabel(xlabel.format(period=unit), fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", color="#eeeeee")
    axes[0].set_yticks(y, [city_label(c, names) for c in cells["geo_bucket_id"]], fontsize=7)
    axes[0].set_ylim(-0.6, n - 0.4)
    axes[0].set_ylabel("city (released city-level cell)", fontsize=8)
    fig.suptitle(f"Released cells of the {when}, city level: estimate and published 95 % margin of error", fontsize=10)
    handles = [
        Line2D([], [], marker="o", color=ESTIMATE, linestyle="none", markersize=4, label="published estimate"),
        Line2D([], [], marker="|", color=MARGIN, markersize=6, label="estimate ± published 95 % margin"),
        Line2D(
            [],
            [],
            marker=">",
            color=CUT,
            linestyle="none",
            markersize=5,
            label="interval cut here: it reached below 0 (counts) or outside 0-100 % (the rate)",
        ),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.4 / fig.get_figheight(), 1, 1))  # room for the figure's legend below
    return fig


def export_activity(by_day: pd.DataFrame, path: Path) -> Path:
    return save(draw_export_activity(by_day), path)


def draw_export_activity(by_day: pd.DataFrame) -> Figure:
    """Requests per UTC day (a bar per day with requests), stacked by outcome in plain words."""
    fig, ax = plt.subplots(figsize=(max(7, 0.3 * len(by_day) + 4), 3.8))
    days = by_day.index.strftime("%Y-%m-%d")  # one bar per day with requests, labelled by its date
    labels = {o: REQUEST_WORDS.get(o, o) for o in by_day.columns}
    stacked_bars(ax, days, {o: by_day[o] for o in by_day.columns}, REQUEST_COLOURS, labels, width=0.8)
    ax.set_ylabel("buyer requests per day (count)")
    ax.set_xlabel("UTC day of the request (days without requests left out)")
    ax.set_title("Buyer requests per UTC day by outcome (file exports and API calls)", fontsize=10)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    pad = 0.6 + max(0, 4 - len(by_day)) / 2  # a lone day is a bar in the middle, not the whole plot
    ax.set_xlim(-pad, len(by_day) - 1 + pad)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.autofmt_xdate()
    return fig
