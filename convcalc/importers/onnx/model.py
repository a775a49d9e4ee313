"""An ONNX file's graph as plain data, read with :mod:`convcalc.importers.onnx.protobuf` (no onnx package, no weights).

Only what convcalc needs is decoded: nodes (op type, inputs, outputs, attributes), the graph's inputs and
outputs with their shapes, value_info shapes, and for each initializer its dims. The values of small integer
and float tensors (shapes, axes, pads, scales: at most 64 elements) are decoded too; weights are skipped by
their length, so a 500 MB model reads as fast as a 5 MB one, and external-data files are never opened.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from convcalc.importers.onnx.protobuf import (
    FIXED32,
    LENGTH,
    VARINT,
    DecodeError,
    fields,
    float32,
    packed_varints,
    shortest_float32,
    signed,
)

SMALL = 64
"""Most elements of a tensor whose values are decoded (shape, axes, pads, scales); larger ones are weights."""
FLOAT, INT32, INT64, DOUBLE = 1, 6, 7, 11
"""TensorProto data types whose values convcalc reads."""


@dataclass
class Tensor:
    """An initializer or constant: its dims, and its values when small and numeric."""

    name: str
    dims: tuple[int, ...]
    values: tuple[float | int, ...] | None = None


@dataclass
class OnnxNode:
    name: str
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)
    domain: str = ""


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


def _text(data: memoryview, span: int | tuple[int, int]) -> str:
    start, end = _span(span)
    return bytes(data[start:end]).decode("utf-8", errors="replace")


def _span(value: int | tuple[int, int]) -> tuple[int, int]:
    if not isinstance(value, tuple):
        raise DecodeError("a message field holds a number")
    return value


def read_tensor(data: memoryview, span: tuple[int, int]) -> Tensor:
    """TensorProto: dims (1), data_type (2), float_data (4), int32_data (5), int64_data (7), name (8),
    raw_data (9), double_data (10)."""
    name, dims, data_type = "", [], 0
    raw: tuple[int, int] | None = None
    listed: list[float | int] = []
    for number, wire, value in fields(data, *span):
        if number == 1:
            dims += packed_varints(data, _span(value)) if wire == LENGTH else [signed(int(value))]  # type: ignore[arg-type]
        elif number == 2 and wire == VARINT:
            data_type = int(value)  # type: ignore[arg-type]
        elif number == 8:
            name = _text(data, value)
        elif number == 9:
            raw = _span(value)
        elif number in (5, 7) and wire == LENGTH:
            listed += packed_varints(data, _span(value))
        elif number in (5, 7) and wire == VARINT:
            listed.append(signed(int(value)))  # type: ignore[arg-type]
        elif number == 4 and wire == LENGTH:
            start, end = _span(value)
            listed += [shortest_float32(v) for (v,) in struct.iter_unpack("<f", bytes(data[start:end]))]
        elif number == 4 and wire == FIXED32:
            listed.append(float32(int(value)))  # type: ignore[arg-type]
    count = 1
    for dim in dims:
        count *= dim
    values: tuple[float | int, ...] | None = None
    if count <= SMALL:
        if raw is not None:
            values = _raw_values(bytes(data[raw[0] : raw[1]]), data_type)
        elif listed:
            values = tuple(listed)
    return Tensor(name, tuple(dims), values)


def _raw_values(raw: bytes, data_type: int) -> tuple[float | int, ...] | None:
    formats = {FLOAT: "<f", INT32: "<i", INT64: "<q", DOUBLE: "<d"}
    if data_type not in formats or len(raw) % struct.calcsize(formats[data_type]):
        return None
    values = tuple(v for (v,) in struct.iter_unpack(formats[data_type], raw))
    return tuple(shortest_float32(v) for v in values) if data_type == FLOAT else values


def read_attribute(data: memoryview, span: tuple[int, int]) -> tuple[str, Any]:
    """AttributeProto: name (1), f (2), i (3), s (4), t (5), floats (7), ints (8), strings (9)."""
    name = ""
    value_: Any = None
    floats: list[float] = []
    ints: list[int] = []
    for number, wire, value in fields(data, *span):
        if number == 1:
            name = _text(data, value)
        elif number == 2 and wire == FIXED32:
            value_ = float32(int(value))  # type: ignore[arg-type]
        elif number == 3 and wire == VARINT:
            value_ = signed(int(value))  # type: ignore[arg-type]
        elif number == 4:
            value_ = _text(data, value)
        elif number == 5:
            value_ = read_tensor(data, _span(value))
        elif number == 7 and wire == LENGTH:
            start, end = _span(value)
            floats += [v for (v,) in struct.iter_unpack("<f", bytes(data[start:end]))]
        elif number == 7 and wire == FIXED32:
            floats.append(float32(int(value)))  # type: ignore[arg-type]
        elif number == 8 and wire == LENGTH:
            ints += packed_varints(data, _span(value))
        elif number == 8 and wire == VARINT:
            ints.append(signed(int(value)))  # type: ignore[arg-type]
    if value_ is None and (floats or ints):
        value_ = tuple(floats or ints)
    return name, value_


def read_node(data: memoryview, span: tuple[int, int]) -> OnnxNode:
    """NodeProto: input (1), output (2), name (3), op_type (4), attribute (5), domain (7)."""
    node = OnnxNode("", "", [], [])
    for number, _, value in fields(data, *span):
        if number == 1:
            node.inputs.append(_text(data, value))
        elif number == 2:
            node.outputs.append(_text(data, value))
        elif number == 3:
            node.name = _text(data, value)
        elif number == 4:
            node.op_type = _text(data, value)
        elif number == 5:
            key, attribute = read_attribute(data, _span(value))
            node.attributes[key] = attribute
        elif number == 7:
            node.domain = _text(data, value)
    return node


def read_value_info(data: memoryview, span: tuple[int, int]) -> tuple[str, Dims | None]:
    """ValueInfoProto name (1), type (2) -> TypeProto tensor_type (1) -> shape (2) -> dim (1):
    dim_value (1) or dim_param (2)."""
    name, dims = "", None
    for number, _, value in fields(data, *span):
        if number == 1:
            name = _text(data, value)
        elif number == 2:
            for kind, _, tensor_type in fields(data, *_span(value)):
                if kind != 1:
                    continue
                for part, _, shape in fields(data, *_span(tensor_type)):
                    if part == 2:
                        dims = tuple(_dim(data, _span(dim)) for key, _, dim in fields(data, *_span(shape)) if key == 1)
    return name, dims


def _dim(data: memoryview, span: tuple[int, int]) -> int | str | None:
    for number, wire, value in fields(data, *span):
        if number == 1 and wire == VARINT:
            return signed(int(value))  # type: ignore[arg-type]
        if number == 2:
            return _text(data, value)
    return None


def read_graph(data: memoryview, span: tuple[int, int], opset: int) -> OnnxGraph:
    """GraphProto: node (1), name (2), initializer (5), input (11), output (12), value_info (13)."""
    graph = OnnxGraph("", [], {}, [], [], {}, opset)
    for number, _, value in fields(data, *span):
        if number == 1:
            graph.nodes.append(read_node(data, _span(value)))
        elif number == 2:
            graph.name = _text(data, value)
        elif number == 5:
            tensor = read_tensor(data, _span(value))
            graph.initializers[tensor.name] = tensor
        elif number in (11, 12, 13):
            name, dims = read_value_info(data, _span(value))
            if number == 11:
                graph.inputs.append((name, dims))
            elif number == 12:
                graph.outputs.append((name, dims))
            if dims is not None:
                graph.shapes[name] = dims
    return graph


def read_model(data: bytes | memoryview) -> OnnxGraph:
    """ModelProto: graph (7), opset_import (8: domain 1, version 2); a DecodeError when it is not ONNX."""
    view = memoryview(data)
    graph_span: tuple[int, int] | None = None
    opset = 0
    for number, _, value in fields(view):
        if number == 7:
            graph_span = _span(value)
        elif number == 8:
            domain, version = "", 0
            for key, wire, item in fields(view, *_span(value)):
                if key == 1:
                    domain = _text(view, item)
                elif key == 2 and wire == VARINT:
                    version = int(item)  # type: ignore[arg-type]
            if domain in ("", "ai.onnx"):
                opset = version
    if graph_span is None:
        raise DecodeError("it has no graph")
    return read_graph(view, graph_span, opset)
