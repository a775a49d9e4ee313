"""--columns, CSV, markdown and --input: the same numbers in other shapes."""

from __future__ import annotations

import csv
import io

from tests.conftest import SPECS, run_cli

INCEPTION = str(SPECS / "inception-5x5-bottleneck.yaml")


def test_columns_choose_and_order():
    result = run_cli("analyze", INCEPTION, "--columns", "macs,name", "--format", "csv")
    assert result.code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["macs", "name"],
        [str(28 * 28 * 16 * 192), "reduce1x1"],
        [str(28 * 28 * 32 * 5 * 5 * 16), "conv5x5"],
    ]


def test_unknown_column_is_a_usage_error():
    result = run_cli("analyze", INCEPTION, "--columns", "name,flopz")
    assert result.code == 2
    assert "unknown column flopz" in result.stderr


def test_markdown_table_with_totals():
    result = run_cli("analyze", INCEPTION, "--format", "markdown", "--exact", "--columns", "name,params,macs")
    lines = result.stdout.splitlines()
    assert lines[0] == "| layer | params | MACs |"
    assert lines[1] == "| --- | ---: | ---: |"
    assert lines[2] == "| reduce1x1 | 3,072 | 2,408,448 |"
    assert lines[-1] == "| **total** | **15,872** | **12,443,648** |"


def test_input_override_scales_costs_not_weights():
    result = run_cli(
        "analyze",
        str(SPECS / "inception-5x5.yaml"),
        "--input",
        "512",
        "--format",
        "csv",
        "--columns",
        "name,shape,params,macs",
    )
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[1] == ["conv5x5", "32x512x512", str(192 * 32 * 5 * 5), str(512 * 512 * 32 * 5 * 5 * 192)]


def test_input_override_forms():
    for text, shape in (("3x64x32", "16x64x32"), ("64x32", "16x64x32")):
        result = run_cli("analyze", INCEPTION, "--input", text, "--format", "csv", "--columns", "shape")
        assert result.stdout.splitlines()[1] == shape, text
    bad = run_cli("analyze", INCEPTION, "--input", "3x0x5")
    assert bad.code == 2 and "positive" in bad.stderr


def test_a_warning_is_one_line_in_a_pipe():
    # docs (command line): output into a pipe is plain text without wrapping, so `grep warning` finds each whole message
    result = run_cli("analyze", "resnet50")
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    # ResNet-50's three strided 1x1 shortcuts: the first in full, the other two summarised on one line (issue 28)
    assert len(warnings) == 2 and warnings[0].rstrip().endswith("between windows)")
    assert warnings[1] == (
        "warning: the same at 2 more layers: layer3.0.residual1.shortcut.conv.0, layer4.0.residual1.shortcut.conv.0"
    )


def test_no_printed_line_ends_in_spaces():
    """A title used to be padded with spaces to its table's width (trailing blanks in every pasted or diffed table)."""
    for args in (
        ("analyze", "alexnet"),
        ("analyze", "resnet50", "--depth", "1"),
        ("compare", "googlenet", "--bottleneck", "all=0.25"),
        ("zoo",),
    ):
        result = run_cli(*args)
        assert result.code == 0, result.stderr
        assert [line for line in result.stdout.splitlines() if line != line.rstrip()] == [], args
