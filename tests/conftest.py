"""Shared test helpers: run the CLI in-process exactly as the console script does."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from convcalc.cli import main

# Property and fuzz tests draw the same examples on every run (CI is reproducible, a failure reruns as it failed);
# HYPOTHESIS_PROFILE=explore draws new ones, to look further on a workstation.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "specs"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: str = "") -> Result:
    """Call the `convcalc` entry point with arguments; capture its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr
    sys.argv = ["convcalc", *args]
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write YAML text to a file and return its path."""

    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
