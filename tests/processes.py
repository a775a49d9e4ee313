"""Whole `python -m convcalc` runs, measured: their output and the peak of their resident memory.

The peak is the child's own VmHWM (Linux's /proc/self/status), read as it exits: the rusage of a child counts the
memory its parent had when it started (fork copies the high-water mark), so a test or benchmark holding a large model
in memory would be charged for it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MEASURED = (
    "import runpy, sys\n"
    "sys.argv = ['convcalc', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('convcalc', run_name='__main__')\n"
    "finally:\n"
    "    peak = [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0]\n"
    "    print(f'peak {peak.split()[1]}', file=sys.stderr)\n"
)


def measurable() -> bool:
    """Whether this system reports a process's peak memory (Linux)."""
    return Path("/proc/self/status").exists()


def peak_run(*args: str, timeout: float = 120) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run `python -m convcalc ARGS` from the repository; its peak resident memory in MiB, and the run (its standard
    error without the measurement)."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    rest, _, last = result.stderr.rstrip("\n").rpartition("\n")
    result.stderr = rest + "\n" if rest else ""
    return int(last.split()[1]) / 1024, result
