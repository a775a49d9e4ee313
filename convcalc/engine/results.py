"""What an analysis produces: per-layer results, totals, receptive fields, warnings and the error that
carries the layers before a failing one. Plain data with its JSON form; no computation beyond derived fields."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.core.errors import Location, SpecError
from convcalc.core.findings import Finding
from convcalc.core.numbers import json_number, ratio
from convcalc.core.tensor import Config, Shape, format_shape
from convcalc.kinds.base import LayerKind, Window

if TYPE_CHECKING:
    from fractions import Fraction

    from convcalc.engine.graph import Instance

    Number = int | Fraction

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}

CONVENTION = {
    "params": "trainable weights + biases + batchnorm gamma/beta; running statistics are 'buffers'",
    "macs": "multiply-accumulates of conv, conv_transpose and linear weights only",
    "flops": "2 * MACs + element-wise work per layer kind (bias adds, pooling, normalisation, activations, merges)",
    "activation_bytes": "output elements * batch * dtype bytes",
    "peak_activation_bytes": "largest sum of tensors alive at once in a forward pass (inputs kept until last use)",
    "intensity": "MACs per byte moved (inputs + output + weights)",
    "receptive_field": "per axis [h, w]: size in input pixels, jump (input pixels between neighbouring outputs), "
    "start (centre of the first output's field, input pixel 0 = 0)",
    "batch": "macs, flops and bytes of activations are for the whole batch; params and weights are not",
}


@dataclass(frozen=True, slots=True)
class ReceptiveField:
    """Per spatial axis (h, w on an image; one axis on a 1-D map, three in 3-D): field size and jump in input pixels,
    and twice the centre of the first output's field.

    The centre is kept doubled so that half pixels stay whole numbers on the common path.
    """

    size: tuple[Number, ...]
    jump: tuple[Number, ...]
    start_x2: tuple[Number, ...]

    def through(self, windows: tuple[Window, ...]) -> ReceptiveField:
        """size' = size + (span - 1) * jump; jump' = jump * stride; start' = start + ((span - 1) / 2 - pad) * jump."""
        return ReceptiveField(
            tuple(
                size + (window.span - 1) * jump
                for size, jump, window in zip(self.size, self.jump, windows, strict=True)
            ),
            tuple(jump * window.stride for jump, window in zip(self.jump, windows, strict=True)),
            tuple(
                start + (window.span - 1 - 2 * window.pad_before) * jump
                for start, jump, window in zip(self.start_x2, self.jump, windows, strict=True)
            ),
        )

    @property
    def area(self) -> Number:
        return math.prod(self.size)

    def to_dict(self) -> dict[str, list[int | float]]:
        start = tuple(_half(value) for value in self.start_x2)
        return {"size": _numbers(self.size), "jump": _numbers(self.jump), "start": _numbers(start)}


def pixel(axes: int) -> ReceptiveField:
    """The field of the network's input on ``axes`` spatial axes: one pixel."""
    return ReceptiveField((1,) * axes, (1,) * axes, (0,) * axes)


def whole(extent: Sequence[int]) -> ReceptiveField:
    """The field of a layer that mixes the whole input (a reshape to another rank, attention): all of it."""
    return ReceptiveField(tuple(extent), tuple(extent), tuple(n - 1 for n in extent))


PIXEL = pixel(2)


def _half(value: Number) -> Number:
    """value / 2, exactly."""
    return ratio(value, 2) if isinstance(value, int) else value / 2


def _numbers(values: tuple[Number, ...]) -> list[int | float]:
    return [json_number(value) for value in values]


@dataclass(slots=True)
class LayerResult:
    """One layer's output shape (per sample) and its costs (for the whole batch). Read-only by convention
    (not frozen: a frozen dataclass costs a noticeable share of the engine's time per layer)."""

    name: str
    type: str
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: int
    buffers: int
    macs: int
    flops: int
    input_bytes: int
    activation_bytes: int
    weight_bytes: int
    receptive_field: ReceptiveField
    location: Location
    kind: LayerKind = field(repr=False, compare=False)
    config: Config = field(repr=False, compare=False)
    note: str | None = None
    warnings: tuple[Finding, ...] = ()
    instances: tuple[Instance, ...] = field(default=(), repr=False, compare=False)
    """The block instances the layer was expanded from, outermost first (the graph node's provenance); shown
    in JSON only by the grouped views (:mod:`convcalc.passes.views`)."""

    @property
    def intensity(self) -> float:
        """MACs per byte moved: inputs read, output written, weights read."""
        moved = self.input_bytes + self.activation_bytes + self.weight_bytes
        return self.macs / moved if moved else 0.0

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "inputs": list(self.inputs),
            "input_shapes": [list(shape) for shape in self.input_shapes],
            "output_shape": list(self.output_shape),
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
            "weight_bytes": self.weight_bytes,
            "intensity": round(self.intensity, 3),
            "receptive_field": self.receptive_field.to_dict(),
            "line": self.location.line,
        }
        if self.note:
            result["note"] = self.note
        return result


@dataclass(frozen=True, slots=True)
class Totals:
    params: int
    buffers: int
    macs: int
    flops: int
    weight_bytes: int
    activation_bytes: int
    peak_activation_bytes: int

    def to_dict(self) -> dict[str, int]:
        return {
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "weight_bytes": self.weight_bytes,
            "activation_bytes": self.activation_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
        }


@dataclass(frozen=True, slots=True)
class AnalysisWarning:
    """Something worth a second look; never fatal. ``code`` is its key in :data:`~convcalc.layers.WARNINGS`."""

    layer: str
    location: Location
    message: str
    code: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "line": self.location.line, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything `convcalc analyze` reports about one network."""

    name: str
    source: str
    input_shape: Shape
    output_shape: Shape
    batch: int
    dtype: str
    layers: tuple[LayerResult, ...]
    total: Totals
    output_layer: str
    """The layer whose output is the network's first (the graph's ``output``: a spec's last layer, or the first of
    its ``outputs``)."""
    warnings: tuple[AnalysisWarning, ...] = ()
    more_outputs: tuple[tuple[str, Shape], ...] = ()
    """The layers the network hands out besides ``output_layer`` (a detector's boxes beside its scores), each with
    its shape."""

    _repr_html_: ClassVar[Callable[[Analysis], str]]
    """The notebook view (Jupyter calls it): attached by the library (convcalc/notebook.py), as the engine renders
    nothing."""

    @property
    def outputs(self) -> tuple[tuple[str, Shape], ...]:
        """Every layer the network hands out, with its shape: ``output_layer`` first."""
        return ((self.output_layer, self.output_shape), *self.more_outputs)

    @property
    def output_layers(self) -> tuple[str, ...]:
        """The names of every layer the network hands out, ``output_layer`` first."""
        return (self.output_layer, *(name for name, _ in self.more_outputs))

    @property
    def outputs_text(self) -> str:
        """The outputs' shapes: ``1000``; ``3234x4, 3234x91``."""
        return ", ".join(format_shape(shape) for _, shape in self.outputs)

    @property
    def shapes_text(self) -> str:
        """The input's shape and the outputs': ``3x224x224 -> 1000``; ``3x320x320 -> 3234x4, 3234x91``."""
        return f"{format_shape(self.input_shape)} -> {self.outputs_text}"

    def to_pandas(self) -> Any:
        """A pandas DataFrame with one row per layer and the JSON's fields as columns (``to_dict()["layers"]``:
        exact integers; shapes as lists). pandas is optional: ImportError says how to install it."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Analysis.to_pandas() needs pandas, which is not installed: pip install pandas") from None
        return pandas.DataFrame([layer.to_dict() for layer in self.layers])

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "name": self.name,
            "source": self.source,
            "input": list(self.input_shape),
            "output": list(self.output_shape),
            "outputs": [{"layer": layer, "shape": list(shape)} for layer, shape in self.outputs],
            "batch": self.batch,
            "dtype": self.dtype,
            "convention": CONVENTION,
            "layers": [layer.to_dict() for layer in self.layers],
            "total": self.total.to_dict(),
            "warnings": [warning.to_dict() for warning in self.warnings],
        }


class AnalysisError(SpecError):
    """A layer that cannot be applied to its input; carries the results of the layers before it."""

    def __init__(
        self,
        message: str,
        location: Location,
        *,
        layer: str,
        kind: str,
        partial: Sequence[LayerResult],
        hint: str | None = None,
    ) -> None:
        super().__init__(message, location, layer=layer, kind=kind, hint=hint)
        self.partial = tuple(partial)
