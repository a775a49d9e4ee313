"""Record the bytes PyTorch's autograd saves for the backward pass (issue 14's fixture, tests/data/autograd_saved.json).

ResNet-18, MobileNetV2 and VGG-16 as torchvision defines them (random weights), train mode, CPU, batch 8, float32,
input 3x224x224 without requires_grad (a training step's input). One forward pass under
``torch.autograd.graph.saved_tensors_hooks``: the pack hook sees every tensor an autograd node keeps for backward.

- Parameters are excluded (a saved tensor whose storage is a parameter's: conv and linear weights, batch norm's
  weight): not listed, only counted (``excluded_parameter_saves``). Buffers are excluded from the byte counts too,
  being model state that exists anyway (in train mode batch norm saves its running mean and variance): they are
  listed with ``"buffer": true``, and their unique bytes are ``buffer_bytes_saved``.
- Tensors are deduplicated by storage (``untyped_storage().data_ptr()``): a storage counts once, at its full size
  (``untyped_storage().nbytes()``), for the first module that saved it. Later saves of the same storage are listed
  with ``"shared_with"`` and add no bytes (an in-place ReLU's output is the storage that batch norm wrote; the next
  convolution keeps that same storage as its input).
- Each saved tensor is attributed to the innermost module whose forward was running (forward pre/post hooks on
  every module): a leaf such as ``layer1.0.conv1``, or a container for a functional op in its forward
  (``layer1.0`` for torchvision's ``out += identity``, ``""`` for ``torch.flatten`` in the root).

Each network is measured twice: as torchvision's module (entry ``NAME``, modules keyed by torchvision's names) and as
``convcalc export --to pytorch`` of the bundled spec (``NAME/export``, modules keyed by convcalc layer names). The
test networks in ``EXPORTED`` (every layer kind; every saved-tensor rule) are measured as their export alone.

Per model: ``total_saved_bytes``, ``params``/``param_bytes``, ``by_dtype`` (bytes of unique storages per dtype), and
``modules``: module name -> ``{"type", "saved_bytes", "saved": [{"shape", "dtype", "bytes", "shared_with"?}]}``
in forward order. Set up as in tools/record_peers.py, then
``TVSRC=... PEERS_TVMODELS=... "${PEERS_VENV:-.venv-peers}"/bin/python tools/record_autograd.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peer_models

OUT = peer_models.REPO / "tests" / "data" / "autograd_saved.json"
MODELS = {
    "resnet18": ("resnet", "resnet18"),
    "mobilenet_v2": ("mobilenetv2", "mobilenet_v2"),
    "vgg16": ("vgg", "vgg16"),
}
BATCH = 8
INPUT = (3, 224, 224)
EXPORTED = ("every_kind_live", "saved_rules")
"""Specs measured as their export alone (at their own input size, batch 8): every kind, and every saved-tensor rule."""


def measure(model: Any, batch: int, input_shape: tuple[int, ...]) -> dict[str, Any]:
    import torch

    model.train()
    names = {id(module): name for name, module in model.named_modules()}
    kinds = {name: type(module).__name__ for name, module in model.named_modules()}
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    buffers = {b.untyped_storage().data_ptr() for b in model.buffers()}
    stack: list[str] = [""]
    first_owner: dict[int, str] = {}
    modules: dict[str, dict[str, Any]] = {}
    by_dtype: dict[str, int] = {}
    excluded_parameters = 0
    buffer_saves: dict[int, int] = {}

    def pre(module: Any, args: Any) -> None:
        stack.append(names.get(id(module), "?"))

    def post(module: Any, args: Any, output: Any) -> None:
        stack.pop()

    def pack(tensor: Any) -> Any:
        nonlocal excluded_parameters
        storage = tensor.untyped_storage()
        pointer = storage.data_ptr()
        if pointer in parameters:
            excluded_parameters += 1
            return tensor
        owner = stack[-1]
        record = modules.setdefault(owner, {"type": kinds.get(owner, "?"), "saved_bytes": 0, "saved": []})
        item: dict[str, Any] = {
            "shape": list(tensor.shape),
            "dtype": str(tensor.dtype).removeprefix("torch."),
            "bytes": storage.nbytes(),
        }
        if tensor.numel() * tensor.element_size() != storage.nbytes():
            item["view_bytes"] = tensor.numel() * tensor.element_size()
        if pointer in buffers:  # batch norm's running mean and variance: model state, like the parameters
            item["buffer"] = True
            buffer_saves[pointer] = storage.nbytes()
        elif pointer in first_owner:
            item["shared_with"] = first_owner[pointer]
        else:
            first_owner[pointer] = owner
            record["saved_bytes"] += storage.nbytes()
            by_dtype[item["dtype"]] = by_dtype.get(item["dtype"], 0) + storage.nbytes()
        record["saved"].append(item)
        return tensor

    hooks = [
        torch.nn.modules.module.register_module_forward_pre_hook(pre),
        torch.nn.modules.module.register_module_forward_hook(post),
    ]
    x = torch.randn(batch, *input_shape)
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            output = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    output.sum().backward()  # the saved tensors are what backward uses: it must run on them
    return {
        "batch": batch,
        "input": list(input_shape),
        "dtype": "float32",
        "mode": "train",
        "params": sum(p.numel() for p in model.parameters()),
        "param_bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
        "total_saved_bytes": sum(record["saved_bytes"] for record in modules.values()),
        "unique_storages": len(first_owner),
        "excluded_parameter_saves": excluded_parameters,
        "buffer_bytes_saved": sum(buffer_saves.values()),
        "by_dtype": dict(sorted(by_dtype.items())),
        "modules": modules,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", nargs="*", choices=sorted([*MODELS, *EXPORTED]))
    args = parser.parse_args(argv)

    import torch

    torch.manual_seed(0)
    if not peer_models.torchvision_available():
        parser.error("torchvision's model sources are needed: set TVSRC and PEERS_TVMODELS (see tools/peer_models.py)")
    tvmodels = peer_models._tvmodels()
    document: dict[str, Any] = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "models_from": "torchvision 0.28.0 model definitions (tools/peer_models.py), random weights",
        "recorded_by": "tools/record_autograd.py",
        "networks": {},
    }
    if args.only and args.out.exists():
        document["networks"] = json.loads(args.out.read_text())["networks"]
    for name, (module, builder) in MODELS.items():
        if args.only and name not in args.only:
            continue
        result = measure(tvmodels.model(module, builder), BATCH, INPUT)
        document["networks"][name] = {"model": f"torchvision.models.{module}.{builder}(weights=None)", **result}
        print(f"{name:22} {result['total_saved_bytes']:,} bytes saved {result['by_dtype']}", file=sys.stderr)
        model, names, description = peer_models.build(name, "export")
        result = measure(model, BATCH, INPUT)
        result["modules"] = {names.get(key, key): value for key, value in result["modules"].items()}
        document["networks"][f"{name}/export"] = {"model": description, **result}
        print(f"{name + '/export':22} {result['total_saved_bytes']:,} bytes saved", file=sys.stderr)
    for name in EXPORTED:
        if args.only and name not in args.only:
            continue
        model, names, description = peer_models.build(name, "export")
        result = measure(model, BATCH, tuple(peer_models.spec_input(name)))
        result["modules"] = {names.get(key, key): value for key, value in result["modules"].items()}
        document["networks"][f"{name}/export"] = {"model": description, **result}
        print(f"{name + '/export':22} {result['total_saved_bytes']:,} bytes saved", file=sys.stderr)
    args.out.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
