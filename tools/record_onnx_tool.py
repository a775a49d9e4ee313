"""Record what onnx-tool prints for the ONNX fixtures (tests/data/onnx/*.onnx): tests/data/peers/onnx_tool.json.

    "${PEERS_VENV:-.venv-peers}"/bin/pip install onnx-tool==1.0.1   # the peers environment: tools/record_peers.py
    "${PEERS_VENV:-.venv-peers}"/bin/python tools/record_onnx_tool.py

onnx-tool (PyPI ``onnx-tool``) counts an ONNX file, not a torch module, so it runs on the same files that convcalc's
ONNX import reads (tools/record_onnx.py wrote them). It decodes every initializer, and the fixtures keep only the
dims of their weights: each dropped weight is filled with ones in memory first (same dims, same graph; onnx-tool's
counts read shapes only, and ones keep its sparsity scan from flagging the weights as sparse). Nothing is written
but the fixture. The files were exported with a batch of 2; the input is set to a batch of 1 (its
``dynamic_shapes``), and onnx-tool infers every shape again from there. Where that fails (a Reshape whose target
states the exported batch: the channel shuffle, LRN) the file runs as it is, at its batch of 2 (``"batch": 2``, and
``batch_of_one_failed`` says why); onnx-tool's every count is a volume that holds the batch, so it is 2 x batch 1.

The call is onnx-tool's own entry point, ``onnx_tool.model_profile(model, dynamic_shapes, save_profile=CSV)``, with
its default ``hidden_ops`` (``NoMacsOps``: Identity, Constant, Shape, Squeeze, Unsqueeze, Reshape, ConstantOfShape,
Cast, Pad, Concat, Slice, Gather are left out of the profile, their weights too); the numbers are read back from the
CSV it writes, which is its printed table: per ONNX node its forward MACs and parameters (the elements of the
initializers it reads, each initializer counted at its first reader), and the Total row. Per file:
``{"total": MACs, "params": ..., "nodes": {node name: {"op": type, "macs": ..., "params": ...}}}``, or
``{"error": {"type": ..., "message": first line}}`` where onnx-tool raised.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ONNX = REPO / "tests" / "data" / "onnx"
OUT = REPO / "tests" / "data" / "peers" / "onnx_tool.json"


def filled(path: Path) -> Any:
    """The file's model with every weight whose values were dropped filled with ones of its dtype and dims."""
    import numpy
    import onnx
    from onnx import helper

    model = onnx.load(str(path))
    for tensor in model.graph.initializer:
        if tensor.raw_data or tensor.float_data or tensor.int64_data or tensor.int32_data or tensor.double_data:
            continue
        count = 1
        for dim in tensor.dims:
            count *= dim
        tensor.raw_data = numpy.ones(count, dtype=helper.tensor_dtype_to_np_dtype(tensor.data_type)).tobytes()
    return model


def batch_of_one(model: Any) -> dict[str, Any]:
    """onnx-tool's dynamic_shapes: the graph's (only) non-weight input at a batch of 1."""
    import numpy
    from onnx import helper

    weights = {tensor.name for tensor in model.graph.initializer}
    shapes = {}
    for value in model.graph.input:
        if value.name not in weights:
            dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
            dtype = helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)
            shapes[value.name] = numpy.zeros([1, *dims[1:]], dtype=dtype)
    return shapes


def profile(path: Path, batch_one: bool) -> dict[str, Any]:
    import onnx_tool

    model = filled(path)
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "profile.csv"
        with contextlib.redirect_stdout(io.StringIO()):
            onnx_tool.model_profile(
                model, dynamic_shapes=batch_of_one(model) if batch_one else None, save_profile=str(table)
            )
        rows = list(csv.DictReader(table.read_text(encoding="utf-8").splitlines()))
    nodes = {
        row["Name"]: {"op": row["Type"], "macs": int(row["Forward_MACs"]), "params": int(row["Params"])}
        for row in rows
        if row["Name"] != "Total"
    }
    (total,) = (row for row in rows if row["Name"] == "Total")
    return {"total": int(total["Forward_MACs"]), "params": int(total["Params"]), "nodes": dict(sorted(nodes.items()))}


def error(exc: BaseException) -> dict[str, Any]:
    lines = str(exc).strip().splitlines()
    return {"error": {"type": type(exc).__name__, "message": lines[0] if lines else ""}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    import onnx

    document: dict[str, Any] = {
        "tool": "onnx-tool",
        "version": metadata.version("onnx-tool"),
        "onnx": onnx.__version__,
        "python": platform.python_version(),
        "recorded_by": "tools/record_onnx_tool.py",
        "call": "onnx_tool.model_profile(model, dynamic_shapes={input: batch 1}, save_profile=CSV)",
        "networks": {},
    }
    for path in sorted(ONNX.glob("*.onnx")):
        entry = {"file": str(path.relative_to(REPO))}
        try:
            entry.update(batch=1, **profile(path, batch_one=True))
        except Exception as first:  # a Reshape that states the exported batch: the file as it is
            try:
                entry.update(batch=2, batch_of_one_failed=error(first)["error"], **profile(path, batch_one=False))
            except Exception as exc:  # a file onnx-tool cannot count at all: record what it raised
                entry.update(batch=2, **error(exc))
        document["networks"][path.stem] = entry
        print(f"{path.stem:40} {entry.get('total', entry.get('error'))}", file=sys.stderr, flush=True)
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
