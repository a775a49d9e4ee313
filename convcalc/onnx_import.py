"""ONNX import: an ONNX file -> the same :class:`~convcalc.graph.Graph` a spec lowers to.

One small handler per op type (as fvcore's and ptflops' handler tables): each reads the node's attributes and
inputs and emits convcalc nodes, or makes its output an alias of its input (Identity, Dropout). Shapes are
propagated as the nodes are emitted, by the catalogue's own ``evaluate``, so handlers can read them (a
Reshape that flattens, ReduceMean's axes); the batch dimension of the file is left out, as in specs. Two patterns
span nodes and are followed here: PyTorch's elementary LocalResponseNorm (follows_lrn) and a channels-last tensor
from a Transpose to the Transpose back (keep_channels_last: ConvNeXt's block).

Parameter counts come from convcalc's formulas, held against the initializers' dims: a weight whose dims
disagree is an error, never a silent difference. Weights are never decoded (see :mod:`convcalc.onnx_model`).
An op convcalc does not know becomes an ``opaque`` layer with the shape the file states (value_info), zero
cost, and a warning; without a stated shape it is an error naming the op.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from convcalc.core.errors import Location, SpecError
from convcalc.core.findings import Finding
from convcalc.core.tensor import Config, Shape, format_shape
from convcalc.core.text import first_free
from convcalc.graph import NETWORK_INPUT, Graph, Node
from convcalc.kinds.base import ShapeError
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.onnx_model import OnnxGraph, OnnxNode, Tensor
from convcalc.reader import opened

Handler = Callable[["Importer", OnnxNode], None]
HANDLERS: dict[str, Handler] = {}
CHANNELS_LAST_OPS: set[str] = set()
"""Op types whose handlers also read a channels-last tensor (see keep_channels_last)."""


def handles(*op_types: str, channels_last: bool = False) -> Callable[[Handler], Handler]:
    """Registers a handler for op types; ``channels_last``: it also reads a channels-last tensor."""

    def register(handler: Handler) -> Handler:
        for op_type in op_types:
            HANDLERS[op_type] = handler
            if channels_last:
                CHANNELS_LAST_OPS.add(op_type)
        return handler

    return register


class Importer:
    """Emits convcalc nodes for an ONNX graph's nodes, in the file's (topological) order."""

    def __init__(self, model: OnnxGraph, source: str) -> None:
        self.model = model
        self.source = source
        self.nodes: list[Node] = []
        self.origins: dict[str, str] = {}  # convcalc node -> the ONNX node it came from
        self.producer: dict[str, str] = {}  # ONNX tensor -> the convcalc node whose output it is
        self.tensors_of: dict[str, list[str]] = {}  # convcalc node -> the ONNX tensors that are its output
        self.shapes: dict[str, Shape] = {NETWORK_INPUT: ()}
        self.constants: dict[str, Tensor] = dict(model.initializers)
        self.taken: set[str] = {NETWORK_INPUT}
        self.index = 0
        self.pending: dict[str, tuple[str, Any]] = {}  # tensors of a channel shuffle under way
        self.channels_last: set[str] = set()  # tensors holding their node's map as H x W x C (keep_channels_last)
        self.lrn: dict[str, str] = {}  # tensors of a LocalResponseNorm under way -> the tensor it normalises
        self.lrn_size: dict[str, int] = {}  # the tensor an LRN normalises -> its window (0 until the pool is seen)
        self.readers: dict[str, int] = {}  # ONNX tensor -> how many node inputs read it
        for each in model.nodes:
            for tensor in each.inputs:
                self.readers[tensor] = self.readers.get(tensor, 0) + 1

    # --- what handlers use ---

    def fail(self, node: OnnxNode, message: str) -> SpecError:
        return SpecError(message, self.location, layer=node.name or node.op_type, kind=node.op_type)

    @property
    def location(self) -> Location:
        """Where a node is: its position in the graph's node list stands for the line."""
        return Location(self.source, self.index + 1, 1)

    def source_of(self, node: OnnxNode, position: int = 0) -> str:
        """The convcalc node an input of ``node`` reads."""
        tensor = node.inputs[position]
        if tensor not in self.producer:
            raise self.fail(node, f"input '{tensor}' is neither the network input nor the output of an earlier node")
        return self.producer[tensor]

    def shape_of(self, node: OnnxNode, position: int = 0) -> Shape:
        return self.shapes[self.source_of(node, position)]

    def constant(self, node: OnnxNode, position: int) -> Tensor | None:
        """The constant (initializer or Constant node) an input of ``node`` is, if it is one and given."""
        if position >= len(node.inputs) or not node.inputs[position]:
            return None
        return self.constants.get(node.inputs[position])

    def weight(self, node: OnnxNode, position: int, what: str) -> tuple[int, ...]:
        tensor = self.constant(node, position)
        if tensor is None:
            raise self.fail(node, f"its {what} is not a constant of the file (convcalc counts fixed weights)")
        return tensor.dims

    def computes_constants(self, node: OnnxNode) -> bool:
        """A node that only computes with constants (shape arithmetic before a Reshape or a Pad) is no layer:
        its outputs are constants too, their values worked out for the few ops that shapes use."""
        given = [tensor for tensor in node.inputs if tensor]
        if node.op_type == "Constant" or not given or not all(tensor in self.constants for tensor in given):
            return False
        values = fold(node, [self.constants[tensor].values for tensor in given])
        for output in node.outputs:
            dims = self.model.shapes.get(output)
            known = tuple(d for d in dims if isinstance(d, int)) if dims else ()
            if not dims and output == node.outputs[0]:
                known = fold_dims(node, self.constants[given[0]].dims)
            self.constants[output] = Tensor(output, known, values if output == node.outputs[0] else None)
        return True

    def is_output(self, node: OnnxNode) -> bool:
        """Whether one of the node's outputs is an output of the graph."""
        return any(name in node.outputs for name, _ in self.model.outputs)

    def reads_channels_last(self, node: OnnxNode) -> bool:
        return any(tensor in self.channels_last for tensor in node.inputs)

    def read_once(self, name: str) -> bool:
        """Whether the output of the convcalc node ``name`` is read by one ONNX node only (a pattern may fold)."""
        return sum(self.readers.get(tensor, 0) for tensor in self.tensors_of.get(name, ())) == 1

    def produce(self, tensor: str, name: str) -> None:
        """The ONNX tensor ``tensor`` is the output of the convcalc node ``name``."""
        self.producer[tensor] = name
        self.tensors_of.setdefault(name, []).append(tensor)

    def alias(self, node: OnnxNode, position: int = 0) -> None:
        """The node's output is its input (Identity, Dropout at inference)."""
        self.produce(node.outputs[0], self.source_of(node, position))

    def emit(
        self,
        node: OnnxNode,
        kind: str,
        config: Config,
        inputs: Sequence[str] | None = None,
        *,
        suffix: str = "",
        output: str | None = None,
    ) -> str:
        """A convcalc node for ``node`` (its first output, or ``output``); returns its name. ``suffix`` tells
        apart the layers one ONNX node becomes (a Split's slices, the pad in front of a conv)."""
        sources = tuple(inputs) if inputs is not None else (self.source_of(node),)
        layer = CATALOGUE[kind]
        config = {key.name: config.get(key.name, key.default) for key in layer.keys}
        name = self.name_for(node, kind, suffix)
        try:
            shape = layer.evaluate(config, [self.shapes[source] for source in sources]).shape
        except ShapeError as error:
            raise self.fail(node, str(error)) from None
        findings = self.disagreement(output or node.outputs[0], shape)
        self.nodes.append(Node(name, layer, config, sources, self.location, findings=findings))
        self.origins[name] = node.name or node.op_type
        self.shapes[name] = shape
        self.produce(output or node.outputs[0], name)
        return name

    def disagreement(self, tensor: str, shape: Shape) -> tuple[Finding, ...]:
        """A warning when the file states another shape for a tensor (value_info, e.g. from ONNX's shape
        inference) than convcalc computes; a symbolic or unknown dimension agrees with anything."""
        stated = self.model.shapes.get(tensor)
        if tensor in self.channels_last:  # the file's layout: H x W x C
            shape = (*shape[1:], shape[0])
        if stated is None or len(stated) != len(shape) + 1:
            return () if stated is None else (Finding("shape", _differ(tensor, stated, shape)),)
        if all(not isinstance(s, int) or s == d for s, d in zip(stated[1:], shape, strict=True)):
            return ()
        return (Finding("shape", _differ(tensor, stated, shape)),)

    def name_for(self, node: OnnxNode, kind: str, suffix: str = "") -> str:
        """A readable unique name: '/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1'."""
        parts = [part for part in re.split(r"/+", node.name) if part]
        if parts and parts[-1].split("_")[0] == node.op_type:
            parts.pop()
        kept: list[str] = []
        for part in parts:
            part = re.sub(r"[^\w.\-]", "_", part)
            if kept and part.startswith(kept[-1] + "."):
                kept[-1] = part
            else:
                kept.append(part)
        base = ".".join(kept).strip(".") or f"{kind}{len(self.nodes) + 1}"
        if suffix:
            base = f"{base}.{suffix}"
        name = first_free(base, self.taken.__contains__)
        self.taken.add(name)
        return name

    # --- the graph ---

    def run(self) -> Graph:
        if len(self.model.inputs) == 0:
            raise SpecError("the graph has no input", Location(self.source, 1, 1))
        inputs = [(name, dims) for name, dims in self.model.inputs if name not in self.model.initializers]
        if len(inputs) != 1:
            raise SpecError(
                f"the graph has {len(inputs)} inputs besides its weights; convcalc analyses one-input networks",
                Location(self.source, 1, 1),
            )
        name, dims = inputs[0]
        input_shape = per_sample(dims, name, self.source)
        self.shapes[NETWORK_INPUT] = input_shape
        self.produce(name, NETWORK_INPUT)
        for index, node in enumerate(self.model.nodes):
            self.index = index
            if self.reads_channels_last(node):
                keep_channels_last(self, node)
            elif follows_lrn(self, node) or self.computes_constants(node):
                continue
            handler = HANDLERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
            try:
                (handler or opaque)(self, node)
            except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError) as error:
                # a malformed node (an attribute of the wrong length or type, an output missing): one located line
                raise self.fail(
                    node, f"not a well-formed {node.op_type} node ({type(error).__name__}: {error})"
                ) from None
        output = self.producer.get(self.model.outputs[0][0]) if self.model.outputs else None
        if not self.nodes or output is None:
            raise SpecError("the graph computes nothing convcalc can count", Location(self.source, 1, 1))
        name = self.model.name if self.model.name not in ("", "main_graph", "torch_jit") else Path(self.source).stem
        return Graph(name, self.source, input_shape, tuple(self.nodes), output)


def _differ(tensor: str, stated: Sequence[int | str | None], shape: Shape) -> str:
    written = "x".join("?" if d is None else str(d) for d in stated[1:])
    return f"the file states {written} for '{tensor}' (without the batch), convcalc computes {format_shape(shape)}"


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add,
    "Sub": operator.sub,
    "Mul": operator.mul,
    "Div": operator.truediv,
}


def follows_lrn(importer: Importer, node: OnnxNode) -> bool:
    """PyTorch's LocalResponseNorm, exported as elementary ops: x * x, a Reshape to 5-D, a Pad of the channels, a
    3-D AveragePool of (size, 1, 1), shape steps, then * alpha + k, ^ beta, and x / that. Followed from the square
    to the division, it is one ``lrn`` layer; the steps between are not counted on their own. True when ``node`` is
    one of those steps."""
    square = node.op_type == "Mul" and len(node.inputs) == 2 and node.inputs[0] == node.inputs[1]
    if square and node.inputs[0] in importer.producer:
        importer.lrn[node.outputs[0]] = node.inputs[0]
        importer.lrn_size[node.inputs[0]] = 0
        return True
    source = node.inputs[0] if node.op_type == "Div" and node.inputs else ""
    divisor = node.inputs[1] if len(node.inputs) == 2 else ""
    if importer.lrn_size.get(source) and (divisor in importer.lrn or divisor in importer.constants):
        size = importer.lrn_size.pop(source)
        scope = node.name.rsplit("/", 1)[0] + "/"
        values = {
            each.op_type: importer.constants[each.inputs[1]].values
            for each in importer.model.nodes
            if each.name.startswith(scope)
            and each.op_type in ("Mul", "Add", "Pow")
            and len(each.inputs) == 2
            and each.inputs[1] in importer.constants
            and importer.constants[each.inputs[1]].values
        }
        config: dict[str, Any] = {"size": size}
        for op, key in (("Mul", "alpha"), ("Pow", "beta"), ("Add", "k")):
            found = values.get(op)
            if found:
                config[key] = float(found[0])
        importer.emit(node, "lrn", config, [importer.producer[source]])
        return True
    chained = [importer.lrn[tensor] for tensor in node.inputs if tensor in importer.lrn]
    if chained:
        for output in node.outputs:
            importer.lrn[output] = chained[0]
        if node.op_type == "AveragePool" and node.attributes.get("kernel_shape"):
            importer.lrn_size[chained[0]] = int(node.attributes["kernel_shape"][0])
        return True
    return False


# --- channels-last -------------------------------------------------------------------------------------------
# ConvNeXt's block as PyTorch exports it (torchvision's Permute, LayerNorm2d): a Transpose [0, 2, 3, 1] of a feature
# map makes its tensor channels-last (N x H x W x C), which stays the same convcalc node (C x H x W): the Transposes
# move values, they compute nothing. While a tensor is channels-last, only the ops of CHANNELS_LAST_OPS are followed,
# as the same kinds (a MatMul is a ``linear`` per position), and their outputs stay channels-last; the Transpose
# [0, 3, 1, 2] back ends it (onnx_ops.transpose). Importer.channels_last holds the channels-last tensors.

FOLLOWED_CHANNELS_LAST = (
    "LayerNormalization over the last axis, MatMul or Gemm by a 2-D weight (and the Add of its bias), Mul by a "
    "weight per channel, element-wise activations, and the Transpose [0, 3, 1, 2] back"
)


def keep_channels_last(importer: Importer, node: OnnxNode) -> None:
    """A node that reads a channels-last tensor: an op that works per position keeps its outputs channels-last
    (but the Transpose back); anything else, or a channels-first tensor beside it, is refused."""
    if node.op_type not in CHANNELS_LAST_OPS:
        raise not_followed(importer, node)
    first = [t for t in node.inputs if t and t not in importer.channels_last and t not in importer.constants]
    if first:
        raise importer.fail(node, f"it reads a channels-last tensor and the channels-first '{first[0]}' together")
    if node.op_type != "Transpose":
        mark_channels_last(importer, node)


def mark_channels_last(importer: Importer, node: OnnxNode) -> None:
    """The outputs of ``node`` are channels-last; the graph's output may not be (no Transpose back)."""
    importer.channels_last.update(node.outputs)
    ending = [name for name, _ in importer.model.outputs if name in importer.channels_last]
    if ending:
        raise importer.fail(node, f"the graph's output '{ending[0]}' is channels-last: no Transpose [0, 3, 1, 2] back")


def not_followed(importer: Importer, node: OnnxNode) -> SpecError:
    """The error for a node on a channels-last tensor that convcalc does not follow."""
    tensor = next(t for t in node.inputs if t in importer.channels_last)
    return importer.fail(
        node,
        f"{node.op_type} reads '{tensor}', a channels-last tensor (after a Transpose [0, 2, 3, 1]), in a way "
        f"convcalc does not follow; it follows {FOLLOWED_CHANNELS_LAST}",
    )


# --- constants, the input, unknown ops ------------------------------------------------------------------------


def fold(node: OnnxNode, values: list[tuple[float | int, ...] | None]) -> tuple[float | int, ...] | None:
    """The values of a shape computation on known constants, or None: Shape, Gather, Slice, Unsqueeze, Squeeze,
    Cast, Concat, Transpose of a vector, and element-wise Add, Sub, Mul, Div."""
    if any(v is None for v in values):
        return None
    known = [v for v in values if v is not None]
    op = node.op_type
    if (
        op in ("Unsqueeze", "Squeeze", "Cast", "Identity")
        or (op == "Transpose" and len(known[0]) <= 1)
        or op == "Concat"
    ):
        return tuple(item for v in (known if op == "Concat" else known[:1]) for item in v)
    if op == "Slice" and len(known) >= 3 and len(known[1]) == len(known[2]) == 1:
        return known[0][int(known[1][0]) : int(known[2][0])]
    if op == "Gather" and len(known) == 2:
        return tuple(known[0][int(i)] for i in known[1])
    if op in ARITHMETIC and len(known) == 2 and len(known[1]) in (1, len(known[0])):
        right = known[1] * len(known[0]) if len(known[1]) == 1 else known[1]
        combine = ARITHMETIC[op]
        if op == "Div" and all(isinstance(v, int) for v in (*known[0], *right)):
            combine = operator.floordiv
        return tuple(combine(a, b) for a, b in zip(known[0], right, strict=True))
    return None


def fold_dims(node: OnnxNode, dims: tuple[int, ...]) -> tuple[int, ...]:
    """The dims of a constant computed from a constant of ``dims`` where the file does not state them (no shape
    inference): an Identity's (PyTorch shares equal weights so) or a Cast's are the same, a Transpose's permuted
    (the weight of a MatMul, as PyTorch exports nn.Linear on a channels-last map); else unknown."""
    if node.op_type in ("Identity", "Cast"):
        return dims
    perm = node.attributes.get("perm") or tuple(range(len(dims) - 1, -1, -1))  # ONNX's default reverses
    if node.op_type == "Transpose" and isinstance(perm, tuple) and sorted(perm) == list(range(len(dims))):
        return tuple(dims[int(p)] for p in perm)
    return ()


def per_sample(dims: Sequence[int | str | None] | None, name: str, source: str) -> Shape:
    """The input's shape without its batch: [N, C, H, W] -> (C, H, W), [N, F] -> (F,)."""
    if dims is None or len(dims) not in (2, 4) or not all(isinstance(d, int) and d > 0 for d in dims[1:]):
        raise SpecError(
            f"the input '{name}' must have a known shape [batch, channels, height, width] or [batch, features], "
            f"not {list(dims) if dims is not None else 'an unknown one'}",
            Location(source, 1, 1),
        )
    return tuple(int(d) for d in dims[1:])  # type: ignore[arg-type]


def opaque(importer: Importer, node: OnnxNode) -> None:
    """An op convcalc does not count: its shape as the file states it, no cost (a warning says so). On a
    channels-last tensor, an error: the ops there are followed or refused, never left out."""
    if importer.reads_channels_last(node):
        raise not_followed(importer, node)
    stated = importer.model.shapes.get(node.outputs[0]) if node.outputs else None
    if stated is None or len(stated) < 2 or not all(isinstance(d, int) and d > 0 for d in stated[1:]):
        raise importer.fail(
            node,
            f"convcalc does not know the ONNX op {node.op_type} and the file does not state its output's shape "
            "(run onnx's shape inference on the model first: python -m onnx.shape_inference IN OUT... or "
            "onnx.shape_inference.infer_shapes_path)",
        )
    sources = [importer.producer[t] for t in node.inputs if t in importer.producer] or [NETWORK_INPUT]
    config = {"op": node.op_type, "shape": tuple(int(d) for d in stated[1:])}  # type: ignore[arg-type]
    importer.emit(node, "opaque", config, sources[:1])


def read_onnx_file(path: str, origins: dict[str, str] | None = None) -> Graph:
    """The graph of an ONNX file, mapped rather than read: weights are never copied (see onnx_model).
    ``origins``, if given, is filled with each layer's ONNX node name."""
    import mmap

    with opened(path, "an ONNX model") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise SpecError(f"{path}: the file is empty, not an ONNX model")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            result = _read_mapped(mapped, path, origins)
    if isinstance(result, Exception):
        raise result
    return result


def _read_mapped(mapped: Any, path: str, origins: dict[str, str] | None) -> Graph | Exception:
    """The graph, or the error to raise once the mapping is closed: an exception's traceback would hold views
    of the mapping and keep it from closing, so the error is copied without one."""
    view = memoryview(mapped)
    try:
        return read_onnx(view, path, origins)
    except SpecError as error:
        return SpecError(error.message, error.location, layer=error.layer, kind=error.kind, hint=error.hint)
    except Exception as error:  # a bug: reported as one, after the mapping is closed
        return RuntimeError(f"{type(error).__name__}: {error}")
    finally:
        view.release()


def read_onnx(data: bytes | memoryview, source: str, origins: dict[str, str] | None = None) -> Graph:
    """The graph of an ONNX model's bytes; a SpecError for a file that is not ONNX or cannot be counted."""
    import struct

    from convcalc.onnx_model import read_model
    from convcalc.protobuf import DecodeError

    try:
        model = read_model(data)
    except (DecodeError, IndexError, ValueError, struct.error) as error:
        raise SpecError(f"{source} is not a readable ONNX model: {error}") from None
    from convcalc import onnx_ops  # noqa: F401 - registers the handlers

    importer = Importer(model, source)
    graph = importer.run()
    if origins is not None:
        origins.update(importer.origins)
    return graph
