"""Narrow terminals: a table too wide leaves out columns in a stated order (docs: Narrow terminals), wraps prose,
folds names only as a last resort, and never cuts a number; piped output keeps every column."""

from __future__ import annotations

import re

import pytest

from convcalc.render.columns import COLUMNS, KEPT, NARROW_ORDER, RELATIVE
from convcalc.render.fit import NAME_WIDTH, PROSE_WIDTH, fit
from convcalc.render.grid import Grid, GridColumn
from tests.conftest import run_cli
from tests.docs import section as section_of

ELLIPSIS = "…"


def table_lines(text: str) -> list[str]:
    """The lines drawn with box characters: the table's borders and rows."""
    return [line for line in text.splitlines() if line[:1] in "┏┃┡│├└"]


def header(text: str) -> list[str]:
    """The column headers of the first table (its last header line)."""
    last = [line for line in text.splitlines() if line.startswith("┃")][-1]
    return [cell.strip() for cell in last.strip("┃").split("┃")]


def test_resnet50_at_80_columns_keeps_layer_output_params_and_macs_whole() -> None:
    """ResNet-50's longest layer name, layer2.0.residual1.shortcut.conv.0, is 34 characters; with a space either
    side and one border each, '#' (3 digits) 5 + 1, the name 36 + 1, the output (64x112x112) 12 + 1, params
    (25,557,032) 12 + 1 and MACs (118.01M) 9 + 1, plus the last border, are 80 columns. The docs' order leaves out
    note, FLOPs, type, MACs % and activations before those."""
    result = run_cli("analyze", "resnet50", terminal=80)
    assert result.code == 0, result.stderr
    assert header(result.stdout) == ["#", "layer", "output", "params", "MACs"]
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert ELLIPSIS not in result.stdout
    total = next(line for line in table_lines(result.stdout) if " total " in line)
    assert "25,557,032" in total and "4.09G" in total  # torchvision: 25,557,032 params; 4.089 GFLOPS
    assert "layer2.0.residual1.shortcut.conv.0 " in result.stdout  # a name is never cut
    assert (
        "left out to fit 80 columns: note, FLOPs, type, MACs %, activations (a wider terminal shows them, "
        "as does --format json, csv, markdown or latex)" in " ".join(result.stdout.split())
    )


@pytest.mark.parametrize(
    ("width", "left_out"),
    [
        (100, ["note", "FLOPs", "type", "MACs %"]),  # 80 + activations (11 + 2 + 1) = 94
        (120, ["note", "FLOPs"]),  # 94 + type (14 + 2 + 1) + MACs % (6 + 2 + 1) = 120
        (140, ["note"]),  # 120 + FLOPs (7 + 2 + 1) = 130; the note (25) needs 130 + 28 = 158
    ],
)
def test_resnet50_leaves_out_fewer_columns_in_a_wider_terminal(width: int, left_out: list[str]) -> None:
    result = run_cli("analyze", "resnet50", terminal=width)
    assert result.code == 0, result.stderr
    assert all(len(line) <= width for line in result.stdout.splitlines())
    said = " ".join(result.stdout.split())
    assert f"left out to fit {width} columns: {', '.join(left_out)} (a wider terminal" in said
    assert not set(left_out) & set(header(result.stdout))


def test_piped_output_keeps_every_column_on_one_line() -> None:
    result = run_cli("analyze", "resnet50")
    assert header(result.stdout) == [
        "#",
        "layer",
        "type",
        "output",
        "params",
        "MACs",
        "FLOPs",
        "activations",
        "MACs %",
        "note",
    ]
    assert "left out" not in result.stdout
    assert len(table_lines(result.stdout)[0]) > 140


@pytest.mark.parametrize(
    ("command", "whole"),
    [
        (("compare", "resnet18", "resnet50"), ["11,689,512", "25,557,032"]),  # torchvision's params
        (("compare", "resnet18", "resnet50", "--exact"), ["1,814,073,344", "4,089,184,256"]),  # and MACs
        (("compare", "inception-5x5", "-b", "conv5x5=16"), ["153,600", "15,872"]),  # the seed notes' params
        (("compare", "resnet18", "vgg16", "--mode", "train", "--exact"), ["46,758,048 B", "553,430,176 B"]),
        (("zoo",), ["25,557,032", "138,357,544", "61,706"]),  # torchvision ResNet-50, VGG-16; LeNet-5
        (("zoo", "--exact"), ["4,089,184,256", "150,428,424,448"]),  # the docs' zoo table: ResNet-50, U-Net MACs
        (("sweep", "inception-5x5", "--input", "224,1024", "--exact"), ["161,061,273,600"]),  # 1024^2*32*25*192
        (("conventions", "resnet50", "--exact"), ["4,111,512,576", "8,178,368,512"]),  # fvcore, flop_counter
        (("analyze", "resnet50", "--convention", "fvcore", "--exact"), ["25,557,032", "4,111,512,576"]),
    ],
)
def test_every_table_fits_80_columns_without_cutting_a_number(command: tuple[str, ...], whole: list[str]) -> None:
    """The numbers are outside figures (torchvision's, the zoo table's, the peers' recorded counts); each is shown whole
    in an 80-column terminal, and nothing is cut to '…'."""
    result = run_cli(*command, terminal=80)
    assert result.code == 0, result.stderr
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
    assert ELLIPSIS not in result.stdout
    cells = {cell.strip() for line in table_lines(result.stdout) for cell in line.strip("┃│").split("│")}
    for number in whole:
        assert number in cells, number


def test_every_column_is_either_kept_or_in_the_order_columns_are_left_out() -> None:
    assert sorted((*NARROW_ORDER, *KEPT)) == sorted((*COLUMNS, *RELATIVE))


def test_zoo_shows_params_exactly_as_analyze_does() -> None:
    """params with separators, as analyze's table (docs/how-to/reports.md); MACs as K/M/G unless --exact."""
    result = run_cli("zoo")
    resnet50 = next(line for line in result.stdout.splitlines() if "│ resnet50 " in line)
    assert "25,557,032" in resnet50 and "4.09G" in resnet50  # torchvision: 25,557,032 params, 4.089 GFLOPS
    assert "25.56M" not in result.stdout


# --- the rule itself, on a made-up table ------------------------------------------------------------------------

NAME = "a.long.layer.name"  # 17 characters
PROSE = "words that wrap at spaces when the table is narrow"  # 50 characters


def made_up() -> Grid:
    """'name' (a name, kept), 'count' (a number, kept), 'prose' (wraps; left out second), 'extra' (left out
    first). Widths with a space either side: 19, 13, 52 and 7; with 5 borders, 96 in all."""
    columns = [
        GridColumn("name", "left", None, shrink="name"),
        GridColumn("count", "right", None),
        GridColumn("prose", "left", None, drop=2, shrink="prose"),
        GridColumn("extra", "right", None, drop=1),
    ]
    return Grid(None, columns, [[NAME, "123,456,789", PROSE, "1,000"]])


@pytest.mark.parametrize(
    ("width", "headers", "sizes"),
    [
        (96, ["name", "count", "prose", "extra"], None),  # fits as it is
        (80, ["name", "count", "prose", "extra"], (19, 13, 36, 7)),  # 16 too wide: the prose wraps to 36 - 2
        # narrowest with every column: 19 + 13 + (16 + 2) + 7 + 5 = 62; at 60 'extra' goes: 19 + 13 + 18 + 4 = 54,
        # and the prose gets 60 - 19 - 13 - 4 = 24
        (60, ["name", "count", "prose"], (19, 13, 24)),
        (53, ["name", "count"], None),  # 54 > 53: the prose goes too; 19 + 13 + 3 = 35 fits
        (30, ["name", "count"], (14, 13)),  # nothing left to leave out: the name folds to 14 - 2 = 12 characters
        (26, ["name", "count"], (NAME_WIDTH + 2, 13)),  # 10 + 13 + 3 = 26: the name folds to NAME_WIDTH and fits
        # at 25 (or 20) not even a folded name fits: the table is drawn whole (the terminal wraps its rows), not
        # with names folded to 8 characters that still do not fit
        (25, ["name", "count"], None),
        (20, ["name", "count"], None),
    ],
)
def test_columns_are_left_out_in_order_then_prose_wraps_then_names_fold(
    width: int, headers: list[str], sizes: tuple[int, ...] | None
) -> None:
    assert PROSE_WIDTH == 16
    fitted, left_out = fit(made_up(), width)
    assert [column.header for column in fitted.columns] == headers
    assert left_out == [name for name in ("extra", "prose") if name not in headers]
    assert fitted.sizes == sizes
    assert fitted.rows[0][1] == "123,456,789"


def test_readme_states_the_order_columns_are_left_out_in() -> None:
    section = section_of("reference/cli/index.md", "## Narrow terminals")
    stated = section[section.index("leaves\nout, in this order:") : section.index("; the layer name")]
    assert tuple(re.findall(r"`(\w+)`", stated)) == NARROW_ORDER
    assert "the layer name, `params` and `macs` always stay" in " ".join(section.split())


def test_a_sweep_keeps_params_that_change_with_the_input() -> None:
    """AlexNet flattens 256x6x6 into fc6 at 224 too small for the paper's 227: (224 - 11) // 4 + 1 = 54 -> 26 -> 12
    -> 5 after the pools, 256 * 5 * 5 = 6,400 inputs to fc6 instead of 9,216, so params change with the size: they
    stay when the terminal is narrow (FLOPs, the output and the peak go first)."""
    result = run_cli("sweep", "alexnet", "--input", "224,227", terminal=50)
    assert header(result.stdout) == ["input", "params", "MACs"]
    # fc6 alone: (9,216 - 6,400) * 4,096 = 11,534,336 fewer weights at 224
    assert "60,965,224" in result.stdout and f"{60_965_224 - (9_216 - 6_400) * 4_096:,}" in result.stdout
    fixed = run_cli("sweep", "resnet50", "--input", "224,256", terminal=50)  # global pool: params fixed
    assert "params" not in header(fixed.stdout)
