"""``privacy-insights report``: read the allowed relations, compute, draw, write the page and its PNGs.

By default the report goes to ``report/<target>/`` beside the DuckDB file (``data/report/dev/``;
the delivery folders follow the same pattern, export/locations.py), which git ignores. The
committed example ``docs/report/`` is rewritten only when asked: ``--output docs/report``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from privacy_insights import targets
from privacy_insights.report import compute, figures, markdown, words
from privacy_insights.report.source import CITIES, INSIGHTS, LEDGER, WAREHOUSE_RELATIONS, Source, open_source

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


def default_output_dir(target: str) -> Path:
    """Where the report goes without ``--output``: ``report/<target>/`` beside the DuckDB file."""
    return targets.duckdb_path().parent / "report" / targets.check_target(target)


def write_report(source: Source, out: Path, target: str, release: dict) -> Path:
    """Write ``out``/report.md and its PNGs from ``source``; returns the page. Stale PNGs of a skipped section go.

    Everything is read first and drawn in a scratch folder beside ``out``; only a complete report
    is moved in, so a failure leaves ``out`` as it was.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        page = _write(source, scratch, target, release)
        out.mkdir(exist_ok=True)
        for name in set(PNGS.values()) - {p.name for p in scratch.glob("*.png")}:
            (out / name).unlink(missing_ok=True)
        for path in sorted(scratch.iterdir(), key=lambda p: p.name == PAGE):  # the page last
            path.replace(out / path.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out / page.name


def _write(source: Source, out: Path, target: str, release: dict) -> Path:
    ledger, insights = source.read(LEDGER), source.read(INSIGHTS)
    names = words.city_names(source.read_optional(CITIES))
    audit, audit_where = source.read_audit()
    as_of = f"{pd.Timestamp(ledger['as_of'].max()):%Y-%m-%d %H:%M} UTC" if ledger["as_of"].notna().any() else None
    page = markdown.Page(target, [".".join(r) for r in WAREHOUSE_RELATIONS], as_of)
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
        page.add(SECTIONS["cities"], *markdown.cities_lines(cells, names))
        page.figures[SECTIONS["cities"]] = figures.cells_by_city(cells, names, out / PNGS["cities"])

    period = compute.error_bar_period(insights)
    page.add(SECTIONS["error"], *markdown.error_lines(compute.published_error(insights), period))
    if period:
        cells = compute.error_bar_cells(insights, *period)
        page.figures[SECTIONS["error"]] = figures.error_bars(cells, *period, names, out / PNGS["error"])

    if audit.empty:
        page.add(SECTIONS["exports"], *markdown.export_lines(None, audit_where))
    else:
        page.add(SECTIONS["exports"], *markdown.export_lines(compute.exports_by_buyer(audit), audit_where))
        by_day = compute.exports_by_day(audit)
        page.figures[SECTIONS["exports"]] = figures.export_activity(by_day, out / PNGS["exports"])

    path = out / PAGE
    path.write_text(page.render())
    return path


def run(target: str, out: str | None) -> int:
    """The command: ``out`` relative to the project folder, or the target's default folder."""
    if out is None:
        out_dir = default_output_dir(target)
    else:
        out_dir = Path(out) if Path(out).is_absolute() else targets.project_root() / out
    source = open_source(target)
    try:
        path = write_report(source, out_dir, target, targets.project_vars()["spots_release"])
    finally:
        source.close()
    print(f"wrote {path} and {', '.join(sorted(p.name for p in out_dir.glob('*.png')))}")
    return 0
