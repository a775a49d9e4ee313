"""ONNX import: an ONNX file -> the same :class:`~convcalc.engine.graph.Graph` a spec lowers to.

One small handler per op type (as fvcore's and ptflops' handler tables), listed in
:data:`convcalc.importers.onnx.ops.HANDLERS`: each reads the node's attributes and inputs and emits convcalc nodes, or
makes its output an alias of its input (Identity, Dropout). Shapes are propagated as the nodes are emitted, by the
catalogue's own ``evaluate``, so handlers can read them (a Reshape that flattens, ReduceMean's axes); the batch
dimension of the file is left out, as in specs. Two patterns span nodes (:mod:`convcalc.importers.onnx.patterns`).
An op convcalc does not know becomes an ``opaque`` layer with the shape the file states (value_info), zero
cost, and a warning; without a stated shape it is an error naming the op.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from convcalc.core.errors import SpecError, UnsizedInput
from convcalc.core.files import opened
from convcalc.core.tensor import Shape
from convcalc.engine.graph import NETWORK_INPUT, Graph
from convcalc.importers.onnx.importer import Importer
from convcalc.importers.onnx.layouts import in_file_layout
from convcalc.importers.onnx.model import OnnxNode
from convcalc.importers.onnx.ops import CHANNELS_LAST_OPS, HANDLERS
from convcalc.importers.onnx.patterns import follows_lrn, mark_channels_last, unshuffled
from convcalc.importers.onnx.source import FileSource, Source
from convcalc.importers.onnx.uncounted import opaque
from convcalc.importers.onnx.validity import check_graph


def read_onnx_file(path: str, origins: dict[str, str] | None = None, input_shape: Sequence[int] | None = None) -> Graph:
    """The graph of an ONNX file, read in blocks as the parser asks for them: the weights are never read (see
    :mod:`convcalc.importers.onnx.source`). ``origins``, if given, is filled with each layer's ONNX node name."""
    with opened(path, "an ONNX model", regular=True) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise SpecError(f"{path}: the file is empty, not an ONNX model")
        return read_onnx(FileSource(handle.fileno(), size), path, origins, input_shape)


def read_onnx(
    data: bytes | memoryview | Source,
    source: str,
    origins: dict[str, str] | None = None,
    input_shape: Sequence[int] | None = None,
) -> Graph:
    """The graph of an ONNX model's bytes; a SpecError for a file that is not ONNX or cannot be counted."""
    import struct

    from convcalc.importers.onnx.model import TooLarge, read_model
    from convcalc.importers.onnx.protobuf import DecodeError

    try:
        model = read_model(data)
    except TooLarge as error:
        raise SpecError(f"{source}: {error}") from None
    except (DecodeError, IndexError, ValueError, struct.error) as error:
        raise SpecError(f"{source} is not a readable ONNX model: {error}") from None
    importer = Importer(model, source)
    graph = build_graph(importer, input_shape)
    if origins is not None:
        origins.update(importer.origins)
    return graph


def build_graph(importer: Importer, given: Sequence[int] | None = None) -> Graph:
    """The graph of the importer's model: each node through its handler, in the file's (topological) order."""
    if len(importer.model.inputs) == 0:
        raise SpecError(f"{importer.source}: the graph has no input")
    inputs = [(name, dims) for name, dims in importer.model.inputs if name not in importer.model.initializers]
    if len(inputs) != 1:
        raise SpecError(
            f"{importer.source}: the graph has {len(inputs)} inputs besides its weights; convcalc analyses one-input "
            "networks"
        )
    name, dims = inputs[0]
    input_shape = per_sample(dims, name, importer.source, given)
    importer.batch = dims[0] if dims and isinstance(dims[0], int) and dims[0] > 0 else 1
    importer.shapes[NETWORK_INPUT] = input_shape
    importer.produce(name, NETWORK_INPUT)
    check_graph(importer)
    for index, node in enumerate(importer.model.nodes):
        importer.index = index
        try:
            read_node(importer, node)
        except ValueError as error:  # a value that cannot be (a NaN size, an index out of range): one located line
            raise importer.fail(node, f"not a well-formed {node.op_type} node: {error}") from None
        except (IndexError, KeyError, TypeError, ArithmeticError) as error:  # an attribute of the wrong length or type
            raise importer.fail(
                node, f"not a well-formed {node.op_type} node ({type(error).__name__}: {error})"
            ) from None
    outputs = handed_out(importer)
    if not importer.nodes or not outputs:
        raise SpecError(f"{importer.source}: the graph computes nothing convcalc can count")
    name = (
        importer.model.name
        if importer.model.name not in ("", "main_graph", "torch_jit")
        else Path(importer.source).stem
    )
    return Graph(name, importer.source, input_shape, tuple(importer.nodes), outputs[0], more_outputs=outputs[1:])


def handed_out(importer: Importer) -> tuple[str, ...]:
    """The nodes holding the graph's outputs, in the file's order, each once (a detector's scores and boxes, YOLO's
    feature maps beside its predictions); one handed out channels-last is put back in the file's layout, as it states
    it. An output computed from constants alone (no node holds it), or the input handed out again, is left out; a
    step inside a chain read as one layer (PyTorch's LocalResponseNorm) is refused, naming its node."""
    ending = importer.model.nodes[importer.index] if importer.model.nodes else None
    outputs: dict[str, None] = {}
    for tensor, _ in importer.model.outputs:
        step = importer.maker.get(tensor)
        if step is not None and tensor not in importer.producer and tensor not in importer.constants:
            importer.index = importer.model.nodes.index(step)
            raise importer.fail(
                step,
                f"its output '{tensor}' is an output of the graph, but a step inside a chain convcalc counts as one "
                "layer (PyTorch's LocalResponseNorm), whose steps are no layers' outputs",
            )
        if tensor in importer.channels_last and ending is not None:
            in_file_layout(importer, ending, [tensor])
        if importer.producer.get(tensor, NETWORK_INPUT) != NETWORK_INPUT:
            outputs[importer.producer[tensor]] = None
    return tuple(outputs)


def read_node(importer: Importer, node: OnnxNode) -> None:
    """One node through its handler (an op convcalc does not know: opaque), unless it is a step of an LRN pattern or
    shape arithmetic on constants; on a channels-last tensor, an op that keeps it so, or else the tensor in the
    file's layout."""
    unshuffled(importer, node)
    if importer.reads_channels_last(node):
        keep_channels_last(importer, node)
    elif node.op_type == "Expand" and node.inputs[0] in importer.parameters:  # a parameter, not shape arithmetic
        pass
    elif follows_lrn(importer, node) or importer.computes_constants(node):
        return
    handler = HANDLERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
    (handler or opaque)(importer, node)


def keep_channels_last(importer: Importer, node: OnnxNode) -> None:
    """A node that reads a channels-last tensor: an op that works per position keeps its outputs channels-last
    (but a Transpose, which reads the layout itself); any other op, or one that reads a channels-first tensor
    beside it, reads the tensor in the file's own layout (a ``permute`` first)."""
    first = [t for t in node.inputs if t and t not in importer.channels_last and t not in importer.constants]
    products = node.op_type == "MatMul" and not any(t in importer.constants for t in node.inputs)  # reads axes
    if node.op_type not in CHANNELS_LAST_OPS or first or products:
        in_file_layout(importer, node)
    elif node.op_type != "Transpose":
        mark_channels_last(importer, node)


def per_sample(
    dims: Sequence[int | str | None] | None, name: str, source: str, given: Sequence[int] | None = None
) -> Shape:
    """The input's shape without its batch: [N, C, H, W] -> (C, H, W), [N, F] -> (F,); [N, C, L] and [N, C, D, H, W]
    alike. Sizes the file names (dynamic axes: [N, 3, H, W]) are the ``given`` shape's, which keeps the others."""
    named = dims is not None and any(not isinstance(d, int) for d in dims[1:])
    if named and dims is not None and 2 <= len(dims) <= 5 and all(not isinstance(d, int) or d > 0 for d in dims[1:]):
        stated = [d if isinstance(d, int) else None for d in dims[1:]]
        form = "x".join("N" if d is None else str(d) for d in stated)
        if given is None:
            raise UnsizedInput(
                f"{source}: the input '{name}' has sizes the file names, not numbers: {list(dims)}",
                hint=f"give its shape after the batch: --input {form} with numbers for N (input_shape= in Python)",
            )
        if len(given) != len(stated) or any(d is not None and d != g for d, g in zip(stated, given, strict=True)):
            raise SpecError(
                f"{source}: the input '{name}' is {list(dims)}: its shape after the batch is {form}, not "
                f"{'x'.join(map(str, given))}"
            )
        return tuple(given)
    if dims is None or not 2 <= len(dims) <= 5 or not all(isinstance(d, int) and d > 0 for d in dims[1:]):
        raise SpecError(
            f"{source}: the input '{name}' must have a known shape [batch, channels, height, width] or "
            "[batch, features] ([batch, channels, length], [batch, channels, depth, height, width]), not "
            f"{list(dims) if dims is not None else 'an unknown one'}"
        )
    return tuple(int(d) for d in dims[1:])  # type: ignore[arg-type]
