"""Build ONNX model bytes in tests without the onnx package: protobuf's wire format written out by hand.

Field numbers are ONNX's (onnx/onnx.proto): ModelProto graph 7, opset_import 8; GraphProto node 1, name 2,
initializer 5, input 11, output 12, value_info 13; NodeProto input 1, output 2, name 3, op_type 4, attribute 5;
AttributeProto name 1, f 2, i 3, s 4, floats 7, ints 8, type 20; TensorProto dims 1, data_type 2, name 8,
raw_data 9; ValueInfoProto name 1, type 2; TypeProto tensor_type 1; Tensor elem_type 1, shape 2; dim 1:
dim_value 1, dim_param 2. Where the onnx package is installed, tests/test_onnx.py checks that onnx reads
these bytes as the same model.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

FLOAT, INT64 = 1, 7


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s as ten bytes, as protobuf writes them
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def fixed32(number: int, value: float) -> bytes:
    return varint(number << 3 | 5) + struct.pack("<f", value)


def tensor(name: str, dims: Sequence[int], values: Sequence[float] | None = None, data_type: int = FLOAT) -> bytes:
    """An initializer; its values written as raw_data when given (weights are left out: dims are enough)."""
    body = b"".join(field(1, d) for d in dims) + field(2, data_type) + field(8, name)
    if values is not None:
        fmt = "<q" if data_type == INT64 else "<f"
        body += field(9, b"".join(struct.pack(fmt, v) for v in values))
    return body


def attribute(name: str, value: int | float | str | Sequence[int] | Sequence[float] | bytes) -> bytes:
    body = field(1, name)
    if isinstance(value, bool | int):
        return body + field(3, int(value)) + field(20, 2)
    if isinstance(value, float):
        return body + fixed32(2, value) + field(20, 1)
    if isinstance(value, str):
        return body + field(4, value) + field(20, 3)
    if isinstance(value, bytes):  # a tensor
        return body + field(5, value) + field(20, 4)
    if all(isinstance(v, int) for v in value):
        return body + b"".join(field(8, int(v)) for v in value) + field(20, 7)
    return body + b"".join(fixed32(7, float(v)) for v in value) + field(20, 6)


def node(op_type: str, inputs: Sequence[str], outputs: Sequence[str], name: str = "", **attributes: object) -> bytes:
    body = b"".join(field(1, i) for i in inputs) + b"".join(field(2, o) for o in outputs)
    body += field(3, name) + field(4, op_type)
    body += b"".join(field(5, attribute(key, value)) for key, value in attributes.items())  # type: ignore[arg-type]
    return body


def value_info(name: str, dims: Sequence[int | str]) -> bytes:
    shape = b"".join(field(1, field(2, d) if isinstance(d, str) else field(1, d)) for d in dims)
    tensor_type = field(1, FLOAT) + field(2, shape)
    return field(1, name) + field(2, field(1, tensor_type))


def model(
    nodes: Sequence[bytes],
    inputs: Sequence[tuple[str, Sequence[int | str]]],
    outputs: Sequence[tuple[str, Sequence[int | str]]],
    initializers: Sequence[bytes] = (),
    value_infos: Sequence[tuple[str, Sequence[int | str]]] = (),
    opset: int = 17,
    name: str = "test",
) -> bytes:
    graph = b"".join(field(1, n) for n in nodes) + field(2, name)
    graph += b"".join(field(5, t) for t in initializers)
    graph += b"".join(field(11, value_info(n, d)) for n, d in inputs)
    graph += b"".join(field(12, value_info(n, d)) for n, d in outputs)
    graph += b"".join(field(13, value_info(n, d)) for n, d in value_infos)
    return field(1, 8) + field(7, graph) + field(8, field(1, "") + field(2, opset))
