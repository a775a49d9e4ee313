"""The docs' worked examples of the spec language (issue 12): the ConvNeXt block and the SE block written with `in`,
checked against hand arithmetic written out here (and, for the block in the zoo, against the same block there)."""

from __future__ import annotations

from textwrap import dedent
from typing import Any

from convcalc import LayerResult, analyze
from tests.docs import block_after
from tests.netbuild import analyze_text


def costs(layer: LayerResult) -> tuple[Any, ...]:
    return (layer.output_shape, layer.params, layer.macs, layer.flops)


def test_readme_convnext_block_worked_example() -> None:
    analysis = analyze_text("\n".join(block_after("explanation/counting.md", "## Worked example: a ConvNeXt block")))
    layers = {layer.name.removeprefix("stage1.block.body."): layer for layer in analysis.layers}
    hw = 56 * 56  # 3,136 positions
    dw_macs, mlp_macs = hw * 96 * 7 * 7, hw * 384 * 96
    assert (dw_macs, mlp_macs) == (14_751_744, 115_605_504)
    expected = {
        "dwconv": ((96, 56, 56), 96 * 49 + 96, dw_macs, 2 * dw_macs + 96 * hw),
        "norm": ((96, 56, 56), 2 * 96, 0, 5 * 96 * hw),
        "pwconv1": ((384, 56, 56), 96 * 384 + 384, mlp_macs, 2 * mlp_macs + 384 * hw),
        "gelu": ((384, 56, 56), 0, 0, 5 * 384 * hw),
        "pwconv2": ((96, 56, 56), 384 * 96 + 96, mlp_macs, 2 * mlp_macs + 96 * hw),
        "layer_scale": ((96, 56, 56), 96, 0, 96 * hw),
        "drop_path": ((96, 56, 56), 0, 0, 0),
        "stage1.block": ((96, 56, 56), 0, 0, 96 * hw),
    }
    assert {name: costs(layer) for name, layer in layers.items()} == expected
    # the figures the docs' table states
    stated = [4_800, 192, 37_248, 0, 36_960, 96, 0, 0]
    assert [params for _, params, _, _ in expected.values()] == stated
    assert [flops for *_, flops in expected.values()] == [
        29_804_544,
        1_505_280,
        232_415_232,
        6_021_120,
        231_512_064,
        301_056,
        0,
        301_056,
    ]
    assert (analysis.total.params, analysis.total.macs, analysis.total.flops) == (79_296, 245_962_752, 501_860_352)
    assert analysis.total.macs == dw_macs + 2 * mlp_macs
    assert not analysis.warnings


def test_readme_convnext_block_is_the_zoos_first_block() -> None:
    example = analyze_text("\n".join(block_after("explanation/counting.md", "## Worked example: a ConvNeXt block")))
    zoo = {layer.name: layer for layer in analyze("convnext_tiny").layers}
    for layer in example.layers:
        twin = zoo[layer.name.replace("stage1.", "stage1.0.").replace("drop_path", "stochastic_depth")]
        assert costs(twin) == costs(layer), layer.name


def test_readme_se_block_reading_in() -> None:
    lines = block_after("reference/spec-language.md", "No layer may be named `in`.")
    text = "name: se\ninput: [64, 14, 14]\n" + "\n".join(lines) + "\nlayers:\n  - {block: se, name: se}\n"
    analysis = analyze_text(dedent(text))
    layers = {layer.name: layer for layer in analysis.layers}
    # 64 // 4 = 16 squeeze channels: the docs' network-level SE example, now as a block
    assert costs(layers["se.reduce"]) == ((16, 1, 1), 64 * 16 + 16, 1_024, 2 * 1_024 + 16)
    assert costs(layers["se.expand"]) == ((64, 1, 1), 16 * 64 + 64, 1_024, 2 * 1_024 + 64)
    assert layers["se.excite"].inputs == ("input", "se.gate")
    assert (analysis.total.params, analysis.total.flops) == (2_128, 29_472)
