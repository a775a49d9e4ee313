"""Summaries of whole analyses: a network's totals at several input sizes (`convcalc sweep`), and a bundled network's
line in the zoo (`convcalc zoo`). Plain data; :mod:`convcalc.sweep` and :mod:`convcalc.zoo` make them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from convcalc.core.tensor import Shape


@dataclass(frozen=True, slots=True)
class SweepRow:
    """The network's totals at one input size (MACs, FLOPs and peak memory for the whole batch), and the shape of
    each output it hands out (the first is ``output_shape``)."""

    input_shape: Shape
    output_shapes: tuple[Shape, ...]
    params: int
    macs: int
    flops: int
    peak_activation_bytes: int

    @property
    def output_shape(self) -> Shape:
        return self.output_shapes[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": list(self.input_shape),
            "output": list(self.output_shape),
            "outputs": [list(shape) for shape in self.output_shapes],
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
            "peak_activation_bytes": self.peak_activation_bytes,
        }


@dataclass(frozen=True, slots=True)
class Sweep:
    """One row per input size, in the order given."""

    name: str
    source: str
    batch: int
    dtype: str
    rows: tuple[SweepRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "name": self.name,
            "source": self.source,
            "batch": self.batch,
            "dtype": self.dtype,
            "rows": [row.to_dict() for row in self.rows],
        }


@dataclass(frozen=True, slots=True)
class ZooEntry:
    """One bundled spec: ``name`` is what `convcalc analyze NAME` takes, ``title`` the spec's own name."""

    name: str
    title: str
    description: str
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    flops: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "input": list(self.input_shape),
            "output": list(self.output_shape),
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
        }
