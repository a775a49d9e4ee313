"""The spec language's reads of its own network (issue 12): a block's input by the name `in`, `${NAME.channels}`
(`.height`, `.width`) of an earlier layer, `size_of: NAME`, and the integer functions min, max and make_divisible.

Expected numbers are hand arithmetic written out here, or Python's own arithmetic (torchvision's `_make_divisible`
copied below as the reference).
"""

from __future__ import annotations

from textwrap import dedent
from typing import Any

import pytest

from convcalc import AnalysisError, SpecError, analyze, load_spec
from convcalc.export import to_pytorch
from convcalc.spec.expr import ExpressionError, evaluate, make_divisible
from convcalc.sweep import sweep
from tests.netbuild import analyze_layers, analyze_text, by_name, spec_text

SE_BLOCK = """
name: se
input: [64, 14, 14]
blocks:
  se:
    params: {divisor: 4}
    layers:
      - {type: global_avgpool, name: squeeze}
      - {type: conv, name: fc1, filters: "${in.channels // divisor}", kernel: 1}
      - {type: relu}
      - {type: conv, name: fc2, filters: "${in.channels}", kernel: 1}
      - {type: sigmoid, name: gate}
      - {type: multiply, name: excite, inputs: [in, gate]}
layers:
  - {type: conv, name: conv, filters: 32, kernel: 3, padding: 1}
  - {block: se, name: se1}
  - {block: se, name: se2, divisor: 8}
"""


def test_in_names_the_block_input_and_its_channels_size_the_gate() -> None:
    layers = by_name(analyze_text(SE_BLOCK))
    # se1 reads conv's 32x14x14: fc1 32 // 4 = 8 filters, params 32 * 8 + 8 = 264; fc2 8 * 32 + 32 = 288
    assert layers["se1.fc1"].output_shape == (8, 1, 1) and layers["se1.fc1"].params == 264
    assert layers["se1.fc2"].output_shape == (32, 1, 1) and layers["se1.fc2"].params == 288
    assert layers["se1.excite"].inputs == ("conv", "se1.gate")
    assert layers["se1.excite"].output_shape == (32, 14, 14)
    assert layers["se1.excite"].flops == 32 * 14 * 14  # one multiply per output element
    # se2 reads se1's output (its excite): 32 // 8 = 4 filters
    assert layers["se2.excite"].inputs == ("se1.excite", "se2.gate")
    assert layers["se2.fc1"].params == 32 * 4 + 4
    assert not analyze_text(SE_BLOCK).warnings  # 'in' is no 'input' warning


def test_in_inside_branches_and_residuals_of_a_block_is_still_the_block_input() -> None:
    text = """
    name: t
    input: [8, 10, 10]
    blocks:
      unit:
        layers:
          - {type: conv, name: a, filters: 4, kernel: 1}
          - type: residual
            name: res
            body:
              - {type: conv, name: b, filters: "${in.channels}", kernel: 1, input: in}
            shortcut:
              - {type: relu, name: r, input: in}
          - {type: concat, name: cat, inputs: [res, in]}
    layers:
      - {type: conv, name: stem, filters: 6, kernel: 1}
      - {block: unit, name: u}
    """
    layers = by_name(analyze_text(dedent(text)))
    assert layers["u.res.body.b"].inputs == ("stem",)
    assert layers["u.res.body.b"].output_shape == (6, 10, 10)
    assert layers["u.res.shortcut.r"].inputs == ("stem",)
    assert layers["u.cat"].inputs == ("u.res", "stem")
    assert layers["u.cat"].output_shape == (12, 10, 10)  # 6 + 6 channels


def test_in_outside_any_block_is_the_network_input() -> None:
    layers = [{"type": "conv", "name": "a", "filters": "${in.channels * 2}", "kernel": 1}]
    x = {"type": "conv", "name": "x", "filters": 3, "kernel": 1}
    result = analyze_layers([3, 5, 5], [x, {"type": "add", "name": "sum", "inputs": ["x", "in"]}])
    assert by_name(result)["sum"].inputs == ("x", "input")
    assert by_name(analyze_layers([3, 5, 5], layers))["a"].output_shape == (6, 5, 5)


def test_no_layer_may_be_named_in() -> None:
    with pytest.raises(SpecError, match="cannot be named 'in'"):
        analyze_layers([3, 5, 5], [{"type": "relu", "name": "in"}])
    with pytest.raises(SpecError, match="cannot be named 'in'"):
        analyze_layers([3, 5, 5], [{"type": "relu", "name": "in", "repeat": 2}])


def test_densenet_transition_halves_its_input_channels() -> None:
    transition = {
        "layers": [
            {"type": "batchnorm", "name": "norm"},
            {"type": "relu", "name": "relu"},
            {"type": "conv", "name": "conv", "filters": "${in.channels // 2}", "kernel": 1, "bias": False},
            {"type": "avgpool", "name": "pool", "kernel": 2, "stride": 2},
        ]
    }
    network = [
        {"block": "transition", "name": "transition1"},
        {"type": "conv", "name": "widen", "filters": 1024, "kernel": 1, "bias": False},
        {"block": "transition", "name": "transition2"},
    ]
    layers = by_name(analyze_layers([256, 56, 56], network, blocks={"transition": transition}))
    assert layers["transition1.conv"].params == 256 * 128  # 1x1, 256 -> 128
    assert layers["transition1.pool"].output_shape == (128, 28, 28)
    assert layers["transition2.conv"].params == 1024 * 512
    assert layers["transition2.pool"].output_shape == (512, 14, 14)


def test_height_and_width_of_any_earlier_layer_by_its_name() -> None:
    layers = [
        {"type": "conv", "name": "c", "filters": 4, "kernel": [3, 1]},  # 5x7 -> 3x7
        {"type": "adaptive_avgpool", "name": "p", "output": ["${c.width}", "${c.height + input.height}"]},
    ]
    assert by_name(analyze_layers([2, 5, 7], layers))["p"].output_shape == (4, 7, 8)  # [7, 3 + 5]


def test_shape_reads_of_a_flat_vector_an_unknown_name_and_a_later_layer_fail() -> None:
    flat = [{"type": "flatten", "name": "f"}, {"type": "linear", "units": "${f.channels + f.height}"}]
    with pytest.raises(SpecError, match="flat vector 48: it has no height"):
        analyze_layers([3, 4, 4], flat)
    assert analyze_layers([3, 4, 4], [*flat[:1], {"type": "linear", "units": "${f.channels}"}]).output_shape == (48,)
    with pytest.raises(SpecError, match="no earlier layer is named 'nope'"):
        analyze_layers([3, 4, 4], [{"type": "conv", "filters": "${nope.channels}", "kernel": 1}])
    with pytest.raises(SpecError, match=r"'filters'.*unknown name 'in\.size'"):
        analyze_layers([3, 4, 4], [{"type": "conv", "filters": "${in.size}", "kernel": 1}])
    with pytest.raises(SpecError, match=r"'filters': 'in' is the feature map 3x4x4: it has no depth"):
        analyze_layers([3, 4, 4], [{"type": "conv", "filters": "${in.depth}", "kernel": 1}])
    # a 3-D map has a depth, a 1-D one a length: 2 x 5 = 10 filters, then 4 + 10
    volume = analyze_layers([2, 5, 6, 7], [{"type": "conv", "filters": "${in.channels * in.depth}", "kernel": 1}])
    assert volume.output_shape == (10, 5, 6, 7)
    line = analyze_layers([4, 10], [{"type": "conv", "filters": "${in.channels + in.length}", "kernel": 1}])
    assert line.output_shape == (14, 10)


def test_a_shape_that_cannot_be_computed_is_the_engines_error_with_the_layers_before() -> None:
    layers = [
        {"type": "conv", "name": "ok", "filters": 4, "kernel": 3},  # 5x5 -> 3x3
        {"type": "conv", "name": "big", "filters": 4, "kernel": 5},  # 5x5 on 3x3: fails
        {"type": "conv", "name": "reads", "filters": "${big.channels}", "kernel": 1},
    ]
    with pytest.raises(AnalysisError, match="kernel 5x5 is larger than its padded input 3x3") as error:
        analyze_layers([1, 5, 5], layers)
    assert error.value.layer == "big"
    assert [layer.name for layer in error.value.partial] == ["ok"]


FCN_HEAD = """
name: head
input: [3, 64, 48]
layers:
  - {type: conv, name: down, filters: 8, kernel: 3, stride: 4, padding: 1}
  - {type: conv, name: classifier, filters: 5, kernel: 1}
  - {type: upsample, name: up, size_of: input, mode: bilinear}
  - {type: crop, name: crop, size_of: down}
"""


def test_size_of_takes_another_layers_height_and_width() -> None:
    layers = by_name(analyze_text(FCN_HEAD))
    # down: floor((64 + 2 - 2 - 1) / 4) + 1 = 16, floor((48 + 2 - 2 - 1) / 4) + 1 = 12
    assert layers["down"].output_shape == (8, 16, 12)
    assert layers["up"].output_shape == (5, 64, 48)
    assert layers["up"].flops == 7 * 5 * 64 * 48  # bilinear: 7 per output element
    assert layers["crop"].output_shape == (5, 16, 12)


def test_size_of_follows_another_input_size_in_analyze_sweep_and_export() -> None:
    spec = load_spec("head.yaml", text=FCN_HEAD)
    at_520 = by_name(analyze(spec, input_shape=(3, 520, 520)))
    # down: floor((520 + 2 - 2 - 1) / 4) + 1 = 130
    assert at_520["down"].output_shape == (8, 130, 130)
    assert at_520["up"].output_shape == (5, 520, 520)
    assert at_520["crop"].output_shape == (5, 130, 130)
    rows = sweep(spec, [(3, 64, 48), (3, 100, 200)]).rows
    assert [row.output_shape for row in rows] == [(5, 16, 12), (5, 25, 50)]  # floor(99 / 4) + 1, floor(199 / 4) + 1
    assert "nn.Upsample(size=520," in to_pytorch(spec, input_shape=(3, 520, 520))
    assert spec.input_shape == (3, 64, 48)  # the loaded spec itself is unchanged


def test_size_of_errors() -> None:
    both = [{"type": "upsample", "size": 4, "size_of": "input"}]
    with pytest.raises(SpecError, match="give 'size' or 'size_of', not both"):
        analyze_layers([3, 8, 8], both)
    with pytest.raises(SpecError, match="unknown key 'size_of' for a relu layer"):
        analyze_layers([3, 8, 8], [{"type": "relu", "size_of": "input"}])
    flat = [{"type": "flatten", "name": "f"}, {"type": "upsample", "input": "input", "size_of": "f"}]
    with pytest.raises(SpecError, match="'f' is the flat vector 192, not a feature map"):
        analyze_layers([3, 8, 8], flat)


def test_a_spec_that_reads_no_shape_is_not_lowered_again() -> None:
    spec = load_spec("t.yaml", text=spec_text([3, 8, 8], [{"type": "relu"}]))
    assert spec.relower is None
    assert load_spec("head.yaml", text=FCN_HEAD).relower is not None


# --- integer functions --------------------------------------------------------------------------------


def torchvision_make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible, as written there (floats)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


@pytest.mark.parametrize("divisor", [1, 2, 3, 4, 7, 8, 16])
def test_make_divisible_is_torchvisions_on_whole_numbers(divisor: int) -> None:
    for value in range(0, 2_000):
        assert make_divisible(value, divisor) == torchvision_make_divisible(value, divisor), (value, divisor)
        assert make_divisible(value, divisor, 1) == torchvision_make_divisible(value, divisor, 1), (value, divisor)


def test_make_divisible_of_mobilenet_v3_squeeze_widths() -> None:
    # MobileNetV3-Large's SE: _make_divisible(expanded // 4, 8) for expanded 72, 120, 480, 672, 960
    assert [evaluate(f"make_divisible({c} // 4, 8)", {}) for c in (72, 120, 480, 672, 960)] == [24, 32, 120, 168, 240]


def test_min_and_max_and_nesting() -> None:
    names = {"c": 40}
    assert evaluate("max(1, c // 64)", names) == max(1, 40 // 64) == 1
    assert evaluate("min(c, 16, 3 * 7)", names) == 16
    assert evaluate("max(min(c, 8), 2) * 2 + make_divisible(c * 3 // 4, 8, 16)", names) == 8 * 2 + 32
    assert evaluate("-max(2, 3)", {}) == -3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min()", "unexpected '\\)'"),
        ("make_divisible(3)", "make_divisible takes 2 to 3 arguments, not 1"),
        ("make_divisible(3, 0)", "divisor of at least 1"),
        ("max(1, 2", "ends too early"),
        ("max 3", "unknown name 'max'"),
        ("1, 2", "unexpected ','"),
    ],
)
def test_function_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        evaluate(text, {})


def test_block_parameter_named_like_a_function_is_still_a_parameter() -> None:
    assert evaluate("max + 1", {"max": 4}) == 5
    assert evaluate("max(max, 7)", {"max": 4}) == 7


def test_functions_in_a_spec() -> None:
    block: dict[str, Any] = {
        "params": {"expanded": 72},
        "layers": [{"type": "conv", "name": "fc1", "filters": "${make_divisible(expanded // 4, 8)}", "kernel": 1}],
    }
    layers = by_name(analyze_layers([16, 4, 4], [{"block": "se", "name": "se"}], blocks={"se": block}))
    assert layers["se.fc1"].output_shape == (24, 4, 4)  # 72 // 4 = 18 -> 16, below 0.9 * 18, so 24


def test_the_schema_accepts_size_of_shape_reads_functions_and_a_type_from_a_parameter() -> None:
    from tests.test_schema import errors

    text = """
    input: [3, 32, 32]
    blocks:
      unit:
        params: {act: relu}
        layers:
          - {type: conv, filters: "${max(8, in.channels * 2)}", kernel: 1}
          - {type: "${act}"}
          - {type: multiply, inputs: [in, in]}
    layers:
      - {block: unit, act: hardswish}
      - {type: upsample, size_of: input, mode: bilinear}
      - {type: crop, size_of: input}
    """
    assert errors(dedent(text)) == []
    analyze_text(dedent(text))  # and convcalc takes it
    assert errors("input: [3, 8, 8]\nlayers:\n  - {type: relu, size_of: input}\n") != []  # no 'size' to set


def test_function_calls_nest_fifty_deep_and_no_deeper():
    # MAX_PARENTHESES = 50 levels, a call's parenthesis counting as one
    assert evaluate("min(" * 50 + "7" + ")" * 50, {}) == 7
    deeper = "max(" * 51 + "7" + ")" * 51
    with pytest.raises(ExpressionError) as raised:
        evaluate(deeper, {})
    assert str(raised.value) == f"more than 50 nested parentheses in '{deeper[:40]}...'"
    # depth is given back after each call: sixty calls side by side are one level each, and after a call the
    # limit is still 50 levels
    assert evaluate(" + ".join(["min(1, (2))"] * 60), {}) == 60
    with pytest.raises(ExpressionError, match="more than 50 nested parentheses"):
        evaluate("min(1) + " + "(" * 51 + "1" + ")" * 51, {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min()", "unexpected '\\)' in 'min\\(\\)'"),  # min and max take one argument or more
        ("make_divisible(8)", "make_divisible takes 2 to 3 arguments, not 1"),
        ("make_divisible(8, 8, 8, 8)", "make_divisible takes 2 to 3 arguments, not 4"),
    ],
)
def test_a_call_with_the_wrong_number_of_arguments(text: str, message: str):
    with pytest.raises(ExpressionError, match=message):
        evaluate(text, {})
    # min and max take any number of arguments: 120 of them, the largest 119 (0 to 119); one is itself
    assert evaluate("max(" + ", ".join(str(i) for i in range(120)) + ")", {}) == 119
    assert evaluate("min(7)", {}) == 7 and evaluate("max(-3)", {}) == -3


def test_make_divisible_rounds_halves_up_and_refuses_a_negative_width():
    # (2 * 12 + 8) // 2 = 16 -> 16 // 8 * 8 = 16: 12 is halfway between 8 and 16 and goes up, as int(12 + 4) = 16
    assert make_divisible(12, 8) == 16
    # (2 * 11 + 8) // 2 = 15 -> 8, and 10 * 8 = 80 < 9 * 11 = 99 (more than 10% below): 8 + 8 = 16
    assert make_divisible(11, 8) == 16
    with pytest.raises(ExpressionError, match="rounds a width, not the negative -3"):
        make_divisible(-3, 8)


def test_each_axis_of_a_volume_by_its_name() -> None:
    """A 3-D map 2x5x6x7: channels 2, depth 5, height 6, width 7; 2000 + 500 + 60 + 7 = 2567 filters."""
    filters = "${in.channels * 1000 + in.depth * 100 + in.height * 10 + in.width}"
    volume = analyze_layers([2, 5, 6, 7], [{"type": "conv", "filters": filters, "kernel": 1}])
    assert volume.output_shape == (2567, 5, 6, 7)
