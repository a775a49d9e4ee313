"""`first:` on a repeated entry (keys for copy 0 only) and the spec's `description`.

Every expected number is hand arithmetic written out here.
"""

from __future__ import annotations

import pytest

from convcalc import SpecError, analyze, load_spec
from tests.conftest import run_cli

RESNET_STAGE = """\
input: [4, 8, 8]
defaults:
  conv: {bias: false}
blocks:
  basic:
    params: {filters: 4, stride: 1, project: 0}
    layers:
      - type: residual
        body:
          - {type: conv, name: conv1, filters: "${filters}", kernel: 3, stride: "${stride}", padding: 1}
          - {type: conv, name: conv2, filters: "${filters}", kernel: 3, padding: 1}
        shortcut:
          - {type: conv, name: downsample, filters: "${filters}", kernel: 1, stride: "${stride}", repeat: "${project}"}
      - {type: relu}
layers:
  - {block: basic, name: layer, filters: 8, repeat: 3, first: {stride: 2, project: 1}}
"""


def by_name(analysis):
    return {layer.name: layer for layer in analysis.layers}


def test_first_overrides_block_parameters_of_copy_zero_only(write_spec):
    layers = by_name(analyze(write_spec(RESNET_STAGE)))
    # copy 0: stride 2 (8x8 -> 4x4), 4 -> 8 channels, and a 1x1 projection shortcut
    assert layers["layer.0.residual1.body.conv1"].output_shape == (8, 4, 4)
    assert layers["layer.0.residual1.body.conv1"].params == 3 * 3 * 4 * 8
    assert layers["layer.0.residual1.shortcut.downsample.0"].params == 1 * 1 * 4 * 8
    assert layers["layer.0.residual1.shortcut.downsample.0"].macs == 4 * 4 * 8 * 4
    # copies 1 and 2: the block's defaults (stride 1, no projection: the shortcut is the identity)
    for copy in ("layer.1", "layer.2"):
        assert layers[f"{copy}.residual1.body.conv1"].output_shape == (8, 4, 4)
        assert layers[f"{copy}.residual1.body.conv1"].params == 3 * 3 * 8 * 8
        assert not any(name.startswith(f"{copy}.residual1.shortcut") for name in layers)
        assert layers[f"{copy}.residual1"].input_shapes == ((8, 4, 4), (8, 4, 4))  # body + the identity


def test_first_on_a_layer_and_expressions_in_it(write_spec):
    path = write_spec(
        """\
input: [2, 8, 8]
blocks:
  stack:
    params: {width: 4}
    layers:
      - type: conv
        name: c
        filters: "${width}"
        kernel: 3
        padding: 1
        repeat: 2
        first: {stride: 2, filters: "${width * 2}"}
layers:
  - {block: stack, width: 3}
"""
    )
    layers = by_name(analyze(path))
    assert layers["stack1.c.0"].output_shape == (6, 4, 4)
    assert layers["stack1.c.0"].params == 3 * 3 * 2 * 6 + 6
    assert layers["stack1.c.1"].output_shape == (3, 4, 4)
    assert layers["stack1.c.1"].params == 3 * 3 * 6 * 3 + 3


def test_first_with_repeat_zero_builds_nothing(write_spec):
    path = write_spec(
        "input: [2, 4, 4]\nlayers:\n  - {type: relu}\n"
        "  - {type: conv, filters: 2, kernel: 1, repeat: 0, first: {stride: 2}}\n"
    )
    assert [layer.type for layer in analyze(path).layers] == ["relu"]


@pytest.mark.parametrize(
    ("entry", "points_at", "message"),
    [
        ("{type: relu, first: {inplace: 1}}", "first:", "'first' sets keys of the first copy of a 'repeat'"),
        ("{type: relu, repeat: 2, first: 3}", "3}", "'first' must map keys"),
        ("{type: relu, repeat: 2, first: {type: tanh}}", "type: tanh", "'first' cannot change 'type'"),
        ("{type: relu, repeat: 2, first: {name: x}}", "name: x", "'first' cannot change 'name'"),
        ("{type: conv, filters: 2, kernel: 1, repeat: 2, first: {strid: 2}}", "strid", "unknown key 'strid'"),
    ],
)
def test_first_errors_point_at_the_spec(write_spec, entry, points_at, message):
    path = write_spec(f"input: [2, 4, 4]\nlayers:\n  - {entry}\n")
    result = run_cli("analyze", str(path))
    assert result.code == 2
    column = len("  - ") + entry.index(points_at) + 1
    assert f"{path}:3:{column}: error" in result.stderr
    assert message in result.stderr


def test_first_is_not_a_block_parameter_name(write_spec):
    path = write_spec(
        "input: [2, 4, 4]\nblocks:\n  b:\n    params: {first: 1}\n    layers: [{type: relu}]\nlayers: [{block: b}]\n"
    )
    with pytest.raises(SpecError, match="block parameter 'first'"):
        load_spec(path)


def test_description_is_kept_and_must_be_text(write_spec):
    spec = load_spec(write_spec("description: a toy\ninput: [1, 2, 2]\nlayers: [{type: relu}]\n"))
    assert spec.description == "a toy"
    assert load_spec(write_spec("input: [1, 2, 2]\nlayers: [{type: relu}]\n")).description == ""
    with pytest.raises(SpecError, match="'description' must be text"):
        load_spec(write_spec("description: [1]\ninput: [1, 2, 2]\nlayers: [{type: relu}]\n"))
