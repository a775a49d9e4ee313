"""The layer kinds of modern CNNs (issue 12): shape, params, MACs, FLOPs, receptive fields and errors by hand.

FLOPs follow the convention of convcalc/layers.py: no weight multiplies here, so MACs are 0 and FLOPs are the
element-wise work stated in each kind's ``flops_rule``.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc.errors import SpecError
from tests.netbuild import analyze_layers, by_name, one_layer

MODERN_KINDS = {"multiply", "scale", "layernorm", "groupnorm"}
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
