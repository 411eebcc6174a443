"""Where each target's deliveries live: one folder per target, nothing shared between targets.

```
<delivery root>/<target>/          PRIVACY_INSIGHTS_DELIVERY_DIR (default: delivery/ beside the DuckDB file)
    delivery.sqlite                dev's delivery store (PostgreSQL targets: their audit schema instead)
    published/spots_insights_v1/   what `publish --target <target>` writes and `serve --target <target>` reads
<export_dir>/<target>/             where `export --target <target>` writes without --output-dir (export_policy.yml)
```

A server, an export and a publish of one target read and write only that target's folders
(and its store); an export refuses an ``--output-dir`` inside another target's folders.
Before these folders were per target, every target shared ``<delivery root>/published`` (so a
``publish`` of dev replaced what a prod server served) and dev's store was
``<delivery root>/delivery.sqlite``: see ``legacy_store_error`` and ``legacy_published_hint``.
"""

from __future__ import annotations

import os
from pathlib import Path

from privacy_insights import targets

DATASET = "spots_insights_v1"


def delivery_root() -> Path:
    """The folder holding one delivery folder per target."""
    configured = os.environ.get("PRIVACY_INSIGHTS_DELIVERY_DIR")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else targets.project_root() / path
    return targets.duckdb_path().parent / "delivery"


def delivery_dir(target: str) -> Path:
    return delivery_root() / targets.check_target(target)


def published_dir(target: str) -> Path:
    return delivery_dir(target) / "published" / DATASET


def sqlite_path() -> Path:
    """dev's delivery store (the only target whose store is a file)."""
    return delivery_dir("dev") / "delivery.sqlite"


def export_root(export_dir: str) -> Path:
    """``export_dir`` of export_policy.yml as a path (relative to the project folder)."""
    path = Path(export_dir)
    return path if path.is_absolute() else targets.project_root() / path


def default_export_dir(export_dir: str, target: str) -> Path:
    return export_root(export_dir) / targets.check_target(target)


def foreign_folder(folder: Path, target: str, export_dir: str) -> Path | None:
    """The other target's folder that ``folder`` lies in (or is), else None."""
    real = folder.resolve()
    for other in targets.TARGETS:
        if other == target:
            continue
        for owned in (delivery_dir(other), default_export_dir(export_dir, other)):
            if real.is_relative_to(owned.resolve()):
                return owned
    return None


# -- folders from before delivery was per target ------------------------------------------------


def legacy_store_path() -> Path:
    return delivery_root() / "delivery.sqlite"


def legacy_store_error() -> str | None:
    """Why the dev store cannot be opened while the store of the old layout is still in place."""
    old = legacy_store_path()
    if not old.exists():
        return None
    new = sqlite_path()
    return (
        f"delivery store: {old} is dev's store from before delivery folders were per target; with no "
        f"`serve`, `export` or `buyers` of dev running, move it and its -wal and -shm files to {new.parent}/ "
        f"(mkdir -p {new.parent} && mv {old}* {new.parent}/)"
        + (f"; {new} exists too: keep one of the two" if new.exists() else "")
    )


def legacy_published_hint(target: str) -> str:
    """Appended to "nothing published": the shared snapshot folder of the old layout is not served."""
    old = delivery_root() / "published"
    if not old.exists():
        return ""
    return (
        f"; {old} is from before delivery folders were per target (its CURRENT may be another target's) "
        f"and is never served: publish with `privacy-insights publish --target {target}`, then delete it"
    )
