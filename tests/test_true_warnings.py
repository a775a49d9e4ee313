"""Issue 17: warnings that are true (each case by hand arithmetic), acknowledging them with `expect`, and the
messages a new user met.

The "never read" rule: in padded coordinates the last window ends at (out - 1) * stride + (k - 1) * dilation + 1;
the input starts at pad_before, so input rows at or past that end minus pad_before are never read.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from convcalc import analyze, load_spec
from convcalc.core.errors import SpecError
from convcalc.core.findings import WARNINGS
from convcalc.export import to_pytorch
from convcalc.spec.schema import spec_schema
from tests.conftest import SPECS, run_cli
from tests.test_axes import CASES as AXIS_CASES


def warnings_of(text: str, **options: object) -> list[tuple[str, str, str]]:
    return [(w.layer, w.code, w.message) for w in analyze(load_spec("t.yaml", text=text), **options).warnings]


def one_layer(size: int, layer: str, channels: int = 1) -> str:
    return f"input: [{channels}, {size}, {size}]\nlayers:\n  - {{{layer}, name: x}}\n"


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_spec("t.yaml", text=text)
    return caught.value


# --- "never read": what the windows reach -------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "layer", "out", "reach"),
    [
        # ResNet's stem: 7x7/2 p3 at 224: out = (224 + 6 - 7) // 2 + 1 = 112; the last window ends at
        # 111 * 2 + 7 = 229 padded, 229 - 3 = 226 >= 224: all read (the windows past 224 cover padding only).
        (224, "type: conv, filters: 1, kernel: 7, stride: 2, padding: 3", 112, 111 * 2 + 7 - 3),
        # its max pool: 3x3/2 p1 at 112: out = (112 + 2 - 3) // 2 + 1 = 56; 55 * 2 + 3 - 1 = 112 >= 112.
        (112, "type: maxpool, kernel: 3, stride: 2, padding: 1", 56, 55 * 2 + 3 - 1),
        # every 3x3/2 p1 conv, at 56: out = (56 + 2 - 3) // 2 + 1 = 28; 27 * 2 + 3 - 1 = 56 >= 56.
        (56, "type: conv, filters: 1, kernel: 3, stride: 2, padding: 1", 28, 27 * 2 + 3 - 1),
        # torchvision's AlexNet stem, 11x11/4 p2 at 224: out = (224 + 4 - 11) // 4 + 1 = 55; 54 * 4 + 11 - 2 = 225.
        (224, "type: conv, filters: 1, kernel: 11, stride: 4, padding: 2", 55, 54 * 4 + 11 - 2),
        # SqueezeNet's ceil-mode pool, 3x3/2 at 109: out = ceil((109 - 3) / 2) + 1 = 54; 53 * 2 + 3 = 109.
        (109, "type: maxpool, kernel: 3, stride: 2, ceil_mode: true", 54, 53 * 2 + 3),
        # ceil mode at 110: out = ceil(107 / 2) + 1 = 55 (the last window starts at 108 < 110): 54 * 2 + 3 = 111.
        (110, "type: maxpool, kernel: 3, stride: 2, ceil_mode: true", 55, 54 * 2 + 3),
        # dilation 2 makes a 3x3 span 5: 3x3/2 d2 p2 at 16: out = (16 + 4 - 5) // 2 + 1 = 8; 7 * 2 + 5 - 2 = 17.
        (16, "type: conv, filters: 1, kernel: 3, stride: 2, padding: 2, dilation: 2", 8, 7 * 2 + 5 - 2),
    ],
)
def test_windows_that_reach_the_last_row_do_not_warn(size: int, layer: str, out: int, reach: int):
    assert reach >= size
    analysis = analyze(load_spec("t.yaml", text=one_layer(size, layer)))
    assert analysis.layers[0].output_shape[1:] == (out, out)
    assert analysis.warnings == ()


@pytest.mark.parametrize(
    ("size", "layer", "message"),
    [
        # AlexNet unpadded, 11x11/4 at 224: out = (224 - 11) // 4 + 1 = 54; the last window ends at
        # 53 * 4 + 11 = 223: row 223 unread.
        (
            224,
            "type: conv, filters: 1, kernel: 11, stride: 4",
            "windows reach 223 of 224 input rows and columns ((out 54 - 1) * stride 4 + window 11 - padding 0 = 223): "
            "the last 1 row and 1 column of the input are never read",
        ),
        # 1x1/2 at 56: out = (56 - 1) // 2 + 1 = 28; the last window is row 27 * 2 = 54, so it reaches 55 of 56.
        (
            56,
            "type: conv, filters: 1, kernel: 1, stride: 2",
            "windows reach 55 of 56 input rows and columns ((out 28 - 1) * stride 2 + window 1 - padding 0 = 55): "
            "the last 1 row and 1 column of the input are never read "
            "(a stride 2 over a window of 1 also skips the rows and columns between windows)",
        ),
    ],
)
def test_windows_that_stop_short_warn(size: int, layer: str, message: str):
    assert (224 - 11) // 4 + 1 == 54 and 53 * 4 + 11 == 223
    assert (56 - 1) // 2 + 1 == 28 and 27 * 2 + 1 == 55
    assert warnings_of(one_layer(size, layer)) == [("x", "unread", message)]


def test_gaps_between_windows_are_told_per_axis():
    # 1x1 at stride [3, 2] on 11x10: H: out = (11 - 1) // 3 + 1 = 4, reach 3 * 3 + 1 = 10 of 11;
    # W: out = (10 - 1) // 2 + 1 = 5, reach 4 * 2 + 1 = 9 of 10. Each stride skips its own rows or columns.
    text = "input: [1, 11, 10]\nlayers:\n  - {type: conv, name: x, filters: 1, kernel: 1, stride: [3, 2]}\n"
    assert warnings_of(text) == [
        (
            "x",
            "unread",
            "windows reach 10 of 11 input rows ((out 4 - 1) * stride 3 + window 1 - padding 0 = 10) and "
            "9 of 10 input columns ((out 5 - 1) * stride 2 + window 1 - padding 0 = 9): "
            "the last 1 row and 1 column of the input are never read "
            "(a stride 3 over a window of 1 also skips the rows between windows) "
            "(a stride 2 over a window of 1 also skips the columns between windows)",
        )
    ]
    # 1x3 at stride [3, 1] on 11x10: the rows as above; W: out = 10 - 3 + 1 = 8, reach 7 + 3 = 10 of 10: no gap
    text = "input: [1, 11, 10]\nlayers:\n  - {type: conv, name: x, filters: 1, kernel: [1, 3], stride: [3, 1]}\n"
    assert warnings_of(text) == [
        (
            "x",
            "unread",
            "windows reach 10 of 11 input rows ((out 4 - 1) * stride 3 + window 1 - padding 0 = 10): "
            "the last 1 row of the input is never read (a stride 3 over a window of 1 also skips the rows between "
            "windows)",
        )
    ]


def test_a_strided_1x1_on_an_odd_size_reads_the_last_row():
    # on an odd size the last row is read: 57: out = 29, 28 * 2 + 1 = 57.
    assert warnings_of(one_layer(57, "type: conv, filters: 1, kernel: 1, stride: 2")) == []


def test_rows_and_columns_counted_apart_and_a_pool_without_ceil_mode():
    # maxpool 3x3/2 at 20x23: H: out = (20 - 3) // 2 + 1 = 9, 8 * 2 + 3 = 19 of 20: 1 row.
    # W: out = (23 - 3) // 2 + 1 = 11, 10 * 2 + 3 = 23 of 23: all read.
    text = "input: [1, 20, 23]\nlayers:\n  - {type: maxpool, name: x, kernel: 3, stride: 2}\n"
    assert warnings_of(text) == [
        (
            "x",
            "unread",
            "windows reach 19 of 20 input rows ((out 9 - 1) * stride 2 + window 3 - padding 0 = 19): "
            "the last 1 row of the input is never read",
        )
    ]
    # avgpool 4x4/4 at 18x19: H: out = 4, 3 * 4 + 4 = 16 of 18 (2 rows); W: out = 4, 16 of 19 (3 columns).
    text = "input: [1, 18, 19]\nlayers:\n  - {type: avgpool, name: x, kernel: 4}\n"
    assert warnings_of(text)[0][2] == (
        "windows reach 16 of 18 input rows ((out 4 - 1) * stride 4 + window 4 - padding 0 = 16) and "
        "16 of 19 input columns ((out 4 - 1) * stride 4 + window 4 - padding 0 = 16): "
        "the last 2 rows and 3 columns of the input are never read"
    )


def test_same_padding_at_stride_2_reads_everything():
    # TensorFlow's SAME, 3x3/2 at 8: out = ceil(8 / 2) = 4, total padding (4 - 1) * 2 + 3 - 8 = 1: 0 before, 1
    # after; the last window ends at 3 * 2 + 3 = 9, 9 - 0 = 9 >= 8. Only the asymmetry is said.
    found = warnings_of(one_layer(8, "type: conv, filters: 1, kernel: 3, stride: 2, padding: same"))
    assert [code for _, code, _ in found] == ["asymmetric"]


# --- every warning the zoo prints, each true ----------------------------------------------------------

SHORTCUTS = [f"layer{n}.0.residual1.shortcut.conv.0" for n in (2, 3, 4)]
V1_BODIES = [f"layer{n}.0.residual1.body.conv1" for n in (2, 3, 4)]
ZOO_WARNINGS = {
    # torchvision's downsampling shortcut: 1x1/2 on 56, 28, 14 reaches 27 * 2 + 1 = 55, 13 * 2 + 1 = 27 and
    # 6 * 2 + 1 = 13: the last row and column are never read.
    "resnet18": [(name, "unread") for name in SHORTCUTS],
    "resnet50": [(name, "unread") for name in SHORTCUTS],
    # R3D-18's 1x1x1/2 shortcuts on 16x56x56, 8x28x28, 4x14x14 reach 7 * 2 + 1 = 15 of 16 frames, 27 * 2 + 1 = 55 of
    # 56 rows and columns, and so on: the last frame, row and column of each are never read.
    "r3d_18": [(name, "unread") for name in SHORTCUTS],
    "r2plus1d_18": [(name, "unread") for name in SHORTCUTS],  # the same shortcuts
    # M5's 4x pools on 7981, 1993 and 122 samples read (1995 - 1) * 4 + 4 = 7980, 1992 and 120 of them (496 = 4 * 124)
    "m5": [("stage1.pool", "unread"), ("stage2.pool", "unread"), ("stage4.pool", "unread")],
    # the paper's ResNet-50 strides in the body's first 1x1 too: the same arithmetic, twice per stage.
    "resnet50-v1": [(name, "unread") for pair in zip(V1_BODIES, SHORTCUTS, strict=True) for name in pair],
    # 7x7/2 p0 at 224: out = (224 - 7) // 2 + 1 = 109; 108 * 2 + 7 = 223 of 224.
    "squeezenet1_0": [("conv1", "unread")],
    # MACs: reduce250to10 36 * 250 * 10 = 90,000; expand10to32 36 * 10 * 32 = 11,520; nin 36 * 32 * 32 = 36,864:
    # nin keeps 32x6x6 and takes 36,864 / 138,384 = 26.6% of them.
    "one-by-one": [("nin", "costly")],
}


def zoo_names() -> list[str]:
    return sorted(path.stem for path in SPECS.glob("*.yaml"))


@pytest.mark.parametrize("name", zoo_names())
def test_the_zoo_prints_only_the_warnings_listed(name: str):
    found = [(w.layer, w.code) for w in analyze(SPECS / f"{name}.yaml").warnings]
    assert found == ZOO_WARNINGS.get(name, [])


def test_the_arithmetic_behind_the_zoo_warnings():
    reach = {56: 27 * 2 + 1, 28: 13 * 2 + 1, 14: 6 * 2 + 1}
    assert all(size - reached == 1 for size, reached in reach.items())
    shortcut = next(w for w in analyze(SPECS / "resnet18.yaml").warnings if w.layer == SHORTCUTS[0])
    assert "windows reach 55 of 56 input rows and columns" in shortcut.message
    assert (224 - 7) // 2 + 1 == 109 and 108 * 2 + 7 == 223
    squeeze = analyze(SPECS / "squeezenet1_0.yaml").warnings[0]
    assert "windows reach 223 of 224" in squeeze.message
    macs = (36 * 250 * 10, 36 * 10 * 32, 36 * 32 * 32)
    assert f"{100 * macs[2] / sum(macs):.1f}" == "26.6"
    nin = analyze(SPECS / "one-by-one.yaml").warnings[0]
    assert nin.message == "output shape unchanged (32x6x6) but this layer takes 26.6% of all MACs"


# --- "widens": only a 1x1 meant as a bottleneck --------------------------------------------------------

WIDENING = """
input: [16, 8, 8]
layers:
  - {{type: conv, name: {name}, filters: 64, kernel: 1{extra}}}
  - {{type: relu}}
  - {{type: conv, name: big, filters: 16, kernel: 3, padding: 1}}
"""


@pytest.mark.parametrize("name", ["big_reduce", "conv3x3red", "bottleneck", "squeeze1", "reduction"])
def test_a_1x1_named_as_a_bottleneck_that_widens_warns(name: str):
    # 64 filters > 16 input channels
    assert warnings_of(WIDENING.format(name=name, extra="")) == [
        (
            name,
            "widens",
            f"1x1 conv '{name}' before 'big' is named as a bottleneck but has 64 filters for 16 input channels: "
            "it widens instead of reducing (a bottleneck has fewer filters than input channels)",
        )
    ]


@pytest.mark.parametrize("name", ["expand", "conv1", "Conv2d_3b_1x1", "pred", "shred"])
def test_a_1x1_widening_on_purpose_is_quiet(name: str):
    assert warnings_of(WIDENING.format(name=name, extra="")) == []


PASSES_THROUGH = {
    *("relu", "relu6", "leaky_relu", "sigmoid", "tanh", "silu", "gelu", "hardsigmoid", "hardswish"),
    *("batchnorm", "dropout", "identity", "stochastic_depth", "scale", "layernorm", "groupnorm"),
}
"""Element-wise on one input, the shape kept, mixing neither positions nor channels (a layer norm's statistics mix
channels, but what it feeds still has the 1x1's channels): a widening 1x1 is still seen through them."""


@pytest.mark.parametrize(("kind", "config"), [(kind, config) for kind, config in AXIS_CASES if kind != "opaque"])
def test_the_widening_is_seen_through_element_wise_layers_only(kind: str, config: dict[str, object]) -> None:
    """A widening 1x1 named as a bottleneck, then a layer of this kind, then a 3x3: the warning only when the kind
    passes the 1x1's output through unchanged in shape and position."""
    between = json.dumps({"type": kind, "name": "between", **config})
    text = f"""
input: [4, 13, 10]
layers:
  - {{type: conv, name: pre_reduce, filters: 8, kernel: 1}}
  - {between}
  - {{type: conv, name: big, filters: 4, kernel: 3, padding: 1}}
"""
    try:
        found = warnings_of(text)
    except SpecError:  # the layer's output is not a feature map a 3x3 conv reads (flat, too small)
        assert kind not in PASSES_THROUGH
        return
    seen = [message for _, code, message in found if code == "widens" and "before 'big'" in message]
    assert bool(seen) == (kind in PASSES_THROUGH), found


def test_a_repeated_reduce_is_named_by_its_own_name():
    # `compare --bottleneck` writes the 1x1 in a block with repeat: its copy is `conv_reduce.0`
    text = """
input: [16, 8, 8]
blocks:
  pair:
    layers:
      - {type: conv, name: conv_reduce, filters: 32, kernel: 1, repeat: 1}
      - {type: conv, name: conv, filters: 16, kernel: 3, padding: 1}
layers:
  - {block: pair, name: expand_block}
"""
    assert [(layer, code) for layer, code, _ in warnings_of(text)] == [("expand_block.conv_reduce.0", "widens")]


def test_designed_expansions_in_the_zoo_are_quiet():
    # MobileNetV2's expansions (16 -> 96, ...) and MobileNet's pointwise convs (32 -> 64, ...) widen by design
    for name in ("mobilenet_v1", "mobilenet_v2"):
        assert [w for w in analyze(SPECS / f"{name}.yaml").warnings if w.code == "widens"] == []


# --- acknowledging a warning: expect --------------------------------------------------------------------


def test_expect_on_the_layer_acknowledges_its_warning():
    assert warnings_of(WIDENING.format(name="big_reduce", extra=", expect: [widens]")) == []
    assert warnings_of(WIDENING.format(name="big_reduce", extra=", expect: widens")) == []
    # another code leaves it
    found = warnings_of(WIDENING.format(name="big_reduce", extra=", expect: [unread]"))
    assert [code for _, code, _ in found] == ["widens"]


def test_expect_on_a_structure_holds_for_every_layer_inside_and_first_sets_it_for_copy_0():
    text = """
input: [1, 112, 112]
blocks:
  down:
    params: {stride: 1}
    layers:
      - {type: conv, name: conv, filters: 1, kernel: 1, stride: "${stride}"}
layers:
  - {block: down, name: a, stride: 2, expect: [unread]}
  - {type: residual, name: r, expect: [unread], body: [{type: conv, filters: 1, kernel: 1, stride: 2}],
     shortcut: [{type: maxpool, kernel: 1, stride: 2}]}
  - {block: down, name: b, repeat: 2, first: {stride: 2, expect: unread}}
  - {block: down, name: c, stride: 2}
"""
    # each 1x1/2 halves an even size, so each misses its last row: a 112 -> 56 (reaches 55 * 2 + 1 = 111), the
    # residual's body and shortcut 56 -> 28 (27 * 2 + 1 = 55), b.0 28 -> 14 (13 * 2 + 1 = 27), b.1 keeps 14 at
    # stride 1, c 14 -> 7 (6 * 2 + 1 = 13): all acknowledged but c.
    found = warnings_of(text)
    assert [(layer, code) for layer, code, _ in found] == [("c.conv", "unread")]


def test_expect_with_an_unknown_code():
    error = error_of("input: [1, 8, 8]\nlayers:\n  - {type: relu, expect: [widen]}\n")
    assert error.message == "'expect': unknown warning code 'widen'"
    assert error.hint == "did you mean 'widens'?"
    error = error_of("input: [1, 8, 8]\nlayers:\n  - {type: relu, expect: 3}\n")
    assert error.message == "'expect' must be a warning code or a list of them, not 3"
    assert error.hint == f"warning codes: {', '.join(WARNINGS)}"


def test_expect_in_the_schema():
    validator = jsonschema.Draft202012Validator(spec_schema())
    good = {"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 1, "kernel": 1, "expect": ["unread"]}]}
    assert not list(validator.iter_errors(good))
    bad = {"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 1, "kernel": 1, "expect": ["noise"]}]}
    assert list(validator.iter_errors(bad))


def test_warning_codes_in_json():
    result = run_cli("analyze", "squeezenet1_0", "--format", "json")
    assert [(w["layer"], w["code"]) for w in json.loads(result.stdout)["warnings"]] == [("conv1", "unread")]


# --- a block's layer that names 'input' -----------------------------------------------------------------

BLOCK_READS_INPUT = """
input: [3, 8, 8]
blocks:
  unit:
    layers:
      - {type: conv, name: conv1, filters: 3, kernel: 3, padding: 1}
      - {type: concat, inputs: [input, conv1]}
layers:
  - {block: unit}
  - {block: unit}
  - {block: unit, expect: input}
"""


def test_a_block_layer_naming_input_reads_the_network_input_and_is_warned():
    # unit1 starts at the network input, so 'input' is its input too: quiet. unit2 reads unit1's concat
    # (6 channels): its 'input' is still the network's 3 channels. unit3 acknowledges it.
    found = [warning for warning in warnings_of(BLOCK_READS_INPUT) if warning[1] == "input"]
    assert found == [
        (
            "unit2.concat1",
            "input",
            "'input' is the network's input, not the input of block 'unit' (instance 'unit2' reads 'unit1.concat1'); "
            "a block's first layer reads its input",
        )
    ]


# --- messages ------------------------------------------------------------------------------------------


def test_reading_a_repeated_layer_by_its_name_lists_its_copies():
    text = """
input: [3, 8, 8]
layers:
  - {type: conv, name: unit, filters: 3, kernel: 3, padding: 1, repeat: 4}
  - {type: add, inputs: [unit, input]}
"""
    error = error_of(text)
    assert error.message == "no earlier layer is named 'unit': it is repeated, and its copies are 'unit.0' ... 'unit.3'"
    assert error.hint == "read one copy by its name, e.g. 'unit.3' (the last)"
    error = error_of(text.replace("repeat: 4", "repeat: 1"))
    assert error.message == "no earlier layer is named 'unit': it is repeated, and its one copy is 'unit.0'"


def test_a_kernel_written_as_height_x_width():
    # 1x7 with padding 0x3 at 8x8: H = 8 - 1 + 1 = 8, W = 8 + 6 - 7 + 1 = 8; MACs 8 * 8 * 2 * 1 * 7 * 3
    text = "input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 2, kernel: 1x7, padding: [0, 3]}\n"
    layer = analyze(load_spec("t.yaml", text=text)).layers[0]
    assert layer.output_shape == (2, 8, 8) and layer.macs == 8 * 8 * 2 * 1 * 7 * 3
    same = "input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 2, kernel: [1, 7], padding: '0 x 3'}\n"
    assert analyze(load_spec("t.yaml", text=same)).layers[0].macs == layer.macs
    error = error_of(text.replace("1x7", "1by7"))
    assert error.message == "'kernel': expected a whole number, [height, width] or HxW such as 1x7, got the text '1by7'"


ANY_RANK = (
    "It works in 1-D, 2-D and 3-D: its input's rank ([channels, length], [channels, height, width] or [channels, "
    "depth, height, width]) says which"
)


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("mul", "convcalc calls it 'multiply'"),
        ("DropPath", "convcalc calls it 'stochastic_depth'"),
        (
            "InstanceNorm2d",
            "convcalc has no instance normalisation; 'layernorm', 'groupnorm' and 'batchnorm' are the norms it counts",
        ),
        ("dense", "convcalc calls it 'linear'"),
        ("Conv2d", "did you mean 'conv'? " + ANY_RANK),
        ("conv1d", "did you mean 'conv'? " + ANY_RANK),
        ("MaxPool3d", "did you mean 'maxpool'? " + ANY_RANK),
        ("BatchNorm2d", "did you mean 'batchnorm'? " + ANY_RANK),
        ("Max_Pool", "did you mean 'maxpool'?"),
        ("reul", "did you mean 'relu'?"),
    ],
)
def test_unknown_layer_types_are_hinted_by_meaning(written: str, hint: str):
    error = error_of(f"input: [3, 8, 8]\nlayers:\n  - {{type: {written}}}\n")
    assert error.message == f"unknown layer type '{written}'"
    assert error.hint == hint


def test_an_unknown_type_with_no_meaning_lists_the_types():
    error = error_of("input: [3, 8, 8]\nlayers:\n  - {type: frobnicate}\n")
    assert error.hint is not None and error.hint.startswith("layer types: conv, conv_transpose, linear")


@pytest.mark.parametrize(
    ("layer", "message", "hint"),
    [
        (
            "type: conv, filters: 2, kernel_size: 3",
            "unknown key 'kernel_size' for a conv layer",
            "'kernel_size' is 'kernel' in convcalc",
        ),
        (
            "type: conv, out_channels: 2, kernel: 3",
            "unknown key 'out_channels' for a conv layer",
            "'out_channels' is 'filters' in convcalc",
        ),
        (
            "type: batchnorm, num_features: 3",
            "unknown key 'num_features' for a batchnorm layer",
            "convcalc has no 'num_features': the channels come from the layer's input",
        ),
        (
            "type: linear, out_features: 4",
            "unknown key 'out_features' for a linear layer",
            "'out_features' is 'units' in convcalc",
        ),
        (
            "type: sigmoid, inplace: true",
            "unknown key 'inplace' for a sigmoid layer",
            "convcalc has no 'inplace': only relu, relu6, leaky_relu, silu, hardsigmoid and hardswish run in place "
            "(as in PyTorch)",
        ),
        (
            "type: avgpool, kernel: 2, strides: 2",
            "unknown key 'strides' for an avgpool layer",
            "'strides' is 'stride' in convcalc",
        ),
    ],
)
def test_framework_key_names_are_hinted(layer: str, message: str, hint: str):
    error = error_of(f"input: [3, 8, 8]\nlayers:\n  - {{{layer}}}\n")
    assert (error.message, error.hint) == (message, hint)


def test_count_include_pad_is_an_avgpool_key_that_reaches_the_export():
    # 3x3/1 p1 at 8: out 8; FLOPs 9 per output either way: 9 * 3 * 8 * 8
    text = (
        "input: [3, 8, 8]\nlayers:\n  - {type: avgpool, kernel: 3, stride: 1, padding: 1, count_include_pad: false}\n"
    )
    spec = load_spec("t.yaml", text=text)
    assert analyze(spec).layers[0].flops == 9 * 3 * 8 * 8
    assert "nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)" in to_pytorch(spec)


# --- "layout": an input written channels-last ------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "warns"),
    [
        ([224, 224, 3], True),  # Keras's (H, W, C) of an RGB image
        ([28, 28, 1], True),  # MNIST, grey
        ([64, 48, 4], True),  # RGBA
        ([3, 224, 224], False),
        ([64, 56, 56], False),  # a feature map
        ([256, 14, 4], False),  # 14 rows of 4: too small to be an image's height and width
        ([16, 15, 3], False),
        ([64, 128, 1], False),  # a 1-D signal, 64 channels of 128 samples
    ],
)
def test_an_input_that_looks_channels_last_warns(shape: list[int], warns: bool) -> None:
    text = f"input: {shape}\nlayers:\n  - {{type: conv, name: first, filters: 4, kernel: 1}}\n"
    found = [(layer, code) for layer, code, _ in warnings_of(text)]
    assert found == ([("first", "layout")] if warns else [])


def test_the_layout_warning_says_what_to_write() -> None:
    text = "input: [224, 224, 3]\nlayers:\n  - {type: conv, name: conv1, filters: 32, kernel: 3, padding: 1}\n"
    assert warnings_of(text) == [
        (
            "conv1",
            "layout",
            "the network's input 224x224x3 reads as 224 channels of 224x3: convcalc takes channels first, so an "
            "image of 224x224 with 3 channels is [3, 224, 224] (--input 3x224x224)",
        )
    ]
    acknowledged = text.replace("padding: 1}", "padding: 1, expect: layout}")
    assert warnings_of(acknowledged) == []
    # on the command line it stops the run (issue 28: 183 lines of wrong numbers, exit 0, were worse), each command
    for command in (["analyze"], ["compare", "resnet18"], ["conventions"], ["graph"], ["explain", "resnet18", "conv1"]):
        result = run_cli(*command[:1], "resnet18", *command[1:], "--input", "224x224x3")
        assert result.code == 2, command
        assert result.stdout == ""
        first, hint = result.stderr.splitlines()
        assert first.endswith("error: layer 'conv1': " + LAYOUT_224 + " (--input 3x224x224)")
        assert hint == "  hint: to cost the input as written (channels first), give --expect layout"
    # ... unless the user insists: then it is the first of the warnings
    result = run_cli("analyze", "resnet18", "--input", "224x224x3", "--expect", "layout")
    assert result.code == 0
    assert "[3, 224, 224] (--input 3x224x224)" not in result.stdout
    assert result.stdout.count("x224x3") >= 1  # the title: 224x224x3 -> 1000


LAYOUT_224 = (
    "the network's input 224x224x3 reads as 224 channels of 224x3: convcalc takes channels first, so an image of "
    "224x224 with 3 channels is [3, 224, 224]"
)


def test_a_shape_error_after_a_channels_last_input_says_so() -> None:
    # 32x32x3 read as 32 channels of 32x3: two 2x2 pools leave 16x1, too small for the second
    text = (
        "input: [32, 32, 3]\nlayers:\n  - {type: maxpool, name: p1, kernel: 2}\n"
        "  - {type: maxpool, name: p2, kernel: 2}\n"
    )
    with pytest.raises(SpecError) as caught:
        analyze(load_spec("t.yaml", text=text))
    error = caught.value
    assert "larger than its padded input 16x1" in str(error)
    assert error.hint == (
        "convcalc takes channels first, so an image of 32x32 with 3 channels is [3, 32, 32] (--input 3x32x32)"
    )


def test_a_3d_map_names_its_three_axes():
    # 1x1x1 at stride 2 on 7x7x7: out = (7 - 1) // 2 + 1 = 4 on each axis, reach 3 * 2 + 1 = 7 of 7: all read.
    # On 8x8x8: out = (8 - 1) // 2 + 1 = 4, reach 7 of 8: the last slice, row and column are never read.
    assert (7 - 1) // 2 + 1 == 4 and 3 * 2 + 1 == 7 and (8 - 1) // 2 + 1 == 4
    text = "input: [1, {0}, {0}, {0}]\nlayers:\n  - {{type: conv, name: x, filters: 1, kernel: 1, stride: 2}}\n"
    assert warnings_of(text.format(7)) == []
    assert warnings_of(text.format(8)) == [
        (
            "x",
            "unread",
            "windows reach 7 of 8 input slices, rows and columns ((out 4 - 1) * stride 2 + window 1 - padding 0 = 7): "
            "the last 1 slice, 1 row and 1 column of the input are never read "
            "(a stride 2 over a window of 1 also skips the slices, rows and columns between windows)",
        )
    ]
