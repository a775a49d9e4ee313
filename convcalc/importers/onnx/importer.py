"""What the ONNX op handlers (:mod:`convcalc.importers.onnx.ops`) work with: the graph being built, the ONNX tensor
each convcalc node's output is, the file's constants and stated shapes, and the patterns under way.

Parameter counts come from convcalc's formulas, held against the initializers' dims: a weight whose dims
disagree is an error, never a silent difference. Weights are never decoded (see :mod:`convcalc.importers.onnx.model`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from convcalc.core.errors import Location, SpecError
from convcalc.core.findings import Finding
from convcalc.core.keys import describe, is_int
from convcalc.core.tensor import Config, Shape, format_shape
from convcalc.engine.graph import Node
from convcalc.importers.builder import ConfigError, GraphBuilder
from convcalc.importers.onnx.constants import MOVES, fold
from convcalc.importers.onnx.learned import Learned
from convcalc.importers.onnx.model import SMALL, OnnxGraph, OnnxNode, Tensor
from convcalc.kinds.base import ShapeError


class Importer(GraphBuilder):
    """Emits convcalc nodes for an ONNX graph's nodes, in the file's (topological) order."""

    def __init__(self, model: OnnxGraph, source: str) -> None:
        super().__init__(source)
        self.model = model
        self.producer: dict[str, str] = {}  # ONNX tensor -> the convcalc node whose output it is
        self.tensors_of: dict[str, list[str]] = {}  # convcalc node -> the ONNX tensors that are its output
        self.constants: dict[str, Tensor] = dict(model.initializers)
        self.parameters: set[str] = set(model.initializers)  # and their copies (torch's exporter dedups by Identity)
        self.learned = Learned(model.initializers, self.constants)  # the parameters, and which a layer counted
        self.index = 0
        self.batch = 1  # the batch the file holds (its input's first size)
        self.pending: dict[str, tuple[str, Any]] = {}  # tensors of a channel shuffle under way
        self.channels_last: set[str] = set()  # tensors holding their node's map as H x W x C (keep_channels_last)
        self.laid_last: dict[str, str] = {}  # channels-first tensor -> the permute holding it channels-last
        self.all_axes: set[str] = set()  # tensors held with every axis of the file's (layouts.all_axes_source)
        self.lifted: dict[str, str] = {}  # tensor -> the reshape holding it with every axis
        self.lrn: dict[str, str] = {}  # tensors of a LocalResponseNorm under way -> the tensor it normalises
        self.lrn_size: dict[str, int] = {}  # the tensor an LRN normalises -> its window (0 until the pool is seen)
        self.readers: dict[str, int] = {}  # ONNX tensor -> how many node inputs read it
        self.reading: dict[str, list[OnnxNode]] = {}  # ONNX tensor -> the nodes that read it, in the file's order
        self.maker: dict[str, OnnxNode] = {}  # ONNX tensor -> the node that makes it
        self.divided: set[str] = set()  # the tensors a Div divides (x in x / d): where an LRN may end
        for each in model.nodes:
            for tensor in each.inputs:
                self.readers[tensor] = self.readers.get(tensor, 0) + 1
            for tensor in dict.fromkeys(each.inputs):
                self.reading.setdefault(tensor, []).append(each)
            self.maker.update(dict.fromkeys(each.outputs, each))
            if each.op_type == "Div" and each.inputs:
                self.divided.add(each.inputs[0])

    # --- what handlers use ---

    def fail(self, node: OnnxNode, message: str) -> SpecError:
        return SpecError(message, self.location, layer=node.name or node.op_type, kind=node.op_type)

    @property
    def location(self) -> Location:
        """Where the node being read is: its index in the graph's node list, its name and op type."""
        return self.location_of(self.index)

    def location_of(self, index: int) -> Location:
        """Node ``index`` of the graph's node list as a location: line index + 1 (JSON's), no column printed."""
        node = self.model.nodes[index]
        return Location(
            self.source,
            index + 1,  # the node counted from 1
            1,  # a column, never printed for a node
            (index, node.name, node.op_type),
        )

    def place(self, index: int) -> str:
        """A node in words, as a location names it: "node 85 'name' (Conv)"."""
        return self.location_of(index).place

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
        """The dims of a weight the node reads (its input ``position``): a constant, none of its sizes negative."""
        tensor = self.constant(node, position)
        if tensor is None:
            raise self.fail(node, f"its {what} is not a constant of the file (convcalc counts fixed weights)")
        if any(dim < 0 for dim in tensor.dims):
            raise self.fail(node, f"its {what} '{tensor.name}' has dims {list(tensor.dims)}: a size below 0")
        return tensor.dims

    def per_channel(self, node: OnnxNode, position: int, count: int, role: str, unit: str) -> bool:
        """Whether the node has the optional input ``position`` (a bias, a norm's scale: its ``role``): a constant of
        ``count`` values, one per filter or channel (``unit``), else an error."""
        if position >= len(node.inputs) or not node.inputs[position]:
            return False
        dims = self.weight(node, position, role)
        if math.prod(dims) != count:
            name = node.inputs[position]
            raise self.fail(
                node, f"its {role} '{name}' has dims {list(dims)}: {math.prod(dims)} values for {count} {unit}"
            )
        return True

    def integers(self, node: OnnxNode, name: str, count: int | None, default: int) -> tuple[int, ...]:
        """An attribute of one whole number per spatial axis (strides, dilations; ``count`` of them, any number for
        None), or ``default`` on each."""
        values = node.attributes.get(name)
        if values is None:
            return (default,) * (count or 0)
        if not isinstance(values, tuple) or not all(is_int(value) for value in values):
            raise self.fail(node, f"attribute '{name}' must be whole numbers, got {describe(values)}")
        if count is not None and len(values) != count:
            many = f"more than {SMALL}" if len(values) > SMALL else str(len(values))  # a long list is read in part
            raise self.fail(node, f"attribute '{name}' has {many} values for {count} spatial axes")
        return values

    def integer(self, node: OnnxNode, name: str, default: int) -> int:
        """An attribute that is one whole number (group, axis)."""
        value = node.attributes.get(name, default)
        if not is_int(value):
            raise self.fail(node, f"attribute '{name}' must be a whole number, got {describe(value)}")
        return value

    def computes_constants(self, node: OnnxNode) -> bool:
        """A node that only computes with constants (shape arithmetic before a Reshape, a Pad or an Expand) is no
        layer: its outputs are constants too, folded as ONNX computes them (:func:`fold`). An output that is not
        folded takes the dims the file states, if all are numbers, and no values; else none (unknown). A parameter
        moved (:data:`MOVES`) is a parameter, its values not read."""
        given = [tensor for tensor in node.inputs if tensor]
        if node.op_type == "Constant" or not given or not all(tensor in self.constants for tensor in given):
            return False
        folded = fold(node, [self.constants[tensor] if tensor else None for tensor in node.inputs])
        for output in node.outputs:
            stated = self.model.shapes.get(output) or ()
            dims = tuple(size for size in stated if isinstance(size, int))
            self.constants[output] = Tensor(output, dims if len(dims) == len(stated) else (), None)
        if folded is not None:
            self.constants[node.outputs[0]] = folded
        self.learned.derive(node, given)
        if node.op_type in MOVES and given[0] in self.parameters:  # a weight, not shape arithmetic: no values
            self.parameters.add(node.outputs[0])
            self.constants[node.outputs[0]] = Tensor(node.outputs[0], self.constants[node.outputs[0]].dims)
        return True

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
        if node.inputs[position] in self.all_axes:
            self.all_axes.add(node.outputs[0])

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
        made = output or node.outputs[0]
        name = self.step(node, kind, config, sources, suffix, made)
        self.produce(made, name)
        return name

    def step(
        self, node: OnnxNode, kind: str, config: Config, sources: Sequence[str], suffix: str, made: str = ""
    ) -> str:
        """A convcalc node for ``node`` whose output is the tensor ``made`` (its shape held against the file's), or
        without one a step on the way to the node's own (a permute between layouts); its name."""
        name = layer_name(self, node, kind, suffix)
        try:
            layer, config, shape = self.evaluate(kind, config, sources)
        except (ConfigError, ShapeError) as error:
            raise self.fail(node, str(error)) from None
        findings = self.disagreement(made, shape) if made else ()
        self.append(Node(name, layer, config, tuple(sources), self.location, findings=findings), shape)
        self.origins[name] = node.name or node.op_type
        return name

    def disagreement(self, tensor: str, shape: Shape) -> tuple[Finding, ...]:
        """A warning when the file states another shape for a tensor (value_info, e.g. from ONNX's shape
        inference) than convcalc computes; a symbolic or unknown dimension agrees with anything."""
        stated = self.model.shapes.get(tensor)
        if tensor in self.channels_last:  # the file's layout: H x W x C
            shape = (*shape[1:], shape[0])
        if tensor in self.all_axes and stated is not None:  # held with the batch's axis
            stated = (1, *stated)
        if stated is None or len(stated) != len(shape) + 1:
            return () if stated is None else (Finding("shape", _differ(tensor, stated, shape)),)
        if all(not isinstance(s, int) or s == d for s, d in zip(stated[1:], shape, strict=True)):
            return ()
        return (Finding("shape", _differ(tensor, stated, shape)),)


UNSAFE_IN_NAME = re.compile(r"[^\w.\-]")
"""What a layer name read from a file may not hold (control characters, spaces, quotes): each becomes '_'."""


def layer_name(importer: Importer, node: OnnxNode, kind: str, suffix: str = "") -> str:
    """A readable unique name: the PyTorch module the node ran in where the file records it (the default exporter:
    'layer1.0.conv1', or 'layer1.0.add' for an op of a block's own forward); else from the node's name, as the
    TorchScript exporter writes it: '/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1'."""
    if node.module is not None:
        path, leaf = node.module
        path = UNSAFE_IN_NAME.sub("_", path)
        base = path if leaf and path else f"{path}.{kind}".lstrip(".")
    else:
        parts = [part for part in re.split(r"/+", node.name) if part]
        if parts and parts[-1].split("_")[0] == node.op_type:
            parts.pop()
        kept: list[str] = []
        for part in parts:
            part = UNSAFE_IN_NAME.sub("_", part)
            if kept and part.startswith(kept[-1] + "."):
                kept[-1] = part
            else:
                kept.append(part)
        base = ".".join(kept).strip(".") or f"{kind}{len(importer.nodes) + 1}"
    if suffix:
        base = f"{base}.{suffix}"
    return importer.unique(base)


def _differ(tensor: str, stated: Sequence[int | str | None], shape: Shape) -> str:
    written = "x".join("?" if d is None else str(d) for d in stated[1:])
    return f"the file states {written} for '{tensor}' (without the batch), convcalc computes {format_shape(shape)}"
