"""Files the delivery writes, made so that nothing planted in a folder can redirect them.

An export folder may be writable by others (a pick-up folder a buyer's account writes to), so:

- a new file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` under an unpredictable
  temporary name (``.<name>.<pid>.<random>.partial``): a symlink or any file already at that
  path makes the creation fail instead of being followed or overwritten;
- what was written is read back from the same open file (never by path again);
- a delivered file is moved into place with ``link()``, which never replaces an existing name
  (a symlink or a file planted at the final name is refused), and the linked name is checked
  to be the file that was written before the temporary name is removed;
- ``replace_atomically`` (the data dictionary, published snapshots) renames over the old file,
  which replaces a planted symlink itself rather than following it.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from contextlib import suppress
from pathlib import Path

# ``.<name>.<pid>.<16 hex>.partial``; without the random part as the versions before it wrote them
# (the shortest name that fits: an all-digit random part is not taken for the pid)
PARTIAL = re.compile(r"^\.(?P<name>.+?)\.(?P<pid>[0-9]+)(?:\.[0-9a-f]{16})?\.partial$")
_CREATE = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class Redirected(OSError):
    """A path the delivery wrote is no longer the file it wrote (replaced by someone else)."""


def temporary_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(8)}.partial")


def write_new(path: Path, data: bytes) -> tuple[os.stat_result, bytes]:
    """Create ``path`` (it must not exist, and is never followed as a symlink), write ``data``,
    flush it to disk and read it back from the same open file. Returns (its stat, the bytes read)."""
    fd = os.open(path, _CREATE, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        status = os.fstat(fd)
        chunks, offset = [], 0
        while chunk := os.pread(fd, 1 << 20, offset):
            chunks.append(chunk)
            offset += len(chunk)
    except BaseException:
        with suppress(OSError):
            os.unlink(path)  # ours: O_EXCL created it
        raise
    finally:
        os.close(fd)
    return status, b"".join(chunks)


def same_file(path: Path, status: os.stat_result) -> bool:
    """``path`` itself (not a symlink's target) is the regular file ``status`` describes."""
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(now.st_mode) and (now.st_dev, now.st_ino) == (status.st_dev, status.st_ino)


def link_into_place(temporary: Path, final: Path, status: os.stat_result) -> None:
    """Give the written file its final name without replacing anything, then drop the temporary name.
    Raises FileExistsError when ``final`` exists (a file or a symlink), Redirected when the
    temporary name no longer is the file written (nothing is then left at ``final``)."""
    if not same_file(temporary, status):
        raise Redirected(f"{temporary.name} was replaced after it was written")
    os.link(temporary, final, follow_symlinks=False)
    if not same_file(final, status):
        with suppress(OSError):
            os.unlink(final)
        raise Redirected(f"{temporary.name} was replaced while it was moved into place")
    os.unlink(temporary)


def replace_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a reader sees the old or the new content)."""
    temporary = temporary_path(path)
    status, _ = write_new(temporary, data)
    try:
        if not same_file(temporary, status):
            raise Redirected(f"{temporary.name} was replaced after it was written")
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def is_regular_file(path: Path) -> bool:
    """A regular file, not a symlink (to one), directory, FIFO or device."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
