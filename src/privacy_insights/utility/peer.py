"""PipelineDP on the same staged events: the utility report's peer column (optional extra ``peer``).

PipelineDP 0.3.1 (``pip install -e '.[peer]'``) counts distinct participants per public cell of
the day release with the same parameters as the project's own count, so the two are compared
like for like, re-run by ``privacy-insights utility-report`` rather than copied:

- privacy unit: a participant in one release period (privacy id = ``participant_key`` + day);
- public partitions: the project's public cell domain of the level, every city x released day
  (``city``) and every city x category x released day (``city_category``), empty cells included
  (no partition selection, so no budget spent on it);
- contribution bounds: at most ``C_L`` cells of the level per participant per period
  (``max_partitions_contributed``; 1 today, ``levels.<level>.max_cells_per_participant`` once the
  policy states one per level) and 1 per cell (a distinct count);
- epsilon: what the project spends on that level's participant count, read from the release
  policy (OpenDP's privacy map of the count, ``dp.mechanisms``); under the gaussian option, the
  (epsilon, delta) the count's rho converts to at the period's delta;
- release rule: the project's threshold (``dp.thresholds.release_threshold``: k plus the margin
  a cell with k - 1 true participants clears with probability at most
  ``false_release_probability``), computed for PipelineDP's own noise (its reported standard
  deviation), applied to PipelineDP's noisy counts.

Both sides are measured against the true distinct participants of each cell (from staging,
before any bounding), so the bounding bias shows in both errors. An internal reviewer's tool:
it reads true counts, and PipelineDP's noise (Google's library) never reaches a release.
"""

from __future__ import annotations

import importlib.util
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from privacy_insights.dp.mechanisms import period_mechanism, zcdp_epsilon
from privacy_insights.dp.params import ReleasePolicy
from privacy_insights.dp.thresholds import release_threshold
from privacy_insights.targets import Warehouse

PACKAGE = "pipeline_dp"
PINNED = "pipeline-dp==0.3.1"
INSTALL_HINT = "PipelineDP not installed (pip install -e '.[peer]')"
# level -> the segment column that names its cells besides the city (city: none)
LEVEL_SEGMENT = {"city": None, "city_category": "category"}


def available() -> bool:
    """Whether PipelineDP can be imported (the optional extra ``peer``)."""
    return importlib.util.find_spec(PACKAGE) is not None


def max_cells_per_participant(policy: ReleasePolicy, granularity: str, level: str) -> int:
    """C_L: cells of ``level`` one participant may contribute to per period, as the policy states
    it (``levels.<level>.max_cells_per_participant``); 1 while the policy has one cell per period."""
    return int(getattr(policy.levels(granularity)[level], "max_cells_per_participant", 1))


@dataclass(frozen=True)
class CountSpec:
    """One level's participant count, as the project releases it: what PipelineDP is given."""

    granularity: str
    level: str
    family: str  # "laplace" or "gaussian"
    epsilon: float
    delta: float
    max_cells_per_participant: int  # C_L: max_partitions_contributed
    k: int
    false_release_probability: float
    project_scale: float  # the project's noise scale for this count (for the record)


def count_spec(
    policy: ReleasePolicy, granularity: str, level: str, max_cells: int | None = None, whole_period: bool = False
) -> CountSpec:
    """The parameters of ``level``'s participant count in a ``granularity`` period, from the policy.

    ``max_cells`` overrides C_L (default: the policy's, :func:`max_cells_per_participant`).
    ``whole_period`` gives the count the period's whole epsilon (delta) instead of its share: the
    most any split of the period's budget could give PipelineDP for this level, its ceiling."""
    mech = period_mechanism(policy, granularity)
    noise = mech.level(level).metrics["unique_participants"]
    g = policy.for_granularity(granularity)
    delta = 0.0 if mech.family == "laplace" else policy.delta
    if whole_period:
        epsilon = g.epsilon
    elif mech.family == "laplace":
        epsilon = noise.cost
    else:  # noise.cost is rho; PipelineDP takes (epsilon, delta)
        epsilon = zcdp_epsilon(noise.cost, delta)
    cells = max_cells or max_cells_per_participant(policy, granularity, level)
    return CountSpec(
        granularity, level, mech.family, epsilon, delta, cells, g.k_min, policy.false_release_probability, noise.scale
    )


def threshold(spec: CountSpec, noise_stddev: float) -> int:
    """The project's release threshold for noise of ``noise_stddev`` of the spec's family
    (Laplace: scale = stddev / sqrt 2; Gaussian: scale = stddev)."""
    scale = noise_stddev / math.sqrt(2) if spec.family == "laplace" else noise_stddev
    return release_threshold(spec.family, round(scale, 9), spec.k, spec.false_release_probability)[0]


@dataclass(frozen=True)
class PeerCell:
    noisy: float
    noise_stddev: float
    threshold: int

    @property
    def released(self) -> bool:
        return self.noisy >= self.threshold


def pipelinedp_count(
    rows: Iterable[tuple[object, object]], partitions: Sequence[object], spec: CountSpec
) -> dict[object, PeerCell]:
    """PipelineDP's distinct count per public partition of ``(privacy_id, partition)`` rows, with
    the spec's epsilon (delta), bounds and noise family, and the project's threshold applied.

    Every public partition gets a cell (empty ones too); rows of other partitions are dropped
    by PipelineDP."""
    import pipeline_dp

    accountant = pipeline_dp.NaiveBudgetAccountant(total_epsilon=spec.epsilon, total_delta=spec.delta)
    engine = pipeline_dp.DPEngine(accountant, pipeline_dp.LocalBackend())
    params = pipeline_dp.AggregateParams(
        metrics=[pipeline_dp.Metrics.PRIVACY_ID_COUNT],
        noise_kind=pipeline_dp.NoiseKind.LAPLACE if spec.family == "laplace" else pipeline_dp.NoiseKind.GAUSSIAN,
        max_partitions_contributed=spec.max_cells_per_participant,
        max_contributions_per_partition=1,
        output_noise_stddev=True,
    )
    extractors = pipeline_dp.DataExtractors(
        privacy_id_extractor=lambda row: row[0], partition_extractor=lambda row: row[1], value_extractor=lambda row: 0
    )
    result = engine.aggregate(rows, params, extractors, public_partitions=list(partitions))
    accountant.compute_budgets()
    cells = {}
    for partition, metrics in result:
        stddev = float(metrics.privacy_id_count_noise_stddev)
        cells[partition] = PeerCell(float(metrics.privacy_id_count), stddev, threshold(spec, stddev))
    return cells


@dataclass
class LevelComparison:
    """Project vs PipelineDP on one level's participant count: released cells, error vs the true
    distinct participants, released cells below k."""

    granularity: str
    level: str
    epsilon: float
    max_cells_per_participant: int
    public_cells: int
    project_released: int
    peer_released: int
    project_median_abs_relative_error: float
    peer_median_abs_relative_error: float
    project_median_relative_error: float  # signed: the bounding bias shows as a negative median
    peer_median_relative_error: float
    project_share_below_k: float
    peer_share_below_k: float
    peer_threshold: int
    # PipelineDP given the period's whole epsilon on this count alone (its ceiling over budget splits)
    period_epsilon: float = float("nan")
    peer_period_released: int = 0
    peer_period_median_abs_relative_error: float = float("nan")


@dataclass
class PeerComparison:
    levels: list[LevelComparison] = field(default_factory=list)
    note: str | None = None  # set when the comparison did not run (e.g. INSTALL_HINT)

    def to_dict(self) -> dict:
        return {"note": self.note, "levels": [asdict(lv) for lv in self.levels]}


def _errors(pairs: list[tuple[float, int]]) -> tuple[float, float]:
    relative = [(estimate - truth) / truth for estimate, truth in pairs if truth > 0]
    if not relative:
        return float("nan"), float("nan")
    return statistics.median(abs(r) for r in relative), statistics.median(relative)


def _summary(released: list[tuple[float, int]], k: int) -> tuple[int, float, float, float]:
    absolute, signed = _errors(released)
    below = sum(1 for _, truth in released if truth < k) / len(released) if released else 0.0
    return len(released), absolute, signed, below


def _cells_sql(warehouse: Warehouse, segment: str | None) -> str:
    """The level's public day cells, numbered: every city x [segment value x] released day, from the
    reference data and the release's days only (the project's public domain)."""
    released = warehouse.qualify("outside_buyer", "spots_insights_v1")
    segment_join = (
        f"cross join (select {segment} from {warehouse.qualify('reference', 'categories')}) as s" if segment else ""
    )
    segment_col = f"s.{segment}, " if segment else ""
    return f"""
        select row_number() over (order by c.city_code, {segment_col}d.day) - 1 as cell_id,
            c.city_code, {segment_col}d.day
        from {warehouse.qualify("reference", "city_definitions")} as c
        cross join (
            select distinct cast(release_period_start as date) as day from {released}
            where time_granularity = 'day'
        ) as d
        {segment_join}"""


def compare_level(warehouse: Warehouse, spec: CountSpec, ceiling: CountSpec | None = None) -> LevelComparison:
    """Run PipelineDP on ``spec``'s level of the warehouse's staged events and compare it with the
    project's released rows of that level; with ``ceiling`` (the same count at the period's whole
    epsilon), run it once more at that epsilon.

    PipelineDP gets one row per participant-day and cell of the level (a distinct count needs no
    more), the privacy unit and the cell as integers numbered in DuckDB, one day at a time: the
    privacy unit is a participant in one day, so the days hold disjoint units and each run with the
    count's epsilon is exactly the one-run release restricted to that day (parallel composition),
    in a 28th of the memory (its local backend holds about 0.6 kB per row: 3.5 GB at 10^7 events
    in one run)."""
    if spec.granularity != "day":
        raise ValueError(f"granularity: only day periods are compared, got {spec.granularity!r}")
    con = warehouse.connection
    staged = warehouse.qualify("staging", "stg_spots__interaction_events")
    released = warehouse.qualify("outside_buyer", "spots_insights_v1")
    segment = LEVEL_SEGMENT[spec.level]
    on_segment = f"and cells.{segment} = e.{segment}" if segment else ""
    event_segment = f", {segment}" if segment else ""
    con.execute(f"create or replace temp table peer_cells as {_cells_sql(warehouse, segment)}")
    con.execute(f"""
        create or replace temp table peer_rows as
        select dense_rank() over (order by e.participant_key, e.day) as unit_id, cells.cell_id, cells.day
        from (
            select distinct participant_key, cast(day_start as date) as day, city_code{event_segment}
            from {staged}
            where counts_as_door_opened and city_code is not null
        ) as e
        inner join peer_cells as cells on cells.city_code = e.city_code and cells.day = e.day {on_segment}""")
    cells = con.sql("select count(*) from peer_cells").fetchone()[0]
    truth = [0] * cells  # true distinct participants per cell (rows are distinct per participant-day and cell)
    for cell_id, participants in con.sql("select cell_id, count(*) from peer_rows group by 1").fetchall():
        truth[cell_id] = participants
    peer: dict[object, PeerCell] = {}
    top: dict[object, PeerCell] = {}
    for (day,) in con.sql("select distinct day from peer_cells order by 1").fetchall():
        partitions = [c for (c,) in con.execute("select cell_id from peer_cells where day = ?", [day]).fetchall()]
        rows = con.execute("select unit_id, cell_id from peer_rows where day = ?", [day]).fetchall()
        peer |= pipelinedp_count(rows, partitions, spec)
        if ceiling is not None:
            top |= pipelinedp_count(rows, partitions, ceiling)
    top_released = [(c.noisy, truth[cell_id]) for cell_id, c in top.items() if c.released]
    peer_released = [(c.noisy, truth[cell_id]) for cell_id, c in peer.items() if c.released]
    project_segment = f"and cells.{segment} = r.segment_{segment}" if segment else ""
    project = con.execute(
        f"""
        select r.unique_participants_est, cells.cell_id from {released} as r
        inner join peer_cells as cells
            on cells.city_code = r.geo_bucket_id and cells.day = cast(r.time_bucket_start_utc as date)
            {project_segment}
        where r.time_granularity = 'day' and r.release_level = ? and not r.privacy_suppressed""",
        [spec.level],
    ).fetchall()
    project_released = [(float(estimate), truth[cell_id]) for estimate, cell_id in project]
    con.execute("drop table peer_rows")
    p_n, p_abs, p_signed, p_below = _summary(project_released, spec.k)
    q_n, q_abs, q_signed, q_below = _summary(peer_released, spec.k)
    thresholds = {c.threshold for c in peer.values()}
    return LevelComparison(
        spec.granularity,
        spec.level,
        spec.epsilon,
        spec.max_cells_per_participant,
        cells,
        p_n,
        q_n,
        p_abs,
        q_abs,
        p_signed,
        q_signed,
        p_below,
        q_below,
        max(thresholds) if thresholds else 0,
        ceiling.epsilon if ceiling else float("nan"),
        len(top_released),
        _errors(top_released)[0],
    )


def compare(
    warehouse: Warehouse,
    policy: ReleasePolicy,
    levels: Sequence[str] = ("city", "city_category"),
    ceiling: bool = True,
) -> PeerComparison:
    """Project vs PipelineDP on the day release's ``levels``; a note instead when PipelineDP is missing.
    With ``ceiling``, PipelineDP also runs each count at the period's whole epsilon."""
    if not available():
        return PeerComparison(note=INSTALL_HINT)
    if not policy.for_granularity("day").enabled:
        return PeerComparison(note="day periods are not released: no PipelineDP comparison")
    return PeerComparison(
        [
            compare_level(
                warehouse,
                count_spec(policy, "day", level),
                count_spec(policy, "day", level, whole_period=True) if ceiling else None,
            )
            for level in levels
        ]
    )


__all__ = [
    "INSTALL_HINT",
    "CountSpec",
    "LevelComparison",
    "PeerCell",
    "PeerComparison",
    "available",
    "compare",
    "compare_level",
    "count_spec",
    "max_cells_per_participant",
    "pipelinedp_count",
    "threshold",
]
