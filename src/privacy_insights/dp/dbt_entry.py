"""What the dbt Python release models call. The models stay a few lines long.

dbt builds its DAG from the literal ``dbt.ref(...)`` calls in the model file, so the
model passes its refs in; this module reduces them to what the release needs (the
budget history and the latest released period), reads them into pandas (whatever
DataFrame the engine returns), and calls ``release_granularity``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd

from privacy_insights.dp.params import parse_policy
from privacy_insights.dp.release import HISTORY_COLUMNS, RELEASE_COLUMNS, empty_release, history_of, release_granularity


def to_pandas(frame: Any) -> pd.DataFrame:
    """A pandas frame from a DuckDB relation, a Spark or Snowpark DataFrame, or pandas."""
    if isinstance(frame, pd.DataFrame):
        return frame
    for method in ("df", "toPandas", "to_pandas"):
        if hasattr(frame, method):
            return getattr(frame, method)()
    raise TypeError(f"cannot read a {type(frame).__name__} into pandas")


def _history(frame: Any) -> pd.DataFrame:
    """Ledger view of a release table, aggregated in the engine when it is a DuckDB relation."""
    if hasattr(frame, "aggregate"):
        return to_pandas(frame.aggregate(
            "time_granularity, release_period_start, max(privacy_dp_epsilon) as privacy_dp_epsilon",
            "time_granularity, release_period_start"))
    return history_of(to_pandas(frame))


def release_model(dbt: Any, session: Any, granularity: str, cells: Any, upstream: list[Any],
                  spots_release: Any, reporting_delay_hours: Any) -> pd.DataFrame:
    """Release ``granularity``. dbt passes a Python model only the configs its own file
    reads with ``dbt.config.get``, so the model reads the policy and hands it in."""
    policy = parse_policy(spots_release, reporting_delay_hours)
    histories = [_history(u) for u in upstream]
    previous = empty_release()
    if dbt.is_incremental:
        histories.append(_history(session.sql(f"select * from {dbt.this}")))
        columns = ", ".join(RELEASE_COLUMNS)
        previous = to_pandas(session.sql(
            f"select {columns} from {dbt.this} "
            f"where release_period_start = (select max(release_period_start) from {dbt.this})"))
    history = pd.concat(histories, ignore_index=True) if histories else pd.DataFrame(columns=HISTORY_COLUMNS)
    if hasattr(cells, "filter"):
        # Only this granularity's periods not released yet reach pandas: the domain keeps
        # growing with time, the work per build should not.
        unreleased = (f" and period_start not in (select distinct release_period_start from {dbt.this})"
                      if dbt.is_incremental else "")
        cells = cells.filter(f"granularity = '{granularity}'{unreleased}")
    return release_granularity(
        cells=to_pandas(cells),
        granularity=granularity,
        policy=policy,
        history=history,
        previous_rows=previous,
        released_at=datetime.now(timezone.utc),
    )
