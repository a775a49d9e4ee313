"""The tensor operations and transformer layers of hybrid models, by hand arithmetic: reshape, permute, matmul of two
activations (batched), softmax and concat along an axis, and multi-head self-attention with ViT's class token and
position embeddings on channels-first tokens (D x T)."""

from __future__ import annotations

import pytest

from convcalc import AnalysisError
from convcalc.passes.explain import explain_layer
from tests.conftest import run_cli
from tests.netbuild import analyze_layers, analyze_text, one_layer

TENSOR_KINDS = {
    "reshape",
    "permute",
    "roll",
    "matmul",
    "attention",
    "dot_product_attention",
    "class_token",
    "position_embedding",
}
"""The kinds this file tests (tests/test_layers.py counts them as covered)."""


def test_reshape_and_permute_move_values_only() -> None:
    flat = one_layer([768, 14, 14], {"type": "reshape", "shape": [768, -1]})
    assert (flat.output_shape, flat.params, flat.macs, flat.flops) == ((768, 196), 0, 0, 0)  # 14 * 14 = 196
    swapped = one_layer([768, 196], {"type": "permute", "dims": [1, 0]})
    assert swapped.output_shape == (196, 768)
    heads = one_layer([196, 768], {"type": "reshape", "shape": [196, 12, 64]})  # 12 heads of 64 = 768
    assert heads.output_shape == (196, 12, 64)


def test_matmul_counts_batch_n_k_m() -> None:
    analysis = analyze_text(
        "input: [12, 197, 64]\nlayers:\n"
        "  - {type: permute, name: kt, dims: [0, 2, 1]}\n"
        "  - {type: matmul, name: scores, inputs: [input, kt]}\n"
    )
    scores = analysis.layers[-1]
    # 12 heads of (197 x 64) @ (64 x 197): 12 * 197 * 64 * 197 multiply-accumulates
    assert scores.output_shape == (12, 197, 197) and scores.macs == 12 * 197 * 64 * 197
    assert scores.flops == 2 * scores.macs


def test_matmul_broadcasts_its_leading_axes() -> None:
    text = (
        "input: [2, 3, 4]\nlayers:\n"
        "  - {type: slice, name: w, axis: 0, start: 0, end: 1}\n"  # 1 x 3 x 4
        "  - {type: permute, name: wt, dims: [0, 2, 1]}\n"  # 1 x 4 x 3
        "  - {type: matmul, name: p, inputs: [input, wt]}\n"  # (2 x 3 x 4) @ (1 x 4 x 3): 1 broadcasts to 2
    )
    product = analyze_text(text).layers[-1]
    assert product.output_shape == (2, 3, 3) and product.macs == 2 * 3 * 4 * 3


def test_softmax_and_concat_along_an_axis() -> None:
    scores = one_layer([12, 197, 197], {"type": "softmax", "axis": -1})
    # rows of 197: 197 exponentials, 196 adds, 197 divides, for 12 * 197 rows
    assert scores.flops == (3 * 197 - 1) * 12 * 197
    assert one_layer([10, 5], {"type": "softmax"}).flops == (3 * 10 - 1) * 5  # over the channels, as before
    joined = analyze_text(
        "input: [4, 6]\nlayers:\n  - {type: relu, name: a}\n  - {type: concat, inputs: [input, a], axis: 1}\n"
    )
    assert joined.output_shape == (4, 12)


def test_attention_of_vit_b_16_by_hand() -> None:
    """One ViT-B/16 encoder's attention: D = 768, T = 197 tokens, 12 heads of 64, biases on Q, K, V and the output."""
    layer = one_layer([768, 197], {"type": "attention", "heads": 12})
    d, t, h = 768, 197, 12
    assert layer.params == 3 * d * d + 3 * d + d * d + d == 2_362_368  # nn.MultiheadAttention(768, 12)'s
    qkv, scores, values, output = t * d * 3 * d, t * t * d, t * t * d, t * d * d
    assert layer.macs == qkv + scores + values + output
    bias_adds, scaling, softmax = 3 * d * t + d * t, h * t * t, h * t * (3 * t - 1)
    assert layer.flops == 2 * layer.macs + bias_adds + scaling + softmax
    steps = {step.label: step.value for step in explain_layer(layer).steps}
    assert (steps["QKV"], steps["scores"], steps["values"]) == (qkv, scores, values)


def test_roll_moves_positions_only() -> None:
    layer = one_layer([96, 56, 56], {"type": "roll", "shift": [-3, -3]})
    assert (layer.output_shape, layer.params, layer.macs, layer.flops) == ((96, 56, 56), 0, 0, 0)


def test_windowed_attention_of_swin_t_by_hand() -> None:
    """Swin-T's first shifted block: C = 96, 3 heads, 64 windows of 7 x 7 = 49 tokens. The relative position bias is
    a table of (2 x 7 - 1)^2 = 169 values per head, added to each head's 49 x 49 scores, as the shifted windows' mask
    is (torchvision's attention module: qkv 27,936 + proj 9,312 + its table 507 parameters)."""
    plain = one_layer([96, 64, 49], {"type": "attention", "heads": 3})
    windowed = one_layer([96, 64, 49], {"type": "attention", "heads": 3, "window": 7, "masked": True})
    assert windowed.params == plain.params + 169 * 3 == 27_936 + 9_312 + 507
    assert windowed.macs == plain.macs == 64 * (49 * 96 * 3 * 96 + 2 * 49 * 49 * 96 + 49 * 96 * 96)
    assert windowed.flops == plain.flops + 2 * 64 * 3 * 49 * 49  # the bias and the mask, per window and head


def test_attention_over_a_batch_of_sequences() -> None:
    """MobileViT attends over the N patches for each of the P pixels of a patch: D x P x N, P sequences."""
    layer = one_layer([64, 4, 256], {"type": "attention", "heads": 4, "qkv_bias": False, "projection": False})
    d, p, n = 64, 4, 256
    assert layer.params == 3 * d * d
    assert layer.macs == p * (n * d * 3 * d + 2 * n * n * d)


def test_dot_product_attention_of_one_vit_b_16_layer_by_hand() -> None:
    """softmax(Q K^T / sqrt(d)) V on ViT-B/16's 12 heads of 197 tokens x 64: no weights, two batched products."""
    analysis = analyze_text(
        "input: [12, 197, 64]\nlayers:\n  - {type: dot_product_attention, name: sdpa, inputs: [input, input, input]}\n"
    )
    (layer,) = analysis.layers
    h, t, d = 12, 197, 64
    assert (layer.output_shape, layer.params) == ((12, 197, 64), 0)
    assert layer.macs == h * t * t * d + h * t * t * d  # Q K^T, then A V
    assert layer.flops == 2 * layer.macs + h * t * t + h * t * (3 * t - 1)  # the scale, the softmax
    steps = {step.label: step.value for step in explain_layer(layer).steps}
    assert (steps["scores"], steps["values"]) == (h * t * t * d, h * t * t * d)


def test_dot_product_attention_of_other_lengths() -> None:
    """Cross-attention: 3 queries of depth 4 against 5 keys, values of depth 2 (2 heads): out 2 x 3 x 2."""
    analysis = analyze_text(
        "input: [2, 5, 4]\nlayers:\n"
        "  - {type: slice, name: q, axis: 1, start: 0, end: 3}\n"
        "  - {type: slice, name: v, input: input, axis: 2, start: 0, end: 2}\n"
        "  - {type: dot_product_attention, name: sdpa, inputs: [q, input, v]}\n"
    )
    layer = analysis.layers[-1]
    assert layer.output_shape == (2, 3, 2) and layer.macs == 2 * 3 * 5 * 4 + 2 * 3 * 5 * 2


def test_class_token_and_position_embedding() -> None:
    analysis = analyze_text(
        "input: [768, 196]\nlayers:\n  - {type: class_token, name: cls}\n  - {type: position_embedding, name: pos}\n"
    )
    cls, pos = analysis.layers
    assert (cls.output_shape, cls.params) == ((768, 197), 768)
    assert (pos.output_shape, pos.params, pos.flops) == ((768, 197), 768 * 197, 768 * 197)


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        ("{type: reshape, shape: [5, 5]}", ["cannot reshape 4x6 (24 elements) to 5x5 (25)"]),
        ("{type: reshape, shape: [5, -1]}", ["cannot reshape 4x6 to 5x-1: 24 elements"]),
        ("{type: permute, dims: [0, 1, 2]}", ["dims [0, 1, 2] order 3 axes, but the input 4x6 has 2"]),
        ("{type: softmax, axis: 2}", ["softmax on axis 2: its input 4x6 has axes 0 to 1"]),
        ("{type: attention, heads: 5}", ["heads=5 must divide the features (4)"]),
        ("{type: attention, heads: 2, window: 2}", ["window=2 attends over 2 x 2 = 4 tokens, not 6"]),
        ("{type: attention, heads: 2, window: 3}", ["window=3 attends over 3 x 3 = 9 tokens, not 6"]),
        ("{type: attention, heads: 2, masked: true}", ["masked adds the mask of shifted windows (Swin's)"]),
        ("{type: roll, shift: [1, 2]}", ["'shift' 1x2 gives 2 sizes, but the input's 6 has 1 spatial axis"]),
        ("{type: softmax, axis: -3}", ["softmax on axis -3: its input 4x6 has axes 0 to 1"]),
    ],
)
def test_bad_tensor_ops_are_located_errors(tmp_path, layer: str, words: list[str]) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: [4, 6]\nlayers:\n  - {layer}\n", encoding="utf-8")
    result = run_cli("analyze", str(spec))
    assert result.code == 2 and f"{spec}:3:5: error: layer" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_the_first_axis_counted_from_the_last_and_a_map_of_four_spatial_axes(tmp_path) -> None:
    """Axis -2 of 4x6 is axis 0, the channels: the same softmax as over axis 0. A reshape to 2x2x3x2x2 leaves 4
    axes after the channels, which no conv has (1 to 3): refused, naming the layer."""
    first, last = (analyze_text(f"input: [4, 6]\nlayers:\n  - {{type: softmax, axis: {axis}}}\n") for axis in (-2, 0))
    assert (first.layers[0].output_shape, first.layers[0].flops) == ((4, 6), last.layers[0].flops)
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [48]\nlayers:\n  - {type: reshape, shape: [2, 2, 3, 2, 2]}\n  - {type: conv, filters: 4, kernel: 1}\n",
        encoding="utf-8",
    )
    result = run_cli("analyze", str(spec))
    assert result.code == 2 and f"{spec}:4:5: error: layer 'conv1' (conv)" in result.stderr, result.stderr
    assert "conv needs a feature map of 1 to 3 spatial axes, but its input is 2x2x3x2x2" in result.stderr


def test_dot_product_attention_of_mismatched_shapes_names_them(tmp_path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [4, 6]\nlayers:\n  - {type: permute, dims: [1, 0]}\n"
        "  - {type: dot_product_attention, inputs: [input, input, permute1]}\n",
        encoding="utf-8",
    )
    result = run_cli("analyze", str(spec))
    assert result.code == 2 and "Q, K and V must be [.., Tq, d], [.., Tk, d] and [.., Tk, dv], not 4x6, 4x6, 6x4" in (
        result.stderr
    )


def test_matmul_of_mismatched_inner_sizes_names_both_shapes(tmp_path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [4, 6]\nlayers:\n  - {type: matmul, inputs: [input, input]}\n", encoding="utf-8")
    result = run_cli("analyze", str(spec))
    assert result.code == 2 and "cannot multiply 4x6 by 4x6: 6 columns against 4 rows" in result.stderr


@pytest.mark.parametrize(
    ("input_shape", "layer", "words"),
    [
        ("[4, 6]", "{type: reshape, shape: [-1, -1]}", "'shape': sizes must be at least 1, with at most one -1"),
        ("[4, 6]", "{type: roll, shift: []}", "'shift': expected a whole number or one per axis"),
        ("[4, 6]", "{type: reshape, shape: [-2, 12]}", "'shape': must be at least -1, got -2"),
        ("[4, 6]", "{type: matmul, inputs: [input, input, input]}", "not 4x6 and 4x6 and 4x6"),
        ("[6]", "{type: matmul, inputs: [input, input]}", "at least 2 axes, not 6 and 6"),
        (
            "[8]",
            "{type: attention, heads: 2}",
            "attention needs tokens D x T (features x positions), but its input is 8",
        ),
        (
            "[4, 6]",
            "{type: dot_product_attention, inputs: [input, input]}",
            "Q, K and V of at least 2 axes, not 4x6, 4x6",
        ),
        ("[8]", "{type: dot_product_attention, inputs: [input, input, input]}", "at least 2 axes, not 8, 8, 8"),
        ("[2, 4, 6]", "{type: class_token}", "class_token needs tokens D x T, not 2x4x6"),
        ("[6]", "{type: reshape, name: r, shape: [6, 1]}\n  - {type: matmul, inputs: [input, r]}", "not 6 and 6x1"),
        ("[6]", "{type: reshape, name: r, shape: [1, 6]}\n  - {type: matmul, inputs: [r, input]}", "not 1x6 and 6"),
    ],
)
def test_bad_keys_and_operands_are_one_message(tmp_path, input_shape: str, layer: str, words: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: {input_shape}\nlayers:\n  - {layer}\n", encoding="utf-8")
    result = run_cli("analyze", str(spec))
    last = result.stderr.strip().splitlines()[-1]  # after the layers before the error, if any
    assert result.code == 2 and last.startswith(f"{spec}:") and words in last and "Traceback" not in result.stderr


def test_a_matmul_keeps_both_factors_for_backward() -> None:
    """torch.matmul's backward needs each factor for the other's gradient (grad_a = grad @ b^T, grad_b = a^T @ grad).
    On 4x6: l (a linear per position, for gradients to flow), a = l + l (4x6) and b = permute(l) + itself (6x4), two
    storages nothing else keeps; m = a @ b keeps both: 2 x 24 floats = 192 bytes. An all-axes mean without keep is
    one value, (1,): 24 adds and 1 divide. Reducing axis 3 of 4x6 is refused."""
    from convcalc.passes.training import training

    layers = [
        {"type": "linear", "name": "l", "units": 4, "per_position": True, "bias": False},
        {"type": "add", "name": "a", "inputs": ["l", "l"]},
        {"type": "permute", "name": "p", "dims": [1, 0], "input": "l"},
        {"type": "add", "name": "b", "inputs": ["p", "p"]},
        {"type": "matmul", "name": "m", "inputs": ["a", "b"]},
    ]
    saved = {layer.name: layer.saved_bytes for layer in training(analyze_layers([4, 6], layers)).layers}
    assert saved["m"] == 2 * 24 * 4
    (mean,) = analyze_layers([4, 6], [{"type": "reduce", "op": "mean", "axes": [0, 1], "keep": False}]).layers
    assert (mean.output_shape, mean.flops) == ((1,), 24 + 1)
    with pytest.raises(AnalysisError, match="cannot reduce axis 3 of 4x6: it has 2 axes"):
        analyze_layers([4, 6], [{"type": "reduce", "op": "sum", "axes": [1, 3]}])


def test_matmul_of_mismatched_inner_sizes_names_each_shape(tmp_path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [4, 6]\nlayers:\n  - {type: reshape, name: r, shape: [3, 8]}\n  - {type: matmul, inputs: [input, r]}\n",
        encoding="utf-8",
    )
    result = run_cli("analyze", str(spec))
    assert result.code == 2 and "cannot multiply 4x6 by 3x8: 6 columns against 3 rows" in result.stderr


def test_matmul_broadcasts_a_factor_of_fewer_axes() -> None:
    """On 2x3x4x5 (120 elements): x @ reshape(x, 5x24) is 2 x 3 batches of 4x5 @ 5x24, 6 x 4 x 5 x 24 = 2,880 MACs;
    reshape(x, 30x4) @ x is 2 x 3 batches of 30x4 @ 4x5, 6 x 30 x 4 x 5 = 3,600."""
    layers = [
        {"type": "reshape", "name": "r", "shape": [5, 24]},
        {"type": "matmul", "name": "right", "inputs": ["input", "r"]},
        {"type": "reshape", "name": "s", "shape": [30, 4], "input": "input"},
        {"type": "matmul", "name": "left", "inputs": ["s", "input"]},
    ]
    found = {layer.name: layer for layer in analyze_layers([2, 3, 4, 5], layers).layers}
    assert (found["right"].output_shape, found["right"].macs) == ((2, 3, 4, 24), 2_880)
    assert (found["left"].output_shape, found["left"].macs) == ((2, 3, 30, 5), 3_600)


def test_attention_without_an_output_projection_by_hand() -> None:
    """8 features x 4 tokens, 2 heads, Q/K/V biases but no output projection: params 3 x 8 x 8 + 24 = 216; MACs
    Q, K, V 4 x 8 x 24 = 768, Q K^T and A V 4 x 4 x 8 each, 256: 1,024; FLOPs 2 x 1,024 + the 24 biases at 4 tokens
    (96) + the scale 2 x 4 x 4 (32) + the softmax 2 x 4 x (3 x 4 - 1) (88) = 2,264: no output bias."""
    layer = one_layer([8, 4], {"type": "attention", "heads": 2, "projection": False})
    assert (layer.params, layer.macs, layer.flops) == (216, 1_024, 2_264)


def test_dot_product_attention_keeps_one_log_sum_exp_per_query() -> None:
    """l (a linear per position, for gradients to flow) on 2 x 5 tokens x 4 features; Q its first 3 tokens (a slice:
    a view of l), K = V = l. The fused kernel keeps Q, K, V (one storage, 2 x 5 x 4 = 40 floats), its output 2 x 3 x
    4 = 24 and the softmax's log-sum-exp, one per query row: 2 x 3 = 6 (not per key): 70 floats, 280 bytes."""
    from convcalc.passes.training import training

    layers = [
        {"type": "linear", "name": "l", "units": 2, "per_position": True, "bias": False},
        {"type": "slice", "name": "q", "axis": 1, "start": 0, "end": 3},
        {"type": "dot_product_attention", "name": "d", "inputs": ["q", "l", "l"]},
    ]
    saved = {layer.name: layer.saved_bytes for layer in training(analyze_layers([2, 5, 4], layers)).layers}
    assert saved["d"] == (40 + 24 + 6) * 4
    # Q, K and V three storages (each l + l): 3 x 40, the output 40, the log-sum-exp 2 x 5 = 10: 170 floats
    layers = [layers[0], *({"type": "add", "name": name, "inputs": ["l", "l"]} for name in "qkv")]
    layers.append({"type": "dot_product_attention", "name": "d", "inputs": ["q", "k", "v"]})
    saved = {layer.name: layer.saved_bytes for layer in training(analyze_layers([2, 5, 4], layers)).layers}
    assert saved["d"] == (3 * 40 + 40 + 10) * 4


def test_every_token_of_a_sequence_reads_every_token() -> None:
    """Attention on 8 features x 4 tokens: each output token's field is all 4 tokens (size 4), neighbouring outputs
    one token apart (jump 1); the window starts (4 - 1) / 2 = 1.5 tokens before token 0 and spans 4: its centre is
    token -1.5 + (4 - 1) / 2 = 0 (start 0)."""
    layer = one_layer([8, 4], {"type": "attention", "heads": 2})
    assert layer.receptive_field.to_dict() == {"size": [4], "jump": [1], "start": [0]}
