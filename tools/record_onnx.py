"""Record ONNX exports of the bundled networks as test fixtures: tests/data/onnx/*.onnx (``onnx`` extra + torch).

    TVSRC=... PEERS_TVMODELS=... "${PEERS_VENV:-.venv-peers}"/bin/python tools/record_onnx.py

(the environment and the variables: tools/record_peers.py).

Each bundled spec is exported twice where it can be: torchvision's own module (for the networks that are
torchvision's, see tools/peer_models.py) and `convcalc export --to pytorch`'s module. A network with batch norm is
exported in training mode so that batch norm stays a layer of its own (in eval mode PyTorch folds it into the
convs), with a batch of 2 (training-mode batch norm needs two values per channel); one without batch norm in eval
mode, as it is deployed (in training mode torchvision's ConvNeXt writes stochastic depth's random draw into the
graph: RandomUniformLike, Less, Cast, Div and a Mul per block). Then ONNX's
strict shape inference writes every tensor's shape into the file (value_info), which the import compares with its
own. The weights are then dropped, their dims kept: convcalc counts from dims alone, and the fixtures stay small.
"""

from __future__ import annotations

import argparse
import io
import sys
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_models import EXTRA, REPO, TORCHVISION, build, spec_input, spec_names, torchvision_available

OUT = REPO / "tests" / "data" / "onnx"
KEEP = 64
"""Tensors of at most this many elements keep their values (shapes, axes, scales): the import reads them."""
OPSET = 20
"""ONNX opset of the exports: 20 has Gelu as one op (17 writes it out as erf arithmetic)."""


def drop_weights(proto: Any) -> None:
    """Clear the values of every initializer of more than KEEP elements, keeping its dims (an onnx.ModelProto)."""
    for tensor in proto.graph.initializer:
        count = 1
        for dim in tensor.dims:
            count *= dim
        if count > KEEP:
            for data in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
                tensor.ClearField(data)


def export(spec: str, source: str) -> bytes:
    import onnx
    import torch

    shape = spec_input(spec)
    model, _, _ = build(spec, source, shape)
    training = any(isinstance(module, torch.nn.modules.batchnorm._BatchNorm) for module in model.modules())
    model.train(training)
    for module in model.modules():  # drop path: the identity at inference, random ops in training; no counted cost
        if type(module).__name__ == "StochasticDepth":
            module.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            torch.zeros(2, *shape),  # batch norm in training mode needs two values per channel (1x1 maps)
            buffer,
            training=torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL,
            do_constant_folding=False,
            dynamo=False,
            opset_version=OPSET,
            input_names=["x"],
            output_names=["y"],
        )
    exported = onnx.load_from_string(buffer.getvalue())
    proto = onnx.shape_inference.infer_shapes(exported, strict_mode=True, data_prop=True)
    drop_weights(proto)
    proto.doc_string = f"convcalc fixture: {spec} ({source}), torch {torch.__version__}, weights dropped"
    return bytes(proto.SerializeToString())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="specs to record (default: all)")
    arguments = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for spec in arguments.only or [name for name in spec_names() if name not in EXTRA]:
        sources = ["export"] + (["torchvision"] if spec in TORCHVISION and torchvision_available() else [])
        for source in sources:
            path = OUT / f"{spec}{'' if source == 'export' else '.torchvision'}.onnx"
            path.write_bytes(export(spec, source))
            print(f"{path.relative_to(REPO)}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
