"""The spec language's forms for modern networks (issue 28): the conditional residual (`add:`), `type:` and `block:`
chosen by a parameter, a repeat's copy index (`${copy}`), mixed-kernel convolutions (`kernels:`) and the order of a
residual's paths (`order:`).

Expected numbers are hand arithmetic written out here (conv params k*k*C_in/groups*C_out, MACs H*W*C_out*k*k*C_in/
groups, batch norm 2*C), never convcalc's own output.
"""

from __future__ import annotations

import re
from textwrap import dedent

import pytest

from convcalc import Analysis
from convcalc.core.errors import SpecError
from tests.conftest import REPO, run_cli
from tests.docs import fenced_blocks, page
from tests.netbuild import analyze_text, by_name

MBCONV = REPO / "docs" / "examples" / "mbconv.yaml"


def entries(analysis: Analysis) -> list[tuple[str, str]]:
    return [(layer.name, layer.type) for layer in analysis.layers]


# --- add: a residual that adds its input only when a condition holds ------------------------------------------------


def test_the_mbconv_example_adds_only_where_stride_and_widths_allow() -> None:
    analysis = analyze_text(MBCONV.read_text(encoding="utf-8"))
    adds = [layer.name for layer in analysis.layers if layer.type == "add"]
    assert adds == ["same.residual1"]  # down: stride 2; wider: 24 -> 40
    layers = by_name(analysis)
    assert layers["same.residual1"].input_shapes == ((24, 28, 28), (24, 28, 28))
    # down, 16 -> 96 -> 24 at stride 2 (56 -> 28): expand 16*96, dw 9*96, project 96*24, three BNs 2*(96+96+24)
    down = 16 * 96 + 9 * 96 + 96 * 24 + 2 * (96 + 96 + 24)
    # same, 24 -> 144 -> 24: 24*144, 9*144, 144*24, BNs 2*(144+144+24)
    same = 24 * 144 + 9 * 144 + 144 * 24 + 2 * (144 + 144 + 24)
    # wider, 24 -> 144 -> 40 with a 5x5 depthwise: 24*144, 25*144, 144*40, BNs 2*(144+144+40)
    wider = 24 * 144 + 25 * 144 + 144 * 40 + 2 * (144 + 144 + 40)
    assert (down, same, wider) == (5_136, 8_832, 13_472)
    assert analysis.total.params == down + same + wider
    macs = (
        56 * 56 * 96 * 16
        + 28 * 28 * 96 * 9
        + 28 * 28 * 24 * 96  # down: expand at 56x56, the rest at 28x28
        + 28 * 28 * (144 * 24 + 144 * 9 + 24 * 144)  # same
        + 28 * 28 * (144 * 24 + 144 * 25 + 40 * 144)  # wider
    )
    assert analysis.total.macs == macs == 23_783_424
    # the residual's name reads the body's output where nothing is added
    assert layers["down.residual1.body.batchnorm3"].output_shape == (24, 28, 28)


def test_the_spec_language_page_shows_the_mbconv_example() -> None:
    written = MBCONV.read_text(encoding="utf-8").splitlines()
    assert written in [lines for info, lines in fenced_blocks(page("reference/spec-language.md")) if info == "yaml"]


RESIDUAL = """
input: [8, 6, 6]
blocks:
  r:
    params: {stride: 1}
    layers:
      - type: residual
        name: res
        add: ADD
        body: [{type: conv, filters: 8, kernel: 3, stride: "${stride}", padding: 1, bias: false}]
        shortcut: [{type: conv, filters: 8, kernel: 1, bias: false}]
layers:
  - {block: r, name: b}
  - {type: relu, input: b.res}
"""


@pytest.mark.parametrize(
    ("add", "expected"),
    [
        ("true", [("b.res.body.conv1", "conv"), ("b.res.shortcut.conv1", "conv"), ("b.res", "add")]),
        ('"${stride == 1}"', [("b.res.body.conv1", "conv"), ("b.res.shortcut.conv1", "conv"), ("b.res", "add")]),
        ("false", [("b.res.body.conv1", "conv")]),  # the shortcut is not built
        ('"${stride != 1 or false}"', [("b.res.body.conv1", "conv")]),
    ],
)
def test_add_keeps_or_drops_the_shortcut_and_the_sum(add: str, expected: list[tuple[str, str]]) -> None:
    analysis = analyze_text(RESIDUAL.replace("ADD", add))
    assert entries(analysis) == [*expected, ("relu1", "relu")]
    body, shortcut = 3 * 3 * 8 * 8, 1 * 1 * 8 * 8
    assert analysis.total.params == body + (shortcut if len(expected) == 3 else 0)


@pytest.mark.parametrize(
    ("add", "message"),
    [
        ("3", "'add' must be true or false, not 3"),
        ('"${stride}"', "'add' must be true or false, not 1"),
        ('"${strid == 1}"', "'add': unknown name 'strid'"),
        ('"${stride + true}"', "'add': '+' needs a number, not true"),
    ],
)
def test_a_bad_add_is_one_located_error(write_spec, add: str, message: str) -> None:
    path = write_spec(RESIDUAL.replace("ADD", add))
    result = run_cli("analyze", str(path))
    assert result.code == 2 and "Traceback" not in result.stderr
    assert f"{path}:9:14: error: " in result.stderr and message in result.stderr, result.stderr
    assert result.stderr.count("error:") == 1


def test_block_parameters_cannot_take_the_words_of_expressions() -> None:
    text = dedent("""
    input: [3, 8, 8]
    blocks:
      b:
        params: {and: 1}
        layers: [{type: relu}]
    layers: [{block: b}]
    """)
    with pytest.raises(SpecError, match="block parameter 'and' must be an identifier other than") as raised:
        analyze_text(text)
    assert raised.value.location.line == 5


# --- type: and block: chosen by a parameter ----------------------------------------------------------------------

CHOSEN = """
input: [8, 4, 4]
blocks:
  plain:
    params: {c: 8}
    layers: [{type: conv, filters: "${c}", kernel: 1}]
  bottleneck:
    params: {c: 8}
    layers:
      - {type: conv, filters: "${c // 4}", kernel: 1}
      - {type: conv, filters: "${c}", kernel: 1}
  unit:
    params: {act: relu, kind: plain}
    layers:
      - {block: "${kind}", name: body, c: 8}
      - {type: "${act}", name: act}
layers:
  - {block: unit, name: a}
  - {block: unit, name: b, act: hardswish, kind: bottleneck}
"""


def test_type_and_block_can_be_block_parameters() -> None:
    analysis = analyze_text(CHOSEN)
    assert entries(analysis) == [
        ("a.body.conv1", "conv"),
        ("a.act", "relu"),
        ("b.body.conv1", "conv"),
        ("b.body.conv2", "conv"),
        ("b.act", "hardswish"),
    ]
    layers = by_name(analysis)
    assert layers["a.body.conv1"].params == 8 * 8 + 8
    assert layers["b.body.conv1"].params == 8 * 2 + 2 and layers["b.body.conv2"].params == 2 * 8 + 8
    # hardswish: 5 FLOPs per element (x * relu6(x + 3) / 6) on 8x4x4; relu: 1
    assert (layers["a.act"].flops, layers["b.act"].flops) == (8 * 4 * 4, 5 * 8 * 4 * 4)


@pytest.mark.parametrize(
    ("change", "message", "line"),
    [
        ("act: hardswish", "unknown layer type 'hardswih'", 16),  # where the parameter is used (layer b.act)
        ("kind: bottleneck", "unknown block 'botleneck'", 15),
    ],
)
def test_a_type_or_block_parameter_that_names_nothing_is_located(change: str, message: str, line: int) -> None:
    text = CHOSEN.replace(change, change.replace("hardswish", "hardswih").replace("bottleneck", "botleneck"))
    with pytest.raises(SpecError, match=message) as raised:
        analyze_text(text)
    assert raised.value.location.line == line


def test_the_schema_takes_the_new_forms() -> None:
    from tests.test_schema import errors

    assert errors(CHOSEN) == []
    assert errors(MBCONV.read_text(encoding="utf-8")) == []
    assert errors(RESIDUAL.replace("ADD", '"${stride == 1}"')) == []
    assert errors(RESIDUAL.replace("ADD", "3")) != []
    assert errors(ORDERED.replace("ORDER", "order: shortcut-first")) == []
    assert errors(ORDERED.replace("ORDER", "order: shortcut")) != []
    assert errors(MIXED) == []
    assert errors(MIXED.replace("[3, 5, 7]", "[3]")) != []


# --- ${copy}: the index of a repeat's copy ---------------------------------------------------------------------------


def test_copy_is_the_index_of_each_copy() -> None:
    analysis = analyze_text(
        dedent("""
        input: [3, 4, 4]
        layers:
          - {type: conv, name: c, filters: "${8 * (copy + 1)}", kernel: 1, repeat: 3}
        """)
    )
    assert [layer.output_shape[0] for layer in analysis.layers] == [8, 16, 24]
    # 1x1 convs 3 -> 8 -> 16 -> 24, with biases
    assert [layer.params for layer in analysis.layers] == [3 * 8 + 8, 8 * 16 + 16, 16 * 24 + 24]


DROP_PATH = """
input: [8, 4, 4]
blocks:
  unit:
    params: {total: 4}
    layers:
      - type: residual
        body:
          - {type: conv, filters: 8, kernel: 1, bias: false}
          - {type: stochastic_depth, rate: "${0.2 * (copy + 1) / total}"}
layers:
  - {block: unit, name: u, repeat: 4, first: {total: 5}}
"""


def test_copy_reaches_a_repeated_blocks_layers_for_a_drop_path_schedule() -> None:
    analysis = analyze_text(DROP_PATH)
    rates = [layer.config["rate"] for layer in analysis.layers if layer.type == "stochastic_depth"]
    # 0.2 * (i + 1) / 4 for i = 1..3, exact fractions made floats only at the end; copy 0 has total 5 from 'first'
    assert rates == [0.04, 0.1, 0.15, 0.2]
    assert [name for name in (layer.name for layer in analysis.layers) if name.endswith("stochastic_depth1")] == [
        f"u.{i}.residual1.body.stochastic_depth1" for i in range(4)
    ]


def test_the_innermost_repeat_names_copy_and_an_outer_copy_counts_an_inner_repeat() -> None:
    analysis = analyze_text(
        dedent("""
        input: [4, 4, 4]
        layers:
          - type: residual
            name: r
            repeat: 3
            body:
              - {type: conv, name: c, filters: 4, kernel: 1, groups: "${copy + 1}", repeat: "${copy}"}
        """)
    )
    convs = [layer.name for layer in analysis.layers if layer.type == "conv"]
    assert convs == ["r.1.body.c.0", "r.2.body.c.0", "r.2.body.c.1"]  # r.0 repeats its conv 0 times
    # groups is the inner copy's index + 1: 1 group (16 weights + 4 biases), then 2 groups (2 * 2 * 4 = 8 + 4)
    params = [layer.params for layer in analysis.layers if layer.type == "conv"]
    assert params == [4 * 4 + 4, 4 * 4 + 4, 2 * 4 + 4]


def test_copy_outside_a_repeat_is_an_unknown_name() -> None:
    with pytest.raises(SpecError, match=r"unknown name 'copy'.*in a repeat: copy") as raised:
        analyze_text("input: [3, 4, 4]\nlayers:\n  - {type: conv, filters: '${copy + 1}', kernel: 1}\n")
    assert raised.value.location.line == 3


def test_a_block_parameter_cannot_be_called_copy() -> None:
    text = "input: [3, 4, 4]\nblocks:\n  b: {params: {copy: 1}, layers: [{type: relu}]}\nlayers: [{block: b}]\n"
    with pytest.raises(SpecError, match=r"block parameter 'copy' must be an identifier other than .*copy"):
        analyze_text(text)


# --- identity: timm's nn.Identity, chosen by a parameter -----------------------------------------------------------

ACTIVATED = """
input: [8, 16, 16]
blocks:
  unit:
    params: {act: relu}
    layers:
      - {type: conv, filters: 8, kernel: 3, padding: 1, bias: false}
      - {type: "${act}"}
layers:
  - {block: unit, name: a, act: ACT}
  - {type: global_avgpool}
"""


def test_identity_costs_nothing_and_keeps_the_shape() -> None:
    with_identity = analyze_text(ACTIVATED.replace("ACT", "identity"))
    layers = by_name(with_identity)
    assert layers["a.identity1"].output_shape == (8, 16, 16)
    assert (layers["a.identity1"].params, layers["a.identity1"].macs, layers["a.identity1"].flops) == (0, 0, 0)
    conv = 3 * 3 * 8 * 8  # 576 params; MACs 16 * 16 * 8 * 576 / 8 = 16 * 16 * 576
    assert with_identity.total.params == conv and with_identity.total.macs == 16 * 16 * 8 * 3 * 3 * 8
    # the global average pool's 8 * 16 * 16 FLOPs are the only ones besides the conv's 2 x MACs
    assert with_identity.total.flops == 2 * 16 * 16 * 8 * 3 * 3 * 8 + 8 * 16 * 16
    # nn.Identity returns its input (a view): the peak stays the conv's input and output, 2 x 8x16x16 floats
    assert with_identity.total.peak_activation_bytes == 2 * 8 * 16 * 16 * 4


# --- order: shortcut-first -------------------------------------------------------------------------------------------

ORDERED = """
input: [8, 8, 8]
layers:
  - type: residual
    name: r
    ORDER
    body:
      - {type: conv, filters: 16, kernel: 3, stride: 2, padding: 1, bias: false}
      - {type: batchnorm}
    shortcut:
      - {type: conv, name: proj, filters: 16, kernel: 1, stride: 2, bias: false}
      - {type: batchnorm, name: proj_bn}
"""


def test_shortcut_first_runs_the_projection_before_the_body_with_the_same_counts() -> None:
    body_first = analyze_text(ORDERED.replace("ORDER", "order: body-first"))
    default = analyze_text(ORDERED.replace("    ORDER\n", ""))
    shortcut_first = analyze_text(ORDERED.replace("ORDER", "order: shortcut-first"))
    body = ["r.body.conv1", "r.body.batchnorm1"]
    shortcut = ["r.shortcut.proj", "r.shortcut.proj_bn"]
    assert [layer.name for layer in default.layers] == [*body, *shortcut, "r"]
    assert [layer.name for layer in body_first.layers] == [*body, *shortcut, "r"]
    assert [layer.name for layer in shortcut_first.layers] == [*shortcut, *body, "r"]  # torchvision's RegNet order
    # 3x3 conv 8 -> 16 and 1x1 conv 8 -> 16, two batch norms of 16; at 4x4 (stride 2)
    params = 3 * 3 * 8 * 16 + 1 * 1 * 8 * 16 + 2 * (2 * 16)
    macs = 4 * 4 * 16 * (3 * 3 * 8 + 1 * 1 * 8)
    for analysis in (default, shortcut_first):
        assert (analysis.total.params, analysis.total.macs) == (params, macs)
        assert by_name(analysis)["r"].input_shapes == ((16, 4, 4), (16, 4, 4))
        assert by_name(analysis)["r"].inputs == ("r.body.batchnorm1", "r.shortcut.proj_bn")  # body + shortcut


def test_a_bad_order_is_one_located_error() -> None:
    with pytest.raises(SpecError, match="'order' must be body-first or shortcut-first, not 'shortcut'") as raised:
        analyze_text(ORDERED.replace("ORDER", "order: shortcut"))
    assert (raised.value.location.line, raised.value.layer) == (6, "r")


# --- kernels: a mixed-kernel conv (MixNet's MixConv, timm's MixedConv2d) ----------------------------------------------

MIXED = """
input: [10, 16, 16]
blocks:
  mixed:
    params: {ks: [3, 5, 7, 9]}
    layers:
      - {type: conv, name: dw, kernels: "${ks}", filters: 40, groups: 40, stride: 2, bias: false}
layers:
  - {type: conv, name: mix, kernels: [3, 5, 7], filters: 40, bias: false}
  - {block: mixed, name: m}
"""


def test_a_mixed_conv_splits_channels_as_timm_does() -> None:
    """timm's _split_channels: C // n per group, the remainder on the first. Measured once with torch on timm's
    MixedConv2d: MixedConv2d(10, 40, [3, 5, 7]) has 3,390 parameters, MixedConv2d(40, 40, [3, 5, 7, 9], stride=2,
    depthwise=True) 1,640 and a 40x8x8 output from 16x16; here as hand arithmetic."""
    analysis = analyze_text(MIXED)
    layers = by_name(analysis)
    # 10 input channels in 3: 4, 3, 3; 40 filters in 3: 14, 13, 13; 'same'-like padding k // 2 keeps 16x16
    assert [(layers[f"mix.slice{i}"].output_shape[0], layers[f"mix.{i}"].output_shape) for i in range(3)] == [
        (4, (14, 16, 16)),
        (3, (13, 16, 16)),
        (3, (13, 16, 16)),
    ]
    mix = 3 * 3 * 4 * 14 + 5 * 5 * 3 * 13 + 7 * 7 * 3 * 13
    assert [layers[f"mix.{i}"].params for i in range(3)] == [3 * 3 * 4 * 14, 5 * 5 * 3 * 13, 7 * 7 * 3 * 13]
    assert mix == 3_390  # timm's count
    assert layers["mix"].type == "concat" and layers["mix"].output_shape == (40, 16, 16)
    # depthwise (groups = C_in): 40 in 4 groups of 10, each conv 10 -> 10 with 10 groups; timm's padding
    # ((stride - 1) + (k - 1)) // 2 = 1, 2, 3, 4 takes 16 to (16 + 2p - k) // 2 + 1 = 8
    dw = 10 * (3 * 3 + 5 * 5 + 7 * 7 + 9 * 9)
    assert dw == 1_640  # timm's count
    assert [layers[f"m.dw.{i}"].output_shape for i in range(4)] == [(10, 8, 8)] * 4
    assert analysis.output_shape == (40, 8, 8)
    assert analysis.total.params == mix + dw
    assert analysis.total.macs == 16 * 16 * mix + 8 * 8 * dw  # one multiply-add per weight per output position
    names = [layer.name for layer in analysis.layers]
    assert names[:7] == ["mix.slice0", "mix.0", "mix.slice1", "mix.1", "mix.slice2", "mix.2", "mix"]


def test_split_channels_is_timms_rule() -> None:
    from convcalc.spec.structures import split_channels

    # timm's _split_channels(num_chan, num_groups): [C // n] * n, then split[0] += C - sum(split)
    assert split_channels(10, 3) == [4, 3, 3]
    assert split_channels(40, 3) == [14, 13, 13]
    assert split_channels(7, 2) == [4, 3]
    assert split_channels(12, 4) == [3, 3, 3, 3]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{type: conv, kernels: [3], filters: 8}", "'kernels' must be a list of two or more whole numbers"),
        ("{type: conv, kernels: [3, 0], filters: 8}", "'kernels' must be a list of two or more whole numbers"),
        ("{type: conv, kernels: 3, filters: 8}", "'kernels' must be a list of two or more whole numbers"),
        ("{type: conv, kernels: [3, 5], kernel: 3, filters: 8}", "unknown key 'kernel' for a mixed-kernel conv"),
        ("{type: conv, kernels: [3, 5], filters: 8, groups: 2}", "groups 1 or its input channels, not groups 2 of 4"),
        ("{type: conv, kernels: [3, 5, 7, 9, 11], filters: 8}", "5 kernels split 4 input channels into 0"),
        ("{type: conv, kernels: [3, 5]}", "missing required key 'filters'"),
    ],
)
def test_a_bad_mixed_conv_is_one_located_error(entry: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)) as raised:
        analyze_text(f"input: [4, 8, 8]\nlayers:\n  - {entry}\n")
    assert raised.value.location.line == 3 and raised.value.layer == "conv1"
