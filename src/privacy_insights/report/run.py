"""``privacy-insights report``: read the allowed relations, compute, draw, write the page and its PNGs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from privacy_insights import targets
from privacy_insights.report import compute, figures, markdown
from privacy_insights.report.source import ALLOWED, INSIGHTS, LEDGER, REQUEST_LOG, Source, open_source

PAGE = "report.md"
PNGS = {
    "budget": "budget_window.png",
    "cities": "cells_by_city.png",
    "error": "error_bars.png",
    "exports": "export_activity.png",
}
SECTIONS = {
    "budget": "Privacy budget over the window",
    "cities": "Released and suppressed cells by city",
    "error": "Published error per metric",
    "exports": "Export activity",
}


def _lifetime(ledger: pd.DataFrame, totals: pd.DataFrame, release: dict) -> list[str]:
    """The worst-case loss per person over 365 days beside the window's, from the ledger and the policy."""
    from privacy_insights.dp.params import ANNUAL_WINDOW_DAYS, parse_policy

    policy = parse_policy(release, 72)
    year = compute.window_totals(ledger, ANNUAL_WINDOW_DAYS) if len(totals) else totals
    return markdown.lifetime_lines(
        float(totals.sum(axis=1).max()) if len(totals) else 0.0,
        float(year.sum(axis=1).max()) if len(year) else 0.0,
        policy.worst_case_window_epsilon(),
        policy.worst_case_window_epsilon(ANNUAL_WINDOW_DAYS),
        policy.budget_window_days,
        policy.annual_epsilon_cap,
    )


def write_report(source: Source, out: Path, target: str, release: dict) -> Path:
    """Write ``out``/report.md and its PNGs from ``source``; returns the page. Stale PNGs of a skipped section go."""
    out.mkdir(parents=True, exist_ok=True)
    ledger, insights = source.read(LEDGER), source.read(INSIGHTS)
    log = source.read_optional(REQUEST_LOG)
    as_of = f"{pd.Timestamp(ledger['as_of'].max()):%Y-%m-%d %H:%M} UTC" if ledger["as_of"].notna().any() else None
    page = markdown.Page(target, [".".join(r) for r in ALLOWED], as_of)
    cap, window_days = float(release["epsilon_cap"]), int(release["budget_window_days"])

    totals = compute.window_totals(ledger, window_days)
    if totals.empty:
        page.add(SECTIONS["budget"], "The ledger holds no charge yet: nothing released, no budget spent.")
    else:
        summary = compute.budget_summary(ledger, totals)
        page.add(
            SECTIONS["budget"],
            *markdown.budget_lines(summary, totals, cap, window_days, float(ledger["window_epsilon"].max())),
        )
        page.figures[SECTIONS["budget"]] = figures.budget(ledger, totals, cap, window_days, out / PNGS["budget"])
    page.add(SECTIONS["budget"], "", *_lifetime(ledger, totals, release))

    if insights.empty:
        page.add(SECTIONS["cities"], "spots_insights_v1 holds no cell yet.")
    else:
        cells = compute.cells_by_city(insights)
        page.add(SECTIONS["cities"], *markdown.cities_lines(cells))
        page.figures[SECTIONS["cities"]] = figures.cells_by_city(cells, out / PNGS["cities"])

    period = compute.error_bar_period(insights)
    page.add(SECTIONS["error"], *markdown.error_lines(compute.published_error(insights), period))
    if period:
        cells = compute.error_bar_cells(insights, *period)
        page.figures[SECTIONS["error"]] = figures.error_bars(cells, *period, out / PNGS["error"])

    if log is None or log.empty:
        what = "is not in this warehouse" if log is None else "is empty (no export or API request yet)"
        page.add(SECTIONS["exports"], f"Skipped: `{'.'.join(REQUEST_LOG)}` {what}.")
    else:
        page.add(SECTIONS["exports"], *markdown.export_lines(compute.exports_by_buyer(log), None))
        page.figures[SECTIONS["exports"]] = figures.export_activity(compute.exports_by_day(log), out / PNGS["exports"])

    for name in set(PNGS.values()) - {p.name for p in page.figures.values()}:
        (out / name).unlink(missing_ok=True)
    path = out / PAGE
    path.write_text(page.render())
    return path


def run(target: str, out: str) -> int:
    out_dir = Path(out)
    out_dir = out_dir if out_dir.is_absolute() else targets.project_root() / out_dir
    source = open_source(target)
    try:
        path = write_report(source, out_dir, target, targets.project_vars()["spots_release"])
    finally:
        source.close()
    print(f"wrote {path} and {', '.join(sorted(p.name for p in out_dir.glob('*.png')))}")
    return 0
