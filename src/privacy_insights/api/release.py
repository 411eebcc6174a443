"""The published release in memory, indexed for slices, reloaded when a new one is published.

Every record of a snapshot was validated (JSON Schema + deny-list, the same
``RecordValidator`` as file exports) before it was published, and the server checks on load
that the snapshot's content hash is the validated release's id. Each record's JSON bytes are
encoded once (CSV on first use); a response is assembled only from those records, so nothing
unvalidated is ever sent, and a cell's bytes are the same in every response and across rebuilds.
"""

from __future__ import annotations

import bisect
import gc
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

from privacy_insights.export import writer
from privacy_insights.export.locations import legacy_published_hint
from privacy_insights.export.policy import ExportRequest
from privacy_insights.export.publish import current_manifest, load_snapshot

log = logging.getLogger(__name__)


@dataclass
class Cell:
    bucket: str
    key: tuple
    door_type: str
    category: str
    context: str
    suppressed: bool
    record: dict
    json: bytes
    _csv: bytes | None = None

    @property
    def csv(self) -> bytes:
        if self._csv is None:
            self._csv = writer.csv_line(self.record)
        return self._csv


class Release:
    def __init__(self, manifest: dict, records: list[dict], lines: list[bytes]):
        self.manifest = manifest
        self.index: dict[tuple[str, str], list[Cell]] = {}
        for r, line in zip(records, lines, strict=True):
            seg = r["segment"]
            cell = Cell(
                r["time_bucket_start_utc"],
                (r["time_bucket_start_utc"], r["geo_bucket"]["id"], seg["door_type"], seg["category"], seg["context"]),
                seg["door_type"],
                seg["category"],
                seg["context"],
                r["privacy"]["suppressed"],
                r,
                line,
            )
            self.index.setdefault((r["time_granularity"], r["geo_bucket"]["id"]), []).append(cell)
        for cells in self.index.values():
            cells.sort(key=lambda c: c.key)
        # the same lists without suppressed cells: what most requests read
        self.released = {k: [c for c in v if not c.suppressed] for k, v in self.index.items()}
        self.buckets = {k: [c.bucket for c in v] for k, v in self.index.items()}
        self.released_buckets = {k: [c.bucket for c in v] for k, v in self.released.items()}
        self.bodies = BodyCache()

    def select(self, request: ExportRequest) -> list[Cell]:
        low = f"{request.start.isoformat()}T00:00:00Z"
        high = f"{(request.end + timedelta(days=1)).isoformat()}T00:00:00Z"
        out = []
        categories, door_types, contexts = set(request.categories), set(request.door_types), set(request.contexts)
        index, buckets = (
            (self.index, self.buckets) if request.include_suppressed else (self.released, self.released_buckets)
        )
        for city in sorted(set(request.cities)):
            cells = index.get((request.granularity, city), [])
            keys = buckets.get((request.granularity, city), [])
            for cell in cells[bisect.bisect_left(keys, low) : bisect.bisect_left(keys, high)]:
                if (
                    (categories and cell.category not in categories)
                    or (door_types and cell.door_type not in door_types)
                    or (contexts and cell.context not in contexts)
                ):
                    continue
                out.append(cell)
        out.sort(key=lambda c: c.key)
        return out

    def body(self, request: ExportRequest) -> tuple[bytes, int]:
        """The response body of a slice and its record count; a slice the same buyer asked
        before (same normalised slice and format) is answered from a bounded cache of this
        release. The cache is per buyer: a slice another buyer asked is no faster, so the
        answer's timing tells no buyer what others query."""
        key = (request.buyer_id, request.fingerprint(), request.fmt)
        cached = self.bodies.get(key)
        if cached is None:
            cells = self.select(request)
            cached = self.bodies.put(key, (encode(cells, request.fmt), len(cells)))
        return cached


class BodyCache:
    """Least recently used response bodies, at most ``max_bytes`` in total."""

    def __init__(self, max_bytes: int = 256 * 2**20):
        self.max_bytes, self.size = max_bytes, 0
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value):
        with self.lock:
            if key not in self.items and len(value[0]) <= self.max_bytes:
                self.items[key] = value
                self.size += len(value[0])
                while self.size > self.max_bytes:
                    _, old = self.items.popitem(last=False)
                    self.size -= len(old[0])
            return value


def encode(cells: list[Cell], fmt: str) -> bytes:
    """The same bytes as ``writer.encode`` of the cells' records (built from cached pieces)."""
    if fmt == "json":
        return b"[" + b",".join(c.json for c in cells) + b"]"
    if fmt == "jsonl":
        return b"".join(c.json + b"\n" for c in cells)
    if fmt == "csv":
        return writer.csv_header() + b"".join(c.csv for c in cells)
    return writer.encode([c.record for c in cells], fmt)


NO_RELEASE = "no release has been published yet"
LOAD_FAILED = "the published release could not be loaded; the server log has the details"
OTHER_TARGET = "the published snapshot was refused: it belongs to another target; the server log has the details"


class ReleaseHolder:
    """The release being served; a background thread loads a newly published one, and requests
    keep using the previous one until it is ready. Only snapshots published from ``target``
    (its own folder, its manifest naming it) are served: one of another target is refused and
    logged, and the previous release stays. ``error`` is what went wrong, for the server log
    (paths, parser errors); ``problem`` the generic text clients may see."""

    def __init__(self, target: str, poll_seconds: float = 1.0):
        self.target = target
        self.poll_seconds = poll_seconds
        self.release: Release | None = None
        self.error: str | None = None
        self.problem: str | None = None
        self._stop = threading.Event()
        self.refresh()
        self._thread = threading.Thread(target=self._poll, name="release-reloader", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        try:
            manifest = current_manifest(self.target)
            if manifest is None:
                self.error = (
                    f"{NO_RELEASE} for target {self.target}: run "
                    f"`privacy-insights publish --target {self.target}` after `dbt build`"
                    + legacy_published_hint(self.target)
                )
                self.problem = NO_RELEASE
                return
            if self.release is not None and self.release.manifest["release_id"] == manifest["release_id"]:
                return
            if manifest.get("source_target") != self.target:
                refused = (
                    f"refused the published snapshot {manifest.get('release_id')}: it was published from target "
                    f"{manifest.get('source_target')!r} (ledger {manifest.get('ledger')!r}), this server serves "
                    f"{self.target!r}; run `privacy-insights publish --target {self.target}`"
                )
                if refused != self.error:  # logged once, not on every poll
                    log.error(refused)
                self.error, self.problem = refused, OTHER_TARGET
                return
            self.release = Release(manifest, *load_snapshot(self.target, manifest))
            # the release's millions of long-lived objects leave the collector's generations:
            # a full collection walking them paused every request for hundreds of ms
            # (unfreeze first, so a replaced release's objects can be collected)
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.error = self.problem = None
            log.warning("serving release %s (%s rows)", manifest["release_id"], manifest["rows"])
        except Exception as exc:  # keep serving the previous release; health says something is wrong
            error = f"could not load the published release: {exc}"
            if error != self.error:  # once per problem, not once per poll
                log.error(error)
            self.error, self.problem = error, LOAD_FAILED

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
