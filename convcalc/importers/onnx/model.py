"""An ONNX file's graph as plain data, read with :mod:`convcalc.importers.onnx.protobuf` (no onnx package, no weights).

Only what convcalc needs is decoded: nodes (op type, inputs, outputs, attributes), the graph's inputs and
outputs with their shapes, value_info shapes, and for each initializer its dims. The values of small integer
and float tensors (shapes, axes, pads, scales: at most 64 elements) are decoded too; weights are skipped by
their length and never read (:mod:`convcalc.importers.onnx.source`), so a 500 MB model reads as fast as a 5 MB one,
and external-data files are never opened. The work is bounded by the file's size: no list of values is decoded past
what convcalc could use, and a graph of more than :data:`MAX_NODES` nodes is refused as soon as it is seen.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

from convcalc.engine.graph import MAX_LAYERS
from convcalc.importers.onnx.protobuf import (
    FIXED32,
    LENGTH,
    VARINT,
    DecodeError,
    float32,
    packed_varints,
    shortest_float32,
    signed,
)
from convcalc.importers.onnx.source import Source, local, message, payload, text

SMALL = 64
"""Most elements of a tensor whose values are decoded (shape, axes, pads, scales); larger ones are weights. A list
attribute keeps its first SMALL + 1 values: enough to be refused wherever its length is checked."""
MAX_RANK = 64
"""Most dimensions of a tensor (ONNX's runtimes allow fewer)."""
MAX_NODES = 10 * MAX_LAYERS
"""Most nodes of a graph: ten for each layer a model may have (shape arithmetic, patterns of elementary ops)."""
FLOAT, INT32, INT64, DOUBLE = 1, 6, 7, 11
"""TensorProto data types whose values convcalc reads."""
REAL_TYPES = frozenset({FLOAT, 10, DOUBLE, 16})
"""TensorProto's float, float16, double and bfloat16."""


class TooLarge(ValueError):
    """The model is over a limit convcalc states (README: Errors)."""


@dataclass
class Tensor:
    """An initializer or constant: its dims, its values when small and numeric, its TensorProto data type."""

    name: str
    dims: tuple[int, ...]
    values: tuple[float | int, ...] | None = None
    data_type: int = 0

    @property
    def real(self) -> bool:
        """Whether it holds real numbers (float, float16, double, bfloat16): a weight, not an index."""
        return self.data_type in REAL_TYPES


@dataclass
class OnnxNode:
    name: str
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)
    domain: str = ""
    module: tuple[str, bool] | None = None
    """The PyTorch module the node ran in, as the default exporter records it (``pkg.torch.onnx.name_scopes``):
    its path, and whether it is one of torch.nn's own (a leaf such as Conv2d, not a block of the network's)."""


Dims = tuple[int | str | None, ...]
"""A tensor's shape as the file states it: a number, a symbolic name (e.g. the batch 'N'), or unknown."""


@dataclass
class OnnxGraph:
    name: str
    nodes: list[OnnxNode]
    initializers: dict[str, Tensor]
    inputs: list[tuple[str, Dims | None]]
    outputs: list[tuple[str, Dims | None]]
    shapes: dict[str, Dims]
    opset: int


def _text(source: Source, span: int | tuple[int, int]) -> str:
    return text(source, _span(span))


def _span(value: int | tuple[int, int]) -> tuple[int, int]:
    if not isinstance(value, tuple):
        raise DecodeError("a message field holds a number")
    return value


def _varints(source: Source, span: int | tuple[int, int], limit: int | None = None) -> list[int]:
    start, end = _span(span)
    if limit is not None:
        end = min(end, start + 10 * limit)  # a varint takes at most 10 bytes
    data, base = source.window(start, end)
    return packed_varints(data, (start - base, end - base), limit)


def _floats(source: Source, span: int | tuple[int, int], limit: int) -> list[float]:
    start, end = _span(span)
    return [v for (v,) in struct.iter_unpack("<f", payload(source, (start, min(end, start + 4 * limit))))]


def read_tensor(source: Source, span: tuple[int, int]) -> Tensor:
    """TensorProto: dims (1), data_type (2), float_data (4), int32_data (5), int64_data (7), name (8),
    raw_data (9), double_data (10). The values are decoded once the dims (which may come last) say they are few."""
    name, dims, data_type = "", [], 0
    raw: tuple[int, int] | None = None
    listed: list[tuple[int, int, int | tuple[int, int]]] = []
    for number, wire, value in message(source, span):
        if number == 1:
            dims += _varints(source, value) if wire == LENGTH else [signed(int(value))]  # type: ignore[arg-type]
            if len(dims) > MAX_RANK:
                raise DecodeError(f"a tensor of {len(dims):,} dimensions (convcalc reads at most {MAX_RANK})")
        elif number == 2 and wire == VARINT:
            data_type = int(value)  # type: ignore[arg-type]
        elif number == 8:
            name = _text(source, value)
        elif number == 9:
            raw = _span(value)
        elif number in (4, 5, 7) and len(listed) <= SMALL:
            listed.append((number, wire, value))
    values: tuple[float | int, ...] | None = None
    if _at_most(dims, SMALL):
        values = _raw_values(source, raw, data_type) if raw is not None else _listed_values(source, listed)
    return Tensor(name, tuple(dims), values, data_type)


def _at_most(dims: list[int], limit: int) -> bool:
    """Whether a tensor of these dims holds at most ``limit`` elements, found without multiplying out large dims."""
    if 0 in dims:
        return True
    count = 1
    for dim in dims:
        count *= dim
        if not 0 < count <= limit:
            return False
    return True


def _listed_values(
    source: Source, listed: list[tuple[int, int, int | tuple[int, int]]]
) -> tuple[float | int, ...] | None:
    """float_data (4), int32_data (5) and int64_data (7), packed or one by one; None past SMALL values (a packed
    run longer than SMALL values could take is not read)."""
    values: list[float | int] = []
    for number, wire, value in listed:
        if wire == LENGTH:
            start, end = _span(value)
            if end - start > (4 if number == 4 else 10) * SMALL:
                return None
            values += (
                [shortest_float32(v) for v in _floats(source, value, SMALL)]
                if number == 4
                else _varints(source, value, SMALL + 1)
            )
        elif number == 4 and wire == FIXED32:
            values.append(float32(int(value)))  # type: ignore[arg-type]
        elif number != 4 and wire == VARINT:
            values.append(signed(int(value)))  # type: ignore[arg-type]
        if len(values) > SMALL:
            return None
    return tuple(values) or None


def _raw_values(source: Source, span: tuple[int, int], data_type: int) -> tuple[float | int, ...] | None:
    formats = {FLOAT: "<f", INT32: "<i", INT64: "<q", DOUBLE: "<d"}
    if data_type not in formats or span[1] - span[0] > 8 * SMALL:
        return None
    raw = payload(source, span)
    if len(raw) % struct.calcsize(formats[data_type]):
        return None
    values = tuple(v for (v,) in struct.iter_unpack(formats[data_type], raw))
    return tuple(shortest_float32(v) for v in values) if data_type == FLOAT else values


def read_attribute(source: Source, span: tuple[int, int]) -> tuple[str, Any]:
    """AttributeProto: name (1), f (2), i (3), s (4), t (5), floats (7), ints (8), strings (9); a list keeps its
    first SMALL + 1 values."""
    name = ""
    value_: Any = None
    floats: list[float] = []
    ints: list[int] = []
    for number, wire, value in message(source, span):
        if number == 1:
            name = _text(source, value)
        elif number == 2 and wire == FIXED32:
            value_ = float32(int(value))  # type: ignore[arg-type]
        elif number == 3 and wire == VARINT:
            value_ = signed(int(value))  # type: ignore[arg-type]
        elif number == 4:
            value_ = _text(source, value)
        elif number == 5:
            value_ = read_tensor(source, _span(value))
        elif number == 7 and wire == LENGTH and len(floats) <= SMALL:
            floats += _floats(source, value, SMALL + 1)
        elif number == 7 and wire == FIXED32 and len(floats) <= SMALL:
            floats.append(float32(int(value)))  # type: ignore[arg-type]
        elif number == 8 and wire == LENGTH and len(ints) <= SMALL:
            ints += _varints(source, value, SMALL + 1)
        elif number == 8 and wire == VARINT and len(ints) <= SMALL:
            ints.append(signed(int(value)))  # type: ignore[arg-type]
    if value_ is None and (floats or ints):
        value_ = tuple(floats or ints)[: SMALL + 1]
    return name, value_


def read_node(source: Source, span: tuple[int, int]) -> OnnxNode:
    """NodeProto: input (1), output (2), name (3), op_type (4), attribute (5), domain (7), metadata_props (9)."""
    node = OnnxNode("", "", [], [])
    scopes: dict[str, str] = {}
    for number, _, value in message(source, span):
        if number == 1:
            node.inputs.append(_text(source, value))
        elif number == 2:
            node.outputs.append(_text(source, value))
        elif number == 3:
            node.name = _text(source, value)
        elif number == 4:
            node.op_type = _text(source, value)
        elif number == 5:
            key, attribute = read_attribute(source, _span(value))
            node.attributes[key] = attribute
        elif number == 7:
            node.domain = _text(source, value)
        elif number == 9:
            entry = dict(_pair(source, _span(value)))
            if entry.get("", "").startswith("pkg.torch.onnx."):
                scopes[entry[""]] = entry.get("value", "")
    node.module = torch_module(scopes)
    return node


def _pair(source: Source, span: tuple[int, int]) -> list[tuple[str, str]]:
    """StringStringEntryProto: key (1) as '', value (2) as 'value'; a text over MAX_SCOPE characters is left out."""
    return [
        ("" if number == 1 else "value", _text(source, value))
        for number, _, value in message(source, span)
        if number in (1, 2) and isinstance(value, tuple) and value[1] - value[0] <= MAX_SCOPE
    ]


MAX_SCOPE = 4096
"""Most characters of a node's module metadata read (a deeper module path is not named after it)."""


def torch_module(scopes: dict[str, str]) -> tuple[str, bool] | None:
    """The module a node ran in, from its ``name_scopes`` (['', 'layer1', 'layer1.0', 'add']: module paths, then the
    op) and ``class_hierarchy`` (the modules' classes, then the op): its path ('' at the root) and whether it is a
    leaf of torch.nn; None without them."""
    paths = re.findall(r"'([^']*)'", scopes.get("pkg.torch.onnx.name_scopes", ""))
    classes = re.findall(r"'([^']*)'", scopes.get("pkg.torch.onnx.class_hierarchy", ""))
    if len(paths) < 2:
        return None
    leaf = len(classes) == len(paths) and classes[-2].startswith("torch.nn.modules.")
    return paths[-2], leaf


def read_value_info(source: Source, span: tuple[int, int]) -> tuple[str, Dims | None]:
    """ValueInfoProto name (1), type (2) -> TypeProto tensor_type (1) -> shape (2) -> dim (1):
    dim_value (1) or dim_param (2)."""
    name, dims = "", None
    for number, _, value in message(source, span):
        if number == 1:
            name = _text(source, value)
        elif number == 2:
            for kind, _, tensor_type in message(source, _span(value)):
                if kind != 1:
                    continue
                for part, _, shape in message(source, _span(tensor_type)):
                    if part == 2:
                        dims = tuple(
                            _dim(source, _span(dim)) for key, _, dim in message(source, _span(shape)) if key == 1
                        )
    return name, dims


def _dim(source: Source, span: tuple[int, int]) -> int | str | None:
    for number, wire, value in message(source, span):
        if number == 1 and wire == VARINT:
            return signed(int(value))  # type: ignore[arg-type]
        if number == 2:
            return _text(source, value)
    return None


def read_graph(source: Source, span: tuple[int, int], graph: OnnxGraph) -> None:
    """GraphProto: node (1), name (2), initializer (5), input (11), output (12), value_info (13), added to ``graph``
    (two records of a graph are one, merged as protobuf merges them); TooLarge past MAX_NODES nodes, found by
    counting them before any is decoded."""
    count = len(graph.nodes)
    for number, _, _ in message(source, span):
        count += number == 1
        if count > MAX_NODES:
            raise TooLarge(
                f"the graph has more than {MAX_NODES:,} nodes; convcalc reads models of up to {MAX_LAYERS:,} layers "
                f"and {MAX_NODES:,} nodes"
            )
    for number, _, value in message(source, span):
        if number == 1:
            graph.nodes.append(read_node(*local(source, _span(value))))
        elif number == 2:
            graph.name = _text(source, value)
        elif number == 5:
            tensor = read_tensor(source, _span(value))
            graph.initializers[tensor.name] = tensor
        elif number in (11, 12, 13):
            name, dims = read_value_info(source, _span(value))
            if number == 11:
                graph.inputs.append((name, dims))
            elif number == 12:
                graph.outputs.append((name, dims))
            if dims is not None:
                graph.shapes[name] = dims


def read_model(data: bytes | memoryview | Source) -> OnnxGraph:
    """ModelProto: graph (7), opset_import (8: domain 1, version 2); a DecodeError when it is not ONNX."""
    source = data if isinstance(data, Source) else Source(data)
    graphs: list[tuple[int, int]] = []
    opset = 0
    for number, _, value in message(source, (0, source.size)):
        if number == 7:
            graphs.append(_span(value))
        elif number == 8:
            domain, version = "", 0
            for key, wire, item in message(source, _span(value)):
                if key == 1:
                    domain = _text(source, item)
                elif key == 2 and wire == VARINT:
                    version = int(item)  # type: ignore[arg-type]
            if domain in ("", "ai.onnx"):
                opset = version
    if not graphs:
        raise DecodeError("it has no graph")
    graph = OnnxGraph("", [], {}, [], [], {}, opset)
    for span in graphs:
        read_graph(source, span, graph)
    return graph
