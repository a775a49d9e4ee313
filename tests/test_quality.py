"""The project's habits, checked on every test run: ruff (lint and format) and mypy --strict on convcalc/."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

LINTED = [folder for folder in ("convcalc", "tests", "benchmarks", "tools") if (REPO / folder).is_dir()]
"""benchmarks/ is linted once it exists."""


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True)


def test_ruff_lint():
    result = run("ruff", "check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = run("ruff", "format", "--check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict():
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
