"""Just enough of protobuf's wire format to read an ONNX file's structure without the onnx package.

A message is a run of fields, each a key (field number and wire type) and a value. Length-delimited values
(strings, bytes, nested messages, packed numbers) are returned as (start, end) offsets into the buffer, so a
500 MB weight blob is skipped by its length, never copied or decoded.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
MASK64 = (1 << 64) - 1


class DecodeError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def varint(data: bytes | memoryview, at: int) -> tuple[int, int]:
    """The unsigned varint at ``at`` and the offset after it: at most 10 bytes, of which the low 64 bits count (as
    protobuf reads them: the 10th byte's bits past the 64th are dropped)."""
    result = shift = 0
    while True:
        if at >= len(data):
            raise DecodeError("the data ends inside a number")
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & MASK64, at
        shift += 7
        if shift > 63:
            raise DecodeError("a number is longer than 10 bytes")


def signed(value: int) -> int:
    """An int64 from its varint (two's complement over 64 bits)."""
    return value - (1 << 64) if value >= 1 << 63 else value


Field = tuple[int, int, int | tuple[int, int]]
"""(field number, wire type, value): an int for varints and fixed numbers, (start, end) for length-delimited."""


def head(data: bytes | memoryview, at: int, end: int) -> tuple[int, int, int | tuple[int, int], int]:
    """The field at ``at`` of a message that ends at ``end``: its number, wire type, value (a number, or the (start,
    end) of a length-delimited one, which is not read) and the offset after it."""
    key, at = varint(data, at)
    number, wire = key >> 3, key & 7
    value: int | tuple[int, int]
    if wire == VARINT:
        value, at = varint(data, at)
    elif wire == LENGTH:
        length, at = varint(data, at)
        if at + length > end:
            raise DecodeError("a field is longer than the data around it")
        value, at = (at, at + length), at + length
    elif wire == FIXED64:
        value, at = int.from_bytes(data[at : at + 8], "little"), at + 8
    elif wire == FIXED32:
        value, at = int.from_bytes(data[at : at + 4], "little"), at + 4
    else:
        raise DecodeError(f"unknown wire type {wire}")
    if number == 0 or at > end:
        raise DecodeError("a field runs past the end of its message")
    return number, wire, value, at


def fields(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[Field]:
    """The fields of the message in ``data[start:end]``, in order."""
    end = len(data) if end is None else end
    at = start
    while at < end:
        number, wire, value, at = head(data, at, end)
        yield number, wire, value


def packed_varints(data: bytes | memoryview, span: tuple[int, int], limit: int | None = None) -> list[int]:
    """The signed int64 values of a packed repeated field (the first ``limit`` of them, if given)."""
    values: list[int] = []
    at = span[0]
    while at < span[1] and (limit is None or len(values) < limit):
        value, at = varint(data, at)
        values.append(signed(value))
    return values


def float32(bits: int) -> float:
    """A float from the 32 bits of a fixed32 field: the shortest decimal that is the same float32 (1e-05, not
    9.999999747378752e-06), as the number was written before it was stored."""
    value: float = struct.unpack("<f", bits.to_bytes(4, "little"))[0]
    return shortest_float32(value)


def shortest_float32(value: float) -> float:
    """The float with the fewest significant digits that rounds to the same float32 as ``value``."""
    packed = struct.pack("<f", value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack("<f", candidate) == packed:
            return candidate
    return value
