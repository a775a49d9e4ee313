"""Receptive fields (size, jump, start) against published values and hand arithmetic."""

from __future__ import annotations

from convcalc import analyze, load_spec
from tests.conftest import SPECS, run_cli

# VGG-16, configuration D (Simonyan & Zisserman 2015, Table 1): 3x3 convs with padding 1, 2x2/2 max pools.
VGG16_FEATURES = """
input: [3, 224, 224]
blocks:
  stage:
    params: {filters: null, convs: null}
    layers:
      - {type: conv, filters: "${filters}", kernel: 3, padding: 1, repeat: "${convs}"}
      - {type: maxpool, name: pool, kernel: 2}
layers:
  - {block: stage, name: s1, filters: 64, convs: 2}
  - {block: stage, name: s2, filters: 128, convs: 2}
  - {block: stage, name: s3, filters: 256, convs: 3}
  - {block: stage, name: s4, filters: 512, convs: 3}
  - {block: stage, name: s5, filters: 512, convs: 3}
"""


def fields(analysis):
    return {layer.name: layer.receptive_field for layer in analysis.layers}


def test_vgg16_published_receptive_fields():
    # Published (Araujo, Norris & Sim, "Computing Receptive Fields of CNNs", Distill 2019): VGG-16 conv5_3 196,
    # pool5 212. By hand: 13 convs add 2 * jump each, pools add 1 * jump; jumps 1, 2, 4, 8, 16.
    rf = fields(analyze(load_spec("vgg.yaml", text=VGG16_FEATURES)))
    conv5_3 = 1 + 2 * (2 * 1 + 2 * 2 + 3 * 4 + 3 * 8 + 3 * 16) + 1 * (1 + 2 + 4 + 8)
    assert conv5_3 == 196
    assert rf["s5.conv3"].size == (196, 196)
    assert rf["s5.pool"].size == (196 + 16, 196 + 16) == (212, 212)
    assert rf["s5.pool"].jump == (32, 32)


def test_alexnet_published_receptive_fields():
    # Published (same source): AlexNet at 227x227: conv5 163, pool5 195.
    rf = fields(analyze(SPECS / "alexnet.yaml"))
    # conv1 11 (jump 4), pool1 +2*4, conv2 +4*8, pool2 +2*8, conv3..5 +2*16 each
    assert rf["conv5"].size == (11 + 2 * 4 + 4 * 8 + 2 * 8 + 3 * 2 * 16,) * 2 == (163, 163)
    assert rf["pool5"].size == (163 + 2 * 16,) * 2 == (195, 195)
    assert rf["pool5"].jump == (32, 32)


def test_dilation_strides_and_start_offset():
    spec = load_spec(
        "t.yaml",
        text="""
input: [1, 64, 64]
layers:
  - {type: conv, name: a, filters: 1, kernel: 3, stride: 2}
  - {type: conv, name: b, filters: 1, kernel: 3, dilation: 2, padding: 2}
  - {type: conv, name: c, filters: 1, kernel: [1, 3]}
""",
    )
    rf = fields(analyze(spec))
    assert rf["a"].size == (3, 3) and rf["a"].jump == (2, 2)
    # first window of 'a' covers pixels 0..2: centre 1 (start = (3 - 1) / 2 - 0)
    assert rf["a"].to_dict()["start"] == [1, 1]
    # dilated 3x3 spans 5: 3 + (5 - 1) * 2 = 11; start 1 + ((5 - 1) / 2 - 2) * 2 = 1
    assert rf["b"].size == (11, 11)
    assert rf["b"].to_dict()["start"] == [1, 1]
    # a 1x3 kernel grows only the width: 11 + 2 * 2 = 15
    assert rf["c"].size == (11, 15)


def test_branches_report_the_largest_and_residuals_pass_through():
    spec = load_spec(
        "t.yaml",
        text="""
input: [4, 32, 32]
layers:
  - type: concat
    name: mix
    branches:
      - [{type: conv, filters: 2, kernel: 1}]
      - [{type: conv, filters: 2, kernel: 5, padding: 2}]
  - type: residual
    name: res
    body: [{type: conv, filters: 4, kernel: 3, padding: 1}]
""",
    )
    rf = fields(analyze(spec))
    assert rf["mix"].size == (5, 5)
    assert rf["res"].size == (5 + 2, 5 + 2)


def test_rf_column_in_table_and_json():
    result = run_cli("analyze", str(SPECS / "alexnet.yaml"), "--columns", "name,shape,rf,params,macs")
    assert result.code == 0, result.stderr
    assert "RF" in result.stdout and "163" in result.stdout
    result = run_cli("analyze", str(SPECS / "alexnet.yaml"), "--format", "json")
    import json

    conv5 = next(layer for layer in json.loads(result.stdout)["layers"] if layer["name"] == "conv5")
    assert conv5["receptive_field"]["size"] == [163, 163]


def test_a_flat_input_is_one_pixel() -> None:
    # input [10] has no spatial axes: the whole input is one 1x1 pixel, and every layer's field is that pixel
    analysis = analyze(load_spec("flat.yaml", text="input: [10]\nlayers:\n  - {type: linear, units: 5}\n"))
    (layer,) = analysis.layers
    assert (layer.receptive_field.size, layer.receptive_field.jump) == ((1, 1), (1, 1))
    # reshaped to a 1-D map of 10 positions, a conv's windows (one axis) do not map onto that pixel's two: the field
    # is the whole input, still the one pixel
    text = "input: [10]\nlayers:\n  - {type: reshape, shape: [1, 10]}\n  - {type: conv, filters: 2, kernel: 3}\n"
    conv = analyze(load_spec("flat.yaml", text=text)).layers[-1]
    assert (conv.receptive_field.size, conv.receptive_field.jump) == ((1, 1), (1, 1))


def test_a_strided_slice_of_rows_and_a_flattened_1d_map() -> None:
    """Rows 1, 3, 5, 7 of 8 (slice of axis 1 from 1 to 8, step 2: ceil(7 / 2) = 4 rows): each reads one input row,
    2 apart, the first centred on row 1 (start x2 = 2); columns untouched. A 3x3 conv after it: 3 rows of the slice
    are rows 1, 3, 5 of the input, 5 rows wide, centred on row 3 (x2 = 6), 2 apart; 3 columns, centred on column 1.
    A 1-D conv of 3 on 5 positions, flattened: the flat features read all 3 outputs, the whole input of 5."""
    text = "input: [1, 8, 8]\nlayers:\n  - {type: slice, axis: 1, start: 1, end: 8, step: 2}\n"
    sliced, conv = analyze(load_spec("t.yaml", text=text + "  - {type: conv, filters: 1, kernel: 3}\n")).layers
    assert sliced.output_shape == (1, 4, 8) and conv.output_shape == (1, 2, 6)
    assert (sliced.receptive_field.size, sliced.receptive_field.jump, sliced.receptive_field.start_x2) == (
        (1, 1),
        (2, 1),
        (2, 0),
    )
    assert (conv.receptive_field.size, conv.receptive_field.jump, conv.receptive_field.start_x2) == (
        (5, 3),
        (2, 1),
        (6, 2),
    )
    text = "input: [2, 5]\nlayers:\n  - {type: conv, filters: 2, kernel: 3}\n  - {type: flatten}\n"
    conv, flat = analyze(load_spec("t.yaml", text=text)).layers
    assert (conv.receptive_field.size, flat.receptive_field.size) == ((3,), (5,))
