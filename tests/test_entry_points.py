"""Ways in: `python -m convcalc`, `--version`, shell completion, and commands that import their work lazily."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, SPECS, run_cli

VERSION = importlib.metadata.version("convcalc")  # the installed distribution's, which hatch reads from __init__


def python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True)


def test_python_dash_m_convcalc_runs_the_cli():
    result = python("-m", "convcalc", "analyze", str(SPECS / "lenet5.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    # LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 parameters (specs/lenet5.yaml's source)
    assert json.loads(result.stdout)["total"]["params"] == 61_706


def test_version_is_the_package_version():
    assert run_cli("--version").stdout == f"convcalc {VERSION}\n"
    result = python("-m", "convcalc", "--version")
    assert result.returncode == 0 and result.stdout == f"convcalc {VERSION}\n"


def test_shell_completion_is_offered_and_completes_commands():
    help_text = run_cli("--help").stdout
    assert "--install-completion" in help_text and "--show-completion" in help_text
    # what the installed bash completion asks the `convcalc` script when the user types `convcalc sw<TAB>`
    script = "import sys; sys.argv = ['convcalc']; from convcalc.cli.app import main; main()"
    environment = {**os.environ, "_CONVCALC_COMPLETE": "complete_bash", "COMP_WORDS": "convcalc sw", "COMP_CWORD": "1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sweep"]


def test_the_new_commands_load_their_modules_only_when_run():
    """Cold start: importing the CLI must not import the schema, sweep, export, calibration or latency code (nor
    jsonschema, torch or numpy)."""
    probe = "import sys, convcalc.cli.app; print(' '.join(sorted(sys.modules)))"
    loaded = set(python("-c", probe).stdout.split())
    for module in (
        "convcalc.spec.schema",
        "convcalc.sweep",
        "convcalc.export",
        "convcalc.render.table",
        "convcalc.measure.calibrate",
        "convcalc.passes.latency",
        "convcalc.passes.devices",
        "jsonschema",
        "torch",
        "numpy",
    ):
        assert module not in loaded, module


@pytest.mark.parametrize("form", ["json", "csv", "markdown", "latex"])
def test_the_plain_formats_never_import_rich(form: str):
    """Issue 26, cold start: the JSON, CSV, markdown and LaTeX paths print without rich's table machinery."""
    probe = (
        "import sys\nfrom convcalc.cli.app import main\n"
        f"sys.argv = ['convcalc', 'analyze', 'resnet50', '--format', {form!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    loaded = set(python("-c", probe).stderr.split())
    assert "convcalc.engine.run" in loaded  # the probe did analyse
    assert sorted(module for module in loaded if module == "rich" or module.startswith("rich.")) == []
