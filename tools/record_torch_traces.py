"""Record real PyTorch networks for the PyTorch front end's tests: tests/data/torch/traces/NAME.json.

    TVSRC=.../tv/torchvision PEERS_TVMODELS=<tvmodels.py's folder> python tools/record_torch_traces.py

(needs torch; torchvision's and timm's model definitions as tools/peer_models.py finds them, timmmodels.py beside
tvmodels.py; ``--only NAME,...``).
Each file holds, for one network at one input size, what torch itself says, and what convcalc's importer reads:

- ``trace``: the traced event list (each aten op that read an activation, with its module path, argument shapes and
  values; the modules; each module call's output as a forward hook saw it), from convcalc.importers.torch.trace
  (NAME_export.json: the graph of its torch.export ExportedProgram, saved to a .pt2 and loaded again);
- ``params``: sum(p.numel() for p in model.parameters()); ``modules``: the paths of named_modules();
- ``flop_counter``: torch.utils.flop_counter.FlopCounterMode's total and per-op FLOPs for one sample.

tests/test_torch_import.py maps each trace to a graph without torch and holds convcalc's parameters, FLOPs under
convention "flop_counter", layer names and shapes against these numbers. Nothing is computed: the networks run on fake
tensors. Re-record on a torch upgrade and say so in the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tools")]

from convcalc.importers.torch.events import to_dict  # noqa: E402
from convcalc.importers.torch.trace import trace_exported, trace_module  # noqa: E402

OUT = REPO / "tests" / "data" / "torch" / "traces"


def torchvision(module: str, builder: str) -> Callable[[], Any]:
    def build() -> Any:
        import peer_models

        return peer_models._tvmodels().model(module, builder)

    return build


def timm(name: str) -> Callable[[], Any]:
    def build() -> Any:
        sys.path.append(os.environ.get("PEERS_TVMODELS", ""))
        import timmmodels

        return timmmodels.model(name)

    return build


def reference(name: str) -> Callable[[], Any]:
    def build() -> Any:
        from reference_models import REFERENCE

        return REFERENCE[name]()

    return build


def case(name: str) -> Callable[[], Any]:
    def build() -> Any:
        from torch_cases import CASES

        return CASES[name][0]()

    return build


NETWORKS: dict[str, tuple[Callable[[], Any], tuple[int, ...], str]] = {
    "resnet34": (torchvision("resnet", "resnet34"), (3, 224, 224), "torchvision.models.resnet34(weights=None)"),
    "mnasnet0_5": (torchvision("mnasnet", "mnasnet0_5"), (3, 224, 224), "torchvision.models.mnasnet0_5(weights=None)"),
    "r3d_18": (
        torchvision("video.resnet", "r3d_18"),
        (3, 16, 112, 112),
        "torchvision.models.video.r3d_18(weights=None)",
    ),
    "shufflenet_v2_x1_0": (
        torchvision("shufflenetv2", "shufflenet_v2_x1_0"),
        (3, 224, 224),
        "torchvision.models.shufflenet_v2_x1_0(weights=None)",
    ),
    "convnext_tiny": (torchvision("convnext", "convnext_tiny"), (3, 224, 224), "torchvision.models.convnext_tiny()"),
    "ghostnet_100": (timm("ghostnet_100"), (3, 224, 224), "timm.create_model('ghostnet_100')"),
    "convnext_atto": (timm("convnext_atto"), (3, 224, 224), "timm.create_model('convnext_atto')"),
    "vit_b_16": (torchvision("vision_transformer", "vit_b_16"), (3, 224, 224), "torchvision.models.vit_b_16()"),
    "vit_tiny_patch16_224": (
        timm("vit_tiny_patch16_224"),
        (3, 224, 224),
        "timm.create_model('vit_tiny_patch16_224')",
    ),
    "poolformer_s12": (timm("poolformer_s12"), (3, 224, 224), "timm.create_model('poolformer_s12')"),
    "resnest14d": (timm("resnest14d"), (3, 224, 224), "timm.create_model('resnest14d')"),
    "m5": (reference("m5"), (1, 32000), "tools/reference_models.py M5()"),
    "tcn": (reference("tcn"), (1, 784), "tools/reference_models.py TCN()"),
    "unet3d": (reference("unet3d"), (3, 116, 132, 132), "tools/reference_models.py UNet3D()"),
    **{
        name: (case(name), shape, f"tools/torch_cases.py {cls.__name__}()")
        for name, (cls, shape) in __import__("torch_cases").CASES.items()
    },
}
"""Name -> (builder, input shape per sample, what it is)."""


def flop_counter(model: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    """FlopCounterMode's FLOPs of one sample, on a fake input (no arithmetic)."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), FakeTensorMode(allow_non_fake_inputs=True), counter:
        model(torch.empty(1, *shape))
    by_op = counter.get_flop_counts().get("Global", {})  # none when nothing it counts ran
    return {
        "total": counter.get_total_flops(),
        "by_operator": {str(op).removeprefix("aten."): int(n) for op, n in sorted(by_op.items(), key=str)},
    }


EXPORTED = ("resnet34", "images", "signals")
"""Networks also recorded as torch.export saves them (NAME_export.json: a .pt2's graph as
convcalc.importers.torch.trace.trace_exported reads it): the ops an ExportedProgram keeps whole (conv2d, linear,
batch_norm, adaptive_avg_pool2d, flatten)."""


def exported(model: Any, shape: tuple[int, ...], name: str) -> dict[str, Any]:
    """The trace of the model's ExportedProgram, saved and loaded again as `convcalc analyze model.pt2` reads it."""
    import tempfile

    program = torch.export.export(model, (torch.randn(1, *shape),))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"{name}.pt2")
        torch.export.save(program, path)
        return to_dict(trace_exported(torch.export.load(path), name))


def record(name: str, export: bool = False) -> dict[str, Any]:
    build, shape, what = NETWORKS[name]
    model = build().eval()
    trace = exported(model, shape, name) if export else to_dict(trace_module(model, shape))
    return {
        "network": what,
        "torch": torch.__version__,
        "input": list(shape),
        "params": sum(p.numel() for p in model.parameters()),
        "modules": [path for path, _ in model.named_modules()],
        "flop_counter": flop_counter(model, shape),
        "trace": trace,
    }


def write(path: Path, data: dict[str, Any]) -> None:
    """JSON with one event a line (diffs stay readable)."""
    trace = data.pop("trace")
    events = trace.pop("events")
    head = json.dumps(data, indent=1)[:-2]
    lines = [head + ',\n "trace": ' + json.dumps(trace)[:-1] + ', "events": [']
    lines.append(",\n".join(json.dumps(event, separators=(",", ":")) for event in events))
    lines.append("]}\n}\n")
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated names")
    chosen = parser.parse_args().only
    OUT.mkdir(parents=True, exist_ok=True)
    for name in chosen.split(",") if chosen else NETWORKS:
        write(OUT / f"{name}.json", record(name))
        print(f"wrote tests/data/torch/traces/{name}.json", file=sys.stderr)
        if name in EXPORTED:
            write(OUT / f"{name}_export.json", record(name, export=True))
            print(f"wrote tests/data/torch/traces/{name}_export.json", file=sys.stderr)


if __name__ == "__main__":
    main()
