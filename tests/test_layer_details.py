"""The catalogue's smaller promises, each with its numbers by hand: exact error and warning texts (their numbers
per axis), the groups and merge checks, documented defaults and summaries, whole numbers staying ints in JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from convcalc import AnalysisError, SpecError
from convcalc.kinds.base import ShapeError
from convcalc.kinds.catalogue import CATALOGUE
from tests.netbuild import analyze_layers, analyze_text

Layer = dict[str, Any]


def error_of(shape: list[int], layers: list[Layer]) -> str:
    with pytest.raises(AnalysisError) as raised:
        analyze_layers(shape, layers)
    return str(raised.value.args[0])


def warnings_of(shape: list[int], layer: Layer) -> list[str]:
    (result,) = analyze_layers(shape, [layer]).layers
    return [finding.message for finding in result.warnings]


@pytest.mark.parametrize(
    ("shape", "layer", "message"),
    [
        # padded 5 + 2 * 1 = 7 rows, 7 columns; a 3x2 kernel dilated 4x1 spans 4 * 2 + 1 = 9 rows, 1 * 1 + 1 = 2 columns
        (
            [3, 5, 7],
            {"type": "conv", "filters": 1, "kernel": [3, 2], "dilation": [4, 1], "padding": [1, 0]},
            "conv kernel 3x2 (spanning 9x2 with dilation) is larger than its padded input 7x7",
        ),
        # no dilation: no "spanning"; padded 8 + 0 = 8 rows, 8 + 2 = 10 columns
        (
            [3, 8, 8],
            {"type": "maxpool", "kernel": [9, 2], "padding": [0, 1]},
            "maxpool kernel 9x2 is larger than its padded input 8x10",
        ),
        (
            [3, 8, 6],
            {"type": "avgpool", "kernel": [2, 9], "stride": 1, "padding": [1, 1]},
            "avgpool kernel 2x9 is larger than its padded input 10x8",
        ),
        # (4 - 1) * 1 - 2 * 2 + (1 - 1) + 0 + 1 = 0 rows: an empty output is an error too; (4 - 1) + 1 = 4 columns
        (
            [3, 4, 4],
            {"type": "conv_transpose", "filters": 1, "kernel": 1, "padding": [2, 0]},
            "padding 2x0 leaves an output of 0x4",
        ),
        (
            [3, 4, 4],
            {"type": "conv_transpose", "filters": 1, "kernel": 1, "padding": [0, 2]},
            "padding 0x2 leaves an output of 4x0",
        ),
        ([3, 4, 4], {"type": "conv", "filters": 4, "kernel": 1, "groups": 2}, "groups=2 must divide"),  # 3 channels
        ([4, 4, 4], {"type": "conv", "filters": 3, "kernel": 1, "groups": 2}, "groups=2 must divide"),  # 3 filters
        ([4, 4, 4], {"type": "conv_transpose", "filters": 3, "kernel": 1, "groups": 2}, "groups=2 must divide"),
    ],
)
def test_exact_error_messages(shape: list[int], layer: Layer, message: str) -> None:
    assert error_of(shape, [layer]).startswith(message)


@pytest.mark.parametrize(
    ("shape", "layer", "message"),
    [
        # rows: out floor((8 - 3) / 2) + 1 = 3, the last window ends at (3 - 1) * 2 + 3 = 7 of 8: 1 unread;
        # columns: out floor((9 - 2) / 4) + 1 = 2, the last ends at (2 - 1) * 4 + 2 = 6 of 9: 3 unread
        (
            [3, 8, 9],
            {"type": "conv", "filters": 1, "kernel": [3, 2], "stride": [2, 4]},
            "windows reach 7 of 8 input rows ((out 3 - 1) * stride 2 + window 3 - padding 0 = 7) and 6 of 9 input "
            "columns ((out 2 - 1) * stride 4 + window 2 - padding 0 = 6): the last 1 row and 3 columns of the input "
            "are never read",
        ),
        # rows: padded 9 + 2 = 11, out floor((11 - 3) / 3) + 1 = 3; the last window ends at (3 - 1) * 3 + 3 = 9 in
        # padded rows, 9 - 1 (padding before) = 8 input rows: the last 1 row is unread (the padding after is
        # padding); columns: 6 / 1 + 1 = 7 windows of 2 reach 7
        (
            [3, 9, 7],
            {"type": "conv", "filters": 1, "kernel": [3, 2], "stride": [3, 1], "padding": [1, 0]},
            "windows reach 8 of 9 input rows ((out 3 - 1) * stride 3 + window 3 - padding 1 = 8): "
            "the last 1 row of the input is never read",
        ),
        # both axes alike: one formula; out floor((8 - 3) / 2) + 1 = 3, reach (3 - 1) * 2 + 3 = 7 of 8
        (
            [3, 8, 8],
            {"type": "maxpool", "kernel": 3, "stride": 2},
            "windows reach 7 of 8 input rows and columns ((out 3 - 1) * stride 2 + window 3 - padding 0 = 7): "
            "the last 1 row and 1 column of the input are never read",
        ),
        # 'same' with even kernels: total padding 2 - 1 = 1 row (0 before, 1 after), 4 - 1 = 3 columns (1/2)
        (
            [3, 8, 8],
            {"type": "conv", "filters": 1, "kernel": [2, 4], "padding": "same"},
            "'same' padding is asymmetric: 0/1 rows, 1/2 columns before/after",
        ),
        # rows symmetric (3 - 1 = 2: 1/1), columns not (2 - 1 = 1: 0/1): still a warning
        (
            [3, 8, 8],
            {"type": "conv", "filters": 1, "kernel": [3, 2], "padding": "same"},
            "'same' padding is asymmetric: 1/1 rows, 0/1 columns before/after",
        ),
    ],
)
def test_exact_warnings(shape: list[int], layer: Layer, message: str) -> None:
    found = warnings_of(shape, layer)
    assert len(found) == 1 and found[0].startswith(message), found


def test_no_warning_when_windows_tile() -> None:
    assert warnings_of([3, 9, 9], {"type": "conv", "filters": 1, "kernel": 3, "stride": 2}) == []  # (9 - 3) / 2 = 3
    assert warnings_of([3, 9, 9], {"type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True}) == []
    assert warnings_of([3, 8, 8], {"type": "conv", "filters": 1, "kernel": 3, "padding": "same"}) == []
    # columns padded 8 + 2 = 10: 4 windows of 3 at stride 2 end at (4 - 1) * 2 + 3 = 9, 9 - 1 = 8 input columns:
    # the window left out covers padding only; rows: 4 windows of 2 at stride 2 tile 8
    assert warnings_of([3, 8, 8], {"type": "avgpool", "kernel": [2, 3], "stride": [2, 2], "padding": [0, 1]}) == []


@pytest.mark.parametrize(
    ("shapes", "kind"),
    [
        ([[2, 4, 4], [3, 4, 5]], "add"),  # two inputs, the second differs
        ([[2, 4, 4], [2, 4, 4], [2, 5, 4]], "add"),  # the third differs
        ([[2, 4, 4], [3, 4, 5], [2, 4, 4]], "concat"),
        ([[2, 4, 4], [2, 4, 4], [2, 4, 5]], "concat"),
        ([[2, 4, 4], [32]], "concat"),  # a feature map and a vector
    ],
)
def test_merges_refuse_mismatched_inputs(shapes: list[list[int]], kind: str) -> None:
    with pytest.raises(ShapeError, match="differ"):
        CATALOGUE[kind].evaluate(CATALOGUE[kind].defaults(), [tuple(shape) for shape in shapes])
    # and through a spec: three branches, one of a different size
    if kind == "concat" and len(shapes[1]) == 3:
        branches = [[{"type": "crop", "size": shape[1:]}] for shape in shapes]
        with pytest.raises(AnalysisError, match="differ"):
            analyze_layers([2, 6, 6], [{"type": "concat", "branches": branches}])


def test_merges_of_matching_inputs() -> None:
    (concat,) = [CATALOGUE["concat"].evaluate(CATALOGUE["concat"].defaults(), [(2, 4, 5), (3, 4, 5), (1, 4, 5)]).shape]
    assert concat == (2 + 3 + 1, 4, 5)
    added = CATALOGUE["add"].evaluate({}, [(2, 4, 5)] * 3)
    assert added.shape == (2, 4, 5) and added.flops == (3 - 1) * 2 * 4 * 5


def test_documented_defaults() -> None:
    # PyTorch nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0); size 5 as in AlexNet (n = 5)
    defaults = {key.name: key.default for key in CATALOGUE["lrn"].keys}
    assert defaults == {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1}
    (lrn,) = analyze_layers([3, 4, 4], [{"type": "lrn"}]).layers
    assert lrn.flops == (2 * 5 + 3) * 3 * 4 * 4
    # nn.BatchNorm2d(eps=1e-5, momentum=0.1, affine=True)
    assert {key.name: key.default for key in CATALOGUE["batchnorm"].keys} == {
        "affine": True,
        "eps": 1e-5,
        "momentum": 0.1,
    }


def test_avgpool_has_no_dilation() -> None:
    """nn.AvgPool2d takes no dilation (nn.MaxPool2d does)."""
    assert "dilation" in {key.name for key in CATALOGUE["maxpool"].keys}
    assert "dilation" not in {key.name for key in CATALOGUE["avgpool"].keys}
    with pytest.raises(SpecError, match="dilation"):
        analyze_layers([3, 8, 8], [{"type": "avgpool", "kernel": 2, "dilation": 2}])


def test_summaries_are_first_docstring_lines() -> None:
    assert (
        CATALOGUE["conv"].summary
        == "Convolution over 1, 2 or 3 spatial axes (PyTorch nn.Conv1d, nn.Conv2d, nn.Conv3d)."
    )
    assert CATALOGUE["avgpool"].summary == "Average pooling (PyTorch nn.AvgPool1d, 2d, 3d)."
    assert CATALOGUE["relu"].summary == "relu(x) = max(0, x), element-wise."


def test_whole_fractions_are_ints_in_json() -> None:
    """Upsampling by 2 then a stride-2 conv: jump 1/2 * 2 = 1 exactly, written 1, not 1.0."""
    text = (
        "input: [1, 8, 8]\nlayers:\n  - {type: upsample, scale: 2}\n"
        "  - {type: conv, name: c, filters: 1, kernel: 2, stride: 2}\n"
    )
    field = analyze_text(text).layers[-1].receptive_field.to_dict()
    assert json.dumps(field["jump"]) == "[1, 1]"
    # 1 + (2 - 1) * 1/2 = 1.5 pixels: a true fraction stays a float
    assert field["size"] == [1.5, 1.5]
