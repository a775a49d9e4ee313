"""`convcalc compare`: two specs side by side, and one spec before and after a 1x1 bottleneck rewrite.

Expected numbers are the seed notes' figures (../shared/seed-facts.md, Example 2) or hand arithmetic
written out here: params of a conv = k_h * k_w * C_in * C_out (no biases), MACs = H * W * that.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from convcalc import analyze, compare
from convcalc.render.units import ratio_text
from convcalc.spec.rewrite import parse_bottleneck
from tests.conftest import SPECS, run_cli
from tests.docs import page

PLAIN = str(SPECS / "inception-5x5.yaml")
WITH_BOTTLENECK = str(SPECS / "inception-5x5-bottleneck.yaml")

# Seed notes, Example 2: 28x28x192 -> (1x1 to 16) -> 5x5 to 32, no biases.
SEED_PARAMS_BEFORE = 192 * 32 * 5 * 5  # 153,600
SEED_PARAMS_AFTER = 192 * 16 + 16 * 32 * 5 * 5  # 3,072 + 12,800 = 15,872 (one note writes "= 12,800")
SEED_MACS_BEFORE = 28 * 28 * 192 * 32 * 5 * 5  # 120,422,400
SEED_MACS_AFTER = 1 * 1 * 16 * 28 * 28 * 192 + 5 * 5 * 32 * 28 * 28 * 16  # 2,408,448 + 10,035,200 = 12,443,648


def totals(comparison):
    return (
        comparison.before.total.params,
        comparison.after.total.params,
        comparison.before.total.macs,
        comparison.after.total.macs,
    )


# --- the seed figures, both ways in ---------------------------------------------------------------


def test_two_bundled_inception_specs_match_the_seed_figures():
    comparison = compare(PLAIN, WITH_BOTTLENECK)
    assert totals(comparison) == (SEED_PARAMS_BEFORE, SEED_PARAMS_AFTER, SEED_MACS_BEFORE, SEED_MACS_AFTER)
    assert (SEED_PARAMS_BEFORE, SEED_PARAMS_AFTER, SEED_MACS_BEFORE, SEED_MACS_AFTER) == (
        153_600,
        15_872,
        120_422_400,
        12_443_648,
    )


def test_bottleneck_rewrite_of_the_plain_spec_matches_the_seed_figures():
    comparison = compare(PLAIN, bottlenecks=["conv5x5=16"])
    assert totals(comparison) == (SEED_PARAMS_BEFORE, SEED_PARAMS_AFTER, SEED_MACS_BEFORE, SEED_MACS_AFTER)
    [insertion] = comparison.rewritten
    assert (insertion.layer, insertion.inserted, insertion.input_channels, insertion.filters) == (
        "conv5x5",
        "conv5x5_reduce",
        192,
        16,
    )


def test_both_paths_give_identical_totals():
    by_files = compare(PLAIN, WITH_BOTTLENECK)
    by_rewrite = compare(PLAIN, bottlenecks=["conv5x5=16"])
    assert by_files.before.total == by_rewrite.before.total
    assert by_files.after.total == by_rewrite.after.total
    assert by_files.diff == by_rewrite.diff
    assert by_files.ratio == by_rewrite.ratio


def test_table_shows_ratio_and_the_bottleneck_sum_the_notes_slipped_on():
    result = run_cli("compare", PLAIN, "--bottleneck", "conv5x5=16")
    assert result.code == 0, result.stderr
    # 153,600 / 15,872 = 120,422,400 / 12,443,648 = 9.677...: two decimals.
    assert round(SEED_MACS_BEFORE / SEED_MACS_AFTER, 2) == 9.68
    assert "9.68x fewer" in result.stdout
    # The after side's params written out as a sum: the 1x1 layer's 3,072 is the term the notes dropped.
    assert f"{192 * 16:,} (conv5x5_reduce) + {16 * 32 * 5 * 5:,} (conv5x5) = {SEED_PARAMS_AFTER:,}" in result.stdout
    lines = Path(PLAIN).read_text(encoding="utf-8").splitlines()
    conv_line = next(number for number, text in enumerate(lines, 1) if "name: conv5x5," in text)
    assert f"conv5x5 (line {conv_line}): conv5x5_reduce, 192 -> 16 channels" in result.stdout


def test_two_file_table_shows_the_same_sum_and_exact_numbers():
    result = run_cli("compare", PLAIN, WITH_BOTTLENECK, "--exact")
    assert result.code == 0, result.stderr
    assert f"{192 * 16:,} (reduce1x1) + {16 * 32 * 5 * 5:,} (conv5x5) = {SEED_PARAMS_AFTER:,}" in result.stdout
    for number in (SEED_PARAMS_BEFORE, SEED_PARAMS_AFTER, SEED_MACS_BEFORE, SEED_MACS_AFTER):
        assert f"{number:,}" in result.stdout
    assert f"{SEED_MACS_AFTER - SEED_MACS_BEFORE:,}" in result.stdout  # the difference, -107,978,752


# --- a second case by hand: the ResNet pattern ------------------------------------------------------

RESNET = """
name: one 3x3 conv
input: [256, 56, 56]
defaults:
  conv: {bias: false}
layers:
  - {type: conv, name: conv3x3, filters: 256, kernel: 3, padding: 1}
"""
RESNET_PARAMS_BEFORE = 3 * 3 * 256 * 256  # 589,824
RESNET_MACS_BEFORE = 56 * 56 * 256 * 3 * 3 * 256  # 1,849,688,064
RESNET_PARAMS_AFTER = 256 * 64 + 3 * 3 * 64 * 256  # 16,384 + 147,456 = 163,840
RESNET_MACS_AFTER = 56 * 56 * 64 * 256 + 56 * 56 * 256 * 3 * 3 * 64  # 51,380,224 + 462,422,016 = 513,802,240


def test_resnet_pattern_64_filter_bottleneck(write_spec):
    comparison = compare(write_spec(RESNET), bottlenecks=["conv3x3=64"])
    assert totals(comparison) == (RESNET_PARAMS_BEFORE, RESNET_PARAMS_AFTER, RESNET_MACS_BEFORE, RESNET_MACS_AFTER)
    assert comparison.after.output_shape == comparison.before.output_shape == (256, 56, 56)
    layers = {layer.name: layer for layer in comparison.after.layers}
    assert layers["conv3x3_reduce"].output_shape == (64, 56, 56)
    assert layers["conv3x3"].params == 3 * 3 * 64 * 256


def test_all_with_a_fraction_picks_a_quarter_of_the_input_channels(write_spec):
    comparison = compare(write_spec(RESNET), bottlenecks=["all=0.25"])  # 256 / 4 = 64 filters
    assert totals(comparison) == (RESNET_PARAMS_BEFORE, RESNET_PARAMS_AFTER, RESNET_MACS_BEFORE, RESNET_MACS_AFTER)
    assert compare(write_spec(RESNET), bottlenecks=["all=1/4"]).after.total == comparison.after.total


def test_ratio_in_json_is_before_over_after(write_spec):
    result = run_cli("compare", str(write_spec(RESNET)), "-b", "conv3x3=64", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ratio"]["macs"] == pytest.approx(RESNET_MACS_BEFORE / RESNET_MACS_AFTER)
    assert data["ratio"]["params"] == pytest.approx(RESNET_PARAMS_BEFORE / RESNET_PARAMS_AFTER)
    assert data["diff"]["params"] == RESNET_PARAMS_AFTER - RESNET_PARAMS_BEFORE
    assert data["diff"]["macs"] == RESNET_MACS_AFTER - RESNET_MACS_BEFORE
    # Activations: the inserted layer adds a 64x56x56 float32 output.
    assert data["diff"]["activation_bytes"] == 64 * 56 * 56 * 4


# --- blocks: the rewrite goes where the conv is written ---------------------------------------------

TWO_UNITS = """
name: two units
input: [64, 8, 8]
defaults:
  conv: {bias: false}
blocks:
  unit:
    params: {c: 64}
    layers:
      - {type: conv, name: k, filters: "${c}", kernel: 3, padding: 1}
      - {type: relu}
layers:
  - {type: conv, name: stem, filters: 64, kernel: 3, padding: 1, input: input}
  - {block: unit, name: a, c: 128}
  - {block: unit, name: b, c: 32}
"""


def test_all_fraction_in_a_block_gives_each_instance_its_own_width(write_spec):
    path = write_spec(TWO_UNITS)
    comparison = compare(path, bottlenecks=["all=0.25"])
    widths = {i.layer: (i.input_channels, i.filters) for i in comparison.rewritten}
    # stem reads 64 channels -> 16; a.k reads 64 -> 16; b.k reads a's 128 -> 32.
    assert widths == {"stem": (64, 16), "a.k": (64, 16), "b.k": (128, 32)}
    params = {
        "stem": 64 * 16 + 3 * 3 * 16 * 64,
        "a": 64 * 16 + 3 * 3 * 16 * 128,
        "b": 128 * 32 + 3 * 3 * 32 * 32,
    }
    assert comparison.after.total.params == sum(params.values())
    macs = 8 * 8 * (64 * 16 + 64 * 3 * 3 * 16) + 8 * 8 * (16 * 64 + 128 * 3 * 3 * 16) + 8 * 8 * (32 * 128 + 32 * 9 * 32)
    assert comparison.after.total.macs == macs
    # The widths differ, so the block got a parameter that each instance passes.
    text = comparison.rewrite.text
    assert 'filters: "${k_reduce}"' in text
    assert "params: {c: 64, k_reduce: 16}" in text  # the first instance's width is the default
    assert "{block: unit, name: a, c: 128}" in text
    assert "{block: unit, name: b, c: 32, k_reduce: 32}" in text


def test_naming_one_instance_rewrites_only_that_instance(write_spec):
    comparison = compare(write_spec(TWO_UNITS), bottlenecks=["a.k=8"])
    assert [(i.layer, i.inserted, i.filters, i.block) for i in comparison.rewritten] == [
        ("a.k", "a.k_reduce.0", 8, "unit"),  # an optional layer ('repeat: 0 or 1'), so its name ends in .0
    ]
    rows = {row.name: row.status for row in comparison.rows}
    assert rows["b.k"] == "same"
    stem, a_k, b_k = 3 * 3 * 64 * 64, 3 * 3 * 64 * 128, 3 * 3 * 128 * 32
    assert comparison.before.total.params == stem + a_k + b_k
    assert comparison.after.total.params == stem + (64 * 8 + 3 * 3 * 8 * 128) + b_k
    text = comparison.rewrite.text
    assert "params: {c: 64, use_k_reduce: 0}" in text
    assert '- {type: conv, name: k_reduce, repeat: "${use_k_reduce}", filters: 8, kernel: 1}' in text
    assert "{block: unit, name: a, c: 128, use_k_reduce: 1}" in text
    assert "{block: unit, name: b, c: 32}" in text
    result = run_cli("compare", str(write_spec(TWO_UNITS)), "-b", "a.k=8")
    assert "a.k (line 10, written in block 'unit'): a.k_reduce.0, 64 -> 8 channels" in result.stdout


NESTED = """
input: [8, 4, 4]
defaults:
  conv: {bias: false}
blocks:
  pre:
    params: {c: 8}
    layers:
      - {type: conv, name: squeeze, filters: "${c}", kernel: 1}
      - {type: conv, name: k, filters: 8, kernel: 3, padding: 1}
  stage:
    params: {w: 8}
    layers:
      - {block: pre, name: p, c: "${w}"}
layers:
  - {block: stage, name: s1, w: 16}
  - {block: stage, name: s2, w: 32}
"""


def test_widths_that_differ_between_outer_instances_become_parameters_at_every_level(write_spec):
    comparison = compare(write_spec(NESTED), bottlenecks=["all=0.25"])
    assert {i.layer: i.filters for i in comparison.rewritten} == {"s1.p.k": 16 // 4, "s2.p.k": 32 // 4}
    squeeze = 8 * 16 + 8 * 32  # s1 squeezes the 8-channel input to 16, s2 s1's 8-channel output to 32
    reduce = 16 * 4 + 32 * 8
    k = 3 * 3 * 4 * 8 + 3 * 3 * 8 * 8
    assert comparison.after.total.params == squeeze + reduce + k
    text = comparison.rewrite.text
    assert '{block: pre, name: p, c: "${w}", k_reduce: "${k_reduce}"}' in text
    assert "{block: stage, name: s1, w: 16}" in text  # the default, 4
    assert "{block: stage, name: s2, w: 32, k_reduce: 8}" in text


# --- what the inserted conv inherits ----------------------------------------------------------------


def test_inserted_conv_follows_defaults_but_not_their_padding(write_spec):
    spec = """
input: [32, 10, 10]
defaults:
  conv: {bias: false, padding: 1, stride: 1}
layers:
  - {type: conv, name: plain, filters: 32, kernel: 3}
  - {type: conv, name: biased, filters: 32, kernel: 3, bias: true}
"""
    comparison = compare(write_spec(spec), bottlenecks=["plain=8", "biased=8"])
    layers = {layer.name: layer for layer in comparison.after.layers}
    assert layers["plain_reduce"].output_shape == (8, 10, 10)  # a padded 1x1 conv would give 12x12
    assert layers["plain_reduce"].params == 32 * 8  # no bias, from the defaults
    assert layers["biased_reduce"].params == 32 * 8 + 8  # the target's own bias: true
    assert comparison.after.output_shape == (32, 10, 10)


def test_inserted_conv_takes_the_targets_named_input(write_spec):
    spec = """
input: [16, 6, 6]
layers:
  - {type: conv, name: wide, filters: 64, kernel: 1, bias: false}
  - {type: relu}
  - {type: conv, name: late, input: wide, filters: 16, kernel: 3, bias: false}
"""
    comparison = compare(write_spec(spec), bottlenecks=["late=8"])
    layers = {layer.name: layer for layer in comparison.after.layers}
    assert layers["late_reduce"].input_shapes == ((64, 6, 6),)
    assert layers["late"].params == 3 * 3 * 8 * 16
    assert "input: late_reduce" in comparison.rewrite.text


def test_a_conv_reading_a_named_input_takes_a_bottleneck_in_every_instance_or_none(write_spec):
    spec = """
input: [32, 4, 4]
defaults:
  conv: {bias: false}
blocks:
  unit:
    layers:
      - {type: relu, name: r}
      - {type: conv, name: k, input: r, filters: 32, kernel: 3, padding: 1}
layers:
  - {block: unit, name: a}
  - {block: unit, name: b}
"""
    result = run_cli("compare", str(write_spec(spec)), "-b", "a.k=8")
    assert result.code == 2 and "it reads 'input: r'" in result.stderr
    both = compare(write_spec(spec), bottlenecks=["a.k=8", "b.k=8"])
    assert both.after.total.params == 2 * (32 * 8 + 3 * 3 * 8 * 32)


@pytest.mark.parametrize(
    ("layers", "target"),
    [
        ("layers:\n- type: conv\n  name: t\n  filters: 8\n  kernel: 3\n", "t"),  # block style, indentless
        ("layers:\n  -   type: conv\n      name: t  # the target\n      filters: 8\n      kernel: 3\n", "t"),
        ("layers: [{type: relu}, {type: conv, name: t, filters: 8, kernel: 3}]\n", "t"),  # a flow sequence
        ("layers:\n  - {type: conv, name: t, filters: 8,\n     kernel: 3}\n", "t"),  # a flow mapping on two lines
        (
            "layers:\n  - type: concat\n    branches:\n"
            "      - [{type: conv, name: t, filters: 8, kernel: 3, padding: 1}]\n      - [{type: relu}]\n",
            "concat1.0.t",
        ),
        (
            "layers:\n  - type: residual\n    body:\n      - {type: relu}\n"
            "      - {type: conv, name: t, filters: 8, kernel: 3, padding: 1}\n"
            "      - {type: conv, filters: 32, kernel: 1, bias: false}\n",
            "residual1.body.t",
        ),
    ],
)
def test_layouts_the_rewrite_edits(write_spec, layers, target):
    spec = "input: [32, 7, 7]\ndefaults: {conv: {bias: false}}\n" + layers
    comparison = compare(write_spec(spec), bottlenecks=[f"{target}=4"])
    after = {layer.name: layer for layer in comparison.after.layers}
    assert after[target].params == 3 * 3 * 4 * 8
    assert after[f"{target}_reduce"].params == 32 * 4
    assert comparison.after.total.params == comparison.before.total.params - 3 * 3 * 32 * 8 + 32 * 4 + 3 * 3 * 4 * 8


# --- emitting the rewritten spec ------------------------------------------------------------------


def test_emit_spec_writes_a_spec_that_reproduces_the_after_side(tmp_path: Path):
    target = tmp_path / "with-bottleneck.yaml"
    result = run_cli("compare", PLAIN, "-b", "conv5x5=16", "--emit-spec", str(target))
    assert result.code == 0, result.stderr
    analysis = analyze(target)
    assert (analysis.total.params, analysis.total.macs) == (SEED_PARAMS_AFTER, SEED_MACS_AFTER)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Rewritten by `convcalc compare --bottleneck conv5x5=16`")
    assert "# The Inception 5x5 branch without a bottleneck" in text  # the original's comments are kept
    assert "- {type: conv, name: conv5x5_reduce, filters: 16, kernel: 1}" in text


def test_emit_spec_to_stdout_moves_the_report_to_stderr():
    result = run_cli("compare", PLAIN, "-b", "conv5x5=16", "--emit-spec", "-")
    assert result.code == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert [layer["name"] for layer in document["layers"]] == ["conv5x5_reduce", "conv5x5"]
    assert "9.68x fewer" in result.stderr


def test_emit_spec_refuses_the_input_file(write_spec):
    path = write_spec(RESNET)
    for given in (str(path), str(path.parent / "." / path.name)):
        result = run_cli("compare", str(path), "-b", "conv3x3=64", "--emit-spec", given)
        assert result.code == 2
        assert "that is the input (" in result.stderr
    assert path.read_text(encoding="utf-8") == RESNET


def test_a_bottleneck_read_from_stdin():
    result = run_cli("compare", "-", "-b", "conv3x3=64", "--format", "json", stdin=RESNET)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["after"]["total"]["macs"] == RESNET_MACS_AFTER


# --- two specs: rows aligned by name ----------------------------------------------------------------


def test_rows_align_by_name_with_added_and_removed_layers(write_spec):
    first = write_spec(
        "input: [3, 8, 8]\nlayers:\n"
        "  - {type: conv, name: c1, filters: 4, kernel: 3, bias: false}\n"
        "  - {type: relu, name: r1}\n"
        "  - {type: conv, name: c2, filters: 4, kernel: 3, bias: false}\n"
        "  - {type: global_avgpool, name: gap}\n",
        "first.yaml",
    )
    second = write_spec(
        "input: [3, 8, 8]\nlayers:\n"
        "  - {type: conv, name: c1, filters: 4, kernel: 3, bias: false}\n"
        "  - {type: conv, name: c3, filters: 8, kernel: 1, bias: false}\n"
        "  - {type: global_avgpool, name: gap}\n",
        "second.yaml",
    )
    comparison = compare(first, second)
    assert [(row.name, row.status) for row in comparison.rows] == [
        ("c1", "same"),
        ("r1", "removed"),
        ("c2", "removed"),
        ("c3", "added"),
        ("gap", "changed"),  # 4x1x1 -> 8x1x1
    ]
    assert comparison.diff["params"] == 4 * 8 - 3 * 3 * 4 * 4
    result = run_cli("compare", str(first), str(second))
    assert result.code == 0, result.stderr
    assert "removed" in result.stdout and "added" in result.stdout


def test_json_shape(write_spec):
    path = write_spec(RESNET)
    result = run_cli("compare", str(path), "-b", "conv3x3=64", "--format", "json")
    data = json.loads(result.stdout)
    assert set(data) == {"schema_version", "before", "after", "diff", "ratio", "rewritten", "skipped", "layers"}
    plain = json.loads(run_cli("analyze", str(path), "--format", "json").stdout)
    assert data["before"] == plain  # the analyze JSON, unchanged
    assert set(data["diff"]) == set(data["ratio"]) == set(plain["total"])
    assert data["rewritten"] == [
        {
            "layer": "conv3x3",
            "inserted": "conv3x3_reduce",
            "filters": 64,
            "input_channels": 256,
            "line": 7,
            "block": None,
        }
    ]
    assert data["layers"] == [
        {"name": "conv3x3_reduce", "type": "conv", "status": "added"},
        {"name": "conv3x3", "type": "conv", "status": "changed"},
    ]
    assert data["ratio"]["buffers"] is None  # 0 buffers after: no ratio


def test_all_lists_the_convs_it_could_not_rewrite(write_spec):
    spec = TWO_UNITS.replace("input: [64, 8, 8]", "input: [3, 8, 8]")  # the stem now reads 3 channels
    comparison = compare(write_spec(spec), bottlenecks=["all=0.25"])
    assert [(skip.layers, skip.reason) for skip in comparison.skipped] == [
        (
            ("stem",),
            "it reads the image's 3 channels, which a bottleneck would squeeze (name the layer to rewrite it anyway)",
        )
    ]
    assert "stem" not in {i.layer for i in comparison.rewritten}
    # named, it is rewritten: 3 channels to 1 filter
    named = compare(write_spec(spec), bottlenecks=["stem=1"])
    assert [(i.layer, i.filters, i.input_channels) for i in named.rewritten] == [("stem", 1, 3)]
    # a 4-channel input is an image too (RGBA); 5 channels are a feature map, and a quarter of 8 is 2 filters
    assert [
        s.layers for s in compare(write_spec(spec.replace("[3, 8, 8]", "[4, 8, 8]")), bottlenecks=["all=0.25"]).skipped
    ] == [("stem",)]
    five = compare(write_spec(spec.replace("[3, 8, 8]", "[8, 8, 8]")), bottlenecks=["all=0.25"])
    assert "stem" in {i.layer for i in five.rewritten} and not five.skipped


def test_all_skips_a_conv_whose_width_would_be_less_than_one_filter(write_spec):
    # stem and a.k read 64 channels: 64 // 100 = 0 filters; b.k reads a.k's 128: 128 // 100 = 1 filter
    comparison = compare(write_spec(TWO_UNITS), bottlenecks=["all=1/100"])
    assert [i.layer for i in comparison.rewritten] == ["b.k"]
    assert [(skip.layers, skip.reason) for skip in comparison.skipped] == [
        (("stem",), "1/100 of its 64 input channels is less than one filter"),
        (("a.k",), "1/100 of its 64 input channels is less than one filter"),
    ]


# --- errors: one clear message, exit 2 --------------------------------------------------------------


@pytest.mark.parametrize("width", ["0.0", "0", "0/4", "1.0", "3/2", "-3", "1/0"])
def test_a_width_that_is_no_bottleneck_is_one_line_saying_what_is_allowed(width: str) -> None:
    """Docs: LAYER=FILTERS (at least one filter) or LAYER=FRACTION of the input channels, 0.25 or 1/4; a fraction
    of 0 is no filter, of 1 or more no fewer channels."""
    result = run_cli("compare", PLAIN, "-b", f"conv5x5={width}")
    assert result.code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(
        f"convcalc: error: --bottleneck conv5x5={width}: "
    )
    assert result.stderr.endswith(
        "; give a filter count of 1 or more (16) or a fraction of the input channels strictly between 0 and 1 "
        "(0.25 or 1/4)\n"
    )


def test_all_that_rewrites_nothing_counts_every_conv_it_could_not_rewrite() -> None:
    """MobileNet v1: conv1 (3 input channels) and 13 depthwise 3x3 convs (Howard et al. 2017, Table 1), none of
    which a narrower 1x1 can go before: 14 convs, three named with their reasons, and 11 more."""
    result = run_cli("compare", "mobilenet_v1", "-b", "all=0.25")
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "none of the spec's 14 convs with a kernel over 1x1 could take it (conv1: " in result.stderr
    assert result.stderr.count(": its groups=") == 2 and result.stderr.endswith("; and 11 more)\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-b", "conv5=16"], "no layer named 'conv5'"),
        (["-b", "conv5x5=192"], "192 filters are not fewer than its 192 input channels"),
        (["-b", "conv5x5=200"], "200 filters are not fewer than its 192 input channels"),
        (["-b", "conv5x5=0"], "0 filters is no bottleneck"),
        (["-b", "conv5x5=1.5"], "1.5 times the input channels is no bottleneck"),
        (["-b", "conv5x5=many"], "'many' is not a width"),
        (["-b", "conv5x5"], "expected LAYER=FILTERS or LAYER=FRACTION"),
        (["-b", "all=0.5", "-b", "conv5x5=8"], "cannot be combined"),
        ([], "compare needs a second spec or --bottleneck"),
        ([WITH_BOTTLENECK, "-b", "conv5x5=16"], "compare needs a second spec or --bottleneck"),
        ([WITH_BOTTLENECK, "--emit-spec", "out.yaml"], "give --bottleneck too"),
    ],
)
def test_bad_requests_exit_2_with_a_message(args, message):
    result = run_cli("compare", PLAIN, *args)
    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_errors_name_the_layer_and_its_line(write_spec):
    path = write_spec(TWO_UNITS)
    result = run_cli("compare", str(path), "-b", "a=8")
    assert result.code == 2 and "'a' is a block, branch or residual" in result.stderr
    result = run_cli("compare", str(path), "-b", "a.relu1=8")
    assert result.code == 2
    assert f"{path}:11:9: error: layer 'a.relu1' (relu)" in result.stderr
    assert "goes before a conv, not a relu" in result.stderr
    spec = "input: [16, 4, 4]\nlayers:\n  - {type: conv, filters: 16, kernel: 3, padding: 1, repeat: 2}\n"
    result = run_cli("compare", str(write_spec(spec)), "-b", "conv1=4")
    assert result.code == 2 and "written with 'repeat: 2'" in result.stderr


REPEATED = """
input: [16, 4, 4]
defaults:
  conv: {bias: false}
blocks:
  unit:
    layers: [{type: conv, name: k, filters: 32, kernel: 3, padding: 1}]
layers:
  - {block: unit, repeat: 3}
"""


def test_the_first_copy_of_a_repeat_can_differ_through_first(write_spec):
    # Copy 0 reads the 16 input channels, copies 1 and 2 read 32: a quarter is 4, then 8.
    comparison = compare(write_spec(REPEATED), bottlenecks=["all=0.25"])
    assert [(i.layer, i.filters) for i in comparison.rewritten] == [("unit1.k", 4), ("unit2.k", 8), ("unit3.k", 8)]
    assert comparison.after.total.params == (16 * 4 + 3 * 3 * 4 * 32) + 2 * (32 * 8 + 3 * 3 * 8 * 32)
    assert "{block: unit, repeat: 3, k_reduce: 8, first: {k_reduce: 4}}" in comparison.rewrite.text
    only_first = compare(write_spec(REPEATED), bottlenecks=["unit1.k=4"])
    assert [i.layer for i in only_first.rewritten] == ["unit1.k"]
    assert "{block: unit, repeat: 3, first: {use_k_reduce: 1}}" in only_first.rewrite.text


def test_a_later_copy_alone_cannot_differ(write_spec):
    result = run_cli("compare", str(write_spec(REPEATED)), "-b", "unit2.k=4")
    assert result.code == 2
    assert "layer 'unit2.k' (conv)" in result.stderr
    assert "only its first copy can differ from the others" in result.stderr


def test_grouped_conv_needs_a_width_its_groups_divide(write_spec):
    spec = "input: [32, 4, 4]\nlayers:\n  - {type: conv, name: g, filters: 32, kernel: 3, groups: 4}\n"
    result = run_cli("compare", str(write_spec(spec)), "-b", "g=6")
    assert result.code == 2 and "groups=4 does not divide the bottleneck's 6 channels" in result.stderr
    # No bias key and no defaults: both convs have PyTorch's default bias.
    after = compare(write_spec(spec), bottlenecks=["g=8"]).after.total.params
    assert after == (32 * 8 + 8) + (3 * 3 * (8 // 4) * 32 + 32)


def test_yaml_aliases_are_refused_not_miscounted(write_spec):
    spec = "input: [16, 4, 4]\nlayers:\n  - &c {type: conv, filters: 16, kernel: 3, padding: 1}\n  - *c\n"
    result = run_cli("compare", str(write_spec(spec)), "-b", "conv1=4")
    assert result.code == 2 and "YAML alias" in result.stderr


# --- a bundled network: GoogLeNet, whose convs all come from one block ------------------------------


def test_googlenet_one_named_conv_changes_only_that_conv():
    # Szegedy et al. 2015, Table 1, inception (3a): "#5x5 reduce" 16, "#5x5" 32, on 28x28; the spec has biases.
    target = "inception3a.concat.5x5.conv_relu2.conv"
    comparison = compare("googlenet", bottlenecks=[f"{target}=8"])
    assert [(i.layer, i.input_channels, i.filters) for i in comparison.rewritten] == [(target, 16, 8)]
    before_5x5 = 5 * 5 * 16 * 32 + 32
    after = (16 * 8 + 8) + (5 * 5 * 8 * 32 + 32)
    assert comparison.diff["params"] == after - before_5x5
    assert comparison.diff["macs"] == 28 * 28 * (8 * 16 + 32 * 5 * 5 * 8) - 28 * 28 * 32 * 5 * 5 * 16
    assert [row.name for row in comparison.rows if row.status != "same"] == [target + "_reduce.0", target]


def test_googlenet_all_rewrites_every_3x3_and_5x5_but_not_the_rgb_stem(tmp_path: Path):
    comparison = compare("googlenet", bottlenecks=["all=0.25"])
    # Table 1: conv2's 3x3, and a 3x3 and a 5x5 in each of the nine inception modules.
    assert len(comparison.rewritten) == 1 + 9 * 2
    assert all(i.filters == i.input_channels // 4 for i in comparison.rewritten)
    assert [(skip.layers, skip.reason) for skip in comparison.skipped] == [
        (
            ("conv1.conv",),
            "it reads the image's 3 channels, which a bottleneck would squeeze (name the layer to rewrite it anyway)",
        )
    ]
    emitted = tmp_path / "googlenet-bottleneck.yaml"
    emitted.write_text(comparison.rewrite.text, encoding="utf-8")
    assert analyze(emitted).total == comparison.after.total


# --- helpers ----------------------------------------------------------------------------------------


def test_parse_bottleneck_widths():
    assert parse_bottleneck("conv5x5=16").filters == 16
    assert parse_bottleneck("all=0.25").width(192) == 192 // 4
    assert parse_bottleneck("all=1/3").width(100) == 33  # floor(100 / 3)


def test_ratio_text_is_exact_and_rounds_halves_up():
    assert ratio_text(1000, 1005) == "1.01x more"  # 1.005 exactly; a float would round it down to 1.00
    assert ratio_text(153_600, 15_872, "params") == "9.68x fewer params"
    assert ratio_text(7, 7) == "same"
    assert ratio_text(5, 0) == "none after"


def test_a_change_under_half_a_percent_is_a_percentage_not_1_00x():
    # ResNet-50's 25,557,032 params less 8,512: 8,512 / 25,557,032 = 0.000333..., 0.033% to two significant digits
    assert ratio_text(25_557_032, 25_557_032 - 8_512, "params") == "0.033% fewer params"
    assert ratio_text(1000, 1001) == "0.10% more"  # 1 / 1000 = 0.10%
    assert ratio_text(10**30, 10**30 + 1) == "0.00000000000000000000000000010% more"  # exact: no float underflow


def test_the_rewritten_side_is_titled_with_its_bottleneck_not_against_the_name():
    result = run_cli("compare", PLAIN, "-b", "conv5x5=16")
    assert result.code == 0, result.stderr
    assert "vs Inception 5x5 branch with 1x1 bottleneck conv5x5=16 (" in result.stdout
    assert "no bottleneck" not in result.stdout


def test_readme_shows_the_real_output_of_its_compare_example():
    result = run_cli("compare", PLAIN, "--bottleneck", "conv5x5=16")
    output = "\n".join(line.rstrip() for line in result.stdout.splitlines())
    for name in ("README.md", "how-to/compare.md"):
        assert output in page(name), name


def test_the_library_counts_under_a_convention_as_the_cli_does() -> None:
    """analyze, compare and sweep take convention= as --convention: torch's FlopCounterMode counts 2 FLOPs per
    multiply-accumulate of the convs and linear layers (their bias and everything else left out), so 2 x MACs."""
    from convcalc import analyze, compare
    from convcalc.sweep import sweep

    plain = analyze("resnet18")
    counted = analyze("resnet18", convention="flop_counter")
    assert counted.total.flops == 2 * plain.total.macs and counted.total.params == plain.total.params
    comparison = compare("resnet18", "resnet50", convention="flop_counter")
    assert comparison.before.total.flops == counted.total.flops
    assert comparison.after.total.flops == 2 * analyze("resnet50").total.macs
    (row,) = sweep("resnet18", [(3, 112, 112)], convention="flop_counter").rows
    assert row.flops == 2 * analyze("resnet18", input_shape=(3, 112, 112)).total.macs
    with pytest.raises(ValueError, match="unknown convention 'nope'"):
        analyze("resnet18", convention="nope")
