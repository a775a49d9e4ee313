"""Height and width are interchangeable: swapping them everywhere in a spec swaps them everywhere in the output.

A metamorphic test over every layer kind of the catalogue. Each case differs between the axes in every key it has
(kernel, stride, padding, dilation, output_padding, scale, size, output), so an axis read from the wrong index (the
height's 'same' padding computed from the width's stride, a check run twice on the width) changes one analysis and
not the other. The counts (params, buffers, MACs, FLOPs) must not change at all. Then errors where only one axis is
wrong: each must be an error, and so must its mirror image.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from convcalc import AnalysisError, LayerResult
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.kinds.elementwise import ACTIVATIONS
from tests.conftest import run_cli
from tests.netbuild import analyze_layers, spec_text

PAIR_KEYS = ("kernel", "stride", "padding", "dilation", "output_padding", "scale", "size", "output")
INPUT = [4, 13, 10]
PREFIX = {"type": "conv", "name": "pre", "filters": 4, "kernel": [3, 1], "stride": [2, 1], "padding": [1, 0]}
"""Makes the receptive field arriving at the layer under test differ between the axes (jump 2 x 1, size 3 x 1)."""

Layer = dict[str, Any]


def swapped(value: Any) -> Any:
    """The same spec data with every [height, width] pair reversed."""
    if isinstance(value, dict):
        return {key: swapped_value(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [swapped(item) for item in value]
    return value


def swapped_value(key: str, item: Any) -> Any:
    """A pair reversed; pad's [top, bottom, left, right] as [left, right, top, bottom]; a stated C x H x W shape
    as C x W x H."""
    if key == "padding" and isinstance(item, list) and len(item) == 4:
        return item[2:] + item[:2]
    if key == "shape" and isinstance(item, list) and len(item) == 3:
        return [item[0], item[2], item[1]]
    return list(reversed(item)) if key in PAIR_KEYS and isinstance(item, list) else swapped(item)


CASES: list[tuple[str, Layer]] = [
    ("conv", {"filters": 6, "kernel": [3, 2], "stride": [2, 1], "padding": [1, 0], "dilation": [1, 2], "groups": 2}),
    ("conv", {"filters": 3, "kernel": [3, 4], "stride": [1, 4], "padding": "same"}),
    ("conv", {"filters": 3, "kernel": [2, 5], "stride": [3, 2], "padding": "same", "dilation": [2, 1], "bias": False}),
    ("conv", {"filters": 2, "kernel": [1, 3], "padding": "valid"}),
    (
        "conv_transpose",
        {
            "filters": 6,
            "kernel": [3, 2],
            "stride": [2, 3],
            "padding": [1, 0],
            "output_padding": [1, 2],
            "dilation": [1, 2],
            "groups": 2,
        },
    ),
    ("conv_transpose", {"filters": 2, "kernel": [4, 1], "stride": [1, 2], "output_padding": [0, 1], "bias": False}),
    ("linear", {"units": 5}),
    ("linear", {"units": 3, "bias": False}),
    ("batchnorm", {}),
    ("batchnorm", {"affine": False}),
    ("lrn", {"size": 3}),
    ("dropout", {}),
    ("identity", {}),
    ("softmax", {}),
    ("maxpool", {"kernel": [3, 2], "stride": [2, 1], "padding": [1, 0], "dilation": [1, 2], "ceil_mode": True}),
    ("maxpool", {"kernel": [3, 2], "stride": [2, 1], "padding": [1, 0], "dilation": [1, 2]}),
    ("maxpool", {"kernel": [2, 3]}),
    ("avgpool", {"kernel": [3, 4], "stride": [2, 3], "padding": [1, 2], "ceil_mode": True}),
    ("avgpool", {"kernel": [2, 3], "stride": [1, 2]}),
    ("adaptive_avgpool", {"output": [3, 2]}),
    ("adaptive_maxpool", {"output": [4, 3]}),
    ("global_avgpool", {}),
    ("global_maxpool", {}),
    ("flatten", {}),
    ("crop", {"size": [5, 3]}),
    ("upsample", {"scale": [2, 3]}),
    ("upsample", {"size": [9, 5], "mode": "bilinear"}),
    ("upsample", {"scale": [3, 1], "mode": "bilinear", "align_corners": True}),
    *((name, {}) for name, *_ in ACTIVATIONS),
    ("linear", {"units": 3, "per_position": True}),
    ("scale", {}),
    ("layernorm", {}),
    ("layernorm", {"over": "all"}),
    ("groupnorm", {"groups": 2}),
    ("channel_shuffle", {"groups": 2}),
    ("pixel_shuffle", {"factor": 2}),
    ("pad", {"padding": [1, 2, 3, 0]}),
    ("stochastic_depth", {"rate": 0.1}),
    ("slice", {"start": 1, "end": 3}),
    ("opaque", {"op": "Foo", "shape": [3, 5, 7]}),
]
MERGES: list[tuple[str, list[Layer]]] = [
    ("permute", [{"type": "permute", "name": "x", "dims": [0, 2, 1]}]),
    ("roll", [{"type": "roll", "name": "x", "shift": [-3, 1]}]),
    ("position_embedding", [{"type": "position_embedding", "name": "x"}]),
    (
        "multiply",
        [{"type": "global_avgpool", "name": "g"}, {"type": "multiply", "name": "x", "inputs": ["input", "g"]}],
    ),
    (
        "arithmetic",
        [
            {"type": "global_avgpool", "name": "g"},
            {"type": "arithmetic", "op": "sub", "name": "x", "inputs": ["input", "g"]},
        ],
    ),
    (
        "pixel_unshuffle",
        [{"type": "crop", "name": "c", "size": [12, 10]}, {"type": "pixel_unshuffle", "name": "x", "factor": 2}],
    ),
    (
        "concat",
        [
            {
                "type": "concat",
                "name": "x",
                "branches": [
                    [{"type": "conv", "filters": 2, "kernel": [3, 1], "padding": [1, 0]}],
                    [{"type": "maxpool", "kernel": [1, 3], "stride": 1, "padding": [0, 1]}],
                ],
            }
        ],
    ),
    (
        "add",
        [
            {
                "type": "residual",
                "name": "x",
                "body": [{"type": "conv", "filters": 4, "kernel": [1, 5], "padding": [0, 2]}],
            }
        ],
    ),
    (
        "add",
        [
            {"type": "avgpool", "name": "p", "kernel": [3, 1], "stride": 1, "padding": [1, 0]},
            {"type": "conv", "name": "q", "input": "input", "filters": 4, "kernel": [1, 5], "padding": [0, 2]},
            {"type": "add", "name": "x", "inputs": ["p", "q"]},
        ],
    ),
]


def networks() -> list[Any]:
    params = []
    for index, (kind, config) in enumerate(CASES):
        layers = [{"type": kind, "name": "x", **config}]
        for prefix in (False, True):
            params.append(pytest.param([PREFIX, *layers] if prefix else layers, id=f"{kind}-{index}-{prefix}"))
    for index, (kind, layers) in enumerate(MERGES):
        params.append(pytest.param(layers, id=f"{kind}-merge-{index}"))
    return params


def mirror(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[0], shape[2], shape[1]) if len(shape) == 3 else shape


def axes(layer: LayerResult) -> dict[str, list[Any]]:
    """Everything with a height and a width: the output shape and the receptive field's size, jump and start."""
    return {"shape": list(layer.output_shape[1:]), **layer.receptive_field.to_dict()}


@pytest.mark.parametrize("layers", networks())
def test_swapping_height_and_width_swaps_every_output(layers: list[Layer]) -> None:
    original = analyze_layers(INPUT, layers)
    mirrored = analyze_layers(mirror(tuple(INPUT)), swapped(layers))
    assert [layer.name for layer in original.layers] == [layer.name for layer in mirrored.layers]
    for before, after in zip(original.layers, mirrored.layers, strict=True):
        assert mirror(before.output_shape) == after.output_shape, before.name
        assert [mirror(shape) for shape in before.input_shapes] == list(after.input_shapes), before.name
        counts = ("params", "buffers", "macs", "flops", "activation_bytes", "weight_bytes")
        assert [getattr(before, name) for name in counts] == [getattr(after, name) for name in counts], before.name
        for name, pair in axes(before).items():
            assert (pair if name == "shape" and len(before.output_shape) == 1 else pair[::-1]) == axes(after)[name]
        assert len(before.warnings) == len(after.warnings)
    assert original.total.to_dict() == mirrored.total.to_dict()
    # the case itself is asymmetric: the layer under test differs between its axes
    tested = next(layer for layer in original.layers if layer.name == "x")
    assert any(pair[0] != pair[1] for pair in axes(tested).values() if len(pair) == 2), axes(tested)


NOT_SYMMETRIC = {
    "reshape": "it reads the elements in row-major order: H x W and W x H flatten differently",
    "reduce": "its axes name the height or the width (tests/test_layers.py reduces each)",
    "matmul": "it multiplies the last two axes as rows by columns",
    "attention": "it attends over the last axis; the ones before are a batch of sequences",
    "dot_product_attention": "its last two axes are positions by features, the ones before heads",
    "class_token": "it takes D x T tokens, one axis of positions",
}
"""Kinds that are not the same on the height and the width by their definition (tests/test_tensor_ops.py has them)."""


def test_every_kind_has_a_mirror_case() -> None:
    covered = {kind for kind, _ in CASES} | {kind for kind, _ in MERGES}
    assert covered == set(CATALOGUE) - set(NOT_SYMMETRIC)


def test_the_issue_example_same_padding_with_stride_1_by_4() -> None:
    """A 3x3 'same' conv at stride [1, 4] on 10x10: out = ceil(10 / 1) x ceil(10 / 4) = 1x10x3, 10*3*1 * 3*3*1 MACs."""
    result = analyze_layers(
        [1, 10, 10], [{"type": "conv", "filters": 1, "kernel": 3, "stride": [1, 4], "padding": "same"}]
    )
    (layer,) = result.layers
    assert layer.output_shape == (1, 10, 3)
    assert layer.macs == 10 * 3 * 1 * 3 * 3 * 1 == 270


# --- errors on one axis ---------------------------------------------------------------------------------------------

# (input, layer, message part) where only the height is wrong; the mirror image (only the width wrong) must fail too.
ONE_AXIS_ERRORS = [
    pytest.param([8, 8], {"type": "conv", "filters": 4, "kernel": [9, 1]}, "larger than its padded input", id="conv"),
    pytest.param(
        [8, 8],
        {"type": "conv", "filters": 4, "kernel": [3, 1], "dilation": [4, 1]},  # spans 4 * 2 + 1 = 9 rows
        "larger than its padded input",
        id="conv-dilated",
    ),
    pytest.param(
        [6, 8],
        {"type": "conv", "filters": 4, "kernel": [9, 1], "padding": [1, 0]},  # 6 + 2 = 8 rows < 9
        "larger than its padded input 8x8",
        id="conv-padded",
    ),
    pytest.param([8, 8], {"type": "maxpool", "kernel": [9, 1]}, "larger than its padded input", id="maxpool"),
    pytest.param([8, 8], {"type": "avgpool", "kernel": [9, 2]}, "larger than its padded input", id="avgpool"),
    pytest.param(
        [8, 8],
        {"type": "maxpool", "kernel": [3, 2], "padding": [2, 1]},  # 2 > 3 // 2 = 1; the width's 1 = 2 // 2 is fine
        "more than half the kernel",
        id="maxpool-padding-limit",
    ),
    pytest.param(
        [8, 8], {"type": "avgpool", "kernel": [2, 4], "padding": [2, 2]}, "more than half the kernel", id="avgpool-pad"
    ),
    pytest.param([8, 8], {"type": "crop", "size": [9, 4]}, "cannot crop 8x8 to the larger 9x4", id="crop"),
    pytest.param(
        [4, 4],
        # (4 - 1) * 1 - 2 * 3 + 1 * (2 - 1) + 0 + 1 = -1 rows
        {"type": "conv_transpose", "filters": 2, "kernel": 2, "padding": [3, 0]},
        "leaves an output of -1x5",
        id="conv_transpose-too-small",
    ),
    pytest.param(
        [4, 4],
        {"type": "conv_transpose", "filters": 2, "kernel": 2, "stride": [2, 1], "output_padding": [2, 0]},
        "output_padding 2 must be smaller than the stride \\(2\\) or the dilation \\(1\\)",
        id="conv_transpose-output_padding-limit",
    ),
]

# The boundary of each check above: just inside the limit on the height, so the check must not be off by one.
ONE_AXIS_LIMITS = [
    pytest.param([8, 8], {"type": "conv", "filters": 4, "kernel": [8, 1]}, (4, 1, 8), id="conv-kernel-fills-input"),
    pytest.param([6, 8], {"type": "conv", "filters": 4, "kernel": [8, 1], "padding": [1, 0]}, (4, 1, 8), id="padded"),
    pytest.param([8, 8], {"type": "maxpool", "kernel": [8, 1]}, (3, 1, 8), id="maxpool-fills-input"),
    # padding 2 = 4 // 2 and 1 = 2 // 2, PyTorch's limit itself: floor((8 + 4 - 4) / 4) + 1 = 3, (8 + 2 - 2) / 2 + 1 = 5
    pytest.param([8, 8], {"type": "maxpool", "kernel": [4, 2], "padding": [2, 1]}, (3, 3, 5), id="pool-padding"),
    pytest.param([8, 8], {"type": "crop", "size": [8, 4]}, (3, 8, 4), id="crop-to-full-height"),
    # (4 - 1) * 1 - 2 * 2 + (2 - 1) + 0 + 1 = 1 row; the width (4 - 1) + 1 + 1 = 5
    pytest.param(
        [4, 4], {"type": "conv_transpose", "filters": 2, "kernel": 2, "padding": [2, 0]}, (2, 1, 5), id="ct-one-row"
    ),
    # output_padding 1 < stride 2; and 1 < dilation 2 at stride 1: (4 - 1) * 1 + 2 * (2 - 1) + 1 + 1 = 7
    pytest.param(
        [4, 4],
        {"type": "conv_transpose", "filters": 2, "kernel": 2, "stride": [2, 1], "output_padding": [1, 0]},
        (2, (4 - 1) * 2 + 1 + 1 + 1, 5),
        id="ct-output_padding-below-stride",
    ),
    pytest.param(
        [4, 4],
        {"type": "conv_transpose", "filters": 2, "kernel": 2, "dilation": [2, 1], "output_padding": [1, 0]},
        (2, 7, 5),
        id="ct-output_padding-below-dilation",
    ),
]


@pytest.mark.parametrize(("size", "layer", "message"), ONE_AXIS_ERRORS)
@pytest.mark.parametrize("mirrored", [False, True])
def test_one_wrong_axis_is_an_error(size: list[int], layer: Layer, message: str, mirrored: bool) -> None:
    shape, layer = ([3, *size[::-1]], swapped(layer)) if mirrored else ([3, *size], layer)
    with pytest.raises(AnalysisError) as raised:
        analyze_layers(shape, [layer])
    if not mirrored:
        assert raised.match(message)
    result = run_cli("analyze", "-", "--format", "json", stdin=spec_text(shape, [layer]))
    assert result.code == 2, result.stdout
    assert "error" in json.loads(result.stdout)


@pytest.mark.parametrize(("size", "layer", "shape"), ONE_AXIS_LIMITS)
@pytest.mark.parametrize("mirrored", [False, True])
def test_one_axis_at_its_limit_is_fine(size: list[int], layer: Layer, shape: tuple[int, ...], mirrored: bool) -> None:
    if mirrored:
        size, layer, shape = size[::-1], swapped(layer), mirror(shape)
    (result,) = analyze_layers([3, *size], [layer]).layers
    assert result.output_shape == shape
