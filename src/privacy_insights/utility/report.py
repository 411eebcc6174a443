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


PEER_INTRO = (
    "PipelineDP 0.3.1 (module `privacy_insights.utility.peer`, optional extra: `pip install -e '.[peer]'`) "
    "counts distinct participants on the same staged events with the same parameters as the project's count "
    "of that level: privacy unit a participant in one day, the public cell domain as public partitions (every"
    " city x day, every city x category x day), at most C_L cells of the level per participant per day (1 "
    "today) and 1 per cell, the epsilon the project spends on that level's participant count (from the "
    "release policy; gaussian option: the (epsilon, delta) its rho converts to), run one day at a time "
    "(disjoint privacy units), and the project's release threshold (k plus the margin a cell of k - 1 clears "
    "with probability at most `false_release_probability`) computed for PipelineDP's noise and applied to its"
    " noisy counts. The last two columns give PipelineDP the period's whole epsilon on that one count (the "
    "most any split of the period's budget could give it: its ceiling). Both sides are measured against the "
    "true distinct participants of each cell (before any bounding), so a negative signed median is the "
    "bounding's undercount; one noise draw each."
)


def peer_table(runs: list[tuple[str, Utility]]) -> str:
    """Project vs PipelineDP per run and level, or the note of a run where PipelineDP did not run."""
    lines = [
        "| run | level | epsilon | C_L | public cells | released: project / PipelineDP | "
        "median abs. rel. error | median signed rel. error | released below k | "
        "PipelineDP at the period's epsilon: released | its median abs. rel. error |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for label, u in runs:
        if u.peer is None:
            continue
        if u.peer.note:
            notes.append(f"{label}: {u.peer.note}")
        for r in u.peer.levels:
            pairs = [
                (r.project_median_abs_relative_error, r.peer_median_abs_relative_error),
                (r.project_median_relative_error, r.peer_median_relative_error),
                (r.project_share_below_k, r.peer_share_below_k),
            ]
            lines.append(
                f"| {label} | {r.granularity} {r.level} | {r.epsilon:.4g} | {r.max_cells_per_participant} | "
                f"{r.public_cells:,} | {r.project_released:,} / {r.peer_released:,} | "
                + " | ".join(f"{fmt(ours, 'pct2')} / {fmt(theirs, 'pct2')}" for ours, theirs in pairs)
                + f" | {r.peer_period_released:,} (epsilon {r.period_epsilon:.4g}) | "
                + f"{fmt(r.peer_period_median_abs_relative_error, 'pct2')} |"
            )
    if len(lines) == 2:
        return "\n".join(notes)
    return "\n".join(lines + ([""] + notes if notes else []))


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
    if any(u.peer is not None for _, u in runs):
        parts += ["## Against PipelineDP", "", PEER_INTRO, "", peer_table(runs), ""]
    for label, u in runs:
        parts += [f"## {label}", "", levels_table(u), ""]
        for path in figures.get(label, []):
            parts.append(f"![{path.stem}]({path.relative_to(base)})")
        parts.append("")
    return "\n".join(parts)
