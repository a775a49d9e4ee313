"""The spec language's structures: input forms, defaults, blocks, ${...} arithmetic, repeat, concat branches,
residuals, named inputs, hierarchical default names and the order of entries in the results.

Expected numbers are hand arithmetic (conv params k*k*C_in*C_out + C_out bias, MACs H*W*C_out*k*k*C_in).
"""

from __future__ import annotations

import json
from textwrap import dedent

import pytest

from convcalc import Analysis
from tests.conftest import run_cli
from tests.netbuild import analyze_layers, analyze_text, by_name


def names(analysis: Analysis) -> list[str]:
    return [layer.name for layer in analysis.layers]


def entries(analysis: Analysis) -> list[tuple[str, str]]:
    return [(layer.name, layer.type) for layer in analysis.layers]


# --- the network input -----------------------------------------------------------------------------


def test_input_as_list_and_as_mapping_agree() -> None:
    as_list = analyze_text("input: [3, 32, 24]\nlayers: [{type: conv, filters: 4, kernel: 3}]")
    as_mapping = analyze_text(
        "input: {channels: 3, height: 32, width: 24}\nlayers: [{type: conv, filters: 4, kernel: 3}]"
    )
    for analysis in (as_list, as_mapping):
        assert analysis.input_shape == (3, 32, 24)
        assert analysis.output_shape == (4, 30, 22)  # 32 - 3 + 1, 24 - 3 + 1
        assert analysis.total.params == 3 * 3 * 3 * 4 + 4


def test_flat_input_of_features() -> None:
    analysis = analyze_layers([784], [{"type": "linear", "units": 10}])
    assert analysis.input_shape == (784,)
    assert analysis.total.params == 784 * 10 + 10


# --- defaults --------------------------------------------------------------------------------------


def test_defaults_are_merged_under_each_layers_own_keys() -> None:
    analysis = analyze_text(
        dedent("""
        input: [3, 16, 16]
        defaults:
          conv: {bias: false, kernel: 3, padding: 1}
          maxpool: {kernel: 2}
        layers:
          - {type: conv, name: a, filters: 8}                        # everything else from defaults
          - {type: conv, name: b, filters: 8, bias: true}            # the layer's bias wins
          - {type: conv, name: c, filters: 8, kernel: 1, padding: 0} # the layer's kernel and padding win
          - {type: maxpool, name: p}
          - {type: linear, name: fc, units: 10}                      # no defaults for linear: bias true
        """)
    )
    layers = by_name(analysis)
    assert (layers["a"].output_shape, layers["a"].params) == ((8, 16, 16), 3 * 3 * 3 * 8)
    assert (layers["b"].output_shape, layers["b"].params) == ((8, 16, 16), 3 * 3 * 8 * 8 + 8)
    assert (layers["c"].output_shape, layers["c"].params) == ((8, 16, 16), 1 * 1 * 8 * 8)
    assert layers["p"].output_shape == (8, 8, 8)
    assert layers["fc"].params == 8 * 8 * 8 * 10 + 10


def test_defaults_reach_layers_inside_blocks_branches_and_residuals() -> None:
    analysis = analyze_text(
        dedent("""
        input: [4, 8, 8]
        defaults:
          conv: {bias: false, kernel: 1}
        blocks:
          unit:
            layers:
              - {type: conv, name: inner, filters: 4}
        layers:
          - {block: unit}
          - type: residual
            body: [{type: conv, name: body_conv, filters: 4}]
          - type: concat
            branches: [[{type: conv, name: branch_conv, filters: 4}]]
        """)
    )
    weights_only = 1 * 1 * 4 * 4
    assert [layer.params for layer in analysis.layers if layer.type == "conv"] == [weights_only] * 3


# --- blocks, parameters and ${...} arithmetic -------------------------------------------------------


def test_block_params_their_defaults_and_arithmetic() -> None:
    analysis = analyze_text(
        dedent("""
        input: [64, 8, 8]
        blocks:
          bottleneck:
            params: {mid: 16, expansion: 4}
            layers:
              - {type: conv, filters: "${mid}", kernel: 1}
              - {type: conv, filters: "${mid * expansion}", kernel: 1}
          halve:
            params: [c]                 # a list of names: all required
            layers:
              - {type: conv, filters: "${c // 2}", kernel: 1}
              - {type: conv, filters: "${c + c * 2}", kernel: 1, stride: "${(c - 30) * 2}"}
        layers:
          - {block: bottleneck}         # mid 16 (default), 16 * 4 = 64 out
          - {block: bottleneck, mid: 8} # 8, 8 * 4 = 32 out
          - {block: halve, c: 32}       # 32 // 2 = 16, then 32 + 64 = 96 at stride (32 - 30) * 2 = 4
        """)
    )
    assert [(layer.name, layer.output_shape, layer.params) for layer in analysis.layers] == [
        ("bottleneck1.conv1", (16, 8, 8), 64 * 16 + 16),
        ("bottleneck1.conv2", (64, 8, 8), 16 * 64 + 64),
        ("bottleneck2.conv1", (8, 8, 8), 64 * 8 + 8),
        ("bottleneck2.conv2", (32, 8, 8), 8 * 32 + 32),
        ("halve1.conv1", (16, 8, 8), 32 * 16 + 16),
        ("halve1.conv2", (96, 2, 2), 16 * 96 + 96),  # floor((8 - 1) / 4) + 1 = 2
    ]


def test_nested_blocks_pass_parameters_down() -> None:
    analysis = analyze_text(
        dedent("""
        input: [2, 5, 5]
        blocks:
          unit:
            params: {c: 8}
            layers:
              - {type: conv, filters: "${c}", kernel: 3, padding: 1}
              - {type: relu}
          stage:
            params: {c: 8}
            layers:
              - {block: unit, c: "${c}"}
              - {block: unit, c: "${c * 2}"}
        layers:
          - {block: stage, c: 4}
        """)
    )
    assert [(layer.name, layer.output_shape, layer.params) for layer in analysis.layers] == [
        ("stage1.unit1.conv1", (4, 5, 5), 3 * 3 * 2 * 4 + 4),
        ("stage1.unit1.relu1", (4, 5, 5), 0),
        ("stage1.unit2.conv1", (8, 5, 5), 3 * 3 * 4 * 8 + 8),
        ("stage1.unit2.relu1", (8, 5, 5), 0),
    ]


# --- repeat ----------------------------------------------------------------------------------------


def test_repeat_of_layers_and_blocks_names_each_copy() -> None:
    analysis = analyze_text(
        dedent("""
        input: [4, 6, 6]
        blocks:
          unit:
            layers: [{type: conv, filters: 4, kernel: 1}]
        layers:
          - {type: conv, filters: 4, kernel: 1, repeat: 3}
          - {type: relu, name: act, repeat: 2}
          - {type: relu, repeat: 0}
          - {block: unit, repeat: 2}
          - {block: unit, name: stage, repeat: 2}
        """)
    )
    assert names(analysis) == [
        "conv1",
        "conv2",
        "conv3",
        "act.0",
        "act.1",
        "unit1.conv1",
        "unit2.conv1",
        "stage.0.conv1",
        "stage.1.conv1",
    ]
    assert analysis.total.params == 7 * (4 * 4 + 4)  # seven 1x1 convs 4 -> 4 with bias


def test_repeated_strided_bottleneck_from_the_issue() -> None:
    # The bottleneck of the spec-language example, repeat: 4 (each copy halves H and W; stride 2 everywhere).
    analysis = analyze_text(
        dedent("""
        input: [256, 56, 56]
        defaults:
          conv: {bias: false}
        blocks:
          bottleneck:
            params: {mid: 64, out: 256, stride: 1}
            layers:
              - type: residual
                body:
                  - {type: conv, filters: "${mid}", kernel: 1}
                  - {type: conv, filters: "${mid}", kernel: 3, stride: "${stride}", padding: 1}
                  - {type: conv, filters: "${out}", kernel: 1}
                shortcut:
                  - {type: conv, filters: "${out}", kernel: 1, stride: "${stride}"}
        layers:
          - {block: bottleneck, name: layer2, mid: 128, out: 512, stride: 2, repeat: 4}
        """)
    )
    # Copies: 256 -> 512 channels at 56 -> 28, then 512 -> 512 at 28 -> 14, 14 -> 7, 7 -> 4 (floor(6/2) + 1).
    middle = 3 * 3 * 128 * 128 + 128 * 512  # 3x3 conv and the 1x1 expansion
    assert analysis.total.params == (256 + 3 * 512) * 128 + 4 * middle + (256 + 3 * 512) * 512
    assert analysis.output_shape == (512, 4, 4)
    assert analysis.total.macs == (
        (56 * 56 * 128 * 256 + 28 * 28 * (128 * 9 * 128 + 512 * 128 + 512 * 256))
        + (28 * 28 * 128 * 512 + 14 * 14 * (128 * 9 * 128 + 512 * 128 + 512 * 512))
        + (14 * 14 * 128 * 512 + 7 * 7 * (128 * 9 * 128 + 512 * 128 + 512 * 512))
        + (7 * 7 * 128 * 512 + 4 * 4 * (128 * 9 * 128 + 512 * 128 + 512 * 512))
    )
    merges = [layer for layer in analysis.layers if layer.type == "add"]
    assert [(m.name, m.output_shape, m.flops) for m in merges] == [
        ("layer2.0.residual1", (512, 28, 28), 512 * 28 * 28),
        ("layer2.1.residual1", (512, 14, 14), 512 * 14 * 14),
        ("layer2.2.residual1", (512, 7, 7), 512 * 7 * 7),
        ("layer2.3.residual1", (512, 4, 4), 512 * 4 * 4),
    ]
    assert names(analysis)[:5] == [
        "layer2.0.residual1.body.conv1",
        "layer2.0.residual1.body.conv2",
        "layer2.0.residual1.body.conv3",
        "layer2.0.residual1.shortcut.conv1",
        "layer2.0.residual1",
    ]


# --- residual --------------------------------------------------------------------------------------


def test_residual_without_shortcut_adds_its_input() -> None:
    analysis = analyze_text(
        dedent("""
        input: [8, 6, 6]
        layers:
          - type: residual
            body:
              - {type: conv, filters: 8, kernel: 3, padding: 1, bias: false}
              - {type: relu}
          - {type: relu}
        """)
    )
    assert entries(analysis) == [
        ("residual1.body.conv1", "conv"),
        ("residual1.body.relu1", "relu"),
        ("residual1", "add"),
        ("relu1", "relu"),
    ]
    merge = analysis.layers[2]
    assert merge.input_shapes == ((8, 6, 6), (8, 6, 6))  # body output, then the residual's input
    assert (merge.output_shape, merge.params, merge.macs, merge.flops) == ((8, 6, 6), 0, 0, 8 * 6 * 6)
    assert analysis.total.params == 3 * 3 * 8 * 8


def test_residual_with_a_projection_shortcut() -> None:
    analysis = analyze_text(
        dedent("""
        input: [8, 6, 6]
        layers:
          - type: residual
            name: down
            body:
              - {type: conv, filters: 16, kernel: 3, stride: 2, padding: 1, bias: false}
              - {type: batchnorm}
            shortcut:
              - {type: conv, filters: 16, kernel: 1, stride: 2, bias: false}
        """)
    )
    # body: floor((6 + 2 - 3) / 2) + 1 = 3; shortcut: floor((6 - 1) / 2) + 1 = 3
    assert entries(analysis) == [
        ("down.body.conv1", "conv"),
        ("down.body.batchnorm1", "batchnorm"),
        ("down.shortcut.conv1", "conv"),
        ("down", "add"),
    ]
    layers = by_name(analysis)
    assert layers["down.body.conv1"].macs == 3 * 3 * 16 * 3 * 3 * 8
    assert layers["down.shortcut.conv1"].macs == 3 * 3 * 16 * 1 * 1 * 8
    assert layers["down"].output_shape == (16, 3, 3)
    assert layers["down"].flops == 16 * 3 * 3
    assert analysis.total.params == 3 * 3 * 8 * 16 + 2 * 16 + 1 * 1 * 8 * 16


def test_repeated_residual_names() -> None:
    analysis = analyze_text(
        dedent("""
        input: [4, 4, 4]
        layers:
          - {type: residual, name: res, repeat: 2, body: [{type: relu}]}
        """)
    )
    assert names(analysis) == ["res.0.body.relu1", "res.0", "res.1.body.relu1", "res.1"]


def test_residual_whose_body_changes_the_shape_without_shortcut_fails(write_spec) -> None:
    path = write_spec(
        dedent("""
        input: [8, 6, 6]
        layers:
          - type: residual
            name: bad
            body: [{type: conv, filters: 16, kernel: 1}]
        """)
    )
    result = run_cli("analyze", str(path))
    assert result.code == 2
    assert "bad" in result.stderr and "Traceback" not in result.stderr


# --- concat branches -------------------------------------------------------------------------------


def test_inception_3a_as_list_branches() -> None:
    # GoogLeNet (Szegedy et al. 2015) Table 1, inception (3a): 28x28x192 -> 28x28x256, "ops 128M".
    analysis = analyze_text(
        dedent("""
        input: [192, 28, 28]
        defaults:
          conv: {bias: false}
        layers:
          - type: concat
            name: inception3a
            branches:
              - [{type: conv, filters: 64, kernel: 1}]
              - [{type: conv, filters: 96, kernel: 1}, {type: conv, filters: 128, kernel: 3, padding: 1}]
              - [{type: conv, filters: 16, kernel: 1}, {type: conv, filters: 32, kernel: 5, padding: 2}]
              - [{type: maxpool, kernel: 3, stride: 1, padding: 1}, {type: conv, filters: 32, kernel: 1}]
        """)
    )
    assert entries(analysis) == [
        ("inception3a.0.conv1", "conv"),
        ("inception3a.1.conv1", "conv"),
        ("inception3a.1.conv2", "conv"),
        ("inception3a.2.conv1", "conv"),
        ("inception3a.2.conv2", "conv"),
        ("inception3a.3.maxpool1", "maxpool"),
        ("inception3a.3.conv1", "conv"),
        ("inception3a", "concat"),
    ]
    merge = analysis.layers[-1]
    assert merge.input_shapes == ((64, 28, 28), (128, 28, 28), (32, 28, 28), (32, 28, 28))
    assert merge.output_shape == (64 + 128 + 32 + 32, 28, 28)
    assert (merge.params, merge.macs, merge.flops) == (0, 0, 0)
    weights = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
    assert analysis.total.params == weights == 163_328
    assert analysis.total.macs == 28 * 28 * weights == 128_049_152  # the table's 128M


def test_branches_as_a_mapping_keep_the_written_order_and_labels() -> None:
    analysis = analyze_text(
        dedent("""
        input: [8, 10, 10]
        layers:
          - type: concat
            branches:
              wide: [{type: conv, filters: 6, kernel: 1}]
              pool: [{type: maxpool, kernel: 3, stride: 1, padding: 1}]
              deep: [{type: conv, filters: 2, kernel: 3, padding: 1}, {type: relu}]
        """)
    )
    assert entries(analysis) == [
        ("concat1.wide.conv1", "conv"),
        ("concat1.pool.maxpool1", "maxpool"),
        ("concat1.deep.conv1", "conv"),
        ("concat1.deep.relu1", "relu"),
        ("concat1", "concat"),
    ]
    assert analysis.output_shape == (6 + 8 + 2, 10, 10)


# --- named inputs ----------------------------------------------------------------------------------


def test_unet_like_skip_with_named_inputs() -> None:
    analysis = analyze_text(
        dedent("""
        input: [3, 32, 32]
        layers:
          - {type: conv, name: enc1, filters: 8, kernel: 3, padding: 1}           # 8x32x32
          - {type: maxpool, name: down1, kernel: 2}                               # 8x16x16
          - {type: conv, name: enc2, filters: 16, kernel: 3, padding: 1}          # 16x16x16
          - {type: conv_transpose, name: up1, filters: 8, kernel: 2, stride: 2}   # 8x32x32
          - {type: concat, name: skip1, inputs: [enc1, up1]}                      # 16x32x32
          - {type: conv, name: dec1, filters: 8, kernel: 3, padding: 1}           # reads skip1
          - {type: conv, name: side, input: input, filters: 8, kernel: 1}         # reads the network input
          - {type: add, name: out, inputs: [dec1, side]}
          - {type: relu, name: again, input: enc2}                                # back to 16x16x16
          - {type: conv, name: after, filters: 4, kernel: 1}                      # continues from 'again'
        """)
    )
    layers = by_name(analysis)
    assert layers["up1"].output_shape == (8, 32, 32)  # (16 - 1) * 2 + 1 + 1
    assert layers["skip1"].input_shapes == ((8, 32, 32), (8, 32, 32))
    assert layers["skip1"].output_shape == (16, 32, 32)
    assert layers["dec1"].params == 3 * 3 * 16 * 8 + 8
    assert layers["side"].input_shapes == ((3, 32, 32),)
    assert layers["side"].params == 1 * 1 * 3 * 8 + 8
    assert (layers["out"].output_shape, layers["out"].flops) == ((8, 32, 32), 8 * 32 * 32)
    assert layers["again"].input_shapes == ((16, 16, 16),)
    assert (layers["after"].output_shape, layers["after"].params) == ((4, 16, 16), 16 * 4 + 4)
    assert analysis.output_shape == (4, 16, 16)  # the last entry's output is the network's


def test_names_resolve_inside_each_block_copy_first_then_outside() -> None:
    analysis = analyze_text(
        dedent("""
        input: [2, 5, 5]
        blocks:
          fork:
            params: {c: 4}
            layers:
              - {type: conv, name: a, filters: "${c}", kernel: 1}
              - {type: conv, name: b, filters: "${c}", kernel: 3, padding: 1}
              - {type: add, inputs: [a, b]}          # this copy's a and b
              - {type: concat, inputs: [stem, add1]} # the top-level stem, this copy's add1
        layers:
          - {type: relu, name: stem}
          - {block: fork}
          - {block: fork, c: 5}
          - {type: relu, name: tap, input: fork1}    # a block instance's name reads its output
        """)
    )
    layers = by_name(analysis)
    assert layers["fork1.add1"].input_shapes == ((4, 5, 5), (4, 5, 5))
    assert layers["fork1.concat1"].output_shape == (2 + 4, 5, 5)
    assert layers["fork2.a"].params == 1 * 1 * (2 + 4) * 5 + 5  # fork2 reads fork1's 6 channels
    assert layers["fork2.add1"].input_shapes == ((5, 5, 5), (5, 5, 5))
    assert layers["fork2.concat1"].output_shape == (2 + 5, 5, 5)
    assert layers["tap"].input_shapes == ((2 + 4, 5, 5),)


def test_structures_can_read_a_named_input() -> None:
    analysis = analyze_text(
        dedent("""
        input: [4, 8, 8]
        blocks:
          unit:
            layers: [{type: conv, filters: 2, kernel: 1}]
        layers:
          - {type: conv, name: wide, filters: 16, kernel: 1}
          - {type: residual, input: input, body: [{type: relu}]}
          - {block: unit, input: wide}
          - {type: concat, input: input, branches: [[{type: relu}], [{type: relu}]]}
        """)
    )
    layers = by_name(analysis)
    assert layers["residual1"].input_shapes == ((4, 8, 8), (4, 8, 8))
    assert layers["unit1.conv1"].params == 16 * 2 + 2  # reads wide's 16 channels, not the residual's 4
    assert layers["concat1"].output_shape == (4 + 4, 8, 8)


def test_unknown_input_name_fails(write_spec) -> None:
    path = write_spec("input: [3, 8, 8]\nlayers:\n  - {type: relu, name: r, input: nowhere}\n")
    result = run_cli("analyze", str(path))
    assert result.code == 2
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr


# --- default names ---------------------------------------------------------------------------------


def test_default_names_count_per_type() -> None:
    analysis = analyze_layers(
        [3, 8, 8],
        [
            {"type": "conv", "filters": 4, "kernel": 3},
            {"type": "relu"},
            {"type": "conv", "filters": 4, "kernel": 3},
            {"type": "relu"},
            {"type": "maxpool", "kernel": 2},
            {"type": "flatten"},
            {"type": "linear", "units": 10},
        ],
    )
    assert names(analysis) == ["conv1", "relu1", "conv2", "relu2", "maxpool1", "flatten1", "linear1"]


def test_default_names_skip_names_already_taken() -> None:
    analysis = analyze_layers(
        [3, 8, 8],
        [
            {"type": "conv", "name": "conv2", "filters": 4, "kernel": 1},
            {"type": "conv", "filters": 4, "kernel": 1},
            {"type": "conv", "filters": 4, "kernel": 1},
        ],
    )
    assert names(analysis) == ["conv2", "conv1", "conv3"]


def test_default_names_avoid_a_name_written_later() -> None:
    # Only one layer is written as conv1; the unnamed conv before it must not take that name.
    analysis = analyze_layers(
        [3, 8, 8],
        [
            {"type": "conv", "filters": 4, "kernel": 1},
            {"type": "conv", "name": "conv1", "filters": 4, "kernel": 1},
            {"type": "conv", "filters": 4, "kernel": 1},
        ],
    )
    assert names(analysis) == ["conv2", "conv1", "conv3"]


def test_default_names_inside_a_block_avoid_names_written_later_in_it() -> None:
    analysis = analyze_text(
        dedent("""
        input: [3, 8, 8]
        blocks:
          unit:
            layers:
              - {type: relu}
              - {type: relu, name: relu1}
        layers:
          - {block: unit, repeat: 2}
        """)
    )
    assert names(analysis) == ["unit1.relu2", "unit1.relu1", "unit2.relu2", "unit2.relu1"]


def test_names_are_unique_across_a_mixed_network() -> None:
    analysis = analyze_text(
        dedent("""
        input: [8, 8, 8]
        blocks:
          unit:
            layers:
              - {type: conv, filters: 8, kernel: 1}
              - {type: residual, body: [{type: conv, filters: 8, kernel: 1}, {type: relu}]}
              - type: concat
                branches: [[{type: conv, filters: 4, kernel: 1}], [{type: conv, filters: 4, kernel: 1}]]
        layers:
          - {type: conv, filters: 8, kernel: 1}
          - {block: unit, repeat: 2}
          - {block: unit, name: stage, repeat: 2}
          - {type: residual, repeat: 2, body: [{block: unit}]}
        """)
    )
    all_names = names(analysis)
    assert len(all_names) == len(set(all_names))
    assert len(all_names) == 1 + 7 * 4 + 2 * (7 + 1)  # a unit: 4 convs, a relu and 2 merges
    assert "stage.1.residual1.body.conv1" in all_names
    assert "residual2.body.unit1.concat1.1.conv1" in all_names


def test_duplicate_name_fails(write_spec) -> None:
    path = write_spec("input: [3, 8, 8]\nlayers:\n  - {type: relu, name: r}\n  - {type: relu, name: r}\n")
    result = run_cli("analyze", str(path))
    assert result.code == 2
    assert "'r'" in result.stderr and "Traceback" not in result.stderr


# --- standard input --------------------------------------------------------------------------------


def test_spec_from_standard_input() -> None:
    text = "name: piped\ninput: [3, 32, 32]\nlayers:\n  - {type: conv, filters: 16, kernel: 5}\n"
    result = run_cli("analyze", "-", "--format", "json", stdin=text)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["name"], data["input"]) == ("piped", [3, 32, 32])
    assert data["total"]["params"] == 5 * 5 * 3 * 16 + 16
    assert data["total"]["macs"] == 28 * 28 * 16 * 5 * 5 * 3


def test_api_refuses_a_bad_input_shape() -> None:
    from convcalc import analyze

    for shape in ((0, 8, 8), (3, 8, 8, 8, 8), (3, -1, 8), (True, 8, 8), ()):
        with pytest.raises(ValueError, match="input_shape"):
            analyze("lenet5", input_shape=shape)


def test_cli_dtypes_are_the_engines() -> None:
    from convcalc.cli.options import Dtype
    from convcalc.engine.run import DTYPE_BYTES

    assert [d.value for d in Dtype] == list(DTYPE_BYTES)
