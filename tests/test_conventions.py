"""Issue 15: other tools' counts, exactly. Every number asserted comes from the real tools' recordings
(tests/data/peers/TOOL.json, tools/record_peers.py) or from arithmetic written out here."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from convcalc import analyze
from convcalc.engine.results import Analysis
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.passes.conventions.counting import CONVENTIONS, count_layers, explain_rules
from tests.conftest import REPO, run_cli
from tests.docs import page
from tests.netbuild import analyze_layers
from tests.test_onnx import NOT_IMPORTED_YET

PEERS = REPO / "tests" / "data" / "peers"
TOOLS = ("fvcore", "ptflops", "thop", "ultralytics_thop", "torchinfo", "flop_counter")


@cache
def recorded(tool: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PEERS / f"{tool}.json").read_text(encoding="utf-8"))
    return document


@cache
def network(key: str) -> Analysis:
    """The analysis of a fixture entry's network: ``SPEC@HxW`` or ``SPEC@HxW/export`` (``SPEC@DxHxW`` for a video)."""
    spec, size = key.split("/")[0].split("@")
    sizes = tuple(int(n) for n in size.split("x"))
    path = PEERS / f"{spec}.yaml"
    analysis = analyze(str(path) if path.exists() else spec)
    return analysis if analysis.input_shape[1:] == sizes else analyze(spec, input_shape=(3, *sizes))


def entries(tool: str) -> list[str]:
    return sorted(recorded(tool)["networks"])


def torchvision_module(tool: str, key: str) -> bool:
    """Whether the entry ran a module of its own, torchvision's or one written from the spec's paper
    (tools/reference_models.py), its modules keyed by their names there; the others ran convcalc's export
    (``SPEC@HxW/export`` beside such an entry), keyed by convcalc layer names."""
    return str(recorded(tool)["networks"][key]["model"]).startswith(("torchvision.", "tools/reference_models.py"))


def by_layer(entry: dict[str, Any], names: set[str]) -> dict[str, int]:
    """The fixture's modules (ptflops: and its functional counts) per convcalc layer: a layer exported as several
    modules (nn.Sequential(nn.Flatten(), nn.Linear) for a linear on a feature map) is keyed NAME.0, NAME.1."""
    result: dict[str, int] = {}
    for section in ("modules", "functional"):
        for module, count in entry.get(section, {}).items():
            name = module if module in names else module.rsplit(".", 1)[0]
            assert name in names, f"fixture module {module!r} is no convcalc layer"
            result[name] = result.get(name, 0) + count
    return result


@pytest.mark.parametrize("tool", TOOLS)
def test_the_convention_names_the_recorded_version(tool: str):
    assert CONVENTIONS[tool].version == recorded(tool)["version"]


def test_the_versions_are_the_recordings():
    """convcalc/passes/conventions/versions.py, which tools/record_peers.py writes, holds every recording's version."""
    from convcalc.passes.conventions.versions import RECORDED

    assert {path.stem: recorded(path.stem)["version"] for path in sorted(PEERS.glob("*.json"))} == RECORDED
    assert CONVENTIONS["ultralytics_thop"].release == "ultralytics-thop 2.2.3"  # pip's name and version


def test_the_counter_names_the_tool_with_its_packages_version():
    """The version after the package's name, or after the tool when the package is another's (the recordings'
    versions)."""
    assert CONVENTIONS["fvcore"].counter == f"fvcore {recorded('fvcore')['version']}"
    assert CONVENTIONS["ptflops"].counter == f"ptflops {recorded('ptflops')['version']} (pytorch backend)"
    torch = recorded("flop_counter")["version"]
    assert CONVENTIONS["flop_counter"].counter == f"torch.utils.flop_counter.FlopCounterMode (torch {torch})"


# --- torchvision's modules: where they differ from the spec's modules (the export) -----------------------------------
# A convention counts each layer as a module of torch's own class (what `convcalc export` writes): one rule per tool
# and layer kind. torchvision writes some layers otherwise: a functional call in forward() (which the tools that hook
# modules do not see, ptflops counting only its F.* wrapper), a subclass of a torch module (which ptflops and thop,
# matching modules by exact type, count 0; ultralytics-thop counts it by its base's rule), a branch run only in
# training. The tools' numbers on torchvision's module then differ from the convention by these amounts, worked out by
# hand (convention minus what the tool printed):

CONVNEXT_LAYERNORM2D = 96 * 56 * 56 + 96 * 56 * 56 + 192 * 28 * 28 + 384 * 14 * 14 + 768
"""ConvNeXt-T's LayerNorm2d (a subclass of nn.LayerNorm): the stem's, the three downsamplings' and the head's, elements
(its blocks' norms are nn.LayerNorm on the channels-last map, counted as the export's)."""
DENSE_HEAD = 1024 * 7 * 7
"""DenseNet-121's forward(): F.relu and F.adaptive_avg_pool2d on 1024 x 7 x 7; ShuffleNetV2's x.mean([2, 3]) too."""
LRASPP_UPSAMPLED = 128 * 65 * 65 + 21 * 520 * 520
"""LR-ASPP's two F.interpolate (bilinear): the gated map to the 65x65 of 'low', the logits to the 520x520 input."""
INCEPTION_AUX = {
    # torchvision's Inception3 runs AuxLogits only in training; the export runs it (fvcore's trace drops it in both).
    # avg pool 5x5/3 768x17x17 -> 768x5x5, conv0 1x1 768 -> 128 + bn + ReLU, conv1 5x5 128 -> 768 (1x1) + bn +
    # ReLU, global pool, fc 768 -> 1000
    "flop_counter": 2 * (128 * 5 * 5 * 768 + 768 * 128 * 5 * 5 + 768 * 1000),
    "torchinfo": 768 * 128 * 5 * 5 + 2 * 128 + 128 * 768 * 5 * 5 + 2 * 768 + 768 * 1000 + 1000,
    "thop": 768 * 5 * 5 + 128 * 5 * 5 * 768 + 4 * 128 * 5 * 5 + 768 * 128 * 5 * 5 + 4 * 768 + 2 * 768 + 768 * 1000,
    # ultralytics-thop: the pool's windows, 5 wide at 0, 3, ..., 12 on 17 (25 reads per axis), + 1 per output; the
    # global pool on 768 x 1 x 1 reads 1 and divides once
    "ultralytics_thop": 768 * 25 * 25
    + 768 * 5 * 5
    + 128 * 5 * 5 * 768
    + 4 * 128 * 5 * 5
    + 768 * 128 * 5 * 5
    + 4 * 768
    + 2 * 768
    + 768 * 1000,
    "ptflops": sum(
        (
            2 * 768 * 17 * 17,  # the pool: the export's hook and its F.avg_pool2d wrapper
            128 * 5 * 5 * 768,  # conv0, no bias
            2 * 128 * 5 * 5 + 2 * 128 * 5 * 5,  # bn 2 x elements, ReLU's hook and F.relu
            768 * 128 * 5 * 5,  # conv1
            2 * 768 + 2 * 768 + 2 * 768,  # bn, ReLU, global pool (hook and wrapper)
            768 * 1000 + 1000,  # fc with its bias
        )
    ),
}
INCEPTION_POOL_BRANCHES = (192 + 256 + 288) * 35 * 35 + 4 * 768 * 17 * 17 + (1280 + 2048) * 8 * 8
"""Inception v3's pooling branches, F.avg_pool2d(3, 1, 1) in InceptionA (x3), C (x4) and E (x2): input elements."""
INCEPTION_REDUCTION_POOLS = 288 * 35 * 35 + 768 * 17 * 17
"""F.max_pool2d(3, 2) in InceptionB and D: input elements."""
INCEPTION_RELUS = sum(
    (
        32 * 149 * 149 + 32 * 147 * 147 + 64 * 147 * 147 + 80 * 73 * 73 + 192 * 71 * 71,  # the stem's five convs
        (64 + 48 + 64 + 64 + 96 + 96 + 32) * 35 * 35,  # Mixed_5b
        2 * (64 + 48 + 64 + 64 + 96 + 96 + 64) * 35 * 35,  # Mixed_5c, 5d
        (384 + 96) * 17 * 17 + (64 + 96) * 35 * 35,  # Mixed_6a (B)
        (192 + 128 + 128 + 192 + 4 * 128 + 192 + 192) * 17 * 17,  # Mixed_6b (C, 128 channels in the 7x7s)
        2 * (192 + 160 + 160 + 192 + 4 * 160 + 192 + 192) * 17 * 17,  # Mixed_6c, 6d (160)
        (192 + 192 + 192 + 192 + 4 * 192 + 192 + 192) * 17 * 17,  # Mixed_6e (192)
        4 * 192 * 17 * 17 + (320 + 192) * 8 * 8,  # Mixed_7a (D)
        2 * (320 + 3 * 384 + 448 + 3 * 384 + 192) * 8 * 8,  # Mixed_7b, 7c (E)
    )
)
"""Output elements of every BasicConv2d outside the aux head: its ReLU is F.relu in forward()."""

R3D_SIMPLE_CONVS = (
    4 * (16 * 56 * 56 * 64 * 27 * 64)  # layer1: four 3x3x3 convs, 64 -> 64 at 16x56x56
    + 8 * 28 * 28 * 128 * 27 * 64  # layer2's first, 64 -> 128 at stride 2, then three 128 -> 128 at 8x28x28
    + 3 * (8 * 28 * 28 * 128 * 27 * 128)
    + 4 * 14 * 14 * 256 * 27 * 128  # layer3
    + 3 * (4 * 14 * 14 * 256 * 27 * 256)
    + 2 * 7 * 7 * 512 * 27 * 256  # layer4
    + 3 * (2 * 7 * 7 * 512 * 27 * 512)
)
"""MACs of torchvision's Conv3DSimple, the 3x3x3 convs of R3D-18's blocks: a subclass of nn.Conv3d, which ptflops and
thop, matching modules by their exact type, do not count."""

VIT_T, VIT_D, VIT_HEADS, VIT_BLOCKS = 197, 768, 12, 12
VIT_PROJECTIONS = VIT_BLOCKS * (VIT_T * VIT_D * 3 * VIT_D + VIT_T * VIT_D * VIT_D)
"""ViT-B/16's attention Linears (Q, K, V in one, and out_proj) over its 12 blocks, multiply-adds without bias."""
VIT_PTFLOPS_MHA = VIT_BLOCKS * (VIT_T * VIT_D + 2 * VIT_T * VIT_T * VIT_D + VIT_HEADS * VIT_T * VIT_T)
"""What ptflops' nn.MultiheadAttention hook counts beyond the Linears the spec's attention exports as: Q scaling
(T x D), Q K^T and A V (T x T x D each) and the softmax (h x T x T), per block."""
VIT_UTHOP_SOFTMAX = VIT_BLOCKS * VIT_HEADS * VIT_T * (3 * VIT_T - 1)
"""What ultralytics-thop's nn.MultiheadAttention rule counts beyond the projections and products it counts for the
spec's attention too: the softmax of each head's T x T scores, 3T - 1 per row, per block."""

SWIN_T = 49
SWIN_STAGES = [(96, 64, 2, 3), (192, 16, 2, 6), (384, 4, 6, 12), (768, 1, 2, 24)]
"""Swin-T's stages: (channels C, 7x7 windows, blocks, heads), on maps of 56, 28, 14 and 7."""
SWIN_PROJECTIONS = sum(blocks * windows * SWIN_T * 4 * c * c for c, windows, blocks, _ in SWIN_STAGES)
"""Its attention's Linears, Q, K, V (C x 3C) and the output (C x C), on 49 tokens of every window: 1,387,266,048."""
SWIN_PROJECTION_BIASES = sum(blocks * windows * SWIN_T * 4 * c for c, windows, blocks, _ in SWIN_STAGES)
SWIN_PROJECTION_PARAMS = sum(blocks * (4 * c * c + 4 * c) for c, _, blocks, _ in SWIN_STAGES)
SWIN_PRODUCTS = sum(blocks * 2 * windows * SWIN_T * SWIN_T * c for c, windows, blocks, _ in SWIN_STAGES)
"""Q K^T and A V: 49 x 49 x C each per window (C = heads x head size): 140,141,568."""
SWIN_SOFTMAX = sum(blocks * windows * heads * SWIN_T * SWIN_T for _, windows, blocks, heads in SWIN_STAGES)

TORCHVISION_DIFFERENCES: dict[tuple[str, str], int] = {
    # Swin's ShiftedWindowAttention calls F.linear with its qkv and proj weights, and q.matmul(k^T), attn.matmul(v):
    # fvcore counts the matmuls (aten::matmul) where the export's scaled_dot_product_attention is unsupported; thop,
    # ptflops and torchinfo see no Linear module called (ptflops counts the matmuls and F.softmax's input elements;
    # torchinfo's mult-adds are the Linears' parameters)
    ("fvcore", "swin_t@224x224"): -SWIN_PRODUCTS,
    ("thop", "swin_t@224x224"): SWIN_PROJECTIONS,
    ("ptflops", "swin_t@224x224"): SWIN_PROJECTIONS + SWIN_PROJECTION_BIASES - SWIN_PRODUCTS - SWIN_SOFTMAX,
    ("torchinfo", "swin_t@224x224"): SWIN_PROJECTION_PARAMS,
    # nn.MultiheadAttention on its fast path (_native_multi_head_attention): flop_counter and thop see no Linear in it,
    # torchinfo's in_proj_weight is not named 'weight' and out_proj is not called as a module; ptflops' own hook
    # counts more than the Linears (above)
    ("flop_counter", "vit_b_16@224x224"): 2 * VIT_PROJECTIONS,
    ("thop", "vit_b_16@224x224"): VIT_PROJECTIONS,
    ("torchinfo", "vit_b_16@224x224"): VIT_BLOCKS * (VIT_D * 3 * VIT_D + 3 * VIT_D + VIT_D * VIT_D + VIT_D),
    ("ptflops", "vit_b_16@224x224"): -VIT_PTFLOPS_MHA,
    # ultralytics-thop counts nn.MultiheadAttention by its own rule, the softmax too; the export's attention is its
    # Linears and scaled_dot_product_attention (no softmax counted); Swin's functional F.linear and matmuls it counts
    # as the export's
    ("ultralytics_thop", "vit_b_16@224x224"): -VIT_UTHOP_SOFTMAX,
    # MobileNetV2 pools with F.adaptive_avg_pool2d: ptflops' hook (1 x input, 1,280 x 7 x 7) and thop's
    # ((7 x 7 + 1) x 1,280) see no module there
    ("ptflops", "mobilenet_v2@224x224"): 1280 * 7 * 7,
    ("thop", "mobilenet_v2@224x224"): (7 * 7 + 1) * 1280,
    ("ptflops", "mobilenet_v2@1024x1024"): 1280 * 32 * 32,
    ("thop", "mobilenet_v2@1024x1024"): (32 * 32 + 1) * 1280,
    ("ultralytics_thop", "mobilenet_v2@224x224"): 1280 * 7 * 7 + 1280,  # its pool: 1 per input read + 1 per output
    ("ultralytics_thop", "mobilenet_v2@1024x1024"): 1280 * 32 * 32 + 1280,
    # LayerNorm2d: ptflops counts 1 x elements for nn.LayerNorm (it has no 'affine'), thop 4 x
    ("ptflops", "convnext_tiny@224x224"): CONVNEXT_LAYERNORM2D,
    ("thop", "convnext_tiny@224x224"): 4 * CONVNEXT_LAYERNORM2D,
    # F.relu and F.adaptive_avg_pool2d: ptflops' two hooks (its wrappers count on both); thop's pool (7 x 7 + 1) x C
    ("ptflops", "densenet121@224x224"): 2 * DENSE_HEAD,
    ("thop", "densenet121@224x224"): (7 * 7 + 1) * 1024,
    ("ultralytics_thop", "densenet121@224x224"): DENSE_HEAD + 1024,
    # x.mean([2, 3]): fvcore lists aten::mean (TORCHVISION_OPS), ptflops' hook and wrapper, thop's pool
    ("fvcore", "shufflenet_v2_x1_0@224x224"): DENSE_HEAD,
    ("ptflops", "shufflenet_v2_x1_0@224x224"): 2 * DENSE_HEAD,
    ("thop", "shufflenet_v2_x1_0@224x224"): (7 * 7 + 1) * 1024,
    ("ultralytics_thop", "shufflenet_v2_x1_0@224x224"): DENSE_HEAD + 1024,
    # F.interpolate: ptflops' nn.Upsample hook (output elements), thop's bilinear 11 x output elements
    ("ptflops", "lraspp_mobilenet_v3_large@520x520"): LRASPP_UPSAMPLED,
    ("thop", "lraspp_mobilenet_v3_large@520x520"): 11 * LRASPP_UPSAMPLED,
    ("ultralytics_thop", "lraspp_mobilenet_v3_large@520x520"): 11 * LRASPP_UPSAMPLED,
    # the aux head; F.avg_pool2d, F.max_pool2d and F.relu: the hooks of ptflops (its wrappers count on both) and thop
    # (avg pool: output elements, stride 1 and padding 1, as many as its input; max pool and ReLU: 0)
    ("ptflops", "r3d_18@16x112x112"): R3D_SIMPLE_CONVS,
    ("thop", "r3d_18@16x112x112"): R3D_SIMPLE_CONVS,
    ("flop_counter", "inception_v3@299x299"): INCEPTION_AUX["flop_counter"],
    ("torchinfo", "inception_v3@299x299"): INCEPTION_AUX["torchinfo"],
    ("thop", "inception_v3@299x299"): INCEPTION_AUX["thop"] + INCEPTION_POOL_BRANCHES,
    # ultralytics-thop's avg pool 3/1 pad 1 (count_include_pad): 9 reads + 1 divide per output, 10 x elements
    ("ultralytics_thop", "inception_v3@299x299"): INCEPTION_AUX["ultralytics_thop"] + 10 * INCEPTION_POOL_BRANCHES,
    ("ptflops", "inception_v3@299x299"): INCEPTION_AUX["ptflops"]
    + INCEPTION_POOL_BRANCHES
    + INCEPTION_REDUCTION_POOLS
    + INCEPTION_RELUS,
}
"""(tool, entry) -> the convention's count minus what the tool printed on torchvision's module."""

TORCHVISION_OPS = {
    # nn.Dropout(inplace=True) in the classifier traces to aten::dropout_, which is not in fvcore's ignore list
    # (aten::dropout is); the spec's dropout exports as nn.Dropout(0.2)
    "efficientnet_b0@224x224": {"aten::dropout": 1},
    "mobilenet_v3_large@224x224": {"aten::dropout": 1},
    "shufflenet_v2_x1_0@224x224": {"aten::mean": 1},
    # nn.MultiheadAttention's functional form: the scaling of q (div), the head split (unflatten), its muls
    "vit_b_16@224x224": {"aten::div": 12, "aten::mul": 49, "aten::unflatten": 12},
    # shifted_window_attention, traced: per block the position bias added (add), the padding to whole windows and its
    # size arithmetic (pad, 2 rsub; the 3 patch mergings pad too), q scaled by (C / h) ** -0.5 (pow, mul) and 2
    # more muls of sizes, F.softmax; per shifted block the mask built (9 fill_, sub, ne); PatchMerging's slices and
    # cat where the spec has pixel_unshuffle, and plain matmuls where it has scaled_dot_product_attention
    "swin_t@224x224": {
        "aten::add": 12,
        "aten::pad": 15,
        "aten::rsub": 24,
        "aten::pow": 12,
        "aten::mul": 36,
        "aten::softmax": 12,
        "aten::fill": 45,
        "aten::sub": 5,
        "aten::ne": 5,
        "aten::pixel_unshuffle": -3,
        "aten::scaled_dot_product_attention": -12,
    },
}
"""fvcore's unsupported ops on torchvision's module that the spec's modules do not have (in-place names as the plain
op's, the ``_`` dropped)."""


def printed(tool: str, key: str) -> int:
    """What the tool printed for an entry; on torchvision's module, plus what it does not see there (above)."""
    entry = recorded(tool)["networks"][key]
    assert "error" not in entry, f"{tool} could not count {key}: {entry}"  # none did; convcalc models no crash
    return int(entry["total"]) + TORCHVISION_DIFFERENCES.get((tool, key), 0)


def test_the_densenet_drift_the_issue_names():
    """Issue 26: on torchvision's DenseNet-121, thop 0.1.1 printed 2,897,007,104 and ultralytics-thop 2,897,709,568. The
    difference: the three transitions' avg pools 2/2, per output element in 0.1.1, each input read + each output in
    2.2.x: their inputs, 128 x 56 x 56 + 256 x 28 x 28 + 512 x 14 x 14. The spec's conventions differ alike; both
    print less on torchvision's module than on the spec by its functional head (F.adaptive_avg_pool2d)."""
    old, new = (recorded(tool)["networks"]["densenet121@224x224"]["total"] for tool in ("thop", "ultralytics_thop"))
    assert (old, new) == (2_897_007_104, 2_897_709_568)
    spec = network("densenet121@224x224").layers
    counts = [count_layers(spec, CONVENTIONS[tool]).count for tool in ("thop", "ultralytics_thop")]
    assert counts[1] - counts[0] == new - old == 128 * 56 * 56 + 256 * 28 * 28 + 512 * 14 * 14
    assert counts[1] - (DENSE_HEAD + 1024) == 2_897_709_568


def test_the_torchvision_differences_are_torchvision_entries():
    assert all(torchvision_module(tool, key) for tool, key in TORCHVISION_DIFFERENCES)
    assert all(torchvision_module("fvcore", key) for key in TORCHVISION_OPS)


@pytest.mark.parametrize(("tool", "key"), [(tool, key) for tool in TOOLS for key in entries(tool)])
def test_totals_equal_what_the_tool_printed(tool: str, key: str):
    assert count_layers(network(key).layers, CONVENTIONS[tool]).count == printed(tool, key)


EXPORTS = [(tool, key) for tool in TOOLS for key in entries(tool) if not torchvision_module(tool, key)]


@pytest.mark.parametrize(("tool", "key"), EXPORTS)
def test_every_layer_equals_the_tool(tool: str, key: str):
    entry = recorded(tool)["networks"][key]
    analysis = network(key)
    counting = count_layers(analysis.layers, CONVENTIONS[tool])
    expected = by_layer(entry, {layer.name for layer in analysis.layers})
    flops = CONVENTIONS[tool].unit == "FLOPs"
    mine = {t.layer.name: (t.flops if flops else t.macs) for t in counting.layers}
    assert {name: count for name, count in mine.items() if count != expected.get(name, 0)} == {}


@pytest.mark.parametrize("key", [key for key in entries("ptflops") if ("ptflops", key) in EXPORTS])
def test_ptflops_hooks_are_its_per_layer_table(key: str):
    entry = recorded("ptflops")["networks"][key]
    counting = count_layers(network(key).layers, CONVENTIONS["ptflops-hooks"])
    assert counting.count == sum(entry["modules"].values())


@pytest.mark.parametrize("key", entries("fvcore"))
def test_fvcore_lists_the_ops_it_skipped(key: str):
    """fvcore's unsupported ops, by name and count (an in-place op named OP_). torchvision's modules run some ops in
    place where the spec does not say so (its residual add_): there the names are compared without the ``_``."""
    counting = count_layers(network(key).layers, CONVENTIONS["fvcore"])
    recorded_ops = recorded("fvcore")["networks"][key]["unsupported_ops"]
    if not torchvision_module("fvcore", key):
        assert counting.skipped() == recorded_ops
        return
    plain: dict[str, int] = {}
    for op, times in [*counting.skipped().items(), *((op, -times) for op, times in recorded_ops.items())]:
        plain[op.removesuffix("_")] = plain.get(op.removesuffix("_"), 0) + times
    assert {op: times for op, times in plain.items() if times} == {
        op: -times for op, times in TORCHVISION_OPS.get(key, {}).items()
    }


def test_torchvision_is_flop_counter_halved_and_its_published_ops():
    """torchvision's published figures count multiply-adds as torch's flop counter does, and attention's two products
    of activations too, which the flop counter's CPU attention kernel leaves out (Q K^T and A V: 2 x T x T x D, of
    an attention layer or a dot-product attention)."""
    for key in entries("flop_counter"):
        counting = count_layers(network(key).layers, CONVENTIONS["torchvision"])
        products = sum(  # on D x T tokens (on D x P x T the CPU kernel falls back to bmm, which it counts)
            2 * layer.output_shape[-1] ** 2 * layer.output_shape[0]
            for layer in network(key).layers
            if layer.type == "attention" and len(layer.output_shape) == 2
        )
        products += sum(  # a dot-product attention on Q = K = V of heads x T x d: 2 x heads x T x T x d
            2 * layer.output_shape[0] * layer.output_shape[1] ** 2 * layer.output_shape[2]
            for layer in network(key).layers
            if layer.type == "dot_product_attention"
        )
        assert 2 * counting.count == printed("flop_counter", key) + 2 * products
    # torchvision's published GFLOPS (weights.meta["_ops"], 3 decimals): ResNet-50 4.089, MobileNetV2 0.301
    assert round(count_layers(network("resnet50@224x224").layers, CONVENTIONS["torchvision"]).count / 1e9, 3) == 4.089
    assert round(count_layers(network("mobilenet_v2@224x224").layers, CONVENTIONS["torchvision"]).count / 1e9, 3) == (
        0.301
    )
    # ViT-B/16: 17.564 (its attention's products included)
    assert round(count_layers(network("vit_b_16@224x224").layers, CONVENTIONS["torchvision"]).count / 1e9, 3) == 17.564


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_every_layer_kind_has_a_rule(name: str):
    for _, registry in CONVENTIONS[name].parts:
        assert sorted(set(CATALOGUE) - set(registry)) == []


# --- one layer per rule, by hand -----------------------------------------------------------------------------


def one_layer(tmp_path: Any, input_shape: str, layer: str, tool: str) -> tuple[int, tuple[str, ...]]:
    spec = tmp_path / "one.yaml"
    spec.write_text(f"input: {input_shape}\nlayers:\n  - {layer}\n", encoding="utf-8")
    counting = count_layers(analyze(str(spec)).layers, CONVENTIONS[tool])
    return counting.count, counting.layers[0].skipped


HAND = [
    # conv 3 -> 8, 3x3, pad 1, bias, on 3x10x10: 8 x 10 x 10 x 3 x 3 x 3 = 21,600 multiply-adds; bias 800
    ("fvcore", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 21_600, ()),
    ("fvcore", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: same}", 0, ("aten::_convolution_mode",)),
    # 'same' at stride 2 on 7x7: 4 outputs, (4 - 1) x 2 + 3 - 7 = 2 padded, 1 a side, written as padding=1: counted
    # 8 x 4 x 4 x 3 x 3 x 3 = 3,456 with nothing unsupported
    ("fvcore", "[3, 7, 7]", "{type: conv, filters: 8, kernel: 3, stride: 2, padding: same, bias: false}", 3_456, ()),
    ("ptflops", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 21_600 + 800, ()),
    ("thop", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 21_600, ()),
    ("torchinfo", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", (216 + 8) * 100, ()),
    ("flop_counter", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 2 * 21_600, ()),
    # transposed 4 -> 2, 2x2 stride 2 on 4x5x5 (output 2x10x10): input-based 5 x 5 x 4 x 2 x 4 = 800
    ("fvcore", "[4, 5, 5]", "{type: conv_transpose, filters: 2, kernel: 2, stride: 2, bias: false}", 800, ()),
    ("thop", "[4, 5, 5]", "{type: conv_transpose, filters: 2, kernel: 2, stride: 2, bias: false}", 2 * 100 * 4 * 4, ()),
    # batch norm on 4x5x5 (100 elements, 8 parameters)
    ("fvcore", "[4, 5, 5]", "{type: batchnorm}", 2 * 100, ()),
    ("ptflops", "[4, 5, 5]", "{type: batchnorm}", 2 * 100, ()),
    ("thop", "[4, 5, 5]", "{type: batchnorm}", 4 * 100, ()),
    ("torchinfo", "[4, 5, 5]", "{type: batchnorm}", 8, ()),
    # ReLU on 100 elements: ptflops' hook and its F.relu wrapper; ReLU6: the hook only
    ("ptflops", "[4, 5, 5]", "{type: relu}", 100 + 100, ()),
    ("ptflops", "[4, 5, 5]", "{type: relu6}", 100, ()),
    ("fvcore", "[4, 5, 5]", "{type: relu6}", 0, ("aten::hardtanh",)),
    # max pool 2x2 on 4x6x6 -> 4x3x3: ptflops 2 x input (144); fvcore unsupported
    ("ptflops", "[4, 6, 6]", "{type: maxpool, kernel: 2}", 2 * 144, ()),
    ("fvcore", "[4, 6, 6]", "{type: maxpool, kernel: 2}", 0, ("aten::max_pool2d",)),
    # global average pool on 4x6x6: fvcore 1 x input; thop (36 + 1) x 4; adaptive 6x6 -> 4x4: int((1.5 * 1.5 + 1) x 64)
    ("fvcore", "[4, 6, 6]", "{type: global_avgpool}", 144, ()),
    ("thop", "[4, 6, 6]", "{type: global_avgpool}", 37 * 4, ()),
    ("thop", "[4, 6, 6]", "{type: adaptive_avgpool, output: 4}", 208, ()),
    # linear 12 -> 5 with bias: ptflops and torchinfo count the bias
    ("fvcore", "[12]", "{type: linear, units: 5}", 60, ()),
    ("ptflops", "[12]", "{type: linear, units: 5}", 65, ()),
    ("torchinfo", "[12]", "{type: linear, units: 5}", 65, ()),
    # softmax over 10: thop 3 x 10 - 1; ptflops' F.softmax wrapper 10
    ("thop", "[10]", "{type: softmax}", 29, ()),
    ("ptflops", "[10]", "{type: softmax}", 10, ()),
    # LRN size 5 on 8x3x3: ptflops 3 x 72 + (8 + 4) x 3 x 3
    ("ptflops", "[8, 3, 3]", "{type: lrn}", 216 + 108, ()),
    # layer norm over channels on 4x5x5: fvcore 5 x 100; ptflops 1 x 100 (no 'affine' attribute); thop 4 x 100
    ("fvcore", "[4, 5, 5]", "{type: layernorm}", 500, ()),
    ("ptflops", "[4, 5, 5]", "{type: layernorm}", 100, ()),
    ("thop", "[4, 5, 5]", "{type: layernorm}", 400, ()),
    ("thop", "[4, 5, 5]", "{type: groupnorm, groups: 2}", 0, ()),
    # bilinear upsampling x2 on 4x5x5 -> 400 outputs: fvcore x 4, thop x 11, ptflops hook + F.interpolate
    ("fvcore", "[4, 5, 5]", "{type: upsample, scale: 2, mode: bilinear}", 1600, ()),
    ("thop", "[4, 5, 5]", "{type: upsample, scale: 2, mode: bilinear}", 4400, ()),
    ("ptflops", "[4, 5, 5]", "{type: upsample, scale: 2, mode: bilinear}", 800, ()),
    # layer scale: torchinfo's parameter is named gamma, not weight: 0
    ("torchinfo", "[4, 5, 5]", "{type: scale}", 0, ()),
    # a Linear 4 -> 5 at each of the 3 x 2 positions (ConvNeXt's, channels-last): ptflops counts its bias at every
    # position, thop and flop_counter no bias, torchinfo its 25 parameters once
    ("ptflops", "[4, 3, 2]", "{type: linear, units: 5, per_position: true}", 6 * (4 * 5 + 5), ()),
    ("thop", "[4, 3, 2]", "{type: linear, units: 5, per_position: true}", 6 * 4 * 5, ()),
    ("flop_counter", "[4, 3, 2]", "{type: linear, units: 5, per_position: true}", 2 * 6 * 4 * 5, ()),
    ("torchinfo", "[4, 3, 2]", "{type: linear, units: 5, per_position: true}", 4 * 5 + 5, ()),
    # squeeze-and-excitation's multiply and the activations of the modern networks on 100 elements
    ("fvcore", "[4, 5, 5]", "{type: multiply, inputs: [input, input]}", 0, ("aten::mul",)),
    ("fvcore", "[4, 5, 5]", "{type: hardswish}", 0, ("aten::hardswish",)),
    ("ptflops", "[4, 5, 5]", "{type: silu}", 100, ()),
    ("ptflops", "[4, 5, 5]", "{type: hardswish}", 0, ()),
    # a channel shuffle is view, transpose, reshape: ignored by fvcore, not listed
    ("fvcore", "[4, 5, 5]", "{type: channel_shuffle, groups: 2}", 0, ()),
    # ultralytics-thop's pools read each window as it lies: avg pool 3/2 pad 1 on 4x6x6 -> 3x3, windows [-1, 2),
    # [1, 4), [3, 6): 9 reads per axis with the padding (4 x 9 x 9), 2 + 3 + 3 without; + 1 per output (36)
    ("ultralytics_thop", "[4, 6, 6]", "{type: avgpool, kernel: 3, stride: 2, padding: 1}", 4 * 9 * 9 + 36, ()),
    (
        "ultralytics_thop",
        "[4, 6, 6]",
        "{type: avgpool, kernel: 3, stride: 2, padding: 1, count_include_pad: false}",
        4 * 8 * 8 + 36,
        (),
    ),
    # 2/2 with ceil_mode on 4x5x5 -> 3x3: windows of 2, 2 and 1 (the input's 5 per axis)
    ("ultralytics_thop", "[4, 5, 5]", "{type: avgpool, kernel: 2, ceil_mode: true}", 4 * 5 * 5 + 36, ()),
    # adaptive 6 -> 4: windows [0, 2), [1, 3), [3, 5), [4, 6), 8 per axis; global: 1 x input + 1 x output
    ("ultralytics_thop", "[4, 6, 6]", "{type: adaptive_avgpool, output: 4}", 4 * 8 * 8 + 64, ()),
    ("ultralytics_thop", "[4, 6, 6]", "{type: global_avgpool}", 144 + 4, ()),
    ("ultralytics_thop", "[4, 5, 5]", "{type: groupnorm, groups: 2}", 4 * 100, ()),
    ("ultralytics_thop", "[4, 5, 5]", "{type: conv_transpose, filters: 2, kernel: 2, stride: 2, bias: false}", 800, ()),
    ("ultralytics_thop", "[4, 5, 5]", "{type: upsample, scale: 2}", 0, ()),
    ("ultralytics_thop", "[4, 5, 5]", "{type: upsample, scale: 2, mode: bilinear}", 11 * 400, ()),
    # count_upsample: 5 per output element for linear (2 x 8 = 16 here), 13 x 2 + 5 = 31 for trilinear (4 x 4 x 4)
    ("ultralytics_thop", "[2, 4]", "{type: upsample, scale: 2, mode: linear}", 16 * 5, ()),
    ("ultralytics_thop", "[1, 2, 2, 2]", "{type: upsample, scale: 2, mode: trilinear}", 64 * 31, ()),
    # softmax over the 5 rows of 4x5x6: 120 / 5 = 24 rows of 5 features, each 5 exps + 4 adds + 5 divides = 14
    ("thop", "[4, 5, 6]", "{type: softmax, axis: 1}", 24 * 14, ()),
    # 8 features x 4 tokens, 2 heads: projections 4 x 8 x (24 + 8), Q K^T and A V 2 x 4 x 4 x 8
    ("ultralytics_thop", "[8, 4]", "{type: attention, heads: 2}", 1_024 + 256, ()),
]


@pytest.mark.parametrize(("tool", "shape", "layer", "count", "skipped"), HAND)
def test_one_layer_by_hand(tmp_path: Any, tool: str, shape: str, layer: str, count: int, skipped: tuple[str, ...]):
    assert one_layer(tmp_path, shape, layer, tool) == (count, skipped)


def test_fvcore_drops_what_never_reaches_the_output(tmp_path: Any):
    """A branch nobody reads is not in fvcore's trace; the other tools run it (a 1x1 conv 2 -> 3 on 2x4x4: 96)."""
    spec = tmp_path / "dangling.yaml"
    spec.write_text(
        "input: [2, 4, 4]\nlayers:\n  - {type: conv, name: dangling, filters: 3, kernel: 1, bias: false}\n"
        "  - {type: relu, input: input}\n",
        encoding="utf-8",
    )
    layers = analyze(str(spec)).layers
    assert count_layers(layers, CONVENTIONS["fvcore"]).count == 0
    assert count_layers(layers, CONVENTIONS["thop"]).count == 3 * 16 * 2


def test_a_batch_multiplies_every_count():
    single = count_layers(network("resnet18@224x224").layers, CONVENTIONS["thop"]).count
    batch = analyze("resnet18", batch=4)
    assert count_layers(batch.layers, CONVENTIONS["thop"], batch=4).count == 4 * single


SMALL = [
    {"type": "conv", "name": "c", "filters": 8, "kernel": 3, "bias": False},  # 4x8x8 -> 8x6x6
    {"type": "conv", "name": "d", "filters": 8, "kernel": 3, "groups": 8, "bias": False},  # depthwise -> 8x4x4
    {"type": "flatten"},  # 128
    {"type": "linear", "name": "l", "units": 10},
]


def test_a_batch_multiplies_the_rules_that_read_convcalcs_macs():
    """torchvision's rule is convcalc's MACs per sample: the conv c on 4x8x8, 8 x 6 x 6 x 4 x 3 x 3 = 10,368 per
    sample, is 20,736 for a batch of 2."""
    batch = analyze_layers([4, 8, 8], SMALL[:1], batch=2)
    assert count_layers(batch.layers, CONVENTIONS["torchvision"], batch=2).count == 2 * 10_368


def test_counts_flops_and_differences_on_a_small_network():
    """SMALL: c 10,368 MACs (no bias), d 8 x 4 x 4 x 1 x 9 = 1,152, l 128 x 10 = 1,280: 12,800. convcalc's FLOPs: 2 x
    MACs, and the linear's 10 bias adds: 20,736 + 2,304 + 2,570 = 25,610; its headline count is the MACs.
    flop_counter counts 2 x MACs without bias: 10 fewer FLOPs, all of them the linear's. thop counts the same 12,800
    MACs and no FLOPs: the recounted analysis says 0 FLOPs."""
    from convcalc.api import counted_as
    from convcalc.passes.conventions.counting import difference_by_kind

    analysis = analyze_layers([4, 8, 8], SMALL)
    own = count_layers(analysis.layers, CONVENTIONS["convcalc"])
    assert (own.count, own.macs, own.flops) == (12_800, 12_800, 25_610)
    assert difference_by_kind(count_layers(analysis.layers, CONVENTIONS["flop_counter"]), own) == {"linear": -10}
    thop = counted_as(analysis, "thop")
    assert (thop.total.macs, thop.total.flops, [layer.flops for layer in thop.layers]) == (12_800, 0, [0] * 4)


def test_differences_by_kind_largest_first_then_by_name():
    """ptflops on 4x8x8 (256 elements): a ReLU counted twice (module hook and F.relu wrapper), 2 x 256 = 512; a batch
    norm 2 x 256 = 512; a linear 256 -> 10 with its 10 bias adds, 10 more than convcalc's 2,560 MACs. The ties in
    name order (batchnorm before relu, though the relu comes first), then the linear."""
    from convcalc.passes.conventions.counting import difference_by_kind

    layers = [{"type": "relu"}, {"type": "batchnorm"}, {"type": "flatten"}, {"type": "linear", "units": 10}]
    analysis = analyze_layers([4, 8, 8], layers)
    ptflops, own = (count_layers(analysis.layers, CONVENTIONS[name]) for name in ("ptflops", "convcalc"))
    assert list(difference_by_kind(ptflops, own).items()) == [("batchnorm", 512), ("relu", 512), ("linear", 10)]


def test_what_a_tool_skips_or_crashes_on_is_said_per_layer():
    """fvcore lists aten::max_pool2d as unsupported (its recordings, tests/data/peers/fvcore.json): the recounted max
    pool's note says so. onnx-tool raises on torch's LRN export: its explained rule says so and counts 0."""
    from convcalc.api import counted_as

    analysis = analyze_layers([4, 8, 8], [{"type": "lrn", "name": "n", "size": 3}, {"type": "maxpool", "kernel": 2}])
    assert counted_as(analysis, "fvcore").layers[1].note == "not counted: aten::max_pool2d"
    (step,) = explain_rules(analysis.layers[0], CONVENTIONS["onnx-tool"])
    assert "The tool raises: " in step.rule and (step.formula, step.value) == ("0", 0)


def test_explain_names_groups_only_where_there_are_groups_and_a_flat_input_as_n():
    """thop's conv rule on c: 8 x 6 x 6 x 4 x 3 x 3 = 10,368, no groups in it; on the depthwise d, 8 x 4 x 4 x
    (8 / 8) x 3 x 3 = 1,152; its linear rule on the flat 128 features: N_in x N_out = 128 x 10 = 1,280.
    torchvision's rule on c is convcalc's MACs, the same 10,368."""
    layers = {layer.name: layer for layer in analyze_layers([4, 8, 8], SMALL).layers}
    explained = {name: explain_rules(layers[name], CONVENTIONS["thop"]) for name in ("c", "d", "l")}
    shown = {
        name: [(step.formula, step.substituted, step.value) for step in steps] for name, steps in explained.items()
    }
    assert shown == {
        "c": [("C_out * H_out * W_out * C_in * k_h * k_w", "8 * 6 * 6 * 4 * 3 * 3", 10_368)],
        "d": [("C_out * H_out * W_out * (C_in / groups) * k_h * k_w", "8 * 4 * 4 * (8 / 8) * 3 * 3", 1_152)],
        "l": [("N_in * N_out", "128 * 10", 1_280)],
    }
    (step,) = explain_rules(layers["c"], CONVENTIONS["torchvision"])  # convcalc's MACs of a sample
    assert (step.formula, step.value) == ("MACs", 10_368)
    assert explained["c"][0].rule.startswith("output elements x C_in / groups x k_h x k_w, no bias")  # the rule's text
    (step,) = explain_rules(layers["c"], CONVENTIONS["flop_counter"])  # 2 x the multiply-adds, in FLOPs
    assert step.rule.startswith("2 x (C_out x H_out x W_out x C_in / groups x k_h x k_w") and step.value == 2 * 10_368


def test_explain_substitutes_the_rule():
    """ResNet-50's bn1 under thop: 2 x 64 x 112 x 112 x 2 = 3,211,264 (docs/peer-rules.md)."""
    bn1 = next(layer for layer in network("resnet50@224x224").layers if layer.name == "bn1")
    (step,) = explain_rules(bn1, CONVENTIONS["thop"])
    assert (step.substituted, step.value) == ("2 * 64 * 112 * 112 * 2", 3_211_264)


# --- the command line ------------------------------------------------------------------------------------------


def test_analyze_convention_json():
    result = run_cli("analyze", "resnet50", "--convention", "ptflops", "--format", "json")
    data = json.loads(result.stdout)
    assert data["total"]["macs"] == recorded("ptflops")["networks"]["resnet50@224x224"]["total"]
    assert "flops" not in data["total"] and data["convention"]["version"] == "0.7.5"
    assert data["convention"]["name"] == "ptflops"


def test_analyze_convention_flops_and_table():
    data = json.loads(run_cli("analyze", "resnet50", "--convention", "flop_counter", "--format", "json").stdout)
    assert data["total"]["flops"] == 8_178_368_512 and data["total"]["macs"] == 4_089_184_256
    table = run_cli("analyze", "resnet50", "--convention", "fvcore", "--exact").stdout
    assert "4,111,512,576" in table and "aten::max_pool2d" in table


def test_unknown_convention_and_missing_flops_are_usage_errors():
    unknown = run_cli("analyze", "resnet50", "--convention", "onnx")
    assert unknown.code == 2 and "fvcore" in unknown.stderr
    flops = run_cli("analyze", "resnet50", "--convention", "thop", "--columns", "name,flops")
    assert flops.code == 2 and "no FLOPs" in flops.stderr


def test_conventions_command():
    data = json.loads(run_cli("conventions", "resnet50", "--format", "json").stdout)
    rows = {row["name"]: row for row in data["conventions"]}
    assert rows["fvcore"]["count"] == 4_111_512_576
    # fvcore - convcalc: batch norm 2 x 11,113,984 elements, the global pool 2,048 x 7 x 7
    assert rows["fvcore"]["by_kind"] == {"batchnorm": 22_227_968, "global_avgpool": 100_352}
    assert rows["torchinfo"]["by_kind"] == {"batchnorm": 53_120, "linear": 1_000}
    text = run_cli("conventions", "resnet50").stdout
    assert "+22.23M batchnorm" in text and "flop_counter" in text
    # each row names the package and version it reproduces, as the recordings name them
    for tool in TOOLS:
        package = {"flop_counter": "torch", "ultralytics_thop": "ultralytics-thop"}.get(tool, tool)
        assert (rows[tool]["package"], rows[tool]["version"]) == (package, recorded(tool)["version"])
        assert f"{package} {recorded(tool)['version']}" in text


def test_the_help_names_every_convention():
    """--convention's help lists the names (wrapped anywhere, a hyphen too: compared without whitespace)."""
    *names, last = CONVENTIONS
    listed = "".join(f"{', '.join(names)} or {last}".split())
    for command in ("analyze", "explain"):
        assert listed in "".join(run_cli(command, "--help").stdout.split()), command


def test_explain_convention_text():
    text = run_cli("explain", "resnet50", "maxpool", "--convention", "fvcore").stdout
    assert "aten::max_pool2d" in text and "fvcore" in text


def test_readme_table_holds_the_recorded_totals():
    section = page("explanation/conventions.md")
    for tool in TOOLS:
        total = recorded(tool)["networks"]["resnet50@224x224"]["total"]
        assert f"| `{tool}` |" in section and f"| {total:,} |" in section, tool
    assert f"| `onnx-tool` | onnx-tool 1.0.1 | MACs | {recorded('onnx_tool')['networks']['resnet50']['total']:,} |" in (
        section
    )
    # every convention's row, with the package and version it reproduces (the recordings' for the recorded tools)
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = {
        row.split(" | ")[0].strip("|` "): row.split(" | ")[1] for row in rows if " | MACs | " in row or "FLOPs" in row
    }
    assert named == {name: chosen.release for name, chosen in CONVENTIONS.items()}


# --- onnx-tool: the ONNX fixtures (tests/data/peers/onnx_tool.json, tools/record_onnx_tool.py) -------------------

ONNX_FILES = REPO / "tests" / "data" / "onnx"


def onnx_entries(counted: bool) -> list[str]:
    return sorted(key for key, entry in recorded("onnx_tool")["networks"].items() if ("error" in entry) != counted)


def test_the_onnx_tool_convention_names_the_recorded_version():
    assert CONVENTIONS["onnx-tool"].version == recorded("onnx_tool")["version"]


SHAPE_ARITHMETIC = {
    # onnx-tool also counts ops on shape numbers, once at any batch, which the convention leaves out as no count per
    # sample. ViT-B/16, 12 attention layers: the scale d^-1/4 is 3 Sqrt (24 each) and a Div (4) of one number; the
    # class token's Equal and Mul on its 3-number shape count 3 each.
    "vit_b_16": 12 * (3 * 24 + 4) + 2 * 3,
    # torchvision's nn.MultiheadAttention exports 3 more ops on numbers (Add, Add, Mod: 1 each) per layer
    "vit_b_16.torchvision": 12 * (3 * 24 + 4 + 3) + 2 * 3,
    "mobilevit_xxs": (2 + 4 + 3) * (3 * 24 + 4),  # its 9 attention layers' scales
    # Swin-T's 12 attention layers' scales, and in each of the 5 shifted blocks the position bias added to the mask
    # (heads x 49 x 49 per window, on weights alone)
    "swin_t": 12 * (3 * 24 + 4) + (64 * 3 + 16 * 6 + 3 * 4 * 12) * 49 * 49,
}


@pytest.mark.parametrize("key", onnx_entries(counted=True))
def test_onnx_tool_totals_equal_what_it_printed(key: str):
    """The file as convcalc imports it, and the bundled spec it was exported from (SPEC.onnx, SPEC.torchvision.onnx);
    a file recorded at its exported batch of 2 is twice batch 1 (every onnx-tool count per sample is a volume with
    the batch), + its shape arithmetic."""
    entry = recorded("onnx_tool")["networks"][key]
    spec = count_layers(analyze(key.split(".")[0]).layers, CONVENTIONS["onnx-tool"])
    assert entry["batch"] * spec.count + SHAPE_ARITHMETIC.get(key, 0) == entry["total"]
    if key not in NOT_IMPORTED_YET:
        imported = count_layers(analyze(str(ONNX_FILES / f"{key}.onnx")).layers, CONVENTIONS["onnx-tool"])
        assert entry["batch"] * imported.count == entry["total"]


@pytest.mark.parametrize("key", sorted(NOT_IMPORTED_YET))
def test_an_export_the_import_cannot_read_yet_is_refused_with_its_node(key: str):
    result = run_cli("analyze", str(ONNX_FILES / f"{key}.onnx"))
    assert result.code == 2 and f"{key}.onnx: node " in result.stderr and "Traceback" not in result.stderr


def layer_of(node: str, op: str, origins: dict[str, str], names: set[str]) -> str:
    """The convcalc layer an ONNX node belongs to: the layer it became, else its name as the import's layer_name
    reads it ('/layer1/layer1.0/conv1/Sigmoid' -> 'layer1.0.conv1'), shortened to the longest layer name."""
    if node in origins:
        return origins[node]
    parts = [part for part in node.split("/") if part]
    if parts and parts[-1].split("_")[0] == op:
        parts.pop()
    kept: list[str] = []
    for part in parts:
        if kept and part.startswith(kept[-1] + "."):
            kept[-1] = part
        else:
            kept.append(part)
    name = ".".join(kept)
    while name and name not in names:
        name = name.rpartition(".")[0]
    return name


@pytest.mark.parametrize("key", sorted(set(onnx_entries(counted=True)) - NOT_IMPORTED_YET))
def test_onnx_tool_every_layer_equals_its_nodes(key: str):
    from convcalc.importers.onnx.read import read_onnx_file

    entry = recorded("onnx_tool")["networks"][key]
    path = str(ONNX_FILES / f"{key}.onnx")
    origins: dict[str, str] = {}
    read_onnx_file(path, origins)
    layers = analyze(path).layers
    names = {layer.name for layer in layers}
    expected: dict[str, int] = {}
    for node, numbers in entry["nodes"].items():
        name = layer_of(node, numbers["op"], {v: k for k, v in origins.items()}, names)
        assert numbers["macs"] == 0 or name in names, f"onnx-tool counts {node} ({numbers['op']}), no convcalc layer"
        expected[name] = expected.get(name, 0) + numbers["macs"]
    counting = count_layers(layers, CONVENTIONS["onnx-tool"])
    mine = {t.layer.name: entry["batch"] * t.macs for t in counting.layers}
    assert {name: count for name, count in mine.items() if count != expected.get(name, 0)} == {}


@pytest.mark.parametrize("key", onnx_entries(counted=False))
def test_where_onnx_tool_crashes_convcalc_says_so(key: str):
    """alexnet and googlenet: torch exports their LRN with an If, on which onnx-tool raises."""
    error = recorded("onnx_tool")["networks"][key]["error"]
    counting = count_layers(analyze(key.split(".")[0]).layers, CONVENTIONS["onnx-tool"])
    assert counting.crash is not None and error["type"] in counting.crash
    assert error["message"].replace("-/lrn1/If", "").replace("-/norm1/If", "") in counting.crash
    result = run_cli("analyze", key.split(".")[0], "--convention", "onnx-tool")
    assert result.code == 2 and "cannot count this network" in result.stderr


def test_onnx_tool_params_add_batch_norms_running_statistics():
    """ResNet-50: 25,557,032 parameters + running mean and variance of its 26,560 batch-norm channels."""
    assert recorded("onnx_tool")["networks"]["resnet50"]["params"] == 25_557_032 + 2 * 26_560


ONNX_TOOL_HAND = [
    # conv 3 -> 8, 3x3, pad 1, bias, on 3x10x10: 800 outputs x 27 + 800 for the bias
    ("[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 800 * 27 + 800),
    # transposed 4 -> 2, 2x2 stride 2 on 4x5x5: 200 outputs x (2 x 2 x 2) (recorded by hand: 3,200 at batch 2)
    ("[4, 5, 5]", "{type: conv_transpose, filters: 2, kernel: 2, stride: 2, bias: false}", 1_600),
    # in 2 groups, 4 -> 4: 4 x 10 x 10 = 400 outputs x (4 / 2 x 2 x 2)
    ("[4, 5, 5]", "{type: conv_transpose, filters: 4, kernel: 2, stride: 2, groups: 2, bias: false}", 400 * 8),
    ("[4, 5, 5]", "{type: batchnorm}", 31 * 100),
    ("[4, 5, 5]", "{type: layernorm, over: all, affine: false}", 7 * 100 + 29 * 25),
    ("[4, 5, 5]", "{type: groupnorm, groups: 2}", 9 * 100),
    ("[4, 5, 5]", "{type: groupnorm, groups: 2, affine: false}", 7 * 100),  # InstanceNormalization only
    ("[4, 6, 6]", "{type: adaptive_avgpool, output: [3, 2]}", 144),
    ("[4, 6, 6]", "{type: global_avgpool}", 144 + 4 * 4),
    ("[4, 5, 5]", "{type: tanh}", 76 * 100),
    ("[4, 5, 5]", "{type: silu}", 33 * 100),
    ("[10]", "{type: softmax}", 36 * 10),
    ("[12]", "{type: linear, units: 5}", 65),
    # 8 features x 4 tokens, 2 heads: projections 4 x 8 x (24 + 8) = 1,024, their biases (24 + 8) x 4 = 128, Q and K
    # scaled 2 x 32, Q K^T and A V 2 x (4 x 4 x 8) = 256, softmax 36 x 2 x 4 x 4 = 1,152
    ("[8, 4]", "{type: attention, heads: 2}", 1_024 + 128 + 64 + 256 + 1_152),
    # without biases or an output projection: Q, K, V 4 x 8 x 24 = 768, Q and K scaled 64, products 256, softmax 1,152
    ("[8, 4]", "{type: attention, heads: 2, qkv_bias: false, projection: false}", 768 + 64 + 256 + 1_152),
    ("[8, 4]", "{type: position_embedding}", 32),
    ("[4, 5, 5]", "{type: leaky_relu}", 2 * 100),
    (
        "[4, 5, 5]",
        "{type: arithmetic, op: mul, inputs: [input], constant: [1]}",
        100,
    ),  # one Mul node by a constant: 1 per element
    ("[4, 5, 5]", "{type: upsample, scale: 2}", 0),  # Resize, nearest: no arithmetic
    # 2 heads x 4 tokens x 8 features attending to themselves: Q and K scaled, 2 x 64 = 128; Q K^T and A V,
    # 2 x (2 x 4 x 4 x 8) = 512; softmax 36 x 2 x 4 x 4 = 1,152
    ("[2, 4, 8]", "{type: dot_product_attention, inputs: [input, input, input]}", 128 + 512 + 1_152),
]


@pytest.mark.parametrize(("shape", "layer", "count"), ONNX_TOOL_HAND)
def test_onnx_tool_one_layer_by_hand(tmp_path: Any, shape: str, layer: str, count: int):
    assert one_layer(tmp_path, shape, layer, "onnx-tool") == (count, ())


def test_an_adaptive_pool_that_does_not_divide_on_one_axis_does_not_export(tmp_path: Any):
    """torch.onnx.export refuses an adaptive pool whose output does not divide its input: 6 rows into 4 here (the 6
    columns into 3 would)."""
    spec = tmp_path / "adaptive.yaml"
    spec.write_text("input: [4, 6, 6]\nlayers:\n  - {type: adaptive_avgpool, output: [4, 3]}\n", encoding="utf-8")
    counting = count_layers(analyze(str(spec)).layers, CONVENTIONS["onnx-tool"])
    assert counting.crash is not None and "does not divide its input size" in counting.crash


def test_every_convention_names_every_kind_none_counts_zero_by_omission():
    """Each registry of each tool maps every catalogue kind, to a rule or to the explicit 0 of its not-counted list: a
    new kind must be decided for every tool (a KeyError would otherwise be the user's first sign)."""
    for chosen in CONVENTIONS.values():
        for part, registry in chosen.parts:
            assert set(registry) == set(CATALOGUE), (chosen.name, part, set(CATALOGUE) ^ set(registry))


def test_a_kind_is_never_both_counted_and_not_counted():
    from convcalc.passes.conventions.rules import output_elements, table

    with pytest.raises(ValueError, match="both counted and not counted: relu"):
        table({"relu": output_elements}, not_counted=("relu", "flatten"))
