"""Run one benchmark step as its own process and measure it: wall time and peak RSS.

Every measured step (the generator, ``dbt build``, each baseline) is a separate process,
so its peak resident memory is its own: ``os.wait4`` returns the child's ``ru_maxrss``.
dbt-duckdb runs DuckDB and the Python models inside the dbt process, so that one
figure covers the whole build.

The step is started by a small launcher process (``LAUNCHER``), not by the caller: Linux
counts in a child's ``ru_maxrss`` the resident size of the process it was forked and
exec'd from (the old memory map's high-water mark), so a step started by a large caller (a
test worker that has loaded a warehouse, say) would report the caller's size. The launcher
is a bare Python of about 10 MiB; it waits for the step and writes the step's exit status
and ``ru_maxrss`` to a file. Wall time includes its start, a few tens of milliseconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class StepFailed(RuntimeError):
    """A benchmark step exited non-zero; the message carries the end of its output."""


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def drop_page_cache(control: Path = DROP_CACHES) -> None:
    """Write dirty pages out and drop the OS page cache, so the next step reads the warehouse
    from disk, as a build does that runs a day after the last one touched the file.

    Linux only, and only as root: anything else is refused with the reason, never ignored.
    """
    os.sync()
    try:
        control.write_text("1\n")
    except OSError as error:
        raise RuntimeError(
            f"--cold-cache: cannot drop the OS page cache ({control}: {error.strerror or error}); "
            "it needs root on Linux. Run without --cold-cache to measure with whatever the cache holds."
        ) from error


@dataclass(frozen=True)
class Step:
    label: str
    wall_s: float
    peak_rss_mib: float
    output: str

    def last_json(self) -> dict:
        """The JSON object that ends the step's output (what a baseline or the generator reports)."""
        lines = self.output.rstrip().splitlines()
        for start in range(len(lines) - 1, -1, -1):
            if lines[start].startswith("{"):
                try:
                    return json.loads("\n".join(lines[start:]))
                except ValueError:
                    continue
        raise StepFailed(f"{self.label}: its output does not end with a JSON summary")


# argv: the result file, then the step's command. Writes "<exit code> <ru_maxrss in KiB>".
LAUNCHER = (
    "import os, sys\n"
    "pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(f'{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}')\n"
)


def run_step(label: str, args: list[str], env: dict[str, str], cwd: Path) -> Step:
    """Run ``args`` to completion; raise StepFailed with its output's tail if it fails."""
    with tempfile.TemporaryFile(mode="w+") as sink, tempfile.TemporaryDirectory() as scratch:
        result = Path(scratch) / "result"
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(result), *map(str, args)]
        started = time.perf_counter()
        subprocess.run(launcher, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - started
        sink.seek(0)
        output = sink.read()
        if not result.exists():
            raise StepFailed(f"{label}: the launcher did not start it:\n{output[-4000:]}")
        returncode, maxrss_kib = (int(v) for v in result.read_text().split())
    if returncode != 0:
        raise StepFailed(f"{label} failed with exit code {returncode}:\n{output[-4000:]}")
    return Step(label, wall, maxrss_kib / 1024, output)  # ru_maxrss is in KiB on Linux
