"""Warnings (never fatal) and memory: peak activations, weights, arithmetic intensity, by hand arithmetic."""

from __future__ import annotations

import json

from convcalc import analyze, load_spec
from tests.conftest import SPECS, run_cli


def warnings_of(text: str) -> list[tuple[str, str]]:
    return [(w.layer, w.message) for w in analyze(load_spec("t.yaml", text=text)).warnings]


def test_alexnet_at_224_drops_pixels():
    # (224 - 11) / 4 = 53.25: the classic reason the paper's "224" must be 227. 54 windows, the last one ending
    # at 53 * 4 + 11 = 223: input row 223 (the 224th) is never read.
    analysis = analyze(SPECS / "alexnet.yaml", input_shape=(3, 224, 224))
    conv1 = [w.message for w in analysis.warnings if w.layer == "conv1"]
    assert conv1 == [
        "windows reach 223 of 224 input rows and columns ((out 54 - 1) * stride 4 + window 11 - padding 0 = 223): "
        "the last 1 row and 1 column of the input are never read"
    ]
    assert (224 - 11) // 4 + 1 == 54 and (54 - 1) * 4 + 11 == 223
    assert not [w for w in analyze(SPECS / "alexnet.yaml").warnings if w.layer == "conv1"]  # 227 tiles


def test_asymmetric_same_padding():
    # kernel 4 at stride 1: total padding 3, split 1 before and 2 after
    found = warnings_of("input: [1, 8, 8]\nlayers:\n  - {type: conv, name: c, filters: 1, kernel: 4, padding: same}\n")
    assert len(found) == 1 and found[0][0] == "c"
    assert "asymmetric: 1/2 rows, 1/2 columns" in found[0][1]


def test_widening_bottleneck():
    found = warnings_of(
        """
input: [16, 8, 8]
layers:
  - {type: conv, name: squeeze, filters: 64, kernel: 1}
  - {type: relu}
  - {type: conv, name: big, filters: 16, kernel: 3, padding: 1}
"""
    )
    assert (
        "squeeze",
        "1x1 conv 'squeeze' before 'big' is named as a bottleneck but has 64 filters for 16 input channels: "
        "it widens instead of reducing (a bottleneck has fewer filters than input channels)",
    ) in found


def test_narrowing_bottleneck_is_quiet():
    analysis = analyze(SPECS / "inception-5x5-bottleneck.yaml")
    assert analysis.warnings == ()


def test_costly_layer_with_unchanged_shape():
    found = warnings_of(
        """
input: [8, 16, 16]
layers:
  - {type: conv, name: mix, filters: 8, kernel: 1}
  - {type: conv, name: down, filters: 8, kernel: 2, stride: 2}
"""
    )
    # mix: 16*16*8*8 = 16,384 MACs; down: 8*8*8*2*2*8 = 16,384 -> mix is 50% of 32,768, and only mixes channels
    assert found == [("mix", "output shape unchanged (8x16x16) but this layer takes 50.0% of all MACs")]


def test_a_costly_layer_that_mixes_neighbours_is_quiet():
    """A 3x3 conv keeping the shape (every residual block's) does what it is for, however much it costs."""
    found = warnings_of(
        """
input: [8, 16, 16]
layers:
  - {type: conv, name: same, filters: 8, kernel: 3, padding: 1}
  - {type: conv, name: down, filters: 8, kernel: 2, stride: 2}
"""
    )
    # same: 16*16*8*3*3*8 = 147,456 MACs; down: 8*8*8*2*2*8 = 16,384 -> same is 90% of 163,840, but it reads 3x3
    assert found == []
    block = "input: [64, 56, 56]\nlayers:\n" + "".join(
        f"  - {{type: conv, name: c{i}, filters: 64, kernel: 3, padding: 1}}\n" for i in (1, 2)
    )
    assert warnings_of(block) == []  # a basic block's two convs: 50% each


def test_warnings_in_json_and_below_the_table():
    result = run_cli("analyze", str(SPECS / "alexnet.yaml"), "--input", "224", "--format", "json")
    data = json.loads(result.stdout)
    lines = (SPECS / "alexnet.yaml").read_text(encoding="utf-8").splitlines()
    conv1_line = next(number for number, text in enumerate(lines, 1) if "name: conv1," in text)
    assert {k: data["warnings"][0][k] for k in ("layer", "line")} == {"layer": "conv1", "line": conv1_line}
    table = run_cli("analyze", str(SPECS / "alexnet.yaml"), "--input", "224")
    assert table.code == 0
    assert table.stdout.index("warning: conv1") > table.stdout.index("total")


def test_peak_activation_memory_of_a_chain():
    analysis = analyze(
        load_spec(
            "t.yaml",
            text="input: [1, 4, 4]\nlayers:\n  - {type: conv, filters: 2, kernel: 3, padding: 1}\n  - {type: relu}\n",
        )
    )
    # float32: input 16 * 4 = 64 B, conv 32 * 4 = 128 B, relu 128 B. While relu runs: conv + relu = 256 B.
    assert analysis.total.peak_activation_bytes == 128 + 128
    assert analysis.total.activation_bytes == 128 + 128


def test_peak_activation_memory_keeps_a_residual_input_alive():
    analysis = analyze(
        load_spec(
            "t.yaml",
            text="input: [2, 4, 4]\nlayers:\n  - type: residual\n    body: [{type: conv, filters: 2, kernel: 3, "
            "padding: 1}]\n",
        )
    )
    # x (128 B) lives until the add; while the add runs: x + conv output + sum = 3 * 128 B
    assert analysis.total.peak_activation_bytes == 3 * 2 * 4 * 4 * 4


def test_weights_memory_dtype_and_intensity():
    analysis = analyze(
        load_spec("t.yaml", text="input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 4, kernel: 3}\n"),
        dtype="float16",
    )
    conv = analysis.layers[0]
    params = 3 * 3 * 3 * 4 + 4
    assert conv.weight_bytes == params * 2 == analysis.total.weight_bytes
    macs = 6 * 6 * 4 * 3 * 3 * 3
    moved = 3 * 8 * 8 * 2 + 4 * 6 * 6 * 2 + params * 2  # input read + output written + weights read
    assert conv.intensity == macs / moved
