"""An ONNX op convcalc does not count: an ``opaque`` layer of the shape the file states (an ``uncounted`` warning
names it), or, where the file states none, an error saying how to have it state them."""

from __future__ import annotations

from convcalc.engine.graph import NETWORK_INPUT
from convcalc.importers.onnx.importer import Importer
from convcalc.importers.onnx.layouts import emit_all_axes, in_file_layout
from convcalc.importers.onnx.model import OnnxNode


def opaque(importer: Importer, node: OnnxNode) -> None:
    """An op convcalc does not count: its shape as the file states it, no cost (a warning says so); a channels-last
    tensor it reads in the file's layout."""
    in_file_layout(importer, node)
    stated = importer.model.shapes.get(node.outputs[0]) if node.outputs else None
    if stated is None or len(stated) < 2 or not all(isinstance(d, int) and d > 0 for d in stated[1:]):
        raise importer.fail(
            node,
            f"convcalc does not know the ONNX op {node.op_type} and the file does not state its output's shape "
            "(run onnx's shape inference on the model first: python -c \"import onnx; "
            "onnx.shape_inference.infer_shapes_path('in.onnx', 'out.onnx', data_prop=True)\", then analyze out.onnx)",
        )
    sources = [importer.producer[t] for t in node.inputs if t in importer.producer] or [NETWORK_INPUT]
    if (
        isinstance(stated[0], int) and stated[0] != importer.batch
    ):  # the batch merged with another axis: held with every axis
        config = {"op": node.op_type, "shape": tuple(int(d) for d in stated)}  # type: ignore[arg-type]
        emit_all_axes(importer, node, "opaque", config, sources[:1])
    else:  # the batch first (1, or a name), as the network's input holds it
        importer.emit(node, "opaque", {"op": node.op_type, "shape": tuple(int(d) for d in stated[1:])}, sources[:1])  # type: ignore[arg-type]
