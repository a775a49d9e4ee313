"""README states the counting convention per layer kind; it must say what the catalogue computes."""

from __future__ import annotations

from convcalc.kinds.catalogue import CATALOGUE
from tests.conftest import REPO, run_cli


def counting_table_gaps(readme: str) -> list[str]:
    """The catalogue kinds whose row in README's counting table is missing or states other rules."""
    return [
        kind.type
        for kind in CATALOGUE.values()
        if f"| `{kind.type}` | {kind.macs_rule} | {kind.flops_rule} |" not in readme
    ]


def test_counting_table_lists_every_kind_with_its_rules():
    assert counting_table_gaps((REPO / "README.md").read_text(encoding="utf-8")) == []


def test_readme_commands_are_the_ci_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "pip install '.[test]' && python -m pytest"
    assert test_command in readme and test_command in ci
    assert "pip install . && convcalc analyze specs/alexnet-lecture.yaml" in readme


def readme_block_after(marker: str) -> list[str]:
    """The lines of the first fenced block that starts after ``marker`` in README."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("```", text.index(marker)) + 3
    start = text.index("\n", start) + 1
    return text[start : text.index("```", start)].splitlines()


def printed(*args: str) -> list[str]:
    result = run_cli(*args)
    assert result.code == 0, result.stderr
    return [line.rstrip() for line in result.stdout.splitlines()]


def test_readme_analyze_and_explain_examples_are_real_output():
    first = readme_block_after("## What it answers")
    assert first[0].startswith("$ convcalc analyze inception-5x5 --exact | grep exact:")
    assert first[1] == next(line for line in printed("analyze", "inception-5x5", "--exact") if "exact:" in line)
    assert first[2] == "$ convcalc analyze inception-5x5-bottleneck --exact"
    assert first[3:] == printed("analyze", "inception-5x5-bottleneck", "--exact")
    example = readme_block_after("### Where a number comes from")
    assert example[0] == "$ convcalc explain inception-5x5-bottleneck conv5x5"
    assert example[1:] == printed("explain", "inception-5x5-bottleneck", "conv5x5")


def test_readme_onnx_example_is_real_output():
    example = readme_block_after("## ONNX: the models people already have")
    for command_line in (0, 2):
        command = example[command_line].removeprefix("$ ").split(" | grep ")[0].split()
        assert command[0] == "convcalc"
        expected = example[command_line + 1]
        assert expected == next(line for line in printed(*command[1:]) if line.startswith("exact:"))


def test_readme_patch_example_is_real_output():
    example = readme_block_after("### Patch-based inference (MCUNetV2)")
    command = example[0].removeprefix("$ ").split(" | tail -5")[0].split()
    assert command[0] == "convcalc" and example[0].endswith("| tail -5")
    assert example[1:] == printed(*command[1:])[-5:]


def test_readme_import_example_is_real_output():
    example = readme_block_after("### `convcalc import`: the model as a spec a person would write")
    model = REPO / "tests" / "data" / "onnx" / "resnet50.torchvision.onnx"
    written = printed("import", str(model))
    assert written[0].endswith(f"from {model}")
    assert example[0].endswith("from tests/data/onnx/resnet50.torchvision.onnx")
    assert example[1:] == written[1:]
