"""Real networks as PyTorch 2.13 exports them (tests/data/onnx/real, written by tools/record_torch_reference.py), held
to torch's own numbers for the same module (tests/data/torch/NAME.json): FLOPs under ``--convention flop_counter``
equal torch's FlopCounterMode count, the output shape equals the module's, and the parameters equal
``sum(p.numel())`` where the export keeps every parameter.

The default (dynamo) exporter's optimizer folds batch norm away and drops biases that are all zeros (these modules are
untrained: torchvision's MNASNet and video ResNets initialise the classifier's bias to 0), so its files hold fewer
parameters than the module: each difference is written out below from the record's modules. Every export imports
with torch's FLOPs; those whose parameters differ for another reason are listed with it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from convcalc import analyze, load_spec
from convcalc.spec.writer import checked_spec
from tests.conftest import REPO

REAL = REPO / "tests" / "data" / "onnx" / "real"
TORCH = REPO / "tests" / "data" / "torch"


PARAMS_OTHERWISE = {
    "maxvit_t.dynamo": "the relative position bias tables (169 x heads: 28,392), which the exporter gathers into "
    "constants of heads x 49 x 49 named after the op (index_2), no parameter's name",
    "swin_t.dynamo": "the relative position bias tables (169 x heads in each block: 23,322), gathered by the exporter "
    "into constants named after the op, and the classifier's zero bias",
    "efficientformer_l1.dynamo": "the attention's learned bias (8 heads x 49 = 392), gathered by the exporter into a "
    "constant named after the op, and the zero biases of its two heads (2,000)",
    "nfnet_l0.dynamo": "the exporter folds each conv's gain into constants named after the op (mul_3), and some "
    "standardised weights whole (view_2): no name marks them as parameters",
    "ssdlite320_mobilenet_v3_large.dynamo": "batch norm folded, and zero biases dropped, in many heads",
}
"""Exports that import with torch's FLOPs but not its parameters yet, and why."""

ZERO_BIASES = {
    "mnasnet0_5": 1000,
    "mc3_18": 400,
    "r3d_18": 400,
    "r2plus1d_18": 400,
    "mobilevit_xxs": 1000,
    "retinanet_resnet50_fpn": 2 * 4 * 256 + 9 * 4 + 8 * 256,
    "poolformer_s12": 18_664,
    "convnext_atto": 12_640,
    "vit_b_16": 768 + 1000 + 12 * 768,
}
"""Biases the dynamo exporter drops as all zeros: torchvision and timm initialise these classifiers' biases to 0
(MNASNet's and MobileViT's 1,000 classes, the video ResNets' 400 Kinetics classes; RetinaNet's four 256-channel
convs in each of its two heads, its box regression's 9 anchors x 4, and its FPN's 4 lateral and 4 output convs;
timm's PoolFormer initialises every conv's and its head's bias to 0: the 29 Conv2d and Linear modules of the record
have 18,664 output channels, and timm's ConvNeXt initialises all 41 of its, 12,640; torchvision's ViT-B/16 its
patch embedding's (768) and its head's (1,000), and nn.MultiheadAttention the output projection's of each of the 12
encoder layers (768 each))."""

EXPORTS = sorted(path.name.removesuffix(".onnx") for path in REAL.glob("*.onnx"))


def record(network: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TORCH / f"{network}.json").read_text(encoding="utf-8"))
    return data


def shapes(returned: Any) -> list[list[int]]:
    """The shapes of what the module returns, in order: a tensor's, or the leaves of its lists and dicts (YOLO's
    predictions, boxes, scores and three feature maps; a detection head's dict of scores and boxes)."""
    if isinstance(returned, dict):
        return [shape for value in returned.values() for shape in shapes(value)]
    if returned and isinstance(returned[0], (list, dict)):
        return [shape for value in returned for shape in shapes(value)]
    return [returned]


def test_an_export_hands_out_what_the_module_returns_and_imports_back() -> None:
    """Every output of the file (in its order, the module's) is the network's; ``import`` writes them as the spec's
    ``outputs``, and the spec reads back as the same graph, folded or flat."""
    for export in ("yolov8n.torchscript", "ssdlite320_mobilenet_v3_large.dynamo"):
        graph = load_spec(str(REAL / f"{export}.onnx"))
        analysis = analyze(graph)
        assert [[1, *shape] for _, shape in analysis.outputs] == shapes(record(export.split(".")[0])["output"])
        for flat in (False, True):
            text = checked_spec(graph, flat=flat)  # a ValueError unless it reads back as the same graph
            read = analyze(load_spec("imported.yaml", text=text))
            assert [shape for _, shape in read.outputs] == [shape for _, shape in analysis.outputs]
            assert read.total == analysis.total


def batch_norm_params(network: str) -> int:
    """The parameters of the module's batch norms (torch's count, from the record)."""
    return sum(row["params"] for row in record(network)["modules"] if row["class"].startswith("BatchNorm"))


def test_every_export_is_tested_or_listed() -> None:
    assert set(PARAMS_OTHERWISE) <= set(EXPORTS)
    assert len(EXPORTS) == 2 * len(list(TORCH.glob("*.json")))


@pytest.mark.parametrize("export", EXPORTS)
def test_an_export_counts_as_torch_does(export: str) -> None:
    network, exporter = export.split(".")
    path = str(REAL / f"{export}.onnx")
    expected = record(network)
    analysis = analyze(path, convention="flop_counter")
    assert analysis.total.flops == expected["flops"]
    assert [[1, *shape] for _, shape in analysis.outputs] == shapes(expected["output"])
    if export in PARAMS_OTHERWISE:
        assert analysis.total.params != expected["params"], "counted exactly now: take it off PARAMS_OTHERWISE"
        return
    params = expected["params"]
    if exporter == "dynamo":
        params -= batch_norm_params(network) + ZERO_BIASES.get(network, 0)
    assert analysis.total.params == params


def test_the_default_exporters_layers_are_named_after_their_modules() -> None:
    """torch 2.13's default exporter names nodes 'node_Conv_516'; it records each node's module in its metadata
    (pkg.torch.onnx.name_scopes), and the layers take those names, as the TorchScript export's do from node names."""
    dynamo = {layer.name: layer.type for layer in analyze(str(REAL / "resnet34.dynamo.onnx")).layers}
    torchscript = {layer.name for layer in analyze(str(REAL / "resnet34.torchscript.onnx")).layers}
    assert not any(name.startswith("node_") for name in dynamo)
    # a leaf module's op is the module's path; an op of a block's own forward is path.kind
    assert dynamo["fc"] == "linear" and dynamo["maxpool"] == "maxpool" and dynamo["layer4.2.add"] == "add"
    assert {"fc", "maxpool", "layer4.2.relu"} <= torchscript & set(dynamo)
    # the exporter fuses each batch norm into the conv before it; the fused node keeps the batch norm's module
    assert dynamo["layer1.0.bn1"] == "conv"
