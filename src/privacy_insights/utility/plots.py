"""PNG figures of a utility measurement (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from privacy_insights.utility.measure import Utility  # noqa: E402

LEVEL_ORDER = ["city", "city_door_type", "city_category", "city_segment"]
COLOURS = {"city": "#1b9e77", "city_door_type": "#d95f02", "city_category": "#7570b3", "city_segment": "#e7298a"}
GRANULARITY_ORDER = ["week", "day", "hour"]
GRANULARITY_COLOURS = {"week": "#7570b3", "day": "#1b9e77", "hour": "#d95f02"}
OUTCOME_ORDER = ["released", "k_min", "dominance", "complementary", "budget_exhausted", "rolled_up"]
OUTCOME_COLOURS = {
    "released": "#66a61e",
    "k_min": "#e6ab02",
    "dominance": "#a6761d",
    "complementary": "#7570b3",
    "budget_exhausted": "#e41a1c",
    "rolled_up": "#bbbbbb",
}


def coverage_by_level(u: Utility, path: Path, title: str) -> Path:
    frame = u.levels.copy()
    frame["label"] = frame["granularity"] + "\n" + frame["release_level"].str.replace("city_", "city x ")
    fig, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(frame))
    ax.bar(x - 0.2, frame["released"] / frame["cells"], 0.4, label="cells released", color="#66a61e")
    ax.bar(
        x + 0.2, frame["share_participants_released"], 0.4, label="true participants in released cells", color="#1f78b4"
    )
    ax.set_xticks(x, frame["label"], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    ax.set_title(f"Coverage by level — {title}")
    ax.legend(loc="upper right", fontsize=8)
    return save(fig, path)


def error_vs_size(u: Utility, path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for level in LEVEL_ORDER:
        rows = u.errors[u.errors["release_level"] == level]
        if rows.empty:
            continue
        error = (rows["estimate"] - rows["true_participants"]).abs() / rows["true_participants"]
        ax.scatter(
            rows["true_participants"],
            error.clip(lower=1e-5),
            s=4,
            alpha=0.4,
            color=COLOURS[level],
            label=f"{level} (noise scale {rows['noise_scale'].iloc[0]:.1f})",
        )
        sizes = np.logspace(
            np.log10(max(rows["true_participants"].min(), 1)), np.log10(rows["true_participants"].max() + 1), 50
        )
        ax.plot(sizes, rows["noise_scale"].iloc[0] / sizes, color=COLOURS[level], linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("true participants in the cell")
    ax.set_ylabel("|released - true| / true")
    ax.set_title(f"Day cells: relative error vs size (lines: scale / n) — {title}", fontsize=10)
    ax.legend(fontsize=7, markerscale=3)
    return save(fig, path)


def spread_per_day(ledger: pd.DataFrame, days: pd.DatetimeIndex) -> dict[str, pd.Series]:
    """Charged epsilon per granularity, each period's epsilon spread evenly over its days (a week over 7)."""
    per_day = {}
    for g in GRANULARITY_ORDER:
        rows = ledger[(ledger["time_granularity"] == g) & (ledger["status"] == "charged")]
        series = pd.Series(0.0, index=days)
        for r in rows.itertuples():
            span = 7 if g == "week" else 1
            for i in range(span):
                day = pd.Timestamp(r.release_period_start).normalize() + pd.Timedelta(days=i)
                if day in series.index:
                    series[day] += r.epsilon / span
        per_day[g] = series
    return per_day


def stacked_bars(
    ax, index, columns: dict[str, pd.Series], colours: dict[str, str], labels: dict[str, str] | None = None, **bar
) -> None:
    """Bars of ``columns`` stacked in their order; an all-zero column draws nothing."""
    bottom = np.zeros(len(index))
    for key, values in columns.items():
        values = np.asarray(values, dtype=float)
        if values.sum() > 0:
            ax.bar(
                index,
                values,
                bottom=bottom,
                color=colours.get(key, "#999999"),
                label=(labels or {}).get(key, key),
                **bar,
            )
            bottom += values


def save(fig, path: Path) -> Path:
    """Write ``fig`` as a PNG without the matplotlib version stamp (same input, same bytes) and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def budget_over_window(u: Utility, path: Path, title: str) -> Path:
    ledger = u.ledger[u.ledger["status"] == "charged"].copy()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    if ledger.empty:
        ax.text(0.5, 0.5, "no charges", ha="center")
    else:
        ledger["release_period_start"] = pd.to_datetime(ledger["release_period_start"])
        days = pd.date_range(
            ledger["release_period_start"].min() - pd.Timedelta(days=1),
            ledger["release_period_start"].max() + pd.Timedelta(days=8),
        )
        per_day = spread_per_day(ledger, days)
        stacked_bars(
            ax, days, per_day, GRANULARITY_COLOURS, {g: f"{g} (epsilon per day of period)" for g in GRANULARITY_ORDER}
        )
        window = int(ledger["budget_window_days"].iloc[0])
        total = sum(per_day.values())
        ax2 = ax.twinx()
        ax2.plot(days, total.rolling(window, min_periods=1).sum(), color="black", label=f"{window}-day window total")
        ax2.axhline(float(ledger["epsilon_cap"].max()), color="red", linestyle="--", label="cap")
        ax2.set_ylabel("epsilon in the window")
        ax2.set_ylim(bottom=0)
        ax2.legend(loc="upper right", fontsize=7)
        ax.legend(loc="upper left", fontsize=7)
    ax.set_ylabel("epsilon")
    ax.set_title(f"Privacy budget over time — {title}", fontsize=10)
    fig.autofmt_xdate()
    return save(fig, path)


def outcomes_by_city(table: pd.DataFrame, ax, ylabel: str, share: bool = False) -> None:
    """Stacked bars of cells per city (``table``: index city, a column per outcome).

    Counts on a log scale, largest city first; or, with ``share``, each city's cells as shares
    (linear), the city with the largest released share first.
    """
    if share:
        table = table.div(table.sum(axis=1).where(lambda n: n > 0, 1), axis=0)
        table = table.sort_values("released", ascending=False, kind="stable") if "released" in table else table
    else:
        table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    stacked_bars(ax, table.index, {o: table[o] for o in OUTCOME_ORDER if o in table}, OUTCOME_COLOURS)
    if share:
        ax.set_ylim(0, 1)
    else:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=90, labelsize=6)
    ax.legend(fontsize=7)


def coverage_by_city(u: Utility, path: Path, title: str) -> Path:
    table = u.cities.pivot_table(index="city", columns="outcome", values="cells", fill_value=0)
    fig, ax = plt.subplots(figsize=(11, 4))
    outcomes_by_city(table, ax, "day cells (all levels)")
    ax.set_title(f"Released and suppressed day cells by city — {title}", fontsize=10)
    return save(fig, path)


def write_all(u: Utility, folder: Path, stem: str, title: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        coverage_by_level(u, folder / f"{stem}_coverage_by_level.png", title),
        error_vs_size(u, folder / f"{stem}_error_vs_size.png", title),
        budget_over_window(u, folder / f"{stem}_budget.png", title),
        coverage_by_city(u, folder / f"{stem}_coverage_by_city.png", title),
    ]
