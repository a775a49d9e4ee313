"""`convcalc explain`: formulas from the catalogue's own code path, checked against hand arithmetic."""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction

import pytest

from convcalc import analyze, load_spec
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.passes.explain import explain_layer
from tests.conftest import SPECS, run_cli


def steps_of(spec_text: str, layer: str) -> dict[str, tuple[str, str, int | None]]:
    """label -> (formula, substituted numbers, value) for one layer of a spec."""
    analysis = analyze(load_spec("test.yaml", text=spec_text))
    result = next(r for r in analysis.layers if r.name == layer)
    return {s.label: (s.symbols, s.numbers, s.value) for s in explain_layer(result).steps}


def evaluate_numbers(text: str) -> int:
    """Evaluate explain's substituted arithmetic exactly (test-side only; the text comes from convcalc, not a user)."""
    exact = re.sub(r"\d+", lambda m: f"Fraction({m.group(0)})", text)
    value = eval(exact, {"floor": math.floor, "ceil": math.ceil, "Fraction": Fraction})
    assert value == int(value), text
    return int(value)


def test_issue_example_conv5x5():
    steps = steps_of((SPECS / "inception-5x5-bottleneck.yaml").read_text(), "conv5x5")
    assert steps["params"] == ("k_h * k_w * C_in * C_out", "5 * 5 * 16 * 32", 5 * 5 * 16 * 32)
    assert steps["MACs"] == (
        "H_out * W_out * C_out * k_h * k_w * C_in",
        "28 * 28 * 32 * 5 * 5 * 16",
        28 * 28 * 32 * 5 * 5 * 16,
    )
    # 'same' padding of a 5x5 kernel at stride 1 is 2 on each side: floor((28 + 4 - 4 - 1) / 1) + 1 = 28
    assert steps["H_out"] == (
        "floor((H_in + 2 + 2 - d_h * (k_h - 1) - 1) / s_h) + 1",
        "floor((28 + 2 + 2 - 1 * (5 - 1) - 1) / 1) + 1",
        28,
    )
    assert steps["FLOPs"][2] == 2 * 10_035_200


def test_cli_explain_prints_formula_then_numbers():
    result = run_cli("explain", str(SPECS / "inception-5x5-bottleneck.yaml"), "conv5x5")
    assert result.code == 0, result.stderr
    assert "params = k_h * k_w * C_in * C_out" in result.stdout
    assert "= 5 * 5 * 16 * 32 = 12,800" in result.stdout
    assert "= 28 * 28 * 32 * 5 * 5 * 16 = 10,035,200" in result.stdout
    assert "reduce1x1" not in result.stdout


def test_cli_explain_unknown_layer_is_a_usage_error():
    result = run_cli("explain", str(SPECS / "inception-5x5-bottleneck.yaml"), "conv5x6")
    assert result.code == 2
    assert "no layer named 'conv5x6'" in result.stderr and "conv5x5" in result.stderr


def test_cli_explain_json_and_patterns():
    result = run_cli("explain", str(SPECS / "alexnet-lecture.yaml"), "fc*", "--format", "json")
    data = json.loads(result.stdout)
    assert [layer["name"] for layer in data["layers"]] == ["fc6", "fc7", "fc8"]
    fc6 = {step["label"]: step for step in data["layers"][0]["steps"]}
    assert fc6["in_features"]["formula"] == "C_in * H_in * W_in"
    assert fc6["in_features"]["value"] == 256 * 13 * 13
    assert fc6["params"]["substituted"] == "43264 * 4096"
    assert fc6["params"]["value"] == 177_209_344


KINDS = [
    # (layer yaml, input, step label, formula, substituted numbers, hand-computed value)
    (
        "{type: conv, filters: 8, kernel: 3, stride: 2, padding: 1, groups: 2}",
        "[4, 9, 9]",
        "params",
        "k_h * k_w * (C_in / groups) * C_out + C_out",
        "3 * 3 * (4 / 2) * 8 + 8",
        3 * 3 * 2 * 8 + 8,
    ),
    (
        "{type: conv, filters: 8, kernel: 3, stride: 2, padding: 1, groups: 2}",
        "[4, 9, 9]",
        "H_out",
        "floor((H_in + p_h + p_h - d_h * (k_h - 1) - 1) / s_h) + 1",
        "floor((9 + 1 + 1 - 1 * (3 - 1) - 1) / 2) + 1",
        (9 + 2 - 2 - 1) // 2 + 1,
    ),
    (
        "{type: conv_transpose, filters: 4, kernel: 2, stride: 2}",
        "[8, 5, 5]",
        "MACs",
        "H_in * W_in * C_in * C_out * k_h * k_w",
        "5 * 5 * 8 * 4 * 2 * 2",
        5 * 5 * 8 * 4 * 2 * 2,
    ),
    (
        "{type: conv_transpose, filters: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1}",
        "[8, 5, 5]",
        "H_out",
        "(H_in - 1) * s_h - 2 * p_h + d_h * (k_h - 1) + op_h + 1",
        "(5 - 1) * 2 - 2 * 1 + 1 * (3 - 1) + 1 + 1",
        (5 - 1) * 2 - 2 + 2 + 1 + 1,
    ),
    ("{type: linear, units: 10}", "[4, 3, 3]", "params", "in_features * units + units", "36 * 10 + 10", 36 * 10 + 10),
    ("{type: batchnorm}", "[6, 4, 4]", "params", "2 * C_in", "2 * 6", 12),
    ("{type: batchnorm}", "[6, 4, 4]", "buffers", "2 * C_in", "2 * 6", 12),
    (
        "{type: maxpool, kernel: 2}",
        "[3, 8, 8]",
        "FLOPs",
        "(k_h * k_w - 1) * C_in * H_out * W_out",
        "(2 * 2 - 1) * 3 * 4 * 4",
        3 * 3 * 4 * 4,
    ),
    (
        "{type: avgpool, kernel: 3, stride: 1, padding: 1}",
        "[3, 8, 8]",
        "FLOPs",
        "k_h * k_w * C_in * H_out * W_out",
        "3 * 3 * 3 * 8 * 8",
        9 * 3 * 8 * 8,
    ),
    (
        "{type: adaptive_avgpool, output: [3, 3]}",
        "[2, 7, 7]",
        "FLOPs",
        "C_in * windows_h * windows_w",
        "2 * 9 * 9",
        2 * (3 + 3 + 3) * (3 + 3 + 3),
    ),
    (
        "{type: global_maxpool}",
        "[5, 4, 4]",
        "FLOPs",
        "C_in * windows_h * windows_w - C_in",
        "5 * 4 * 4 - 5",
        5 * 16 - 5,
    ),
    (
        "{type: lrn, size: 5}",
        "[8, 2, 2]",
        "FLOPs",
        "(2 * size + 3) * C_in * H_in * W_in",
        "(2 * 5 + 3) * 8 * 2 * 2",
        13 * 32,
    ),
    ("{type: relu6}", "[2, 3, 3]", "FLOPs", "2 * C_in * H_in * W_in", "2 * 2 * 3 * 3", 36),
    ("{type: softmax}", "[10]", "FLOPs", "3 * N_in - 1", "3 * 10 - 1", 29),
    (
        "{type: upsample, scale: 2, mode: bilinear}",
        "[3, 4, 4]",
        "FLOPs",
        "7 * C_in * H_out * W_out",
        "7 * 3 * 8 * 8",
        7 * 3 * 8 * 8,
    ),
    ("{type: upsample, scale: 2, mode: bilinear}", "[3, 4, 4]", "H_out", "H_in * scale_h", "4 * 2", 8),
    ("{type: flatten}", "[3, 4, 4]", "output", "C_in * H_in * W_in", "3 * 4 * 4", None),
    (
        "{type: adaptive_maxpool, output: 2}",
        "[3, 5, 5]",
        "FLOPs",
        "C_in * windows_h * windows_w - C_in * out_h * out_w",
        "3 * 6 * 6 - 3 * 2 * 2",
        3 * (3 + 3) * (3 + 3) - 3 * 2 * 2,
    ),  # 5 -> 2: windows [0,3) and [2,5)
    ("{type: global_avgpool}", "[5, 4, 4]", "FLOPs", "C_in * windows_h * windows_w", "5 * 4 * 4", 5 * 16),
    ("{type: dropout}", "[2, 3, 3]", "FLOPs", "0", "0", 0),
    ("{type: identity}", "[2, 3, 3]", "FLOPs", "0", "0", 0),
    ("{type: relu}", "[2, 3, 3]", "FLOPs", "C_in * H_in * W_in", "2 * 3 * 3", 18),
    ("{type: leaky_relu}", "[2, 3, 3]", "FLOPs", "2 * C_in * H_in * W_in", "2 * 2 * 3 * 3", 36),
    ("{type: sigmoid}", "[2, 3, 3]", "FLOPs", "3 * C_in * H_in * W_in", "3 * 2 * 3 * 3", 54),
    ("{type: tanh}", "[2, 3, 3]", "FLOPs", "C_in * H_in * W_in", "2 * 3 * 3", 18),
    ("{type: silu}", "[2, 3, 3]", "FLOPs", "4 * C_in * H_in * W_in", "4 * 2 * 3 * 3", 72),
    ("{type: gelu}", "[2, 3, 3]", "FLOPs", "5 * C_in * H_in * W_in", "5 * 2 * 3 * 3", 90),
    ("{type: hardsigmoid}", "[2, 3, 3]", "FLOPs", "4 * C_in * H_in * W_in", "4 * 2 * 3 * 3", 72),
    ("{type: hardswish}", "[2, 3, 3]", "FLOPs", "5 * C_in * H_in * W_in", "5 * 2 * 3 * 3", 90),
    ("{type: crop, size: [2, 3]}", "[3, 4, 4]", "output", "C_in x crop_h x crop_w", "3 x 2 x 3", None),
    ("{type: opaque, op: TopK, shape: [7]}", "[3, 4, 4]", "FLOPs", "0", "0", 0),
    (
        "{type: linear, units: 5, per_position: true}",
        "[3, 4, 2]",
        "MACs",
        "H_in * W_in * C_in * units",
        "4 * 2 * 3 * 5",
        120,
    ),
    # modern CNNs (issue 12)
    ("{type: scale}", "[6, 4, 5]", "params", "C_in", "6", 6),
    ("{type: scale}", "[6, 4, 5]", "FLOPs", "C_in * H_in * W_in", "6 * 4 * 5", 6 * 4 * 5),
    ("{type: layernorm}", "[6, 4, 5]", "params", "2 * C_in", "2 * 6", 12),
    ("{type: layernorm}", "[6, 4, 5]", "FLOPs", "5 * C_in * H_in * W_in", "5 * 6 * 4 * 5", 5 * 120),
    ("{type: groupnorm, groups: 3}", "[6, 4, 5]", "params", "2 * C_in", "2 * 6", 12),
    ("{type: groupnorm, affine: false}", "[6, 4, 5]", "FLOPs", "4 * C_in * H_in * W_in", "4 * 6 * 4 * 5", 4 * 120),
    ("{type: pad, padding: [1, 2, 3, 4]}", "[3, 5, 6]", "H_out", "H_in + p_top + p_bottom", "5 + 1 + 2", 8),
    ("{type: pad, padding: [1, 2, 3, 4]}", "[3, 5, 6]", "W_out", "W_in + p_left + p_right", "6 + 3 + 4", 13),
    ("{type: pad, padding: 2}", "[3, 5, 6]", "W_out", "W_in + p_left + p_right", "6 + 2 + 2", 10),
    ("{type: pad, padding: [1, 2]}", "[3, 5]", "L_out", "L_in + p_left + p_right", "5 + 1 + 2", 8),
    ("{type: pad, padding: [1, 2, 3, 4, 5, 6]}", "[3, 5, 6, 7]", "D_out", "D_in + p_front + p_back", "5 + 1 + 2", 8),
    ("{type: pixel_shuffle, factor: 2}", "[8, 3, 5]", "C_out", "C_in / (r * r)", "8 / (2 * 2)", 2),
    ("{type: pixel_shuffle, factor: 2}", "[8, 3, 5]", "H_out", "H_in * r", "3 * 2", 6),
    ("{type: pixel_unshuffle, factor: 2}", "[2, 4, 6]", "C_out", "C_in * r * r", "2 * 2 * 2", 8),
    ("{type: pixel_unshuffle, factor: 2}", "[2, 4, 6]", "W_out", "W_in / r", "6 / 2", 3),
    ("{type: slice, start: 2, end: 5}", "[8, 3, 3]", "output", "(end - start) x H_in x W_in", "(5 - 2) x 3 x 3", None),
    ("{type: channel_shuffle, groups: 2}", "[8, 3, 3]", "FLOPs", "0", "0", 0),
    ("{type: stochastic_depth, rate: 0.2}", "[8, 3, 3]", "FLOPs", "0", "0", 0),
    # tensor operations and transformer layers (issue 27)
    ("{type: reshape, shape: [8, -1]}", "[8, 3, 3]", "FLOPs", "0", "0", 0),
    ("{type: permute, dims: [1, 0]}", "[8, 9]", "FLOPs", "0", "0", 0),
    ("{type: roll, shift: -3}", "[8, 7, 7]", "FLOPs", "0", "0", 0),
    ("{type: attention, heads: 2}", "[8, 5]", "QKV", "L_in * C_in * 3 * C_in", "5 * 8 * 3 * 8", 5 * 8 * 3 * 8),
    ("{type: attention, heads: 2}", "[8, 5]", "scores", "L_in * L_in * C_in", "5 * 5 * 8", 5 * 5 * 8),
    ("{type: class_token}", "[8, 5]", "params", "C_in", "8", 8),  # one token: C_in * 1
    ("{type: position_embedding}", "[8, 5]", "params", "C_in * L_in", "8 * 5", 40),
    (
        "{type: reduce, op: mean, axes: [1, 2]}",
        "[6, 4, 5]",
        "FLOPs",
        "C_in * H_in * W_in + C_in",
        "6 * 4 * 5 + 6",
        6 * 4 * 5 + 6,
    ),  # an add per input element, a division per output
    (
        "{type: arithmetic, op: mul, constant: [1], inputs: [input]}",
        "[6, 4, 5]",
        "FLOPs",
        "C_in * H_in * W_in",
        "6 * 4 * 5",
        6 * 4 * 5,
    ),  # one multiply per element
]


@pytest.mark.parametrize(("layer", "shape", "label", "formula", "numbers", "value"), KINDS)
def test_every_kind_explains_with_hand_arithmetic(layer, shape, label, formula, numbers, value):
    kind = re.match(r"\{type: (\w+)", layer).group(1)
    steps = steps_of(f"input: {shape}\nlayers:\n  - {layer}\n", f"{kind}1")
    assert steps[label] == (formula, numbers, value)
    if value is not None:
        assert evaluate_numbers(numbers) == value


def test_every_kind_has_an_explain_case():
    covered = {re.match(r"\{type: (\w+)", layer).group(1) for layer, *_ in KINDS} | {
        "concat",
        "add",
        "multiply",
        "matmul",
        "dot_product_attention",  # tests/test_tensor_ops.py
    }
    assert covered == set(CATALOGUE)


def test_merges_explain_their_inputs():
    text = """
input: [3, 8, 8]
layers:
  - type: concat
    name: mix
    branches: [[{type: conv, filters: 4, kernel: 1}], [{type: conv, filters: 6, kernel: 1}]]
  - type: residual
    name: res
    body: [{type: conv, filters: 10, kernel: 3, padding: 1}]
"""
    assert steps_of(text, "mix")["output"] == ("(C_1 + C_2) x H_1 x W_1", "(4 + 6) x 8 x 8", None)
    assert steps_of(text, "res")["FLOPs"] == ("C_1 * H_1 * W_1", "10 * 8 * 8", 10 * 8 * 8)


def test_explanations_agree_with_the_analysis_for_every_bundled_layer():
    """The explained values are the analysed ones (one code path), for every layer of the bundled specs."""
    for path in sorted(SPECS.glob("*.yaml")):
        for layer in analyze(path).layers:
            steps = {s.label: s for s in explain_layer(layer).steps}
            assert (steps["params"].value, steps["MACs"].value, steps["FLOPs"].value) == (
                layer.params,
                layer.macs,
                layer.flops,
            ), (path.name, layer.name)
            for step in steps.values():
                if step.value is not None and step.symbols != step.numbers:
                    assert evaluate_numbers(step.numbers) == step.value, (path.name, layer.name, step.label)


def test_a_block_name_points_to_its_layers():
    result = run_cli("explain", "resnet50", "layer1")
    assert result.code == 2 and "explain them with 'layer1.*'" in result.stderr
