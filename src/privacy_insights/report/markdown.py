"""The report's Markdown page (tables through ``privacy_insights.utility.report``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from privacy_insights.report.words import REASONS, city_label, outcome_word
from privacy_insights.utility.report import table


def _num(value: float, digits: int = 3) -> str:
    return "—" if value is None or value != value else f"{value:,.{digits}g}"


@dataclass
class Page:
    """The report's parts, filled in by ``run``; ``render`` writes them out in order."""

    target: str
    relations: list[str]
    as_of: str | None = None  # release clock of the latest ledger decision
    figures: dict[str, Path] = field(default_factory=dict)  # section -> PNG beside the page
    sections: dict[str, list[str]] = field(default_factory=dict)

    def add(self, section: str, *lines: str) -> None:
        self.sections.setdefault(section, []).extend(lines)

    def render(self) -> str:
        parts = [
            "# Reviewer's report: spots_insights_v1",
            "",
            f"Written by `privacy-insights report --target {self.target}` from the built warehouse and the "
            "delivery audit. From the warehouse it reads only "
            + ", ".join(f"`{r}`" for r in self.relations)
            + ": the published (noisy) numbers, their published uncertainty, the budget ledger and public city "
            "names; never staging, intermediate or a true count. From the delivery store it reads the audit of "
            "buyer requests as it stands when the report runs, so requests made since the last build count.",
            "",
        ]
        if self.as_of:
            parts += [f"Release clock (`as_of`) of the latest build that decided a period: {self.as_of}.", ""]
        for section, lines in self.sections.items():
            parts += [f"## {section}", "", *lines, ""]
            if section in self.figures:
                parts += [f"![{self.figures[section].stem}]({self.figures[section].name})", ""]
        return "\n".join(parts)


def budget_lines(
    summary: pd.DataFrame, totals: pd.DataFrame, cap: float, window_days: int, ledger_busiest: float
) -> list[str]:
    total = totals.sum(axis=1)
    rows = [
        [
            r.granularity,
            r.periods_charged,
            r.periods_denied,
            r.retries_or_corrections,
            _num(r.epsilon_charged, 4),
            _num(r.epsilon_latest_window, 4),
            _num(r.epsilon_busiest_window, 4),
        ]
        for r in summary.itertuples()
    ]
    busiest_day = total.idxmax()
    return [
        f"Cap: epsilon {cap:g} in any {window_days}-day window, across every granularity (dbt var "
        "`spots_release`). A period's charge counts in full in every window it overlaps.",
        "",
        f"- window ending {totals.index[-1]:%Y-%m-%d} (the latest): epsilon {_num(total.iloc[-1], 4)}, "
        f"{_num(cap - total.iloc[-1], 4)} left",
        f"- busiest window, ending {busiest_day:%Y-%m-%d}: epsilon {_num(total.max(), 4)} "
        f"({total.max() / cap:.0%} of the cap); the ledger's own record of its busiest window: "
        f"{_num(ledger_busiest, 4)}",
        "",
        table(
            [
                "granularity",
                "periods charged",
                "denied",
                "retries / corrections",
                "epsilon charged",
                "in the latest window",
                "in the busiest window",
            ],
            rows,
        ),
    ]


def cities_lines(cells: pd.DataFrame, names: dict[str, str]) -> list[str]:
    totals = cells.sum()
    all_cells = int(totals.sum())
    lines = [
        f"{len(cells)} cities, {all_cells:,} cells (every granularity and level): "
        + ", ".join(f"{outcome_word(o)} {int(n):,} ({n / all_cells:.1%})" for o, n in totals.items() if n)
        + ".",
        "",
        "Why a cell is suppressed (the code in `privacy_suppressed_reason`, then what it means):",
        "",
        *(f"- {word} (`{code}`): {meaning}" for code, (word, meaning) in REASONS.items()),
        "",
        "The figure shows each city's cells as shares, the city with the largest released share on top, "
        "with the count of released cells beside each bar.",
        "",
    ]
    rows = [
        [city_label(city, names), *(f"{int(v):,}" for v in r), f"{int(r.sum()):,}", f"{r['released'] / r.sum():.0%}"]
        for city, r in cells.iterrows()
    ]
    return lines + [table(["city", *(outcome_word(c) for c in cells.columns), "cells", "released share"], rows)]


def error_lines(summary: pd.DataFrame, period: tuple[str, pd.Timestamp] | None) -> list[str]:
    if summary.empty:
        return ["No released cell yet: no published number to show."]
    rows = [
        [
            r.granularity,
            r.level,
            r.metric,
            f"{r.cells:,}",
            _num(r.median_estimate),
            _num(r.median_noise_scale),
            _num(r.median_moe95),
            "—" if r.median_relative_moe95 != r.median_relative_moe95 else f"{r.median_relative_moe95:.1%}",
        ]
        for r in summary.itertuples()
    ]
    lines = [
        "From the published `uncertainty_*` columns of released cells: the noise scale and the 95 % margin "
        "of error a buyer receives with each number (medians over the cells).",
        "",
        table(
            [
                "granularity",
                "level",
                "metric",
                "released cells",
                "median estimate",
                "median noise scale",
                "median ± moe95",
                "median moe95 / estimate",
            ],
            rows,
        ),
    ]
    if period:
        lines += [
            "",
            f"The figure shows the {period[0]} bucket of {period[1]:%Y-%m-%d}, the one with the most "
            "released city-level cells (at most 30, largest first). A published interval estimate ± margin that "
            "reaches below 0 (a count cannot) or outside 0-100 % (the repeat rate cannot) is drawn cut at that "
            "bound and its cut end marked with a red triangle; each panel says how many were cut.",
        ]
    return lines


def export_lines(by_buyer: pd.DataFrame | None, where: str) -> list[str]:
    read = f"from the delivery audit ({where}), read when this report was written"
    if by_buyer is None or by_buyer.empty:
        return [f"No file export or API request yet: the audit is empty ({read})."]
    rows = [
        [r.buyer_id, r.channel, f"{r.requests:,}", f"{r.delivered:,}", f"{r.rows_delivered:,}", r.not_delivered_by_rule]
        for r in by_buyer.itertuples()
    ]
    return [
        f"Every file export and API request, {read} (internal; no rebuild needed).",
        "",
        table(["buyer", "channel", "requests", "delivered", "rows delivered", "not delivered, by rule"], rows),
    ]


def lifetime_lines(
    busiest_window: float,
    busiest_year: float,
    policy_window: float,
    policy_year: float,
    window_days: int,
    annual_cap: float | None,
) -> list[str]:
    """Worst-case loss per person over 365 days beside the budget window's (basic composition:
    a person present in every period loses the sum of the epsilons of the periods a window overlaps)."""
    cap = (
        f"the annual cap `annual_epsilon_cap` is {annual_cap:g}"
        if annual_cap is not None
        else ("no annual cap is set (`spots_release.annual_epsilon_cap`: null)")
    )
    return [
        "**Lifetime view.** Worst-case privacy loss of one person, who appears in every released period:",
        "",
        table(
            ["horizon", "charged so far (busiest window)", "the policy's worst case"],
            [
                [f"{window_days} days", _num(busiest_window, 4), _num(policy_window, 4)],
                ["365 days", _num(busiest_year, 4), _num(policy_year, 4)],
            ],
        ),
        "",
        f"The policy's worst case counts every period of the enabled granularities (and a correction of each, "
        f"when corrections are on); {cap}.",
    ]
