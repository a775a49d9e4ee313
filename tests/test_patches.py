"""Patch-based inference (MCUNetV2, Lin et al., NeurIPS 2021): regions, peaks and recomputed MACs.

Every number here is hand arithmetic written out below, a published figure (named), or a brute-force oracle: for
each patch, the set of positions every tensor must provide, propagated backward from the patch's tile tap by tap
(output ``o`` of a conv or pool reads ``o * stride - padding + j * dilation`` for each tap ``j``, inside the
input), exactly as PyTorch's conv and pooling semantics read them, independent of convcalc's windows.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc import Analysis, AnalysisError, analyze, load_spec
from convcalc.engine.graph import NETWORK_INPUT
from convcalc.passes.deploy import PatchPlan, deployment
from convcalc.passes.patches import parse_grid, patched
from tests.conftest import SPECS, run_cli
from tests.netbuild import analyze_layers

KB = 1024
Layer = dict[str, Any]


def plan_of(analysis: Analysis, grid: tuple[int, int], split: str | None = None) -> PatchPlan:
    patches = patched(analysis, deployment(analysis, analysis.dtype), grid, split).patches
    assert patches is not None
    return patches


# --- by hand: two 3x3 convs and a 1x1, 2x2 patches ----------------------------------------------------------------

TINY = [
    {"type": "conv", "name": "conv1", "filters": 2, "kernel": 3, "stride": 2, "padding": 1},  # 1x8x8 -> 2x4x4
    {"type": "conv", "name": "conv2", "filters": 2, "kernel": 3, "padding": 1},  # -> 2x4x4
    {"type": "conv", "name": "conv3", "filters": 4, "kernel": 1},  # -> 4x4x4
]


def tiny() -> Analysis:
    return analyze_layers([1, 8, 8], TINY, dtype="int8")


def test_tiny_regions_by_hand() -> None:
    """Split at conv2 (2x4x4), 2x2 patches of 2x2. Rows (columns alike), [start, end):

    patch row 0: conv2 rows [0, 2) read conv1 rows [0 - 1, 1 - 1 + 3) = [-1, 3) -> [0, 3) (the top row is padding);
                 conv1 rows [0, 3) read input rows [0 * 2 - 1, 2 * 2 - 1 + 3) = [-1, 6) -> [0, 6): 6 rows.
    patch row 1: conv2 rows [2, 4) read conv1 rows [1, 5) -> [1, 4) (row 4 is padding);
                 conv1 rows [1, 4) read input rows [1 * 2 - 1, 3 * 2 - 1 + 3) = [1, 8): 7 rows.
    """
    plan = plan_of(tiny(), (2, 2), "conv2")
    steps = {step.name: step for step in plan.steps}
    assert steps["conv2"].rows == steps["conv2"].cols == ((0, 2), (2, 4))
    assert steps["conv1"].rows == steps["conv1"].cols == ((0, 3), (1, 4))
    assert plan.input_rows == plan.input_cols == ((0, 6), (1, 8))


def test_tiny_macs_by_hand() -> None:
    """conv1: 2 filters x 3 x 3 taps x 1 channel = 18 MACs per output pixel; layer by layer 4 x 4 pixels = 288.
    Patches compute conv1 rows of 3 + 3 = 6 (over the two patch rows) times columns of 6 = 36 pixels: 648 MACs,
    360 more. conv2 (2 x 9 x 2 = 36 per pixel) computes exactly its tiles: 16 pixels = 576 MACs either way."""
    plan = plan_of(tiny(), (2, 2), "conv2")
    assert plan.stage_macs == 288 + 576
    assert plan.patch_macs == 648 + 576
    assert plan.extra_macs == 360
    assert {step.name: step.macs for step in plan.steps} == {"conv1": 648, "conv2": 576}


def test_tiny_memory_by_hand() -> None:
    """int8. The split's buffer: 2 x 4 x 4 = 32 bytes. Patch (1, 1) reads the largest input tile, 7 x 7 = 49; conv1's
    tile is 2 x 3 x 3 = 18: at conv1, 49 + 18 + 32 = 99. At conv2 its input tile is freed: 18 + 32 = 50 (its own
    output goes into the buffer). Patch (0, 0): 36 + 18 + 32 = 86. After the split, layer by layer: conv3 reads 32 and
    writes 4 x 4 x 4 = 64 bytes: 96."""
    plan = plan_of(tiny(), (2, 2), "conv2")
    assert plan.buffer_bytes == 32
    assert (plan.stage_peak, plan.stage_peak_at, plan.peak_patch) == (99, "conv1", (1, 1))
    assert plan.input_tile == (7, 7)
    assert [step.live_bytes for step in plan.steps] == [99, 50]
    assert (plan.rest_peak, plan.rest_peak_at, plan.peak) == (96, "conv3", 99)


def test_tiny_split_chosen_by_lowest_peak() -> None:
    """The candidates, by hand (int8):

    conv1: buffer 2 x 4 x 4 = 32; input rows for tile [0, 2): [-1, 4) -> [0, 4), for [2, 4): [3, 8): at most 5 x 5 =
           25, so 57; after it, conv2 32 + 32 = 64 and conv3 32 + 64 = 96: peak 96.
    conv2: 99 (above).
    conv3: conv2's regions are its tiles (1x1 conv), conv1's as above, buffer 4 x 4 x 4 = 64: at conv1 in patch
           (1, 1) 49 + 18 + 64 = 131.
    The lowest is conv1's 96, with no recomputation (a 3x3 conv over the input tiles: nothing before it repeats)."""
    plan = plan_of(tiny(), (2, 2))
    assert (plan.split, plan.chosen, plan.peak, plan.extra_macs) == ("conv1", True, 96, 0)
    assert plan.stage_peak == 57
    assert plan_of(tiny(), (2, 2), "conv3").peak == 131


def test_tiles_of_a_grid_of_unequal_sides() -> None:
    """TINY on a 1x16x24 input: conv2's output, the split, is 2x8x12; a grid of 2 rows by 3 columns cuts it into
    tiles of 8 / 2 = 4 rows by 12 / 3 = 4 columns."""
    plan = plan_of(analyze_layers([1, 16, 24], TINY, dtype="int8"), (2, 3), "conv2")
    assert (plan.split_shape, plan.tile) == ((2, 8, 12), (4, 4))
    assert plan.to_dict()["tile"] == [4, 4]


def test_a_patch_inside_the_padding_reads_nothing() -> None:
    """1x2x2 -> a 1x1 conv (no padding) -> a 1x1 conv padded by 2: 1x6x6, the split, in 3x3 patches of 2x2. Patch row
    0 (rows [0, 2)) reads first-conv rows [0 - 2, 1 - 2 + 1) = [-2, 0): none; row 1 (rows [2, 4)) reads [0, 2); row 2
    (rows [4, 6)) reads [2, 4) -> none (the input has 2 rows). So the first conv computes rows 0 + 2 + 0 = 2 by
    columns 2 over all patches, 1 MAC each: 4, as layer by layer; the second computes its 36 pixels, 1 MAC each."""
    layers = [
        {"type": "conv", "name": "conv1", "filters": 1, "kernel": 1},
        {"type": "conv", "name": "conv2", "filters": 1, "kernel": 1, "padding": 2},
    ]
    plan = plan_of(analyze_layers([1, 2, 2], layers, dtype="int8"), (3, 3), "conv2")
    steps = {step.name: step for step in plan.steps}
    assert steps["conv1"].rows == steps["conv1"].cols == (None, (0, 2), None)
    assert {name: step.macs for name, step in steps.items()} == {"conv1": 4, "conv2": 36}
    assert (plan.stage_macs, plan.patch_macs, plan.extra_macs) == (40, 40, 0)


def test_grid_text() -> None:
    assert parse_grid("4x4") == (4, 4) and parse_grid("2X3") == (2, 3) and parse_grid("5") == (5, 5)
    for bad in ("", "x4", "4x", "0x2", "4x4x4", "-1", "a"):
        with pytest.raises(ValueError):
            parse_grid(bad)


# --- MobileNetV2 against MCUNetV2 ---------------------------------------------------------------------------------

PAPER_SPLIT = "bottleneck2.inverted1.project"
"""MCUNetV2's Figure 1 runs "the first 5 blocks" of MobileNetV2 (1.0, 224x224, int8) patch by patch with 4x4
patches: the first conv and the first four inverted residual blocks (t = 1 at 112x112, two at 56x56, the stride-2
one to 28x28x32): its split is the projection of the first 32-channel block, 32x28x28, tiles of 7x7."""


@pytest.fixture(scope="module")
def mobilenet() -> Analysis:
    return analyze(SPECS / "mobilenet_v2.yaml", dtype="int8")


def test_mobilenet_v2_patch_stage_by_hand(mobilenet: Analysis) -> None:
    """Patch (1, 1) computes tile rows [7, 14) of the 28x28 split. Back through the stride-2 depthwise 3x3 (pad 1):
    56x56 rows [7 * 2 - 1, 13 * 2 - 1 + 3) = [13, 28); the 1x1 expand and the residual add keep them; the add's body
    (depthwise 3x3 at stride 1) needs [12, 29) of its input, the hull with the add's other input [13, 28): [12, 29);
    the first block's stride-2 depthwise reads 112x112 rows [12 * 2 - 1, 28 * 2 - 1 + 3) = [23, 58): 35 rows. Its
    1x1 expand (16 -> 96 channels) on 35 x 35 pixels holds 16 x 35 x 35 + 96 x 35 x 35 bytes, beside the split's
    buffer of 32 x 28 x 28: 162,288 bytes, the patch stage's peak (158.5 kB, below the rest's)."""
    plan = plan_of(mobilenet, (4, 4), PAPER_SPLIT)
    steps = {step.name: step for step in plan.steps}
    assert steps["bottleneck2.inverted1.expand.conv"].rows[1] == (13, 28)
    assert steps["bottleneck1.inverted1.project"].rows[1] == (12, 29)
    assert steps["project1"].rows[1] == (23, 58)
    # and on: the stride-1 depthwise 3x3 before it reads conv1's rows [22, 59), conv1 (3x3, stride 2, pad 1) the
    # image's [22 * 2 - 1, 58 * 2 - 1 + 3) = [43, 118): a 75x75 input tile
    assert steps["conv1.conv"].rows[1] == (22, 59) and plan.input_rows[1] == (43, 118)
    assert plan.input_tile == (75, 75)
    assert plan.stage_peak == 16 * 35 * 35 + 96 * 35 * 35 + 32 * 28 * 28 == 162_288
    assert (plan.stage_peak_at, plan.peak_patch) == ("bottleneck1.inverted1.expand.conv", (1, 1))
    # In the same patch: the stride-2 depthwise runs in place, 96 x 35 x 35 in and 96 x 17 x 17 out ([12, 29)) need
    # the larger; the residual block's projection reads 144 x 15 x 15 ([13, 28)), writes 24 x 15 x 15, and the
    # residual's input, 24 x 17 x 17, lives until the add.
    buffer = 32 * 28 * 28
    assert steps["bottleneck1.inverted1.depthwise.conv"].live_bytes == 96 * 35 * 35 + buffer
    residual_projection = steps["bottleneck1.residual1.body.inverted1.project"].live_bytes
    assert residual_projection == 24 * 17 * 17 + 144 * 15 * 15 + 24 * 15 * 15 + buffer


def test_mobilenet_v2_rest_against_the_paper(mobilenet: Analysis) -> None:
    """After the split, MCUNetV2 reports 172 kB (1,372 kB -> 172 kB with 4x4 patches, Figure 1): the next block's
    expand conv, 28x28x32 in and 28x28x192 out, 175,616 bytes = 171.5 kB, as MCUNet's counter counts (input +
    output of each conv). convcalc keeps that block's residual input (28x28x32) alive through the projection conv,
    whose input is 28x28x192 and output 28x28x32, until the add: 200,704 bytes = 196 kB (docs/how-to/memory.md)."""
    plan = plan_of(mobilenet, (4, 4), PAPER_SPLIT)
    assert round(28 * 28 * (32 + 192) / KB) == 172  # the paper's figure, by MCUNet's rule
    assert plan.rest_peak == 28 * 28 * (192 + 32 + 32) == 196 * KB
    assert plan.rest_peak_at == "bottleneck2.residual1.body.inverted1.project"
    assert plan.peak == plan.rest_peak


def test_mobilenet_v2_lowest_peak_is_the_papers_split(mobilenet: Analysis) -> None:
    """Without --split, convcalc tries every split and keeps the lowest peak: the paper's."""
    plan = plan_of(mobilenet, (4, 4))
    assert (plan.split, plan.chosen, plan.peak) == (PAPER_SPLIT, True, 196 * KB)


def test_mobilenet_v2_macs_against_the_oracle(mobilenet: Analysis) -> None:
    plan = plan_of(mobilenet, (4, 4), PAPER_SPLIT)
    assert (plan.stage_macs, plan.patch_macs) == oracle_macs(mobilenet, PAPER_SPLIT, (4, 4))
    assert 2 * plan.network_macs == 601_548_544  # torch.utils.flop_counter's FLOPs (tests/data/flop_counter.json)


# --- the brute-force oracle -----------------------------------------------------------------------------------------


def taps(layer: Any, axis: int) -> tuple[int, int, int, int] | None:
    """(kernel, stride, padding, dilation) of a conv or pool on one axis; None for a layer that reads its pixel."""
    if layer.type not in ("conv", "maxpool", "avgpool"):
        return None
    config = layer.config

    def on_axis(value: Any) -> int:  # a size for every axis, or one per axis
        return value[axis] if isinstance(value, tuple) else value

    stride = config["stride"] or config["kernel"]
    return on_axis(config["kernel"]), on_axis(stride), on_axis(config["padding"]), on_axis(config.get("dilation", 1))


def needed(analysis: Analysis, split: str, axis: int, tile: range) -> dict[str, set[int]]:
    """Every tensor's positions (on ``axis``) that the split's ``tile`` needs, propagated tap by tap."""
    layers = list(analysis.layers)
    last = next(index for index, layer in enumerate(layers) if layer.name == split)
    sets: dict[str, set[int]] = {split: set(tile)}
    for layer in reversed(layers[: last + 1]):
        outputs = sets.get(layer.name, set())
        for source, shape in zip(layer.inputs, layer.input_shapes, strict=True):
            size = shape[axis + 1]
            tap = taps(layer, axis)
            if tap is None:
                reads = {0} if size == 1 else set(outputs)
            else:
                k, s, p, d = tap
                reads = {o * s - p + j * d for o in outputs for j in range(k)} & set(range(size))
            sets[source] = sets.get(source, set()) | reads
    return sets


def box(positions: set[int]) -> tuple[int, int] | None:
    return (min(positions), max(positions) + 1) if positions else None


def tiles(analysis: Analysis, split: str, grid: tuple[int, int]) -> list[list[dict[str, set[int]]]]:
    """Per axis, per tile: the oracle's sets."""
    shape = next(layer.output_shape for layer in analysis.layers if layer.name == split)
    result = []
    for axis in (0, 1):
        size = shape[axis + 1] // grid[axis]
        result.append([needed(analysis, split, axis, range(i * size, (i + 1) * size)) for i in range(grid[axis])])
    return result


def oracle_macs(analysis: Analysis, split: str, grid: tuple[int, int]) -> tuple[int, int]:
    """(layer-by-layer MACs, MACs over all patches) of the convs up to the split: each patch computes the box of its
    needed positions, at C_out * k_h * k_w * C_in / groups MACs a pixel."""
    rows, cols = tiles(analysis, split, grid)
    whole = patches = 0
    for layer in analysis.layers:
        if layer.type == "conv":
            kernel, groups = layer.config["kernel"], layer.config["groups"]
            k_h, k_w = kernel if isinstance(kernel, tuple) else (kernel, kernel)
            per_pixel = layer.output_shape[0] * k_h * k_w * layer.input_shapes[0][0] // groups
            whole += per_pixel * layer.output_shape[1] * layer.output_shape[2]
            height = sum(length(box(tile.get(layer.name, set()))) for tile in rows)
            width = sum(length(box(tile.get(layer.name, set()))) for tile in cols)
            patches += per_pixel * height * width
        if layer.name == split:
            return whole, patches
    raise AssertionError(split)


def length(region: tuple[int, int] | None) -> int:
    return region[1] - region[0] if region else 0


def check_against_oracle(analysis: Analysis, plan: PatchPlan, exact: bool) -> None:
    """Each step's region per patch row and column is the box of the oracle's positions (with dilation, the windows'
    span may hold up to dilation - 1 more at a padded border: then it contains it); the MACs are the oracle's."""
    rows, cols = tiles(analysis, plan.split, plan.grid)
    for name, ours_rows, ours_cols in [
        (NETWORK_INPUT, plan.input_rows, plan.input_cols),
        *((step.name, step.rows, step.cols) for step in plan.steps),
    ]:
        for ours, sets in ((ours_rows, rows), (ours_cols, cols)):
            for region, tile in zip(ours, sets, strict=True):
                theirs = box(tile.get(name, set()))
                if exact:
                    assert region == theirs, (name, region, theirs)
                else:
                    assert theirs is None or (region and region[0] <= theirs[0] and theirs[1] <= region[1])
    if exact:
        assert (plan.stage_macs, plan.patch_macs) == oracle_macs(analysis, plan.split, plan.grid)


def oracle_chain_memory(analysis: Analysis, plan: PatchPlan) -> tuple[int, int]:
    """For a chain of convs and pools, each a step of its own (int8, batch 1): at each step its input tile and its
    output tile (none for the split, whose output goes to its buffer) and the buffer; after it, input + output."""
    rows, cols = tiles(analysis, plan.split, plan.grid)
    layers = list(analysis.layers)
    last = next(index for index, layer in enumerate(layers) if layer.name == plan.split)
    buffer = math.prod(layers[last].output_shape)

    def tile_bytes(name: str, channels: int, i: int, j: int) -> int:
        return channels * length(box(rows[i].get(name, set()))) * length(box(cols[j].get(name, set())))

    stage = 0
    for i in range(plan.grid[0]):
        for j in range(plan.grid[1]):
            for index, layer in enumerate(layers[: last + 1]):
                source = layer.inputs[0]
                live = tile_bytes(source, layer.input_shapes[0][0], i, j) + buffer
                if index < last:
                    live += tile_bytes(layer.name, layer.output_shape[0], i, j)
                stage = max(stage, live)
    rest = [math.prod(layer.input_shapes[0]) + math.prod(layer.output_shape) for layer in layers[last + 1 :]]
    return stage, max(rest, default=0)


# --- random small networks ------------------------------------------------------------------------------------------

CHANNELS = 3


@st.composite
def windowed(draw: st.DrawFn, dilated: bool, depthwise: bool) -> Layer:
    kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool"]))
    kernel = [draw(st.sampled_from([3, 3, 2, 1])), draw(st.sampled_from([3, 3, 2, 1]))]
    layer: Layer = {"type": kind, "kernel": kernel, "stride": draw(st.sampled_from([1, 1, 2]))}
    layer["padding"] = [draw(st.integers(0, k // 2)) for k in layer["kernel"]]
    if kind == "conv":
        layer["filters"] = CHANNELS
        if dilated:
            layer["dilation"] = draw(st.sampled_from([1, 2, [1, 3]]))
        if depthwise and draw(st.booleans()):
            layer["groups"] = CHANNELS
    else:
        layer["ceil_mode"] = draw(st.booleans())
    return layer


RESIDUAL = {"type": "residual", "body": [{"type": "conv", "filters": CHANNELS, "kernel": 3, "padding": 1}]}


@st.composite
def network(draw: st.DrawFn, *, plain: bool) -> list[Layer]:
    """A chain of convs and pools; unless ``plain``, with relus, batch norms, residuals, depthwise and dilated convs."""
    other = st.sampled_from([{"type": "relu"}, {"type": "batchnorm"}, RESIDUAL])
    entry = windowed(False, False) if plain else st.one_of(windowed(True, True), other)
    return draw(st.lists(entry, min_size=2, max_size=6))


def built(size: tuple[int, int], layers: list[Layer]) -> Analysis:
    """The network, int8; a drawn network whose windows outgrow its input is not one."""
    try:
        return analyze_layers([CHANNELS, *size], layers, dtype="int8")
    except AnalysisError:
        assume(False)
        raise


SIZES = st.tuples(st.integers(8, 20), st.integers(8, 20))


def grids() -> st.SearchStrategy[tuple[int, int]]:
    return st.sampled_from([(2, 2), (2, 3), (3, 2), (3, 3), (1, 2), (4, 4), (1, 1)])


def plans(analysis: Analysis, grid: tuple[int, int]) -> list[PatchPlan]:
    """The plan at every layer that can be the split."""
    found = []
    for layer in analysis.layers:
        try:
            found.append(plan_of(analysis, grid, layer.name))
        except ValueError:
            continue
    return found


@settings(max_examples=150, derandomize=True, deadline=None)
@given(size=SIZES, layers=network(plain=False), grid=grids())
def test_random_networks_regions_and_macs(size: tuple[int, int], layers: list[Layer], grid: tuple[int, int]) -> None:
    analysis = built(size, layers)
    dilations = [layer.config.get("dilation", 1) for layer in analysis.layers]  # one number, or one per axis
    exact = not any(max(d) > 1 if isinstance(d, tuple) else d > 1 for d in dilations)
    found = plans(analysis, grid)
    for plan in found:
        check_against_oracle(analysis, plan, exact)
    check_choice(analysis, grid, found)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(size=SIZES, layers=network(plain=True), grid=grids())
def test_random_chains_memory(size: tuple[int, int], layers: list[Layer], grid: tuple[int, int]) -> None:
    analysis = built(size, layers)
    found = plans(analysis, grid)
    for plan in found:
        check_against_oracle(analysis, plan, exact=True)
        assert (plan.stage_peak, plan.rest_peak) == oracle_chain_memory(analysis, plan)
    check_choice(analysis, grid, found)


def check_choice(analysis: Analysis, grid: tuple[int, int], found: list[PatchPlan]) -> None:
    """Without --split: the lowest peak of all the splits that work, the earliest of equals."""
    if found:
        best = min(found, key=lambda plan: plan.peak)
        chosen = plan_of(analysis, grid)
        assert (chosen.split, chosen.peak) == (best.split, best.peak)


# --- command line ---------------------------------------------------------------------------------------------------

DEPLOY = ("analyze", "mobilenet_v2", "--mode", "deploy", "--dtype", "int8")


def test_table_and_json() -> None:
    table = run_cli(*DEPLOY, "--patches", "4x4")
    assert table.code == 0, table.stderr
    assert f"4x4 patches of 7x7 up to {PAPER_SPLIT} (32x28x28), the split with the lowest peak" in table.stdout
    # 162,288 B / 1024 = 158.48 KiB; 200,704 B / 1024 = 196.00 KiB (sizes already in KiB get no second unit)
    assert "peak of the patch stage: 158.48 KiB at bottleneck1.inverted1.expand.conv" in table.stdout
    assert "peak with patches: 196.00 KiB (layer by layer 1,372.0 KiB)" in table.stdout
    document = json.loads(run_cli(*DEPLOY, "--patches", "4", "--split", PAPER_SPLIT, "-f", "json").stdout)
    patches = document["total"]["deploy"]["patches"]
    assert patches["grid"] == [4, 4] and patches["split"] == PAPER_SPLIT and patches["split_chosen"] is False
    assert patches["stage_peak_bytes"] == 162_288 and patches["rest_peak_bytes"] == 200_704
    assert patches["peak_bytes"] == 200_704 and patches["tile"] == [7, 7] and patches["input_tile"] == [75, 75]
    assert patches["extra_macs"] == patches["patch_macs"] - patches["stage_macs"]
    assert [step["name"] for step in document["patch_steps"]][-1] == PAPER_SPLIT


def test_split_names_a_fused_layer() -> None:
    """conv1's batch norm and ReLU6 run inside conv1's step: splitting at either is splitting at conv1.conv."""
    for name in ("conv1.batchnorm1", "conv1.relu61", "conv1.conv"):
        result = run_cli(*DEPLOY, "--patches", "4x4", "--split", name, "-f", "json")
        assert json.loads(result.stdout)["total"]["deploy"]["patches"]["split"] == "conv1.conv"


def test_compare_deploy_with_patches() -> None:
    result = run_cli(
        "compare", "mobilenet_v2", "mobilenet_v2", "--mode", "deploy", "--dtype", "int8", "--patches", "4x4"
    )
    assert result.code == 0, result.stderr
    assert "peak with patches" in result.stdout and "196.00 KiB" in result.stdout
    document = json.loads(
        run_cli("compare", "lenet5", "mobilenet_v2", "--mode", "deploy", "--patches", "2x2", "-f", "json").stdout
    )
    assert set(document["deploy"]["before"]["patches"]) >= {"split", "peak_bytes", "extra_macs"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--patches", "4x4", "--split", "nope"), "no layer named 'nope'"),
        (("--patches", "3x3"), "no split for 3x3 patches"),
        (("--patches", "3x3", "--split", PAPER_SPLIT), "3x3 patches do not divide"),
        (("--patches", "4x4", "--split", "classifier"), "avgpool (global_avgpool) reads its whole input"),
        (
            ("--patches", "4x4", "--split", "bottleneck2.residual1.body.inverted1.project"),
            "read after it by bottleneck2.residual1",
        ),
        (("--patches", "four"), "--patches takes ROWSxCOLUMNS"),
        (("--split", "conv1.conv"), "--split says where the patches end: give --patches too"),
    ],
)
def test_errors(args: tuple[str, ...], words: str) -> None:
    result = run_cli(*DEPLOY, *args)
    assert result.code == 2 and words in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("mode", [(), ("--mode", "train"), ("--mode", "inference")])
def test_patches_need_deploy(mode: tuple[str, ...]) -> None:
    for command in (("analyze", "mobilenet_v2"), ("compare", "mobilenet_v2", "resnet18")):
        result = run_cli(*command, *mode, "--patches", "4x4")
        assert result.code == 2 and "give --mode deploy too" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


REACH = {
    "pixel": {
        *("relu", "relu6", "leaky_relu", "sigmoid", "tanh", "silu", "gelu", "hardsigmoid", "hardswish"),
        *("batchnorm", "dropout", "identity", "stochastic_depth", "lrn", "scale", "channel_shuffle"),
        "position_embedding",
        *("add", "multiply", "arithmetic"),
    },
    "window": {"conv", "maxpool", "avgpool", "pad", "crop", "upsample", "pixel_shuffle", "pixel_unshuffle"},
    "scatter": {"conv_transpose"},  # each input pixel is multiplied into a window of outputs
    "all": {"global_avgpool", "global_maxpool", "adaptive_avgpool", "adaptive_maxpool", "flatten", "groupnorm"}
    | {"opaque", "reshape", "permute", "roll", "matmul", "attention", "dot_product_attention", "class_token"}
    | {"reduce"},
}
"""What one output pixel of each kind reads of its input's rows and columns, by the kind's definition: the same
pixel (element-wise, or mixing only channels), a window, or all of it (layernorm and linear depend on their keys)."""


def test_each_kinds_reach() -> None:
    from convcalc.kinds.catalogue import CATALOGUE

    assert set(CATALOGUE) - {"layernorm", "linear", "slice", "concat", "softmax"} == set().union(*REACH.values())
    for reach, kinds in REACH.items():
        for kind in kinds:
            config = {"over": "channels", "per_position": False}  # keys only layernorm and linear read
            assert CATALOGUE[kind].reach(config) == reach, kind
    assert CATALOGUE["layernorm"].reach({"over": "channels"}) == "pixel"
    assert CATALOGUE["layernorm"].reach({"over": "all"}) == "all"  # statistics over C x H x W
    assert CATALOGUE["linear"].reach({"per_position": True}) == "pixel"
    assert CATALOGUE["linear"].reach({"per_position": False}) == "all"  # flattens the map
    assert CATALOGUE["slice"].reach({"axis": 0}) == "pixel"  # channels: each pixel's own
    assert CATALOGUE["slice"].reach({"axis": -1}) == "window"  # positions along an axis, shifted
    for kind in ("concat", "softmax"):  # over the channels each pixel's own; along a spatial axis, all of it
        assert (CATALOGUE[kind].reach({"axis": 0}), CATALOGUE[kind].reach({"axis": 1})) == ("pixel", "all")


def test_a_global_layer_or_a_layernorm_over_all_ends_the_patch_stage() -> None:
    for last in ({"type": "layernorm", "over": "all"}, {"type": "groupnorm", "groups": 2}):
        layers = [{"type": "conv", "name": "c", "filters": 4, "kernel": 3}, {"name": "n", **last}]
        analysis = analyze_layers([2, 10, 10], layers, dtype="int8")
        with pytest.raises(ValueError, match="reads its whole input"):
            patched(analysis, deployment(analysis, "int8"), (2, 2), "n")


def test_a_transposed_conv_ends_the_patch_stage() -> None:
    """Its MACs are per input pixel (5 * 8 * 8 inputs scattered through 3x3 kernels to 6 channels here), not per
    output pixel: a tile of its output does not cost its share of them, so it cannot run on tiles."""
    layers = [
        {"type": "conv_transpose", "name": "t", "filters": 6, "kernel": 3},  # 5x8x8 -> 6x10x10
        {"type": "conv", "name": "b", "filters": 4, "kernel": 3},  # -> 4x8x8
    ]
    analysis = analyze_layers([5, 8, 8], layers, dtype="int8")
    with pytest.raises(ValueError, match=r"t \(conv_transpose\) cannot run on tiles"):
        patched(analysis, deployment(analysis, "int8"), (2, 2), "b")


def test_the_patch_stage_counts_in_the_deployments_element_type() -> None:
    """A float32 analysis deployed in int8: every tile's bytes are int8's, as the rest's are (the stage used to count
    the analysis' 4 bytes an element against the rest's 1)."""
    layers = [{"type": "conv", "name": "a", "filters": 4, "kernel": 3, "padding": 1}]
    float32 = analyze_layers([2, 8, 8], layers)
    int8 = analyze_layers([2, 8, 8], layers, dtype="int8")
    as_float32 = patched(float32, deployment(float32, "int8"), (2, 2), "a").patches
    as_int8 = patched(int8, deployment(int8, "int8"), (2, 2), "a").patches
    assert as_float32 is not None and as_int8 is not None
    # the 4x8x8 output buffer, 256 bytes in int8, and a 2x5x5 input tile of 50: 306 either way
    assert as_float32.stage_peak == as_int8.stage_peak == 4 * 8 * 8 + 2 * 5 * 5


def test_patch_grid_and_empty_network_messages() -> None:
    with pytest.raises(ValueError, match="a million or more patches"):
        parse_grid("1000000x1")
    analysis = analyze_layers([2, 8, 8], [{"type": "dropout", "name": "d"}], dtype="int8")
    with pytest.raises(ValueError, match="no step a runtime runs"):
        patched(analysis, deployment(analysis, "int8"), (2, 2))


def test_splitting_at_the_input_or_a_free_layer_says_why_not() -> None:
    layers = [{"type": "dropout", "name": "dr"}, {"type": "conv", "name": "c", "filters": 8, "kernel": 3}]
    analysis = analyze_layers([3, 32, 32], layers, dtype="int8")
    plan = deployment(analysis, "int8")
    with pytest.raises(ValueError, match="'dr' runs no step: its output is the network's input"):
        patched(analysis, plan, (2, 2), "dr")  # dropout is the identity at inference
    with pytest.raises(ValueError, match="'input' is the network's input; split at a layer that computes"):
        patched(analysis, plan, (2, 2), NETWORK_INPUT)


def test_grid_text_at_its_limits() -> None:
    """One patch each way is a grid; none is not; six digits a side are read, seven are refused as a million or
    more."""
    assert parse_grid("1") == (1, 1) and parse_grid("1x1") == (1, 1) and parse_grid("1x3") == (1, 3)
    assert parse_grid("999999x2") == (999_999, 2)
    for bad in ("0", "0x4", "4x0"):
        with pytest.raises(ValueError, match="at least one patch each way"):
            parse_grid(bad)
    with pytest.raises(ValueError, match="a million or more"):
        parse_grid("2x1000000")


def test_the_lower_bound_of_each_splits_peak() -> None:
    """TINY (int8) in 2x2 patches; a split's bound is the larger of the rest's peak and the split's buffer plus its
    input tiles in the middle patch (patch 1 of 2: rows and columns [2, 4) of the split's output):

    conv1: rest conv2 64, conv3 96: 96; buffer 32 + input rows [2 * 2 - 1, 3 * 2 - 1 + 3) = [3, 8), 5 x 5 = 25: 57.
           Bound 96, its peak (test_tiny_split_chosen_by_lowest_peak).
    conv2: rest conv3 96; buffer 32 + conv1 rows [1, 4), 2 x 3 x 3 = 18: 50. Bound 96 (peak 99).
    conv3: no rest, 0; buffer 64 + conv2 rows [2, 4) (a 1x1 conv), 2 x 2 x 2 = 8: 72 (peak 131)."""
    from convcalc.passes.patches import _Stage

    analysis = tiny()
    stage = _Stage(analysis, deployment(analysis, "int8"), (2, 2))
    assert [stage.lower_bound(index) for index in range(3)] == [96, 96, 72]


def test_the_lower_bound_reads_the_middle_patch_of_each_axis() -> None:
    """conv1 of TINY alone (1x8x8 -> 2x4x4, stride 2, padding 1), 2x2 patches: no rest; buffer 32 + the middle
    patch's (patch 1 of 2, rows [2, 4)) input rows [2 * 2 - 1, 3 * 2 - 1 + 3) = [3, 8): 5 x 5 = 25; 57 (the first
    patch would read only [0, 4)). TINY on 1x16x24 in 2x3 patches, split conv3 (4x8x12, tiles of 4 x 4): no rest;
    buffer 4 x 8 x 12 = 384 + conv2's middle tile (rows [4, 8) of patch 1 of 2, columns [4, 8) of patch 1 of 3;
    1x1 conv), 2 x 4 x 4 = 32: 416."""
    from convcalc.passes.patches import _Stage

    one = analyze_layers([1, 8, 8], TINY[:1], dtype="int8")
    assert _Stage(one, deployment(one, "int8"), (2, 2)).lower_bound(0) == 57
    wide = analyze_layers([1, 16, 24], TINY, dtype="int8")
    assert _Stage(wide, deployment(wide, "int8"), (2, 3)).lower_bound(2) == 416


def test_a_tensor_read_by_two_layers_of_the_stage_computes_the_hull_of_their_needs() -> None:
    """c1 (1x1) feeds a 3x3 conv c2 (padding 1) and the add of c1 and c2, the split; 2x2 patches of 4x4 on 8x8.
    Patch row 0 (rows [0, 4)): c2 reads c1 rows [-1, 5) -> [0, 5), the add [0, 4): [0, 5). Patch row 1 ([4, 8)): c2
    reads [3, 9) -> [3, 8), the add [4, 8): [3, 8). c1 computes rows 5 + 5 = 10 by columns 10, 1 MAC each: 100."""
    layers = [
        {"type": "conv", "name": "c1", "filters": 1, "kernel": 1},
        {"type": "conv", "name": "c2", "filters": 1, "kernel": 3, "padding": 1},
        {"type": "add", "name": "m", "inputs": ["c1", "c2"]},
    ]
    steps = {step.name: step for step in plan_of(analyze_layers([1, 8, 8], layers, dtype="int8"), (2, 2), "m").steps}
    assert steps["c1"].rows == steps["c1"].cols == ((0, 5), (3, 8))
    assert steps["c1"].macs == 100
    # the readers the other way round: c2 (1x1) reads c1 first, the 3x3 c3 after it, the add reads both: the same
    layers = [
        {"type": "conv", "name": "c1", "filters": 1, "kernel": 1},
        {"type": "conv", "name": "c2", "filters": 1, "kernel": 1},
        {"type": "conv", "name": "c3", "filters": 1, "kernel": 3, "padding": 1, "input": "c1"},
        {"type": "add", "name": "m", "inputs": ["c2", "c3"]},
    ]
    steps = {step.name: step for step in plan_of(analyze_layers([1, 8, 8], layers, dtype="int8"), (2, 2), "m").steps}
    assert steps["c1"].rows == steps["c1"].cols == ((0, 5), (3, 8))


def test_a_size_1_input_is_read_whole_by_every_patch() -> None:
    """x * k, k a 2x2 conv of the 1x2x2 input (1x1x1, 4 MACs), broadcast over x; 2x2 patches of one pixel. Every
    patch needs all of k (its only row and column, [0, 1)), so computes it: 4 x 4 = 16 MACs, 12 more than once."""
    layers = [
        {"type": "conv", "name": "k", "filters": 1, "kernel": 2},
        {"type": "multiply", "name": "m", "inputs": ["input", "k"]},
    ]
    plan = plan_of(analyze_layers([1, 2, 2], layers, dtype="int8"), (2, 2), "m")
    steps = {step.name: step for step in plan.steps}
    assert steps["k"].rows == steps["k"].cols == ((0, 1), (0, 1))
    assert steps["m"].rows == steps["m"].cols == ((0, 1), (1, 2))
    assert (steps["k"].macs, plan.extra_macs) == (16, 12)


def test_a_resize_runs_on_tiles_when_its_windows_are_whole() -> None:
    """A bilinear resize of 8x8 to 4x4 (half-pixel centres): output row o reads input rows 2o and 2o + 1 (stride 2,
    nothing before the first window): patch rows [0, 2) and [2, 4) read rows [0, 4) and [4, 8). From 12x12 to 4x4 its
    windows start half a pixel before row 0 (stride 3, offset -1/2): no tiles through it."""
    layers = [
        {"type": "conv", "name": "c1", "filters": 1, "kernel": 1},
        {"type": "upsample", "name": "u", "size": [4, 4], "mode": "bilinear"},
        {"type": "conv", "name": "c2", "filters": 2, "kernel": 1},
    ]
    steps = {step.name: step for step in plan_of(analyze_layers([1, 8, 8], layers, dtype="int8"), (2, 2), "c2").steps}
    assert steps["c1"].rows == ((0, 4), (4, 8)) and steps["u"].rows == ((0, 2), (2, 4))
    analysis = analyze_layers([1, 12, 12], layers, dtype="int8")
    with pytest.raises(ValueError, match=r"u \(upsample\) cannot run on tiles"):
        patched(analysis, deployment(analysis, "int8"), (2, 2), "c2")


def test_a_map_that_is_not_square() -> None:
    """A 1x1 conv 1 -> 1 without bias on 1x3x4 (12 MACs, 1 per pixel) in 1x2 patches of 3x2: buffer 12 bytes +
    an input tile of 3 x 2 = 6: 18."""
    conv = {"type": "conv", "name": "c", "filters": 1, "kernel": 1, "bias": False}
    plan = plan_of(analyze_layers([1, 3, 4], [conv], dtype="int8"), (1, 2), "c")
    assert (plan.tile, plan.peak, plan.patch_macs) == ((3, 2), 18, 12)


def patch_text(*layers: str, size: int = 8) -> Analysis:
    lines = "".join(f"  - {layer}\n" for layer in layers)
    return analyze(load_spec("t.yaml", text=f"input: [1, {size}, {size}]\nlayers:\n{lines}"), dtype="int8")


C1 = "{type: conv, name: c1, filters: 2, kernel: 3, padding: 1}"


@pytest.mark.parametrize(
    ("layers", "grid", "split", "message"),
    [
        (  # the network's output is c1 (the dropout is the identity): c1 is read after any split past it
            (C1, "{type: conv, name: c2, filters: 2, kernel: 1}", "{type: dropout, name: d, input: c1}"),
            (2, 2),
            "c2",
            "c1 is made before the split c2 and read after it by the network's output",
        ),
        (  # r and q read c1 and nothing reads them: the first is named
            (
                C1,
                "{type: relu, name: r}",
                "{type: relu, name: q, input: c1}",
                "{type: conv, name: c2, filters: 2, kernel: 1, input: c1}",
            ),
            (2, 2),
            "c2",
            "r's output feeds no layer: every layer before the split must lead to it",
        ),
        (  # cat reads c1 and c2 last: the one made first is named
            (
                C1,
                "{type: conv, name: c2, filters: 2, kernel: 1}",
                "{type: conv, name: s, filters: 2, kernel: 1}",
                "{type: concat, name: cat, inputs: [c1, c2, s]}",
            ),
            (2, 2),
            "s",
            "c1 is made before the split s and read after it by cat",
        ),
        (  # c1 is read last by a, c2 by b, after it: c2 is named (c2's first reader, s, comes before a)
            (
                C1,
                "{type: conv, name: c2, filters: 2, kernel: 1}",
                "{type: conv, name: s, filters: 2, kernel: 1}",
                "{type: add, name: a, inputs: [c1, s]}",
                "{type: add, name: b, inputs: [c2, a]}",
            ),
            (2, 2),
            "s",
            "c2 is made before the split s and read after it by b",
        ),
        (  # a 2x upsample reads every input pixel twice (a window stride of 1/2): no tiles through it
            (C1, "{type: upsample, name: u, scale: 2}", "{type: conv, name: c2, filters: 2, kernel: 1}"),
            (2, 2),
            "c2",
            "u (upsample) cannot run on tiles",
        ),
        (  # nothing before the global layer
            ("{type: global_avgpool, name: g}", C1),
            (2, 1),
            None,
            "no split for 2x1 patches: g (global_avgpool) reads its whole input",
        ),
        (  # c1's 8x8 does not divide into 3 rows of tiles, and the stage ends at g
            (C1, "{type: global_avgpool, name: g}"),
            (3, 2),
            None,
            "no split for 3x2 patches up to c1: none of those layers' outputs divides evenly into 3x2 tiles while "
            "being the only tensor the rest reads; and g (global_avgpool) reads its whole input",
        ),
        ((C1,), (2, 3), "c1", "2x3 patches do not divide c1's output 2x8x8 evenly"),
        (
            ("{type: conv, name: conv1, filters: 2, kernel: 1}",),
            (2, 2),
            "conv2",
            "no layer named 'conv2' to split at (names as the table shows them); did you mean 'conv1'?",
        ),
    ],
)
def test_why_a_split_does_not_work(
    layers: tuple[str, ...], grid: tuple[int, int], split: str | None, message: str
) -> None:
    analysis = patch_text(*layers)
    with pytest.raises(ValueError, match=re.escape(message)):
        patched(analysis, deployment(analysis, "int8"), grid, split)


def test_of_patches_peaking_alike_the_first_is_named() -> None:
    """c1 (3x3, stride 2, padding 1, 1 filter) on 1x8x8, c2 (1x1, 64 filters), c3 (1x1, 1 filter; the split, 1x4x4),
    2x2 patches of 2x2. Patch row 0 reads input rows [-1, 4) -> [0, 4), row 1 [3, 8): the patches differ, but each
    peaks at c2: c1's tile 1 x 2 x 2 = 4 + c2's 64 x 2 x 2 = 256 + the buffer 16 = 276 bytes (at c1 at most 5 x 5 + 4
    + 16 = 45). The stage's peak patch is the first, (0, 0)."""
    layers = [
        {"type": "conv", "name": "c1", "filters": 1, "kernel": 3, "stride": 2, "padding": 1},
        {"type": "conv", "name": "c2", "filters": 64, "kernel": 1},
        {"type": "conv", "name": "c3", "filters": 1, "kernel": 1},
    ]
    plan = plan_of(analyze_layers([1, 8, 8], layers, dtype="int8"), (2, 2), "c3")
    assert (plan.stage_peak, plan.stage_peak_at, plan.peak_patch) == (276, "c2", (0, 0))
