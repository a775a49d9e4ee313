"""Record PyTorch's own numbers for real networks and their ONNX exports, for tests of convcalc that run without torch.

    TVSRC=<unpacked torchvision wheel>/torchvision PEERS_TVMODELS=<folder of tvmodels.py and timmmodels.py> \\
        python tools/record_torch_reference.py [--only NAME ...] [--skip-onnx] [--skip-json]

Run from a Python with torch, timm, onnx and onnxscript (the ``peers`` setup: tools/peer_models.py says where
torchvision's and timm's builders come from). Nothing is downloaded: every network has random weights.

The YOLO entries also need ``ultralytics``, kept out of the peers environment (it brings opencv, polars and
matplotlib). They are recorded with ``--only yolov8n yolo11n`` from a separate venv: a ``.pth`` file that adds the
peers' site-packages, ``pip install --no-deps ultralytics`` plus opencv-python-headless, pillow, pyyaml, requests,
psutil, polars and matplotlib, and a ``torchvision-X.dist-info/METADATA`` (Name, Version) because ultralytics reads
torchvision's installed version at import (its modules come from the unpacked wheel). The model is built from the
YAML in the wheel, offline (YOLO_OFFLINE=1). Without ultralytics these entries are skipped.

For each network of ``NETWORKS`` (eval mode, batch 1, float32, CPU):

- ``tests/data/torch/NAME.json``: where the module comes from, the torch version, input and output shapes, the total
  parameters (``sum(p.numel())`` over ``model.parameters()``: a shared parameter once), the total FLOPs of
  ``torch.utils.flop_counter.FlopCounterMode`` and per operator, and one line per module of ``named_modules()``
  (leaves and containers, in that order): its path (``""`` is the network), class, how many times its forward ran,
  the output shape(s) of its first call from a forward hook (a shape is a list of ints; a tuple or list of outputs a
  list of those, a dict an object, ``null`` for None), its own parameters (``parameters(recurse=False)``) and the FLOPs
  the counter attributes to it (its module tracker's count: everything run inside the module's forward, its children's
  included, every call added up).
- The counter counts 2 FLOPs per multiply-accumulate of mm/addmm/bmm/baddbmm and convolutions, and attention's two
  products by formula. On a CPU it has no formula for the fused kernels: ``scaled_dot_product_attention`` and
  ``nn.MultiheadAttention``'s inference fast path count 0 there (they count on a GPU). So the forward runs with the
  fast path off (``torch.backends.mha.set_fastpath_enabled(False)``) and attention on the math backend
  (``sdpa_kernel(SDPBackend.MATH)``), where the products are bmm's of the same count as the GPU formula,
  4 * batch * heads * L_q * L_k * head_dim. ``flops_cpu_default`` is the total of a plain CPU run, for comparison.
- ``tests/data/onnx/real/NAME.torchscript.onnx`` (``torch.onnx.export(..., dynamo=False)``, opset 20, no constant
  folding, eval: batch norm stays a layer) and ``NAME.dynamo.onnx`` (the default exporter as a user calls it; its
  optimizer folds eval-mode batch norm into the convolution before it). Then ONNX's strict shape inference (with data
  propagation; a plain one where the strict one fails) and the weights are dropped, their dims kept
  (tools/record_onnx.py's ``drop_weights``). The dynamo files keep each node's module path
  (``pkg.torch.onnx.name_scopes``) and class hierarchy, not its stack trace, FX node or ``namespace`` (machine paths,
  bulk).
  ``tests/data/onnx/real/exports.json`` lists each file or the exporter's error; both READMEs are written from it and
  the JSON files.

Detection networks are recorded up to their raw head outputs (``RawDetection``): torchvision's postprocessing runs
NMS, a compiled torchvision op that the unpacked wheel does not provide, and its anchors and transform hold no
parameters. Re-record on a torch, torchvision, timm or ultralytics upgrade and say so in the commit.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer_models import REPO, shared_module
from record_onnx import OPSET, drop_weights

JSON_DIR = REPO / "tests" / "data" / "torch"
ONNX_DIR = REPO / "tests" / "data" / "onnx" / "real"
MANIFEST = ONNX_DIR / "exports.json"
EXPORTERS = ("torchscript", "dynamo")
DROPPED_METADATA = ("pkg.torch.onnx.stack_trace", "pkg.torch.onnx.fx_node", "namespace")
"""Node metadata the dynamo exporter writes that the fixtures leave out: file paths of this machine, the FX node, and
``namespace`` (the module paths and classes again, as one string: name_scopes and class_hierarchy hold them)."""


@dataclass(frozen=True)
class Network:
    """One recorded network: ``source`` is torchvision, timm, reference (tools/reference_models.py) or ultralytics;
    ``builder`` the torchvision module and builder (``video.resnet.r3d_18``), timm model name, class or YAML."""

    name: str
    source: str
    builder: str
    input: tuple[int, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    raw_detection: bool = False
    published: str = ""
    """Published parameter count and where it is stated, for the README's cross-check (empty: none checked)."""
    published_macs: str = ""
    """Published multiply-accumulates, the same way (torchvision's docs call them GFLOPS)."""


NETWORKS = [
    # 1-D and 3-D networks from their papers (issue 27)
    Network("m5", "reference", "M5", (1, 32000)),
    Network("tcn", "reference", "TCN", (1, 784)),
    Network("unet3d", "reference", "UNet3D", (3, 116, 132, 132), published="19,069,955 (Cicek et al. 2016, Sec. 3)"),
    Network(
        "r3d_18",
        "torchvision",
        "video.resnet.r3d_18",
        (3, 16, 112, 112),
        published="33.4M (torchvision docs)",
        published_macs="40.70G (torchvision docs)",
    ),
    Network(
        "r2plus1d_18",
        "torchvision",
        "video.resnet.r2plus1d_18",
        (3, 16, 112, 112),
        published="31.5M (torchvision docs)",
        published_macs="40.52G (torchvision docs)",
    ),
    Network(
        "mc3_18",
        "torchvision",
        "video.resnet.mc3_18",
        (3, 16, 112, 112),
        published="11.7M (torchvision docs)",
        published_macs="43.34G (torchvision docs)",
    ),
    # token networks and hybrids (issue 27)
    Network(
        "vit_b_16",
        "torchvision",
        "vision_transformer.vit_b_16",
        (3, 224, 224),
        published="86.6M (torchvision docs)",
        published_macs="17.56G (torchvision docs)",
    ),
    Network(
        "swin_t",
        "torchvision",
        "swin_transformer.swin_t",
        (3, 224, 224),
        published="28.3M (torchvision docs)",
        published_macs="4.49G (torchvision docs)",
    ),
    Network(
        "maxvit_t",
        "torchvision",
        "maxvit.maxvit_t",
        (3, 224, 224),
        published="30.9M (torchvision docs)",
        published_macs="5.56G (torchvision docs)",
    ),
    Network("mobilevit_xxs", "timm", "mobilevit_xxs", (3, 256, 256), published="1.3M (Mehta & Rastegari 2022)"),
    # issue 23's modules
    Network(
        "resnet34",
        "torchvision",
        "resnet.resnet34",
        (3, 224, 224),
        published="21.8M (torchvision docs)",
        published_macs="3.66G (torchvision docs)",
    ),
    Network(
        "mnasnet0_5",
        "torchvision",
        "mnasnet.mnasnet0_5",
        (3, 224, 224),
        published="2.2M (torchvision docs)",
        published_macs="0.10G (torchvision docs)",
    ),
    Network("ghostnet_100", "timm", "ghostnet_100", (3, 224, 224), published="5.2M (Han et al. 2020, Table 7)"),
    Network("convnext_atto", "timm", "convnext_atto", (3, 224, 224), published="3.7M (timm model card)"),
    # issue 27's real networks
    Network(
        "retinanet_resnet50_fpn",
        "torchvision",
        "detection.retinanet.retinanet_resnet50_fpn",
        (3, 800, 800),
        {"weights_backbone": None},
        raw_detection=True,
        published="34.0M (torchvision docs, frozen batch norm)",
        published_macs="151.54G (torchvision docs)",
    ),
    Network(
        "ssdlite320_mobilenet_v3_large",
        "torchvision",
        "detection.ssdlite.ssdlite320_mobilenet_v3_large",
        (3, 320, 320),
        {"weights_backbone": None},
        raw_detection=True,
        published="3.4M (torchvision docs)",
        published_macs="0.58G (torchvision docs)",
    ),
    Network("nfnet_l0", "timm", "nfnet_l0", (3, 224, 224), published="35.1M (timm model card)"),
    Network("resnest14d", "timm", "resnest14d", (3, 224, 224), published="10.6M (timm model card)"),
    Network("efficientvit_b0", "timm", "efficientvit_b0", (3, 224, 224), published="3.4M (timm model card)"),
    Network("poolformer_s12", "timm", "poolformer_s12", (3, 224, 224), published="12M (Yu et al. 2022, Table 1)"),
    Network("efficientformer_l1", "timm", "efficientformer_l1", (3, 224, 224), published="12.3M (Li et al. 2022)"),
    Network("yolov8n", "ultralytics", "yolov8n.yaml", (3, 640, 640), published="3.2M (Ultralytics docs)"),
    Network("yolo11n", "ultralytics", "yolo11n.yaml", (3, 640, 640), published="2.6M (Ultralytics docs)"),
]


def _raw_detection_class() -> type:
    from torch import nn

    class RawDetection(nn.Module):
        """A torchvision detector's backbone then head, on a batch of already resized and normalised images: the
        head's raw outputs (class logits and box regressions per anchor), before anchors and postprocessing."""

        def __init__(self, detector: nn.Module) -> None:
            super().__init__()
            self.backbone = detector.backbone
            self.head = detector.head

        def forward(self, x: Any) -> Any:
            return self.head(list(self.backbone(x).values()))

    return RawDetection


def torchvision_version() -> str:
    """The unpacked wheel's version (its version.py imports the compiled extension, so it is read, not imported)."""
    text = (Path(shared_module("tvmodels").TVSRC) / "version.py").read_text(encoding="utf-8")
    match = re.search(r"__version__ = '([^'+]+)", text)
    return match.group(1) if match else "unknown"


def build(network: Network) -> tuple[Any, dict[str, Any]]:
    """The module (eval mode, random weights from seed 0: the few small tensors the ONNX fixtures keep are the same
    on every recording) and where it comes from (the JSON's ``source``)."""
    import torch

    torch.manual_seed(0)
    if network.source == "reference":
        import reference_models

        model = getattr(reference_models, network.builder)(**network.kwargs)
        return model.eval(), {"module": "tools/reference_models.py", "class": network.builder, "kwargs": {}}
    if network.source == "timm":
        import timm

        model = shared_module("timmmodels").model(network.builder, **network.kwargs)
        source = {
            "library": f"timm {timm.__version__}",
            "builder": "timm.create_model",
            "args": [network.builder],
            "kwargs": {"pretrained": False, **network.kwargs},
            "default_input": list(model.pretrained_cfg["input_size"]),
        }
        return model.eval(), source
    if network.source == "ultralytics":
        import ultralytics
        from ultralytics.nn.tasks import DetectionModel

        model = DetectionModel(network.builder, verbose=False)
        source = {
            "library": f"ultralytics {ultralytics.__version__}",
            "builder": "ultralytics.nn.tasks.DetectionModel",
            "args": [network.builder],
            "kwargs": {"verbose": False},
        }
        return model.eval(), source
    module, builder = network.builder.rsplit(".", 1)
    model = shared_module("tvmodels").model(module, builder, **network.kwargs)
    source = {
        "library": f"torchvision {torchvision_version()} (model source)",
        "builder": f"torchvision.models.{network.builder}",
        "kwargs": {"weights": None, **network.kwargs},
    }
    if network.raw_detection:
        wrapped = _raw_detection_class()(model)
        source["forward"] = (
            "tools/record_torch_reference.py: RawDetection, the backbone then the head (raw head outputs); the "
            "transform, anchors and postprocessing (NMS) left out"
        )
        source["detector_params"] = sum(p.numel() for p in model.parameters())
        model = wrapped
    return model.eval(), source


def structure(value: Any) -> Any:
    """The shape(s) of a module's output: a tensor's shape as a list of ints, tuples and lists as lists, dicts as
    objects, None as null, anything else by its type name."""
    import torch

    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, (tuple, list)):
        return [structure(item) for item in value]
    if isinstance(value, dict):
        return {str(key): structure(item) for key, item in value.items()}
    return None if value is None else type(value).__name__


@contextlib.contextmanager
def counted_attention(enabled: bool) -> Iterator[None]:
    """Attention on the paths whose products flop_counter counts on a CPU (see the module docstring), if enabled."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    if not enabled:
        yield
        return
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def by_operator(counts: dict[Any, int]) -> dict[str, int]:
    return {str(op).removeprefix("aten."): int(flops) for op, flops in sorted(counts.items(), key=str) if flops}


def count(model: Any, shape: tuple[int, ...], attention: bool) -> tuple[Any, Any]:
    """One forward pass of a zero batch of one under FlopCounterMode: (its output, the counter)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counted_attention(attention), counter, torch.no_grad():
        output = model(torch.zeros(1, *shape))
    return output, counter


def measure(network: Network) -> dict[str, Any]:
    """The JSON record of one network (see the module docstring)."""
    import torch

    model, source = build(network)
    modules = list(model.named_modules())
    calls: dict[str, int] = {path: 0 for path, _ in modules}
    outputs: dict[str, Any] = {}

    def hook(path: str) -> Callable[..., None]:
        def record(_module: Any, _args: Any, output: Any) -> None:
            calls[path] += 1
            outputs.setdefault(path, structure(output))

        return record

    handles = [module.register_forward_hook(hook(path)) for path, module in modules]
    try:
        output, counter = count(model, network.input, attention=True)
    finally:
        for handle in handles:
            handle.remove()
    flops = counter.get_flop_counts()
    root = type(model).__name__
    per_module: dict[str, dict[Any, int]] = {}
    for key, counts in flops.items():
        if key == "Global":
            continue
        path = "" if key == root else key.removeprefix(root + ".")
        if path not in calls or (path and not key.startswith(root + ".")):
            raise RuntimeError(f"{network.name}: flop_counter's module {key!r} is not a path of named_modules()")
        per_module[path] = counts
    _, default = count(model, network.input, attention=False)
    rows = []
    for path, module in modules:
        row: dict[str, Any] = {
            "path": path,
            "class": type(module).__name__,
            "calls": calls[path],
            "output": outputs.get(path),
            "params": sum(p.numel() for p in module.parameters(recurse=False)),
            "flops": sum(per_module.get(path, {}).values()),
        }
        if row["flops"]:
            row["by_operator"] = by_operator(per_module[path])
        rows.append(row)
    return {
        "name": network.name,
        "source": source,
        "torch": torch.__version__,
        "mode": "eval, torch.no_grad(), CPU, float32, zeros in; MHA fast path off, SDPA math backend",
        "input": [1, *network.input],
        "output": structure(output),
        "params": sum(p.numel() for p in model.parameters()),
        "flops": counter.get_total_flops(),
        "by_operator": by_operator(flops.get("Global", {})),
        "flops_cpu_default": default.get_total_flops(),
        "modules": rows,
    }


def dumps(record: dict[str, Any]) -> str:
    """The record as JSON: one key a line, one module a line (in named_modules() order), keys in a fixed order."""
    head = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in record.items() if key != "modules"]
    rows = [f"  {json.dumps(row)}" for row in record["modules"]]
    return "{\n" + ",\n".join([*head, ' "modules": [\n' + ",\n".join(rows) + "\n ]"]) + "\n}\n"


def _strip_metadata(nodes: Any) -> None:
    """Drop DROPPED_METADATA from these nodes and those of their subgraphs."""
    for node in nodes:
        kept = [prop for prop in node.metadata_props if prop.key not in DROPPED_METADATA]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
        for attribute in node.attribute:
            for subgraph in [attribute.g, *attribute.graphs]:
                _strip_metadata(subgraph.node)


def exported(model: Any, shape: tuple[int, ...], exporter: str) -> Any:
    """The ModelProto of one exporter's export of the model on a batch of one (see the module docstring)."""
    import onnx
    import torch

    sample = (torch.zeros(1, *shape),)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            buffer = io.BytesIO()
            torch.onnx.export(
                model,
                sample,
                buffer,
                dynamo=False,
                opset_version=OPSET,
                do_constant_folding=False,
                training=torch.onnx.TrainingMode.EVAL,
                input_names=["x"],
            )
            return onnx.load_from_string(buffer.getvalue())
        program = torch.onnx.export(model, sample, dynamo=True)
    proto = program.model_proto
    _strip_metadata(proto.graph.node)
    for function in proto.functions:
        _strip_metadata(function.node)
    return proto


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    message = f"{type(error).__name__}: {text[0] if text else ''}"
    return message if len(message) <= 240 else message[:237] + "..."


def machine_paths() -> list[bytes]:
    """Folders of this machine that must not appear in a committed file."""
    import torch

    folders = {str(REPO), sys.prefix, str(Path(torch.__file__).parents[1]), os.environ.get("TVSRC", "")}
    return [folder.encode() for folder in folders if len(folder) > 1]


def export(network: Network, model: Any, exporter: str) -> dict[str, Any]:
    """Write one export fixture; its manifest entry (file, bytes, opset, shape inference) or the exporter's error."""
    import onnx
    import torch

    try:
        proto = exported(model, network.input, exporter)
    except Exception as error:  # the exporter's refusal is a result: recorded in the manifest and the README
        return {"error": _first_line(error)}
    try:
        proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True, data_prop=True)
        inference = "strict"
    except Exception as error:  # onnx raises several types; the plain inference is the fallback
        proto = onnx.shape_inference.infer_shapes(proto, data_prop=True)
        inference = f"plain (strict: {_first_line(error)})"
    drop_weights(proto)
    proto.doc_string = (
        f"convcalc fixture: {network.name}, torch {torch.__version__}, {exporter} exporter, weights dropped"
    )
    data = proto.SerializeToString()
    for folder in machine_paths():
        if folder in data:
            raise RuntimeError(f"{network.name} ({exporter}): the export names a folder of this machine")
    path = ONNX_DIR / f"{network.name}.{exporter}.onnx"
    path.write_bytes(data)
    opset = next(entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx"))
    return {"file": path.name, "bytes": len(data), "opset": opset, "shape_inference": inference}


def available(network: Network) -> bool:
    if network.source != "ultralytics":
        return True
    try:
        shared_module("tvmodels")  # ultralytics imports torchvision: the unpacked wheel's
        import ultralytics  # noqa: F401
    except ImportError:
        return False
    return True


def torch_readme(manifest: dict[str, Any]) -> str:
    """tests/data/torch/README.md: one row per recorded network."""
    lines = [
        "# PyTorch's own numbers for real networks",
        "",
        "Written by `tools/record_torch_reference.py` (its docstring says how each number is taken); do not edit by "
        "hand. Params: `sum(p.numel())`. FLOPs: `torch.utils.flop_counter.FlopCounterMode` with attention counted "
        "(MHA fast path off, SDPA math backend); CPU default: the same counter on a plain CPU run, where fused "
        "attention counts 0. Published: the figure the source states, checked against the recorded params (and "
        "FLOPs / 2, the counter counting 2 per multiply-accumulate) rounded to its digits. The figures were taken "
        "from the named sources as their authors state them; they are a sanity check, the recorded numbers are "
        "torch's.",
        "",
        "| network | input | params | published | check | FLOPs | CPU default | published MACs | check | ONNX |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | --- | --- | --- |",
    ]
    networks = {network.name: network for network in NETWORKS}
    for path in sorted(JSON_DIR.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        network = networks[record["name"]]
        files = [exporter for exporter in EXPORTERS if "file" in manifest.get(network.name, {}).get(exporter, {})]
        lines.append(
            f"| {network.name} | {'x'.join(map(str, record['input'][1:]))} | {record['params']:,} | "
            f"{network.published} | {published_check(record['params'], network.published)} | "
            f"{record['flops']:,} | {record['flops_cpu_default']:,} | "
            f"{network.published_macs} | {published_check(record['flops'] // 2, network.published_macs)} | "
            f"{', '.join(files) or 'none'} |"
        )
    return "\n".join([*lines, "", *NOTES, ""])


def published_check(value: int, claim: str) -> str:
    """'yes' when the value rounds to the published figure (``33.4M`` and ``40.70G`` to their digits, ``559,114``
    exactly), else 'no'; empty without a figure."""
    if not claim:
        return ""
    figure = claim.split(" ", 1)[0]
    scale = {"M": 10**6, "G": 10**9}.get(figure[-1])
    if scale is None:
        return "yes" if int(figure.replace(",", "")) == value else "no"
    digits = figure[:-1]
    return "yes" if f"{value / scale:.{len(digits.partition('.')[2])}f}" == digits else "no"


NOTES = [
    "Notes on the cross-check:",
    "",
    "- RetinaNet: torchvision's 34.0M counts the pretrained model, whose backbone uses FrozenBatchNorm2d (buffers); "
    "built without weights it uses BatchNorm2d, whose 53,120 scales and shifts are parameters (34,014,999 + 53,120).",
    "- The detection networks are recorded up to their raw head outputs (RawDetection); anchors, the transform and "
    "NMS hold no parameters, so the params are the whole detector's (`source.detector_params`).",
    "- TCN has no published count (the paper's sequential-MNIST configuration, without weight normalisation). M5 "
    "and the 3-D U-Net are tools/reference_models.py's, as the bundled specs `m5` and `unet3d`: the U-Net is the "
    "paper's own configuration and tile (3x116x132x132; its convolutions are unpadded, so a 64^3 input leaves "
    "nothing at the bottom level: 64, 60, 30, 26, 13, 9, 4, 0).",
    "- Input sizes: the papers' (M5: 4 s at 8 kHz; TCN: sequential MNIST), torchvision's video models' 16x112x112 "
    "clips, timm's default input of each model (`source.default_input`), RetinaNet at 800x800 (what its transform "
    "makes of a square image), SSDlite at 320x320, YOLO at 640x640.",
    "- YOLO: Ultralytics states 8.7 (YOLOv8n) and 6.5 (YOLO11n) GFLOPs at 640, counted as 2 per multiply-accumulate: "
    "the recorded FLOPs round to the same.",
    "- A module whose forward never runs has `calls: 0` and `output: null`: nn.MultiheadAttention's `out_proj` "
    "(F.multi_head_attention_forward uses its weight directly), YOLO's `model` ModuleList (DetectionModel calls its "
    "items one by one). Its parameters count; its FLOPs go to the module that ran the operation.",
    "- `flops_cpu_default` differs where a network calls `scaled_dot_product_attention` or nn.MultiheadAttention's "
    "fast path (vit_b_16, mobilevit_xxs): on a CPU the counter sees a fused kernel it has no formula for.",
]


def onnx_readme(manifest: dict[str, Any]) -> str:
    """tests/data/onnx/real/README.md: every export, its size and shape inference, or the exporter's error."""
    lines = [
        "# ONNX exports of real networks (weights dropped)",
        "",
        "Written by `tools/record_torch_reference.py` from `exports.json`; do not edit by hand. "
        "`NAME.torchscript.onnx`: `torch.onnx.export(dynamo=False)`, opset 20, eval mode, no constant folding "
        "(batch norm kept). "
        "`NAME.dynamo.onnx`: the default exporter (its optimizer folds batch norm into the convolution before it). "
        "Batch 1, the input of `tests/data/torch/NAME.json`; weights over 64 elements dropped, their dims kept.",
        "",
        "| network | exporter | bytes | opset | shape inference | error |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    total = 0
    for name in sorted(manifest):
        for exporter in EXPORTERS:
            entry = manifest[name].get(exporter)
            if entry is None:
                continue
            total += entry.get("bytes", 0)
            size = f"{entry['bytes']:,}" if "bytes" in entry else ""
            error = entry.get("error", "").replace("|", "\\|")
            lines.append(
                f"| {name} | {exporter} | {size} | {entry.get('opset', '')} | {entry.get('shape_inference', '')} | "
                f"{error} |"
            )
    return "\n".join([*lines, "", f"Total: {total:,} bytes.", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [network.name for network in NETWORKS]
    parser.add_argument("--only", nargs="*", choices=names, help="networks to record (default: all available)")
    parser.add_argument("--skip-onnx", action="store_true", help="leave the ONNX files as they are")
    parser.add_argument("--skip-json", action="store_true", help="leave tests/data/torch/*.json as they are")
    arguments = parser.parse_args()
    logging.getLogger("torch.onnx").setLevel(logging.CRITICAL)  # torchvision's ops it cannot register: not used
    os.environ.setdefault("YOLO_OFFLINE", "1")
    JSON_DIR.mkdir(parents=True, exist_ok=True)
    ONNX_DIR.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}
    for network in NETWORKS:
        if arguments.only and network.name not in arguments.only:
            continue
        if not available(network):
            if arguments.only:
                parser.error(f"{network.name} needs {network.source}, which this Python cannot import")
            print(f"{network.name}: skipped ({network.source} not installed)", file=sys.stderr)
            continue
        if not arguments.skip_json:
            record = measure(network)
            (JSON_DIR / f"{network.name}.json").write_text(dumps(record), encoding="utf-8")
            print(f"{network.name}: {record['params']:,} params, {record['flops']:,} FLOPs", flush=True)
        if not arguments.skip_onnx:  # a module of its own per exporter: tracing leaves state behind (YOLO's anchors)
            manifest[network.name] = {exporter: export(network, build(network)[0], exporter) for exporter in EXPORTERS}
            for exporter, entry in manifest[network.name].items():
                print(f"  {exporter}: {entry.get('bytes', entry.get('error'))}", flush=True)
    ordered = {name: manifest[name] for name in sorted(manifest)}
    MANIFEST.write_text(json.dumps(ordered, indent=1) + "\n", encoding="utf-8")
    (ONNX_DIR / "README.md").write_text(onnx_readme(ordered), encoding="utf-8")
    (JSON_DIR / "README.md").write_text(torch_readme(ordered), encoding="utf-8")


if __name__ == "__main__":
    main()
