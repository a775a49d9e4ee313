"""README states the counting convention per layer kind; it must say what the catalogue computes."""

from __future__ import annotations

from convcalc.layers import CATALOGUE
from tests.conftest import REPO


def test_counting_table_lists_every_kind_with_its_rules():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for kind in CATALOGUE.values():
        assert f"| `{kind.type}` | {kind.macs_rule} | {kind.flops_rule} |" in readme, kind.type


def test_readme_commands_are_the_ci_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "pip install '.[test]' && python -m pytest"
    assert test_command in readme and test_command in ci
    assert "pip install . && convcalc analyze specs/alexnet-lecture.yaml" in readme
