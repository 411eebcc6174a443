"""Whole-folder replacement: readers see the old folder or the complete new one, never a mix."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path


def replace_folder(new: Path, final: Path) -> None:
    """Put the complete folder ``new`` at ``final``; the previous one is removed only after."""
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
    if final.exists():
        final.rename(old)
    new.rename(final)
    if old.exists():
        shutil.rmtree(old)
