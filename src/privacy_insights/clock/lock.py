"""One release at a time per warehouse on this machine.

An exclusive ``fcntl.flock`` on a lock file beside the target's local DuckDB file (the
warehouse file on ``dev``, the engine's scratch file on the PostgreSQL targets; both can be opened
by one dbt process only anyway). The kernel drops the lock when the holder exits, even
on a crash or ``kill -9``, so a stale lock file never blocks the next run. It does not
cover other machines: on PostgreSQL the database itself must refuse a second concurrent
release (docs/operator.md, "Scheduled releases").
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

POLL_SECONDS = 0.5


def lock_path(local_file: Path, identity: str) -> Path:
    """``<folder of local_file>/release-<identity>.lock``, identity reduced to a safe name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", identity).strip("_") or "warehouse"
    return local_file.parent / f"release-{safe}.lock"


class ReleaseLock:
    """``try_acquire(wait_seconds)`` is False when another process still holds the lock
    after ``wait_seconds`` (0: do not wait); ``release()`` (or leaving ``with``) frees it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    def try_acquire(self, wait_seconds: float = 0.0) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ReleaseLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
