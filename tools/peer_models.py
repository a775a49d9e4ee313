"""The torch equivalents of convcalc's bundled specs, shared by tools/record_peers.py and benchmarks/peers_bench.py.

Needs torch (the ``peers`` extra). Two sources of a module for a spec:

- ``torchvision``: torchvision's own builder (random weights, never downloaded) for the specs that say they are
  torchvision's network: the same layers, shapes and parameters, and the module names people see in every tool's
  output. torchvision's wheel does not import beside the CPU torch 2.13.0 used here, so its model definitions come from
  an unpacked wheel through ``tvmodels`` (TVSRC names the wheel's ``torchvision/`` folder; PEERS_TVMODELS the
  folder of tvmodels.py, unless it is importable already, from PYTHONPATH).
- ``reference``: for the specs no model library builds (M5, TCN, the 3-D U-Net), a module written from the same
  paper in tools/reference_models.py.
- ``export``: ``convcalc export SPEC --to pytorch`` (``convcalc.export.to_pytorch``) for every spec, whose
  ``CONVCALC_NAMES`` maps each submodule to its convcalc layer name.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"

TORCHVISION: dict[str, tuple[str, str, dict[str, Any]]] = {
    "alexnet-torchvision": ("alexnet", "alexnet", {}),
    "convnext_tiny": ("convnext", "convnext_tiny", {}),
    "densenet121": ("densenet", "densenet121", {}),
    "efficientnet_b0": ("efficientnet", "efficientnet_b0", {}),
    "inception_v3": ("inception", "inception_v3", {"init_weights": False}),  # aux_logits=True, the default
    "lraspp_mobilenet_v3_large": ("segmentation.lraspp", "lraspp_mobilenet_v3_large", {"weights_backbone": None}),
    "mobilenet_v2": ("mobilenetv2", "mobilenet_v2", {}),
    "mobilenet_v3_large": ("mobilenetv3", "mobilenet_v3_large", {}),
    "regnet_y_400mf": ("regnet", "regnet_y_400mf", {}),
    "resnet18": ("resnet", "resnet18", {}),
    "resnet50": ("resnet", "resnet50", {}),
    "resnext50_32x4d": ("resnet", "resnext50_32x4d", {}),
    "shufflenet_v2_x1_0": ("shufflenetv2", "shufflenet_v2_x1_0", {}),
    "squeezenet1_0": ("squeezenet", "squeezenet1_0", {}),
    "vgg16": ("vgg", "vgg16", {}),
    "r3d_18": ("video.resnet", "r3d_18", {}),
    "r2plus1d_18": ("video.resnet", "r2plus1d_18", {}),
    "vit_b_16": ("vision_transformer", "vit_b_16", {}),
    "swin_t": ("swin_transformer", "swin_t", {}),
}
"""Bundled specs that are torchvision's network, layer for layer: spec -> (torchvision.models module, builder, its
keyword arguments besides ``weights=None``: no weights are downloaded, the backbone's neither)."""


EXTRA = {
    "every_kind_live": REPO / "tests" / "data" / "peers" / "every_kind_live.yaml",
    "saved_rules": REPO / "tests" / "data" / "peers" / "saved_rules.yaml",
}
"""Networks recorded beside the bundled specs: one layer of every catalogue kind, chained to the output; the kinds
and options whose saved tensors differ (tools/record_autograd.py)."""


def spec_path(spec: str) -> Path:
    return EXTRA.get(spec, SPECS / f"{spec}.yaml")


def spec_names() -> list[str]:
    return sorted([*(path.stem for path in SPECS.glob("*.yaml")), *EXTRA])


def spec_input(spec: str) -> list[int]:
    from convcalc import analyze

    return list(analyze(str(spec_path(spec))).input_shape)


def torchvision_available() -> bool:
    """Whether torchvision's model definitions can be imported (see the module docstring)."""
    try:
        _tvmodels()
    except ImportError:
        return False
    return True


def shared_module(name: str) -> Any:
    """``tvmodels`` or ``timmmodels``: torchvision's or timm's builders beside this torch (PEERS_TVMODELS names their
    folder unless they are importable; see the module docstring)."""
    folder = os.environ.get("PEERS_TVMODELS")
    if folder and folder not in sys.path:
        sys.path.append(folder)
    return importlib.import_module(name)


def _tvmodels() -> Any:
    return shared_module("tvmodels")


def reference_specs() -> set[str]:
    """The bundled specs with a module written from their paper in tools/reference_models.py."""
    return {"m5", "tcn", "unet3d"}


def build(spec: str, source: str, input_shape: list[int] | None = None) -> tuple[Any, dict[str, str] | None, str]:
    """The module for a spec (eval mode), its submodule -> convcalc layer name map (export only), and a description.

    ``input_shape`` (C, H, W) only matters to the export, which is written for one input size; torchvision's
    networks take any size through their adaptive pools.
    """
    if source == "reference":
        sys.path.insert(0, str(REPO / "tools"))
        from reference_models import REFERENCE

        name = REFERENCE[spec].__name__
        return REFERENCE[spec]().eval(), None, f"tools/reference_models.py: {name}(), from its paper"
    if source == "torchvision":
        module, builder, kwargs = TORCHVISION[spec]
        model = _tvmodels().model(module, builder, **kwargs)
        arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
        return (
            model.eval(),
            None,
            f"torchvision.models.{module}.{builder}(weights=None{arguments}), torchvision 0.28.0 source",
        )
    from convcalc import load_spec
    from convcalc.export import class_name, to_pytorch

    path = spec_path(spec)
    namespace: dict[str, Any] = {"__name__": "exported"}
    shape = tuple(input_shape) if input_shape is not None else None
    exec(compile(to_pytorch(str(path), input_shape=shape), f"{path} (exported)", "exec"), namespace)
    model = namespace[class_name(load_spec(str(path)).name)]()
    return model.eval(), dict(namespace["CONVCALC_NAMES"]), "convcalc export --to pytorch"
