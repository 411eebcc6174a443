"""Complementary suppression: a suppressed cell is never the only unknown of a published sum.

After consistency post-processing, released children add up to their released parent. A
parent with exactly one suppressed child would give that child away (parent minus its
released siblings), and a suppressed parent whose children are all released would be their
sum. So for every additive relation of a city, bucket and period

    city = its door types           city = its categories
    door type d = its segments (d)  category c = its segments (c)

the cells suppressed among the parent and its children are never exactly one: when they
are, the smallest released child (by its published participants, then the order of the
rows) is suppressed too, with reason `complementary`, and the relations are checked again
until none has a lone suppressed cell (suppressing a segment can leave one in its other
relation). The choice reads published values only (noisy, post-processed), so it is
post-processing and costs no privacy. What it does not do: solve the whole system (two
suppressed cells of one relation are known together, as their sum, and non-negativity
bounds each); see the data dictionary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REASON = "complementary"
GROUP = ["release_period_start", "time_bucket_start_utc", "geo_bucket_id"]
# (parent level, child level, the dimension the child shares with its parent)
RELATIONS = [
    ("city", "city_door_type", None),
    ("city", "city_category", None),
    ("city_door_type", "city_segment", "segment_door_type"),
    ("city_category", "city_segment", "segment_category"),
]


def _memberships(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (relation, cell): the cell's row number and whether it is the relation's parent."""
    parts = []
    rows = frame.reset_index(drop=True).assign(_row=np.arange(len(frame)))
    for number, (parent, child, shared) in enumerate(RELATIONS):
        key = GROUP + ([shared] if shared else [])
        parents = rows[rows["release_level"] == parent]
        children = rows[rows["release_level"] == child]
        if children.empty:
            continue
        # a relation exists where both the parent and its children were published
        ids = parents[key].merge(children[key].drop_duplicates(), on=key).drop_duplicates()
        ids["_relation"] = np.arange(len(ids)) + number * 10**9
        for role, cells in (("parent", parents), ("child", children)):
            joined = cells[key + ["_row"]].merge(ids, on=key)
            parts.append(joined[["_relation", "_row"]].assign(_parent=role == "parent"))
    if not parts:
        return pd.DataFrame({"_relation": [], "_row": [], "_parent": []})
    return pd.concat(parts, ignore_index=True)


def complementary_suppression(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``: one period's release rows (every level) with ``unique_participants_est`` published
    and ``privacy_suppressed`` / ``privacy_suppressed_reason`` decided. Returns it with the
    complementary suppressions added (their metrics still set; ``release.py`` hides them)."""
    if frame.empty:
        return frame
    out = frame.reset_index(drop=True).copy()
    members = _memberships(out)
    if members.empty:
        return out
    suppressed = out["privacy_suppressed"].to_numpy(dtype=bool).copy()
    size = out["unique_participants_est"].to_numpy(dtype="float64", na_value=np.inf)
    rows, relation, is_parent = (members[c].to_numpy() for c in ("_row", "_relation", "_parent"))
    added = np.zeros(len(out), dtype=bool)
    while True:
        hidden = pd.Series(suppressed[rows]).groupby(relation).sum()
        lone = set(hidden.index[hidden.to_numpy() == 1])
        if not lone:
            break
        candidates = members[np.isin(relation, list(lone)) & ~is_parent & ~suppressed[rows]].assign(
            _size=lambda m: size[m["_row"].to_numpy()]
        )
        smallest = candidates.sort_values(["_relation", "_size", "_row"]).drop_duplicates("_relation")["_row"]
        chosen = smallest.to_numpy(dtype=np.int64)
        if len(chosen) == 0:  # a lone suppressed cell with no released child left: cannot happen, refuse
            raise ValueError("complementary suppression: a relation has one suppressed cell and no released child")
        suppressed[chosen] = True
        added[chosen] = True
    out.loc[added, "privacy_suppressed"] = True
    out.loc[added, "privacy_suppressed_reason"] = REASON
    return out


def lone_suppressed(frame: pd.DataFrame) -> pd.DataFrame:
    """The relations (by their parent row) whose parent and children hold exactly one suppressed
    cell: what a buyer could subtract. Empty after ``complementary_suppression``."""
    members = _memberships(frame)
    if members.empty:
        return frame.iloc[0:0]
    out = frame.reset_index(drop=True)
    hidden = members.assign(_hidden=out["privacy_suppressed"].to_numpy(dtype=bool)[members["_row"].to_numpy()])
    counts = hidden.groupby("_relation")["_hidden"].sum()
    lone = counts.index[counts.to_numpy() == 1]
    parents = members[members["_parent"] & members["_relation"].isin(lone)]["_row"]
    return out.iloc[parents.to_numpy()]
