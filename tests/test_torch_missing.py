"""Without torch, the PyTorch inputs are one message saying what to install (exit 2), and nothing else changes:
torch is simulated away (an entry of None in sys.modules makes `import torch` fail), so this runs with or without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from convcalc.formats import IMPORT_PATH, format_of
from tests.conftest import run_cli


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)


def test_the_forms_are_told_apart(tmp_path: Path) -> None:
    assert format_of("package.models:resnet34") is IMPORT_PATH
    assert format_of("models:build.large") is IMPORT_PATH
    assert format_of("model.pt2").name == "PyTorch ExportedProgram"  # type: ignore[union-attr]
    assert format_of("specs/resnet50.yaml") is None and format_of("C:/specs/a.yaml") is None
    existing = tmp_path / "odd:name"
    existing.write_text("layers: []\n", encoding="utf-8")
    assert format_of(str(existing)) is None  # a file of that name is a spec


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "package.models:resnet34", "--input", "3x224x224"],
        ["analyze", "{saved}"],
        ["import", "package.models:resnet34", "--input", "3x224x224"],
        ["compare", "package.models:a", "resnet18", "--input", "3x224x224"],
        ["sweep", "package.models:a", "--input", "3x224x224,3x320x320"],
    ],
)
def test_without_torch_the_message_says_what_to_install(no_torch: None, argv: list[str], tmp_path: Path) -> None:
    saved = tmp_path / "model.pt2"
    saved.write_bytes(b"PK")
    result = run_cli(*(arg.format(saved=saved) for arg in argv))
    assert result.code == 2, result.stderr
    assert "needs PyTorch" in result.stderr and "pip install 'convcalc[torch]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_spec_needs_no_torch(no_torch: None) -> None:
    assert run_cli("analyze", "lenet5", "-f", "json").code == 0
