"""Pictures: the bar column (share of MACs), --svg (the rendered table written as an SVG file) and the screenshot of
the report's graph in the docs, with the tool that draws it."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from convcalc.render.columns import bar
from tests.chromium import find_chromium, png_colours
from tests.conftest import REPO, SPECS, run_cli

BOTTLENECK = SPECS / "inception-5x5-bottleneck.yaml"
ONNX = REPO / "tests" / "data" / "onnx"


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
        assert "that is the input (" in result.stderr
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
    assert refused.code == 2 and "that is the input (" in refused.stderr


@pytest.mark.parametrize(
    ("command", "files"),
    [
        (["analyze", "resnet50", "--svg", "{out}/table.svg"], {"table.svg": "</svg>"}),
        (["analyze", "resnet50", "--convention", "fvcore", "--svg", "{out}/fvcore.svg"], {"fvcore.svg": "</svg>"}),
        (
            ["compare", "inception-5x5", "-b", "conv5x5=16", "--emit-spec", "{out}/after.yaml", "--svg", "{out}/c.svg"],
            {"after.yaml": "conv5x5_reduce", "c.svg": "</svg>"},  # docs: the inserted conv is <target>_reduce
        ),
        (["report", "resnet50", "-o", "{out}/report.html"], {"report.html": "</html>"}),
        (["import", str(ONNX / "inception-5x5.onnx"), "-o", "{out}/net.yaml"], {"net.yaml": "layers:"}),
    ],
    ids=["analyze-svg", "convention-svg", "compare-emit-spec-svg", "report", "import"],
)
def test_files_are_written_when_the_reader_of_stdout_has_gone(
    tmp_path: Path, command: list[str], files: dict[str, str]
) -> None:
    """`convcalc analyze SPEC --svg out.svg | head -3`: the reader closes the pipe early; the file the user asked
    for is still written, whole, and the run ends quietly with exit code 0 (docs/reference/errors.md)."""
    args = [part.replace("{out}", str(tmp_path)) for part in command]
    process = subprocess.Popen(
        [sys.executable, "-m", "convcalc", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO
    )
    assert process.stdout is not None
    process.stdout.close()  # gone before convcalc prints anything, as `head` is after a few lines of a long table
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr
    for name, ending in files.items():
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert ending in text, name


def test_svg_of_another_tools_count_is_written_and_mode_is_refused_with_it(tmp_path: Path) -> None:
    """--svg with --convention writes the table that convention shows (it was silently left out); --svg - puts the
    picture on standard output and the table on standard error, as without --convention."""
    result = run_cli("analyze", str(BOTTLENECK), "--convention", "fvcore", "--svg", "-")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("<svg") and result.stdout.rstrip().endswith("</svg>")
    assert "as fvcore" in result.stderr and "<svg" not in result.stderr
    mixed = run_cli("analyze", str(BOTTLENECK), "--convention", "fvcore", "--mode", "train")
    assert mixed.code == 2 and "leave out --convention" in mixed.stderr


SCREENSHOT_TOOL = REPO / "tools" / "report_graph_screenshot.py"
SCREENSHOT = REPO / "docs" / "images" / "report-graph-resnet50.png"


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_the_report_graph_screenshot_is_in_the_docs():
    page = (REPO / "docs" / "how-to" / "reports.md").read_text(encoding="utf-8")
    assert "(../images/report-graph-resnet50.png)" in page and "tools/report_graph_screenshot.py" in page
    width, height = png_size(SCREENSHOT.read_bytes())
    assert width >= 600 and height >= 1000


def test_the_screenshot_tool_says_what_it_needs(tmp_path):
    # without chromium on the PATH it stops with one line saying what to install, no traceback
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, str(SCREENSHOT_TOOL), "resnet18", str(tmp_path / "g.png")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1 and "apt-get install chromium" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "g.png").exists()


@pytest.mark.skipif(find_chromium() is None, reason="no chromium on PATH (apt-get install chromium): no screenshot")
def test_the_screenshot_tool_draws_the_graph(tmp_path):
    target = tmp_path / "graph.png"
    command = [sys.executable, str(SCREENSHOT_TOOL), "resnet50", str(target), "--width", "700", "--height", "900"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    png = target.read_bytes()
    assert png_size(png) == (700, 900) and png_colours(png) > 16  # a picture, not a blank page
