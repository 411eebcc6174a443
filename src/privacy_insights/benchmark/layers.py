"""Where a ``dbt build`` spends its time, per layer, from dbt's own artifacts.

``run_results.json`` has each node's execution time and the run's elapsed time;
``manifest.json`` says what each node is. Node times are summed per layer; with
several threads they overlap, so a layer's share is of the summed node time, and the
part of the wall time outside the run (start-up, parsing, compilation of the DAG) is
reported separately as ``dbt overhead``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

LAYERS = ("staging", "intermediate", "Python DP models", "marts (SQL)", "tests", "seeds, snapshots, hooks")


def layer_of(node: dict) -> str:
    """The benchmark layer of a manifest node."""
    kind = node.get("resource_type")
    if kind in ("test", "unit_test"):
        return "tests"
    if kind in ("seed", "snapshot", "operation"):
        return "seeds, snapshots, hooks"
    if kind != "model":
        raise ValueError(f"node {node.get('unique_id')}: no benchmark layer for resource type {kind!r}")
    if node.get("language") == "python":
        return "Python DP models"
    path = Path(node.get("original_file_path", ""))
    parts = path.parts
    if "staging" in parts:
        return "staging"
    if "intermediate" in parts:
        return "intermediate"
    return "marts (SQL)"


@dataclass(frozen=True)
class NodeTime:
    unique_id: str
    layer: str
    seconds: float


@dataclass(frozen=True)
class RunProfile:
    elapsed_s: float  # dbt's own elapsed time of the run (after parsing)
    nodes: tuple[NodeTime, ...]

    def layer_seconds(self) -> dict[str, float]:
        totals = {layer: 0.0 for layer in LAYERS}
        for node in self.nodes:
            totals[node.layer] += node.seconds
        return totals

    def layer_shares(self) -> dict[str, float]:
        totals = self.layer_seconds()
        whole = sum(totals.values())
        return {layer: (seconds / whole if whole else 0.0) for layer, seconds in totals.items()}

    def slowest(self, count: int, layer: str | None = None) -> list[NodeTime]:
        chosen = [n for n in self.nodes if layer is None or n.layer == layer]
        return sorted(chosen, key=lambda n: n.seconds, reverse=True)[:count]

    def to_dict(self) -> dict:
        return {
            "elapsed_s": self.elapsed_s,
            "nodes": len(self.nodes),
            "layer_seconds": self.layer_seconds(),
            "slowest": [vars(n) for n in self.slowest(8)],
        }


def read_profile(target_path: Path) -> RunProfile:
    """The profile of the last dbt command that wrote ``target_path``."""
    results = json.loads((target_path / "run_results.json").read_text())
    manifest = json.loads((target_path / "manifest.json").read_text())
    nodes = []
    for result in results["results"]:
        uid = result["unique_id"]
        if uid in manifest.get("exposures", {}):
            continue  # dbt lists exposures as no-op results: they run nothing
        # dbt keeps unit tests apart from the other nodes in the manifest
        node = manifest["nodes"].get(uid) or manifest.get("unit_tests", {}).get(uid)
        if node is None:
            raise ValueError(f"run_results.json names {uid}, which manifest.json does not have")
        nodes.append(NodeTime(uid, layer_of(node), float(result.get("execution_time") or 0.0)))
    return RunProfile(float(results["elapsed_time"]), tuple(nodes))
