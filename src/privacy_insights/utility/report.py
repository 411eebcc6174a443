"""Markdown tables of utility measurements."""

from __future__ import annotations

from pathlib import Path

from privacy_insights.utility.measure import Utility

HEADLINE = [
    ("share_opens_in_released_day_cell", "in-city door opens in a released day cell of their (city, day)", "pct"),
    ("share_opens_in_released_day_or_week_cell", "in-city door opens in a released day or week cell", "pct"),
    ("share_city_category_days_with_a_number", "(city, category, day) with a released number", "pct"),
    ("median_relative_error_city_day_participants", "median relative error, released city-day participants", "pct2"),
    ("share_released_cells_below_k", "released cells whose true participants are below k", "pct2"),
    ("released_cells", "released cells (all granularities and levels)", "int"),
]


def fmt(value, kind: str) -> str:
    if value is None or value != value:
        return "—"
    return {"pct": f"{value:.1%}", "pct2": f"{value:.2%}", "int": f"{int(value):,}"}[kind]


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table; cells are written with str()."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def headline_table(runs: list[tuple[str, Utility]]) -> str:
    lines = ["| measure | " + " | ".join(label for label, _ in runs) + " |", "|---|" + "---|" * len(runs)]
    for key, text, kind in HEADLINE:
        lines.append(f"| {text} | " + " | ".join(fmt(u.headline.get(key), kind) for _, u in runs) + " |")
    return "\n".join(lines)


def levels_table(u: Utility) -> str:
    lines = [
        "| granularity | level | cells | released | k_min | dominance | complementary | budget | rolled up | "
        "participants in released | doors in released | median rel. error | p90 rel. error | released below k |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in u.levels.itertuples():
        lines.append(
            f"| {r.granularity} | {r.release_level} | {r.cells:,} | {r.released:,} | {r.suppressed_k_min:,} | "
            f"{r.suppressed_dominance:,} | {getattr(r, 'suppressed_complementary', 0):,} | {r.budget_exhausted:,} | "
            f"{r.rolled_up:,} | "
            f"{r.share_participants_released:.1%} | {r.share_doors_released:.1%} | "
            f"{fmt(r.median_relative_error, 'pct2')} | {fmt(r.p90_relative_error, 'pct2')} | {r.released_below_k:,} |"
        )
    return "\n".join(lines)


def markdown(runs: list[tuple[str, Utility]], figures: dict[str, list[Path]], base: Path, command: str) -> str:
    parts = [
        "# Utility of spots_insights_v1",
        "",
        f"Produced by `{command}` (module `privacy_insights.utility`). Each column is a fresh warehouse: "
        "generated data (profile, events), `dbt build` at the default `as_of` (28 release days, 61 cities), "
        "then the release compared with the exact bounded aggregates it was computed from. Internal: it reads "
        "true counts.",
        "",
        "## Headline",
        "",
        headline_table(runs),
        "",
    ]
    for label, u in runs:
        parts += [f"## {label}", "", levels_table(u), ""]
        for path in figures.get(label, []):
            parts.append(f"![{path.stem}]({path.relative_to(base)})")
        parts.append("")
    return "\n".join(parts)
