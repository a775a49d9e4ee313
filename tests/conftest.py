"""Shared test helpers: run the CLI in-process exactly as the console script does."""

from __future__ import annotations

import io
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from convcalc.cli.app import main

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


class Terminal(io.StringIO):
    """Output that says it is a terminal, as rich asks (``isatty``)."""

    def isatty(self) -> bool:
        return True


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_cli(*args: str, stdin: str = "", terminal: int | None = None) -> Result:
    """Call the `convcalc` entry point with arguments; capture its exit code and output. With ``terminal``, the
    output is a terminal that many columns wide (rich reads COLUMNS), its styles stripped."""
    out, err = (Terminal(), Terminal()) if terminal else (io.StringIO(), io.StringIO())
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr
    environment = {name: os.environ.get(name) for name in ("COLUMNS", "NO_COLOR")}
    if terminal:
        os.environ.update(COLUMNS=str(terminal), NO_COLOR="1")
    sys.argv = ["convcalc", *args]
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
        for name, value in environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return Result(code, ANSI.sub("", out.getvalue()), ANSI.sub("", err.getvalue()))


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write YAML text to a file and return its path."""

    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
