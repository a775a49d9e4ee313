"""Pictures: the bar column (share of MACs) and --svg, the rendered table written as an SVG file."""

from __future__ import annotations

import csv
import io

from convcalc.render.columns import bar
from tests.conftest import SPECS, run_cli

BOTTLENECK = SPECS / "inception-5x5-bottleneck.yaml"


def test_bar_lengths_in_eighths_of_a_character():
    assert bar(7, 7) == "█" * 20  # the largest layer fills the 20 characters
    assert bar(1, 2) == "█" * 10
    assert bar(3, 8) == "█" * 7 + "▌"  # 3/8 * 160 eighths = 60 = 7 full characters + 4 eighths
    assert bar(1, 10**9) == "▏"  # a layer with any MACs shows at least an eighth
    assert bar(0, 10) == "" and bar(5, 0) == ""


def test_bar_column_in_csv_and_markdown():
    result = run_cli("analyze", str(BOTTLENECK), "--format", "csv", "--columns", "name,bar")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    # reduce1x1 / conv5x5 = (28*28*16*192) / (28*28*32*5*5*16) = 192 / 800 = 0.24 of the longest bar:
    # 0.24 * 160 eighths = 38.4 -> 38 = 4 full characters and 6 eighths.
    assert rows == [["name", "bar"], ["reduce1x1", "████▊"], ["conv5x5", "█" * 20]]
    markdown = run_cli("analyze", str(BOTTLENECK), "--format", "markdown", "--columns", "name,share,bar")
    assert markdown.stdout.splitlines()[0] == "| layer | MACs % | share of MACs |"


def test_bar_column_in_the_table():
    result = run_cli("analyze", str(BOTTLENECK), "--columns", "name,macs,bar")
    assert result.code == 0
    assert "share of MACs" in result.stdout
    assert "████▊" in result.stdout and "█" * 20 in result.stdout


def test_svg_of_the_analyze_table(tmp_path):
    picture = tmp_path / "table.svg"
    result = run_cli("analyze", str(BOTTLENECK), "--columns", "name,macs,bar", "--exact", "--svg", str(picture))
    assert result.code == 0, result.stderr
    assert "reduce1x1" in result.stdout  # the table still goes to standard output
    svg = picture.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for text in ("reduce1x1", "conv5x5", f"{28 * 28 * 32 * 5 * 5 * 16:,}", "████▊"):
        assert text in svg
    assert f"picture written to {picture}" in result.stderr


def test_svg_alongside_json(tmp_path):
    picture = tmp_path / "t.svg"
    result = run_cli("analyze", str(BOTTLENECK), "--format", "json", "--svg", str(picture))
    assert result.code == 0 and result.stdout.startswith("{")
    assert "reduce1x1" in picture.read_text(encoding="utf-8")


def test_svg_never_overwrites_the_spec(write_spec):
    spec = write_spec("input: [1, 8, 8]\nlayers:\n  - {type: conv, filters: 2, kernel: 3}\n")
    before = spec.read_text(encoding="utf-8")
    for target in (str(spec), str(spec.parent / "." / spec.name)):
        result = run_cli("analyze", str(spec), "--svg", target)
        assert result.code == 2
        assert "that is the input spec" in result.stderr
    assert spec.read_text(encoding="utf-8") == before


def test_svg_to_an_unwritable_place_is_one_line(tmp_path):
    result = run_cli("analyze", str(BOTTLENECK), "--svg", str(tmp_path / "missing" / "t.svg"))
    assert result.code == 2
    assert result.stderr.startswith("convcalc: error: --svg") and "cannot write" in result.stderr


def test_svg_of_a_comparison(tmp_path):
    picture = tmp_path / "compare.svg"
    plain = str(SPECS / "inception-5x5.yaml")
    result = run_cli("compare", plain, str(BOTTLENECK), "--svg", str(picture))
    assert result.code == 0, result.stderr
    svg = picture.read_text(encoding="utf-8")
    assert "totals" in svg and "reduce1x1" in svg
    refused = run_cli("compare", plain, str(BOTTLENECK), "--svg", str(BOTTLENECK))
    assert refused.code == 2 and "that is the input spec" in refused.stderr
