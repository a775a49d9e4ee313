"""Where an ONNX model's bytes come from: memory, or a file read in blocks as the parser asks for them.

Weights are most of a model file. The parser (:mod:`convcalc.importers.onnx.model`) walks the model, its graph and
each initializer field by field, and asks for the bytes of what it decodes only (nodes, names, dims, small
constants): the weights between are skipped by their length and never read. (A memory map of the file read them after
all: touching a header mapped the page-cache folio around it, 2 MiB on a file system with large folios, and a 241 MB
ResNet-152 took 172 MB of memory.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from convcalc.importers.onnx.protobuf import Field, fields, head

BLOCK = 1 << 16
"""Bytes read from the file at a time (a run of nodes; an initializer's header and a little of its weights)."""
LARGE = 1 << 20
"""A message longer than this is walked field by field through its source, never read whole (the model, the graph,
an initializer with its weights, a Constant node holding a large tensor)."""
HEAD = 20
"""The most bytes a field's key and a number (or a length) take: two varints of 10 bytes."""


class Source:
    """Bytes in memory; :meth:`window` gives the buffer that holds a range of them, and where it starts."""

    def __init__(self, data: bytes | memoryview) -> None:
        self.data = memoryview(data)
        self.size = len(self.data)

    def window(self, start: int, end: int) -> tuple[memoryview, int]:
        """A buffer holding the bytes [start, end) and the offset of its first byte."""
        return self.data, 0


class FileSource(Source):
    """A file read with pread, one block (or one message) at a time: the last block read is kept."""

    def __init__(self, descriptor: int, size: int) -> None:
        super().__init__(b"")
        self.descriptor = descriptor
        self.size = size
        self.start = 0

    def window(self, start: int, end: int) -> tuple[memoryview, int]:
        if not (self.start <= start and end <= self.start + len(self.data)):
            self.data, self.start = memoryview(os.pread(self.descriptor, max(end - start, BLOCK), start)), start
        return self.data, self.start


def message(source: Source, span: tuple[int, int]) -> Iterator[Field]:
    """The fields of the message at ``span`` of the source, their spans in the source's offsets: from one window when
    it is small, else field by field (a length-delimited value is never read here)."""
    start, end = span
    if end - start > LARGE:
        return _streamed(source, start, end)
    data, base = source.window(start, end)
    return fields(data, start, end) if not base else _shifted(fields(data, start - base, end - base), base)


def _shifted(found: Iterator[Field], base: int) -> Iterator[Field]:
    for number, wire, value in found:
        yield number, wire, (value[0] + base, value[1] + base) if isinstance(value, tuple) else value


def _streamed(source: Source, start: int, end: int) -> Iterator[Field]:
    at = start
    while at < end:
        data, base = source.window(at, min(end, at + HEAD))
        number, wire, value, after = head(data, at - base, end - base)
        at = after + base
        yield number, wire, (value[0] + base, value[1] + base) if isinstance(value, tuple) else value


def local(source: Source, span: tuple[int, int]) -> tuple[Source, tuple[int, int]]:
    """A small message as a source of its own (in memory) and its span there: what is read inside it reads no file."""
    if span[1] - span[0] > LARGE or not isinstance(source, FileSource):
        return source, span
    data, base = source.window(*span)
    return Source(data), (span[0] - base, span[1] - base)


def payload(source: Source, span: tuple[int, int]) -> bytes:
    """The bytes of a length-delimited value."""
    data, base = source.window(*span)
    return bytes(data[span[0] - base : span[1] - base])


def text(source: Source, span: tuple[int, int]) -> str:
    """A length-delimited value as UTF-8 text (undecodable bytes replaced)."""
    data, base = source.window(*span)
    return str(data[span[0] - base : span[1] - base], "utf-8", "replace")
