"""The PyTorch front end held against torch itself, without torch.

tests/data/torch/traces/NAME.json is what tools/record_torch_traces.py recorded of a real network: torchvision's
ResNet-34, MNASNet 0.5, R3D-18, ShuffleNet V2 and ConvNeXt-Tiny, timm's GhostNet and ConvNeXt-atto, the M5 (Conv1d),
TCN and 3-D U-Net of tools/reference_models.py, and the small networks of tools/torch_cases.py that run every op of
the aten table. Each holds the traced event list the importer reads, and what torch says: ``sum(p.numel())``,
FlopCounterMode's FLOPs, the paths of named_modules() and each module call's output shape (a forward hook).
NAME_export.json holds the same network as a saved torch.export program reads. The tests at
the end run the real trace where torch is installed.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from convcalc import analyze
from convcalc.engine.results import Analysis, LayerResult
from convcalc.importers.torch.events import Ref, Trace, from_dict
from convcalc.importers.torch.importer import TorchImporter, expected_shape
from convcalc.importers.torch.read import imported
from convcalc.passes.views import rows
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "torch" / "traces"
RECORDED = sorted(path.stem for path in DATA.glob("*.json"))
REAL = [
    "convnext_atto",
    "convnext_tiny",
    "ghostnet_100",
    "m5",
    "mnasnet0_5",
    "r3d_18",
    "resnet34",
    "shufflenet_v2_x1_0",
]
REAL += ["tcn", "unet3d", "resnet34_export", "vit_b_16", "vit_tiny_patch16_224", "channels_last"]
REAL += ["poolformer_s12", "resnest14d"]  # pool(x) - x (arithmetic), the radix sum and product (reduce, multiply)
OPAQUE = {
    "signals": {"aten.cumsum", "aten.expand"},
    "signals_export": {"aten.cumsum", "aten.expand"},
}
"""The ops tools/torch_cases.py runs that convcalc has no kind for: each an opaque layer (the rest are counted)."""
FUSED_ATTENTION = {"vit_b_16"}
"""torchvision's nn.MultiheadAttention runs in eval mode as one fused op (_native_multi_head_attention) that
FlopCounterMode has no formula for: its projections count 0 there, where the convention counts them (2 x T x D x 4D
per layer) as for attention written with Linears."""


@cache
def recorded(name: str) -> tuple[dict[str, Any], Trace, TorchImporter, Analysis]:
    data = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    trace = from_dict(data["trace"])
    importer = imported(trace, name)
    return data, trace, importer, analyze(importer.graph())


def by_name(analysis: Analysis) -> dict[str, LayerResult]:
    return {layer.name: layer for layer in analysis.layers}


def test_the_issues_networks_are_recorded() -> None:
    assert {"resnet34", "mnasnet0_5", "r3d_18", "m5", "ghostnet_100", "convnext_atto"} <= set(RECORDED)
    assert set(REAL) | set(OPAQUE) | {"images", "images_export", "shared", "heads", "offset", "gathered"} == set(
        RECORDED
    )


def test_a_conv_run_twice_counts_its_weights_once() -> None:
    # tools/torch_cases.py SharedHead: one 3x3 conv 4 -> 4 on an 8x8 map and on its 4x4 pooled copy
    _, _, _, analysis = recorded("shared")
    convs = [layer for layer in analysis.layers if layer.type == "conv"]
    assert [layer.params for layer in convs] == [4 * 4 * 3 * 3 + 4, 0]  # 148 once, as sum(p.numel())
    assert [layer.macs for layer in convs] == [8 * 8 * 4 * 36, 4 * 4 * 4 * 36]  # each run's own
    assert convs[1].config["shared"] is True and not analysis.warnings


def test_every_tensor_the_module_returns_is_an_output() -> None:
    # tools/torch_cases.py TwoHeads: a dict of scores (5 x 8 x 8 = 320) and boxes (16 x 8 x 8 = 1,024), as torch
    # returned them (the recorded shapes), in the dict's order; neither head is a layer nobody reads
    _, trace, _, analysis = recorded("heads")
    assert [shape for _, shape in analysis.outputs] == [(320,), (1024,)]
    assert [(1, *shape) for _, shape in analysis.outputs] == [tuple(ref.shape) for ref in trace.outputs]
    assert not analysis.warnings
    # elements alive, 4 bytes each: the input (192) is freed after body (512), body after its relu (512); scores'
    # conv 320 and flatten 320, the flatten kept to the end; boxes' conv 1,024 frees the relu; at boxes' flatten:
    # scores 320 + boxes' conv 1,024 + flatten 1,024 = 2,368 (2,048 if the scores were freed as never read)
    assert analysis.total.peak_activation_bytes == (320 + 1024 + 1024) * 4


@pytest.mark.parametrize("name", RECORDED)
def test_parameters_are_torchs(name: str) -> None:
    """sum(p.numel()) exactly, and no warning about it: Offset's learned 1 x 4 x 1 x 1 added to the map (a broadcast
    sum) counts its 4 as an ``arithmetic`` layer's."""
    data, _, _, analysis = recorded(name)
    assert analysis.total.params == data["params"]
    assert not [w.message for w in analysis.warnings if w.message.startswith("the module holds")]


def test_a_broadcast_sum_and_a_sum_over_the_channels() -> None:
    # Offset: conv 3 -> 4 (3 x 3) on 8 x 8 is 4 x 6 x 6, + a learned 4 x 1 x 1: 144 additions, 4 params; Signals'
    # fc (3 logits) + tail.sum(dim=1, keepdim=True): the cumsum's last step, 8 channels summed to 1, broadcast to
    # the 3 logits (3 additions)
    (offset,) = [layer for layer in recorded("offset")[3].layers if layer.type == "arithmetic"]
    assert (offset.config["constant"], offset.params, offset.flops) == ((4, 1, 1), 4, 4 * 6 * 6)
    layers = recorded("signals")[3].layers
    (summed,) = [layer for layer in layers if layer.type == "reduce"]
    (added,) = [layer for layer in layers if layer.type == "arithmetic"]
    assert (summed.config["op"], summed.config["axes"], summed.output_shape) == ("sum", (0,), (1,))
    assert (added.input_shapes, added.output_shape, added.flops) == (((3,), (1,)), (3,), 3)


def test_a_bias_gathered_from_a_learned_table_counts_the_table_a_buffer_nothing() -> None:
    # tools/torch_cases.py GatheredBias: a table of 9 x 2 gathered into 2 x 4 x 4 and added to the map (32 additions,
    # the table's 18 parameters, as sum(p.numel())), then a buffer of 2 x 1 x 1 subtracted (32, no parameter)
    data, _, _, analysis = recorded("gathered")
    added, taken = analysis.layers
    assert (added.config["op"], added.config["constant"], added.params, added.flops) == ("add", (2, 4, 4), 18, 32)
    assert (taken.config["op"], taken.config["constant"], taken.params, taken.flops) == ("sub", (2, 1, 1), 0, 32)
    assert analysis.total.params == data["params"] == 9 * 2


def test_parameters_in_an_op_without_a_kind_are_named() -> None:
    """Offset's trace with its add renamed to an op convcalc has no kind for (cumsum): the learned 1 x 4 x 1 x 1
    it reads is not counted, and a warning says so with torch's sum(p.numel())."""
    data = json.loads((DATA / "offset.json").read_text(encoding="utf-8"))
    events = data["trace"]["events"]
    added = next(event for event in events if event["op"] == "add")
    added["op"] = "cumsum"
    analysis = analyze(imported(from_dict(data["trace"]), "offset").graph())
    assert analysis.total.params == data["params"] - 4
    said = [w.message for w in analysis.warnings if w.message.startswith("the module holds")]
    assert said == [f"the module holds {data['params']:,} parameters, the layers convcalc counts "
                    f"{data['params'] - 4:,}: the other 4 are in ops convcalc does not count, or in modules forward "
                    "never ran"]  # fmt: skip


@pytest.mark.parametrize("name", RECORDED)
def test_flops_are_flop_counters(name: str) -> None:
    """FlopCounterMode counts 2 per multiply-add of convolutions and matrix products, nothing else: convcalc under
    convention "flop_counter" gives its total, its convolution part, its addmm/mm part (linear layers and attention's
    projections) and its bmm part (products of two activations) exactly."""
    data = recorded(name)[0]
    counted = analyze(analysis_graph(name), convention="flop_counter")
    operators = data["flop_counter"]["by_operator"]
    assert set(operators) <= {"convolution", "addmm", "mm", "bmm"}, operators
    fused = sum(layer.flops for layer in counted.layers if layer.type == "attention") if name in FUSED_ATTENTION else 0
    assert counted.total.flops == data["flop_counter"]["total"] + fused
    convs = sum(layer.flops for layer in counted.layers if layer.type in ("conv", "conv_transpose"))
    linears = sum(layer.flops for layer in counted.layers if layer.type in ("linear", "attention"))
    products = sum(layer.flops for layer in counted.layers if layer.type == "matmul")
    assert convs == operators.get("convolution", 0)
    assert linears == operators.get("addmm", 0) + operators.get("mm", 0) + fused
    assert products == operators.get("bmm", 0)


def analysis_graph(name: str) -> Any:
    return recorded(name)[2].graph()


@pytest.mark.parametrize("name", RECORDED)
def test_every_module_call_has_the_shape_torch_gave(name: str) -> None:
    """Each module call's output, as a forward hook saw it, is a layer's output (or the input) of that shape."""
    _, trace, importer, analysis = recorded(name)
    layers = by_name(analysis)
    checked = 0
    for call in trace.calls:
        if call.output is None:
            continue
        value = importer.values[call.output.id]
        expected = expected_shape(call.output, value.layout, importer.batch, value.batch_axis)
        final = importer.final.get(value.node, value.node)
        shape = layers[final].output_shape if final in layers else analysis.input_shape
        assert expected is None or shape == expected, (call, final)
        checked += expected is not None
    assert checked >= len(trace.calls) // 2


@pytest.mark.parametrize("name", RECORDED)
def test_layers_are_named_by_module_path(name: str) -> None:
    """A leaf module's one layer is named by its path (a second call path_2); other layers of a module's call are
    path.kind, those of the root's own forward a kind (no dot)."""
    data, trace, importer, analysis = recorded(name)
    modules = set(data["modules"])
    leaves = {module.path for module in trace.modules if module.leaf}
    per_call: dict[tuple[str, int], int] = {}
    for path, call, _ in importer.made.values():
        per_call[path, call] = per_call.get((path, call), 0) + 1
    expected = {path if call == 0 else f"{path}_{call + 1}" for (path, call), n in per_call.items() if path in leaves}
    names = {layer.name for layer in analysis.layers}
    assert {path for path in expected if per_call.get((path, 0)) == 1} <= names
    for layer in analysis.layers:
        base, _, suffix = layer.name.rpartition("_")
        owner = layer.name.rpartition(".")[0]
        assert (
            layer.name in modules
            or (suffix.isdigit() and base in modules)
            or owner in modules
            or ("." not in layer.name)
        ), layer.name


@pytest.mark.parametrize("name", REAL)
def test_real_networks_are_counted_whole(name: str) -> None:
    """No op of these networks is left uncounted, and convcalc computes every shape as torch did."""
    _, _, _, analysis = recorded(name)
    assert [layer.name for layer in analysis.layers if layer.type == "opaque"] == []
    assert {warning.code for warning in analysis.warnings} <= {"unread"}


@pytest.mark.parametrize("name", sorted(OPAQUE))
def test_ops_without_a_kind_are_opaque_and_named(name: str) -> None:
    _, _, _, analysis = recorded(name)
    opaque = {layer.config["op"] for layer in analysis.layers if layer.type == "opaque"}
    assert opaque == OPAQUE[name]
    (warning,) = [w for w in analysis.warnings if "operation(s) not counted" in w.message]
    assert all(op in warning.message for op in OPAQUE[name])
    assert not [w for w in analysis.warnings if w.code in ("shape", "unused")]


def test_every_handled_kind_is_recorded() -> None:
    """Between them, the recorded networks reach every kind the aten table maps to."""
    kinds = {layer.type for name in RECORDED for layer in recorded(name)[3].layers}
    expected = {"conv", "conv_transpose", "linear", "batchnorm", "relu", "relu6", "silu", "gelu", "hardswish"}
    expected |= {"hardsigmoid", "sigmoid", "tanh", "leaky_relu", "maxpool", "avgpool", "adaptive_avgpool"}
    expected |= {"adaptive_maxpool", "global_avgpool", "add", "multiply", "concat", "scale", "flatten", "upsample"}
    expected |= {"pad", "layernorm", "groupnorm", "softmax", "channel_shuffle", "pixel_shuffle", "pixel_unshuffle"}
    expected |= {"slice", "opaque", "attention", "dot_product_attention", "matmul", "reshape", "permute"}
    expected |= {"class_token", "position_embedding"}
    assert expected <= kinds, expected - kinds


def test_resnet34_groups_by_module() -> None:
    """--depth 1 and 2 follow torchvision's ResNet-34 (resnet.py: BasicBlock, layers [3, 4, 6, 3]); the rows add up."""
    _, _, _, analysis = recorded("resnet34")
    top = rows(analysis.layers, 1)
    assert [(row.name, row.type) for row in top] == [
        ("conv1", "conv"),
        ("bn1", "batchnorm"),
        ("relu", "relu"),
        ("maxpool", "maxpool"),
        ("layer1", "BasicBlock x3"),
        ("layer2", "BasicBlock x4"),
        ("layer3", "BasicBlock x6"),
        ("layer4", "BasicBlock x3"),
        ("avgpool", "global_avgpool"),
        ("flatten", "flatten"),
        ("fc", "linear"),
    ]
    assert sum(row.params for row in top) == analysis.total.params
    second = [row.name for row in rows(analysis.layers, 2) if row.name.startswith("layer2")]
    assert second == ["layer2.0", "layer2.1", "layer2.2", "layer2.3"]
    block = by_name(analysis)
    # the block's own op (out += identity) and its ReLU's second call
    assert block["layer1.0.add"].inputs == ("layer1.0.bn2", "maxpool")
    assert block["layer1.0.relu_2"].inputs == ("layer1.0.add",)
    assert block["layer1.0.relu"].config["inplace"] is True


def test_resnet34_as_exported_is_the_module() -> None:
    """The saved ExportedProgram keeps conv2d, batch_norm, linear, adaptive_avg_pool2d and flatten whole: the same
    layers, names and counts as the traced module."""
    module, exported = recorded("resnet34")[3], recorded("resnet34_export")[3]
    assert [(layer.name, layer.type, layer.output_shape) for layer in exported.layers] == [
        (layer.name, layer.type, layer.output_shape) for layer in module.layers
    ]
    assert exported.total == module.total


def test_torchvisions_vit_b_16_counts_as_the_bundled_spec() -> None:
    """Read from its module (nn.MultiheadAttention's fused op as one attention layer), torchvision's ViT-B/16 has the
    spec's counts: 86,567,656 parameters and 17,563,828,224 MACs, torchvision's published 17.56 GFLOPS."""
    module, spec = recorded("vit_b_16")[3], analyze("vit_b_16")
    assert (module.total.params, module.total.macs) == (86_567_656, 17_563_828_224)
    assert module.total.flops == spec.total.flops
    moving = ("reshape", "flatten", "slice", "dropout", "permute")  # views, and dropout: no layer in eval mode
    assert [layer.type for layer in module.layers if layer.type not in moving] == [
        layer.type for layer in spec.layers if layer.type not in moving
    ]


def test_timms_vit_tiny_by_hand() -> None:
    """timm's ViT-Ti/16 (its own Attention: qkv Linear, reshape, permute, unbind, scaled_dot_product_attention):
    D = 192, 3 heads, T = 197 tokens, 12 blocks. Per block: Q, K, V T x D x 3D, Q K^T and A V 2 x T x T x D, the
    output T x D x D, the MLP 2 x T x D x 4D; the patch embedding 192 x (3 x 16 x 16) x 196, the head 192 x 1000."""
    analysis = recorded("vit_tiny_patch16_224")[3]
    d, t = 192, 197
    block = t * d * 3 * d + 2 * t * t * d + t * d * d + 2 * t * d * 4 * d
    assert analysis.total.macs == 12 * block + d * 3 * 16 * 16 * 196 + d * 1000 == 1_253_683_200
    kinds = [layer.type for layer in analysis.layers]
    assert kinds.count("dot_product_attention") == 12 and "opaque" not in kinds


@pytest.mark.parametrize(
    ("shape", "layout", "batch_axis", "expected"),
    [
        ((2, 4, 6, 8), "first", 0, (4, 6, 8)),
        ((2, 5), "first", 0, (5,)),  # [N, features]
        ((2,), "first", 0, None),  # one value a sample: held as (1,), torch's shape says nothing
        ((3, 4, 6, 8), "first", 0, None),  # the first axis is not the batch
        ((2, 6, 8, 4), "last", 0, (4, 6, 8)),  # channels-last [N, H, W, C]: C x H x W
        ((2, 4, 1, 10), "lifted", 0, (4, 10)),  # a 1-D map [N, C, L] as [N, C, 1, L]
        ((2, 3, 4, 5, 6), "grouped", 0, (12, 5, 6)),  # [N, g, C / g, H, W]: C = 3 x 4
        ((2, 4, 3, 5, 6), "shuffled", 0, (12, 5, 6)),  # [N, C / g, g, H, W]
        ((2, 4), "rows", 0, None),  # [N * H * W, C]: H x W cannot be told
        ((3, 2, 5, 7), "first", 1, (3, 5, 7)),  # the batch on axis 1 (attention's [3, N, ...]): dropped there
        ((3, 4, 5, 7), "first", 1, None),  # axis 1 is not the batch
    ],
)
def test_the_shape_convcalc_should_compute_for_torchs(
    shape: tuple[int, ...], layout: Any, batch_axis: int, expected: tuple[int, ...] | None
) -> None:
    """A tensor torch made of a batch of 2, laid out as named: the per-sample shape convcalc holds for it."""
    assert expected_shape(Ref(1, shape), layout, 2, batch_axis) == expected


def test_modules_are_block_instances_located_by_their_place_in_named_modules() -> None:
    """torchvision's ResNet-34 runs named_modules() as '' (1), conv1, bn1, relu, maxpool, layer1 (6), layer1.0 (7):
    a BasicBlock; layer1 holds only BasicBlocks, so it is their repeat, no block. ConvNeXt-Tiny: '', features (2; a
    Sequential of a stem and stages, a block), features.0 (the stem: Conv2d, LayerNorm2d), features.1 (6; CNBlocks
    only), features.1.0 (7), features.1.0.block (8, a Sequential of seven kinds). Each module is there once (copy 0);
    the root's own layers are in no block, and their origin is the root's class."""
    graphs = {name: recorded(name)[2].graph() for name in ("resnet34", "convnext_tiny")}
    wanted = {
        ("resnet34", "layer1.0.conv1"): [("layer1.0", "BasicBlock", 7)],
        ("resnet34", "flatten"): [],
        ("convnext_tiny", "features.1.0.block.0"): [
            ("features", "Sequential", 2),
            ("features.1.0", "CNBlock", 7),
            ("features.1.0.block", "Sequential", 8),
        ],
    }
    for (name, layer), instances in wanted.items():
        (node,) = [node for node in graphs[name].nodes if node.name == layer]
        assert [(i.name, i.block, i.location.line) for i in node.instances] == instances
        assert {(i.location.file, i.location.column) for i in node.instances} <= {(name, 1)}  # no column: 1
        assert {i.copy for i in node.instances} <= {0}
    origins = recorded("resnet34")[2].origins
    assert (origins["flatten"], origins["layer1.0.conv1"]) == ("(root) (ResNet)", "layer1.0.conv1 (Conv2d)")
