"""`convcalc analyze --format json`: the documented keys, exact integers, --batch and --dtype, the convention.

The network used throughout, worked out by hand:

    input 3x8x8
    conv      4 filters 3x3      -> 4x6x6   params 3*3*3*4 + 4   MACs 6*6*4*3*3*3
    batchnorm                    -> 4x6x6   params 2*4, buffers 2*4
    relu                         -> 4x6x6
    maxpool   2x2                -> 4x3x3
    linear    5 units (flattens 4x3x3 = 36)  params 36*5 + 5      MACs 36*5
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import run_cli

SPEC = """\
name: tiny
input: {channels: 3, height: 8, width: 8}
layers:
  - {type: conv, name: conv, filters: 4, kernel: 3}
  - {type: batchnorm, name: bn}
  - {type: relu, name: act}
  - {type: maxpool, name: pool, kernel: 2}
  - {type: linear, name: fc, units: 5}
"""

CONV_MACS = 6 * 6 * 4 * 3 * 3 * 3
FC_MACS = 36 * 5
# (name, type, output shape, params, buffers, MACs, FLOPs) per sample
EXPECTED = [
    ("conv", "conv", [4, 6, 6], 3 * 3 * 3 * 4 + 4, 0, CONV_MACS, 2 * CONV_MACS + 4 * 6 * 6),
    ("bn", "batchnorm", [4, 6, 6], 2 * 4, 2 * 4, 0, 2 * 4 * 6 * 6),
    ("act", "relu", [4, 6, 6], 0, 0, 0, 4 * 6 * 6),
    ("pool", "maxpool", [4, 3, 3], 0, 0, 0, (2 * 2 - 1) * 4 * 3 * 3),
    ("fc", "linear", [5], 36 * 5 + 5, 0, FC_MACS, 2 * FC_MACS + 5),
]
OUTPUT_ELEMENTS = 4 * 6 * 6 + 4 * 6 * 6 + 4 * 6 * 6 + 4 * 3 * 3 + 5
PARAMS = sum(row[3] for row in EXPECTED)
BUFFERS = sum(row[4] for row in EXPECTED)


def analyze_json(*options: str, spec: str = SPEC) -> dict[str, Any]:
    result = run_cli("analyze", "-", "--format", "json", *options, stdin=spec)
    assert result.code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def values(node: Any) -> Iterator[Any]:
    """Every scalar in a JSON document."""
    if isinstance(node, dict):
        for value in node.values():
            yield from values(value)
    elif isinstance(node, list):
        for value in node:
            yield from values(value)
    else:
        yield node


def test_documented_keys() -> None:
    data = analyze_json()
    assert {"name", "input", "layers", "total", "convention"} <= data.keys()
    for layer in data["layers"]:
        assert {"name", "type", "output_shape", "params", "macs", "flops"} <= layer.keys()
    assert {"params", "macs", "flops"} <= data["total"].keys()


def test_name_input_and_output() -> None:
    data = analyze_json()
    assert data["name"] == "tiny"
    assert data["input"] == [3, 8, 8]  # the mapping form comes out as [C, H, W]
    assert data["output"] == [5]


def test_layers_and_totals_match_hand_arithmetic() -> None:
    data = analyze_json()
    rows = [
        (layer["name"], layer["type"], layer["output_shape"], layer["params"], layer["buffers"], layer["macs"])
        for layer in data["layers"]
    ]
    assert rows == [row[:6] for row in EXPECTED]
    assert [layer["flops"] for layer in data["layers"]] == [row[6] for row in EXPECTED]
    total = data["total"]
    assert total["params"] == PARAMS == (108 + 4) + 8 + (180 + 5)
    assert total["buffers"] == BUFFERS == 8
    assert total["macs"] == CONV_MACS + FC_MACS
    assert total["flops"] == sum(row[6] for row in EXPECTED)
    assert total["activation_bytes"] == OUTPUT_ELEMENTS * 4  # float32
    assert total["weight_bytes"] == (PARAMS + BUFFERS) * 4


RATIOS = ("intensity", "receptive_field")
"""Fields that are ratios or positions, not counts: they may be fractional."""


def test_every_count_is_an_integer() -> None:
    data = analyze_json("--batch", "3", "--dtype", "float16")
    for layer in data["layers"]:
        for key in RATIOS:
            del layer[key]
    numbers = [v for v in values(data) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    assert numbers, "the document has numbers"
    assert all(type(v) is int for v in numbers), [v for v in numbers if type(v) is not int]


def test_counts_beyond_float_precision_stay_exact() -> None:
    spec = "input: [123456789]\nlayers:\n  - {type: linear, units: 98765431, bias: false}\n"
    result = run_cli("analyze", "-", "--format", "json", stdin=spec)
    assert result.code == 0, result.stderr
    macs = 123456789 * 98765431
    assert macs > 2**53  # a float64 could not hold it exactly
    assert json.loads(result.stdout)["total"]["macs"] == macs
    assert f'"macs": {macs}' in result.stdout  # written as digits, not as 1.2e+16


def test_linear_on_a_feature_map_carries_a_note() -> None:
    layers = {layer["name"]: layer for layer in analyze_json()["layers"]}
    assert "4x3x3" in layers["fc"]["note"] and "36" in layers["fc"]["note"]
    assert "note" not in layers["conv"]


def test_batch_scales_work_and_activations_but_not_params() -> None:
    one, four = analyze_json(), analyze_json("--batch", "4")
    assert four["batch"] == 4
    for single, batched in zip(one["layers"], four["layers"], strict=True):
        assert batched["output_shape"] == single["output_shape"]  # shapes are per sample
        assert (batched["params"], batched["buffers"]) == (single["params"], single["buffers"])
        assert batched["macs"] == 4 * single["macs"]
        assert batched["flops"] == 4 * single["flops"]
        assert batched["activation_bytes"] == 4 * single["activation_bytes"]
    assert four["total"]["params"] == PARAMS
    assert four["total"]["weight_bytes"] == (PARAMS + BUFFERS) * 4
    assert four["total"]["macs"] == 4 * (CONV_MACS + FC_MACS)
    assert four["total"]["activation_bytes"] == 4 * OUTPUT_ELEMENTS * 4


@pytest.mark.parametrize(
    ("dtype", "size"), [("float32", 4), ("float16", 2), ("bfloat16", 2), ("int8", 1), ("float64", 8)]
)
def test_dtype_sets_bytes_per_element(dtype: str, size: int) -> None:
    data = analyze_json("--dtype", dtype)
    assert data["dtype"] == dtype
    assert data["layers"][0]["activation_bytes"] == 4 * 6 * 6 * size
    assert data["total"]["activation_bytes"] == OUTPUT_ELEMENTS * size
    assert data["total"]["weight_bytes"] == (PARAMS + BUFFERS) * size
    assert (data["total"]["macs"], data["total"]["params"]) == (CONV_MACS + FC_MACS, PARAMS)


def test_float16_halves_memory_of_float32() -> None:
    single, half = analyze_json(), analyze_json("--dtype", "float16")
    assert half["total"]["activation_bytes"] * 2 == single["total"]["activation_bytes"]
    assert half["total"]["weight_bytes"] * 2 == single["total"]["weight_bytes"]


def test_convention_is_stated() -> None:
    convention = analyze_json()["convention"]
    for key in ("params", "macs", "flops"):
        assert isinstance(convention[key], str) and convention[key]
    assert "buffer" in convention["params"]  # running statistics are not parameters
    assert "MACs" in convention["flops"] and "element-wise" in convention["flops"]  # 2 x MACs + element-wise work


def test_nested_structures_appear_as_leaves_and_merges_in_execution_order() -> None:
    spec = """\
input: [4, 6, 6]
layers:
  - type: residual
    name: res
    body: [{type: conv, filters: 4, kernel: 1}]
    shortcut: [{type: relu}]
  - type: concat
    name: cat
    branches:
      second: [{type: relu}]
      first: [{type: conv, filters: 2, kernel: 1}]
"""
    data = analyze_json(spec=spec)
    assert [(layer["name"], layer["type"], layer["output_shape"]) for layer in data["layers"]] == [
        ("res.body.conv1", "conv", [4, 6, 6]),
        ("res.shortcut.relu1", "relu", [4, 6, 6]),
        ("res", "add", [4, 6, 6]),
        ("cat.second.relu1", "relu", [4, 6, 6]),
        ("cat.first.conv1", "conv", [2, 6, 6]),
        ("cat", "concat", [4 + 2, 6, 6]),
    ]
    assert data["layers"][2]["flops"] == 4 * 6 * 6  # the residual's sum: one add per element
