"""The installed package, not the checkout: `pip install .` into a fresh virtual environment, then `convcalc` run
from a folder outside the checkout (its console script, its bundled specs folder, its version).

`python -m pytest` imports convcalc from the checkout, so only this test sees what a user installs. It needs a
package index for the build backend and the dependencies (as `pip install .` itself does); without one it is
skipped, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO, SPECS
from tests.test_entry_points import VERSION


def run(*command: str | Path, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the environment's bin folder, a working folder outside the checkout)."""
    root = tmp_path_factory.mktemp("installed")
    probe = run(
        sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", root / "probe", "hatchling", cwd=root
    )
    if probe.returncode != 0:
        pytest.skip(
            f"no package index reachable (offline?), so `pip install .` cannot run: {probe.stderr.strip()[-200:]}"
        )
    venv.create(root / "venv", with_pip=True)
    bin_folder = root / "venv" / ("Scripts" if os.name == "nt" else "bin")
    python = bin_folder / "python"
    result = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", REPO, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    work = root / "elsewhere"
    work.mkdir()
    return bin_folder, work


def test_the_console_script_runs_outside_the_checkout(installed: tuple[Path, Path]) -> None:
    bin_folder, work = installed
    result = run(bin_folder / "convcalc", "--version", cwd=work)
    assert result.returncode == 0 and result.stdout == f"convcalc {VERSION}\n", result.stderr
    where = run(bin_folder / "python", "-c", "import convcalc; print(convcalc.__file__)", cwd=work)
    assert Path(where.stdout.strip()).is_relative_to(bin_folder.parent), where.stdout
    assert not Path(where.stdout.strip()).is_relative_to(REPO)


def test_bundled_specs_are_installed(installed: tuple[Path, Path]) -> None:
    bin_folder, work = installed
    result = run(bin_folder / "convcalc", "zoo", "--format", "json", cwd=work)
    assert result.returncode == 0, result.stderr
    assert sorted(spec["name"] for spec in json.loads(result.stdout)["specs"]) == sorted(
        p.stem for p in SPECS.glob("*.yaml")
    )
    result = run(bin_folder / "convcalc", "analyze", "lenet5", "--format", "json", cwd=work)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["total"]["params"] == 61_706  # LeNet-5's published parameter count (specs/lenet5.yaml)
    assert Path(document["source"]).is_relative_to(bin_folder.parent)  # read from the installed package


def test_the_installed_schema_is_the_shipped_one(installed: tuple[Path, Path]) -> None:
    bin_folder, work = installed
    result = run(bin_folder / "convcalc", "schema", cwd=work)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads((SPECS / "convcalc.schema.json").read_text(encoding="utf-8"))
