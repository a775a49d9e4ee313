"""The layer kinds of modern CNNs (issue 12): shape, params, MACs, FLOPs, receptive fields and errors by hand.

FLOPs follow the convention of convcalc/kinds/: no weight multiplies here, so MACs are 0 and FLOPs are the
element-wise work stated in each kind's ``flops_rule``.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc import analyze, load_spec
from convcalc.core.errors import SpecError
from tests.netbuild import analyze_layers, by_name, one_layer

MODERN_KINDS = {
    "multiply",
    "scale",
    "layernorm",
    "groupnorm",
    "channel_shuffle",
    "pixel_shuffle",
    "pixel_unshuffle",
    "pad",
    "stochastic_depth",
    "slice",
}
"""The kinds this file tests (tests/test_layers.py counts them as covered)."""


def costs(layer: Any) -> tuple[Any, ...]:
    return (layer.output_shape, layer.params, layer.buffers, layer.macs, layer.flops)


def shape_error(input_shape: list[int], layers: list[dict[str, Any]]) -> str:
    with pytest.raises(SpecError) as error:
        analyze_layers(input_shape, layers)
    return str(error.value)


# --- multiply ---------------------------------------------------------------------------------------


def test_multiply_broadcasts_a_channel_gate_over_the_map() -> None:
    layers = [
        {"type": "global_avgpool", "name": "pool"},
        {"type": "multiply", "name": "gated", "inputs": ["input", "pool"]},
    ]
    gated = by_name(analyze_layers([16, 7, 9], layers))["gated"]
    # 16x7x9 times 16x1x1 -> 16x7x9; one multiply per output element: 16 * 7 * 9 = 1,008
    assert costs(gated) == ((16, 7, 9), 0, 0, 0, 1_008)


def test_multiply_of_three_inputs_costs_two_flops_per_element() -> None:
    layers = [
        {"type": "relu", "name": "a"},
        {"type": "global_maxpool", "name": "gate", "input": "input"},
        {"type": "multiply", "name": "product", "inputs": ["a", "input", "gate"]},
    ]
    product = by_name(analyze_layers([4, 6, 6], layers))["product"]
    # (3 - 1) multiplies per element of 4x6x6: 2 * 144 = 288
    assert costs(product) == ((4, 6, 6), 0, 0, 0, 288)


@pytest.mark.parametrize(
    ("other", "words"),
    [
        ("[5, 1, 1]", "each size must equal the largest or be 1 (broadcasting to 5x6x6)"),
        ("[10]", "different numbers of dimensions"),
    ],
)
def test_multiply_refuses_shapes_that_do_not_broadcast(other: str, words: str) -> None:
    # 4x6x6 times 5x1x1: 4 channels against 5, neither 1
    layers = [
        {"type": "global_avgpool", "name": "pool"},
        {"type": "conv", "name": "five", "filters": 5, "kernel": 1},
        {"type": "flatten", "name": "flat", "input": "pool"},
        {"type": "linear", "name": "ten", "units": 10},
        {"type": "multiply", "name": "bad", "inputs": ["input", "five" if other == "[5, 1, 1]" else "ten"]},
    ]
    message = shape_error([4, 6, 6], layers)
    assert "cannot multiply" in message and words in message


def test_a_broadcast_gate_leaves_the_receptive_field_of_the_map() -> None:
    layers = [
        {"type": "conv", "name": "c", "filters": 4, "kernel": 3, "padding": 1},
        {"type": "global_avgpool", "name": "pool"},
        {"type": "multiply", "name": "gated", "inputs": ["c", "pool"]},
    ]
    fields = {layer.name: layer.receptive_field for layer in analyze_layers([4, 9, 9], layers).layers}
    # the gate reads the whole 3 + 8 = 11 wide field of c at jump 9; the product keeps c's own 3x3 field, jump 1
    assert fields["pool"].size == (3 + (9 - 1) * 1,) * 2
    assert (fields["gated"].size, fields["gated"].jump) == ((3, 3), (1, 1))


# --- scale ------------------------------------------------------------------------------------------


def test_scale_learns_one_multiplier_per_channel() -> None:
    # ConvNeXt-T stage 1: layer scale on 96x56x56, 96 parameters, 96 * 56 * 56 = 301,056 multiplies
    assert costs(one_layer([96, 56, 56], {"type": "scale"})) == ((96, 56, 56), 96, 0, 0, 301_056)


def test_scale_needs_a_feature_map() -> None:
    assert "scale needs a CxHxW feature map" in shape_error([10], [{"type": "scale"}])


# --- layernorm and groupnorm ------------------------------------------------------------------------
# Both compute statistics per sample, so at inference each element costs: its share of the mean (1), of the
# variance (1), normalising (1), and with affine scale and shift (2): 5, or 4 without affine (fvcore's count).


@pytest.mark.parametrize(
    ("entry", "params", "per_element"),
    [
        pytest.param({"type": "layernorm"}, 2 * 96, 5, id="layernorm over channels: gamma and beta per channel"),
        pytest.param({"type": "layernorm", "affine": False}, 0, 4, id="layernorm without affine"),
        pytest.param({"type": "layernorm", "bias": False}, 96, 5, id="layernorm without bias: gamma per channel"),
        pytest.param(
            {"type": "layernorm", "over": "all", "bias": False}, 96 * 14 * 14, 5, id="layernorm over all without bias"
        ),
        pytest.param({"type": "layernorm", "over": "all"}, 2 * 96 * 14 * 14, 5, id="layernorm over C x H x W"),
        pytest.param({"type": "groupnorm", "groups": 32}, 2 * 96, 5, id="groupnorm"),
        pytest.param({"type": "groupnorm", "groups": 96, "affine": False}, 0, 4, id="groupnorm without affine"),
    ],
)
def test_norms_with_statistics(entry: dict[str, Any], params: int, per_element: int) -> None:
    layer = one_layer([96, 14, 14], entry)
    assert costs(layer) == ((96, 14, 14), params, 0, 0, per_element * 96 * 14 * 14)


def test_layernorm_of_a_vector_normalises_its_features() -> None:
    # nn.LayerNorm(768): 768 gammas and 768 betas
    assert costs(one_layer([768], {"type": "layernorm"})) == ((768,), 2 * 768, 0, 0, 5 * 768)


def test_groupnorm_groups_must_divide_the_channels() -> None:
    message = shape_error([96, 14, 14], [{"type": "groupnorm", "groups": 5}])
    assert "groups=5 must divide the input channels (96)" in message


def test_norms_keep_the_receptive_field() -> None:
    layers = [
        {"type": "conv", "name": "c", "filters": 8, "kernel": 3},
        {"type": "layernorm", "name": "ln"},
        {"type": "groupnorm", "name": "gn", "groups": 2},
    ]
    fields = {layer.name: layer.receptive_field for layer in analyze_layers([3, 9, 9], layers).layers}
    assert fields["ln"] == fields["gn"] == fields["c"]


# --- rearrangements without arithmetic ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_shape", "entry", "shape"),
    [
        # ShuffleNetV2 stage 2: 116 channels in 2 groups, interleaved; nothing else changes
        pytest.param([116, 28, 28], {"type": "channel_shuffle", "groups": 2}, (116, 28, 28), id="channel_shuffle"),
        # ESPCN: 3 * 3 * 3 = 27 channels at 10x12 -> 3 channels at 10 * 3 x 12 * 3
        pytest.param([27, 10, 12], {"type": "pixel_shuffle", "factor": 3}, (3, 30, 36), id="pixel_shuffle"),
        # the inverse: 3x30x36 -> 3 * 3 * 3 = 27 channels at 30 / 3 x 36 / 3
        pytest.param([3, 30, 36], {"type": "pixel_unshuffle", "factor": 3}, (27, 10, 12), id="pixel_unshuffle"),
        # [top, bottom, left, right] = [1, 2, 3, 4]: 5 + 1 + 2 = 8 rows, 6 + 3 + 4 = 13 columns
        pytest.param([3, 5, 6], {"type": "pad", "padding": [1, 2, 3, 4]}, (3, 8, 13), id="pad sides"),
        pytest.param([3, 5, 6], {"type": "pad", "padding": 2}, (3, 5 + 4, 6 + 4), id="pad all"),
        pytest.param([96, 56, 56], {"type": "stochastic_depth", "rate": 0.1}, (96, 56, 56), id="stochastic_depth"),
        # channels 58 .. 115 of 116: 116 - 58 = 58
        pytest.param([116, 28, 28], {"type": "slice", "start": 58, "end": 116}, (58, 28, 28), id="slice"),
        pytest.param([10], {"type": "slice", "end": 4}, (4,), id="slice of a vector"),
    ],
)
def test_rearrangements_cost_nothing(input_shape: list[int], entry: dict[str, Any], shape: tuple[int, ...]) -> None:
    assert costs(one_layer(input_shape, entry)) == (shape, 0, 0, 0, 0)


def test_a_channel_split_is_two_slices_of_one_input() -> None:
    # ShuffleNetV2 unit (stride 1) at 116x28x28: half the channels pass, half go through 1x1 - 3x3 dw - 1x1
    layers = [
        {"type": "slice", "name": "kept", "end": 58},
        {"type": "slice", "name": "branch", "input": "input", "start": 58, "end": 116},
        {"type": "conv", "name": "pw", "filters": 58, "kernel": 1},
        {"type": "concat", "name": "joined", "inputs": ["kept", "pw"]},
        {"type": "channel_shuffle", "name": "shuffled", "groups": 2},
    ]
    layers_out = by_name(analyze_layers([116, 28, 28], layers))
    assert layers_out["kept"].output_shape == layers_out["branch"].output_shape == (58, 28, 28)
    # 1x1 conv 58 -> 58 on 28x28: 58 * 58 + 58 params, 28 * 28 * 58 * 58 MACs
    assert (layers_out["pw"].params, layers_out["pw"].macs) == (58 * 58 + 58, 28 * 28 * 58 * 58)
    assert layers_out["shuffled"].output_shape == (58 + 58, 28, 28)
    # each slice's output is an activation of 58 * 28 * 28 float32 values
    assert layers_out["kept"].activation_bytes == 58 * 28 * 28 * 4


@pytest.mark.parametrize(
    ("input_shape", "entry", "words"),
    [
        ([6, 4, 4], {"type": "channel_shuffle", "groups": 4}, "groups=4 must divide the input channels (6)"),
        ([6, 4, 4], {"type": "pixel_shuffle", "factor": 2}, "pixel_shuffle by 2 needs channels divisible by 4"),
        (
            [12, 4, 4],
            {"type": "pixel_shuffle", "factor": 3},
            "by 3 needs channels divisible by 9, but the input has 12",
        ),
        ([6, 4, 5], {"type": "pixel_unshuffle", "factor": 2}, "divisible by 2, not 4x5"),
        ([6, 4, 4], {"type": "slice", "start": 4, "end": 8}, "cannot slice channels 4 to 8 of 6"),
        ([6, 4, 4], {"type": "slice", "start": 3, "end": 3}, "need start < end <= 6"),
        ([6], {"type": "pad", "padding": 1}, "pad needs a CxHxW feature map"),
        ([6], {"type": "pixel_shuffle", "factor": 1}, "needs a CxHxW feature map"),
    ],
)
def test_impossible_rearrangements_are_shape_errors(input_shape: list[int], entry: dict[str, Any], words: str) -> None:
    assert words in shape_error(input_shape, [entry])


def test_pad_refuses_a_list_of_three_or_of_eight() -> None:
    """Sides come in pairs, before and after each spatial axis, of at most 3 axes: 2, 4 or 6 numbers."""
    for sides in ([1, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8]):
        assert f"[top, bottom, left, right], got a list of {len(sides)}" in shape_error(
            [1, 2, 2], [{"type": "pad", "padding": sides}]
        )


def receptive_fields(input_shape: list[int], layers: list[dict[str, Any]]) -> dict[str, dict[str, list[Any]]]:
    return {layer.name: layer.receptive_field.to_dict() for layer in analyze_layers(input_shape, layers).layers}


def test_pad_moves_the_start_of_the_field() -> None:
    layers = [
        {"type": "pad", "name": "p", "padding": [2, 0, 1, 0]},
        {"type": "conv", "name": "c", "filters": 1, "kernel": 3},
    ]
    rf = receptive_fields([1, 8, 8], layers)
    # output pixel 0 of the pad is input row -2 (column -1); the 3x3 window starting there is centred 1 further
    assert rf["p"] == {"size": [1, 1], "jump": [1, 1], "start": [-2, -1]}
    assert rf["c"] == {"size": [3, 3], "jump": [1, 1], "start": [-2 + 1, -1 + 1]}


def test_pixel_unshuffle_reads_a_block_and_pixel_shuffle_divides_the_jump() -> None:
    layers = [
        {"type": "pixel_unshuffle", "name": "down", "factor": 2},
        {"type": "conv", "name": "c", "filters": 8, "kernel": 3, "padding": 1},
        {"type": "pixel_shuffle", "name": "up", "factor": 2},
    ]
    rf = receptive_fields([2, 8, 8], layers)
    # each position of 'down' is a 2x2 block of the input: size 2, jump 2, centred at (2 - 1) / 2 = 0.5
    assert rf["down"] == {"size": [2, 2], "jump": [2, 2], "start": [0.5, 0.5]}
    # the 3x3 conv spans 3 blocks: 2 + (3 - 1) * 2 = 6; padding 1 centres its first window on block 0:
    # start 0.5 + ((3 - 1) / 2 - 1) * 2 = 0.5
    assert rf["c"] == {"size": [6, 6], "jump": [2, 2], "start": [0.5, 0.5]}
    # pixel_shuffle by 2: same field, jump 2 / 2 = 1; as nearest upsampling the first output sits
    # (2 - 1) / (2 * 2) = 1/4 of a jump-2 step before it: 0.5 - 2 * 1/4 = 0
    assert rf["up"] == {"size": [6, 6], "jump": [1, 1], "start": [0, 0]}


def test_pixel_shuffle_by_3_reads_as_nearest_upsampling_by_3() -> None:
    # each output pixel reads one input pixel, a third of a pixel apart; output 0's centre, by the half-pixel rule
    # of nearest upsampling, is (0 + 1/2) / 3 - 1/2 = -1/3 of an input pixel (to_dict rounds to 3 decimals)
    field = {"size": [1, 1], "jump": [0.333, 0.333], "start": [-0.333, -0.333]}
    assert receptive_fields([9, 4, 4], [{"type": "pixel_shuffle", "name": "up", "factor": 3}])["up"] == field
    assert receptive_fields([9, 4, 4], [{"type": "upsample", "name": "up", "scale": 3}])["up"] == field


def test_export_names_the_torch_modules() -> None:
    from convcalc.export import to_pytorch
    from tests.test_export import EVERY_KIND

    source = to_pytorch(str(EVERY_KIND))
    # nn.ZeroPad2d takes (left, right, top, bottom): [top, bottom, left, right] = [1, 0, 2, 3] -> (2, 3, 1, 0)
    assert "nn.ZeroPad2d((2, 3, 1, 0))" in source
    assert "Slice(10, 24)" in source and "ChannelShuffle(3)" in source and "LayerNorm2d(24, eps=1e-06)" in source
    assert (
        "nn.GroupNorm(6, 24, eps=0.001)" in source and "nn.LayerNorm([24, 11, 5], elementwise_affine=False)" in source
    )


# --- a layer whose output is never read ----------------------------------------------------------------

SE_BLOCK = [
    {"type": "conv", "name": "features", "filters": 32, "kernel": 3, "padding": 1},
    {"type": "global_avgpool", "name": "se_pool"},
    {"type": "conv", "name": "se_reduce", "filters": 8, "kernel": 1},
    {"type": "relu", "name": "se_relu"},
    {"type": "conv", "name": "se_expand", "filters": 32, "kernel": 1},
    {"type": "sigmoid", "name": "se_gate"},
]


def test_an_se_gate_written_as_a_dangling_branch_is_never_read() -> None:
    # the workaround: the gate branch reads 'features' but nothing reads the gate; the network goes on
    dangling = [*SE_BLOCK, {"type": "relu", "name": "out", "input": "features"}]
    warnings = [w for w in analyze_layers([16, 8, 8], dangling).warnings if "never read" in w.message]
    assert [w.layer for w in warnings] == ["se_gate"]
    assert "the network's output is 'out'" in warnings[0].message


def test_an_se_gate_read_by_multiply_gets_no_warning() -> None:
    wired = [*SE_BLOCK, {"type": "multiply", "name": "out", "inputs": ["features", "se_gate"]}]
    assert not [w for w in analyze_layers([16, 8, 8], wired).warnings if "never read" in w.message]


def test_readme_se_block_worked_example() -> None:
    from tests.docs import block_after
    from tests.netbuild import analyze_text

    text = "\n".join(block_after("explanation/counting.md", "## Worked example: a squeeze-and-excitation block"))
    analysis = analyze_text(text)
    layers = by_name(analysis)
    pool = 64 * 14 * 14  # global average pool: one add (or the divide) per input element
    reduce_macs, expand_macs = 1 * 1 * 16 * 64, 1 * 1 * 64 * 16
    assert costs(layers["squeeze"]) == ((64, 1, 1), 0, 0, 0, pool)
    assert costs(layers["reduce"]) == ((16, 1, 1), 64 * 16 + 16, 0, reduce_macs, 2 * reduce_macs + 16)
    assert costs(layers["relu1"]) == ((16, 1, 1), 0, 0, 0, 16)
    assert costs(layers["expand"]) == ((64, 1, 1), 16 * 64 + 64, 0, expand_macs, 2 * expand_macs + 64)
    assert costs(layers["gate"]) == ((64, 1, 1), 0, 0, 0, 3 * 64)
    assert costs(layers["excite"]) == ((64, 14, 14), 0, 0, 0, 64 * 14 * 14)
    params = 64 * 16 + 16 + 16 * 64 + 64
    flops = pool + (2 * 1_024 + 16) + 16 + (2 * 1_024 + 64) + 3 * 64 + 64 * 14 * 14
    assert (params, flops) == (2_128, 29_472)  # the figures docs/explanation/counting.md states
    assert (analysis.total.params, analysis.total.macs, analysis.total.flops) == (params, 2 * 1_024, flops)
    assert analysis.warnings == ()


def test_a_linear_per_position_is_convnext_pointwise_linear():
    # ConvNeXt-T's first block: nn.Linear(96, 384) on the channels of a 96x56x56 map, at each of 56 * 56 positions
    layer = analyze(
        load_spec("t.yaml", text="input: [96, 56, 56]\nlayers:\n  - {type: linear, units: 384, per_position: true}\n")
    ).layers[0]
    assert layer.output_shape == (384, 56, 56)
    assert layer.params == 96 * 384 + 384  # 37,248, as torchvision's block.3 (weight 384x96 and bias)
    assert layer.macs == 56 * 56 * 96 * 384  # 115,605,504: the same as a 1x1 conv with bias
    assert layer.flops == 2 * 56 * 56 * 96 * 384 + 384 * 56 * 56  # the bias added at every position
    with pytest.raises(SpecError, match="needs a CxHxW feature map"):  # a flat vector has no positions
        analyze(load_spec("t.yaml", text="input: [96]\nlayers:\n  - {type: linear, units: 384, per_position: true}\n"))
