"""The engine: a :class:`Spec` -> per-layer results and totals. Pure: no I/O, no printing.

Shapes flow through the layer tree in execution order. Nested structures contribute their leaf
layers; every merge (a concat of branches, a residual's sum) is a result of its own, since it has a
shape and a cost. Cost depends on the number of layers only, never on resolution or channel counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convcalc.checks import AnalysisWarning, network_warnings
from convcalc.errors import Location, SpecError
from convcalc.keys import MAX_FIELD, MAX_MAGNITUDE
from convcalc.layers import CATALOGUE, Config, LayerKind, Shape, ShapeError, Window, elements, json_number, ratio
from convcalc.spec import NETWORK_INPUT, Branches, Group, Layer, Node, Spec

if TYPE_CHECKING:
    from fractions import Fraction

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

Tensor = tuple[str, Shape]
"""A value flowing through the network: the name of the result that produced it, and its shape."""


@dataclass(frozen=True, slots=True)
class ReceptiveField:
    """Per axis (h, w): field size and jump in input pixels, and twice the centre of the first output's field.

    The centre is kept doubled so that half pixels stay whole numbers on the common path.
    """

    size: tuple[Number, Number]
    jump: tuple[Number, Number]
    start_x2: tuple[Number, Number]

    def through(self, windows: tuple[Window, Window]) -> ReceptiveField:
        """size' = size + (span - 1) * jump; jump' = jump * stride; start' = start + ((span - 1) / 2 - pad) * jump."""
        (h, w) = windows
        return ReceptiveField(
            (self.size[0] + (h.span - 1) * self.jump[0], self.size[1] + (w.span - 1) * self.jump[1]),
            (self.jump[0] * h.stride, self.jump[1] * w.stride),
            (
                self.start_x2[0] + (h.span - 1 - 2 * h.pad_before) * self.jump[0],
                self.start_x2[1] + (w.span - 1 - 2 * w.pad_before) * self.jump[1],
            ),
        )

    @property
    def area(self) -> Number:
        return self.size[0] * self.size[1]

    def to_dict(self) -> dict[str, list[int | float]]:
        start = (_half(self.start_x2[0]), _half(self.start_x2[1]))
        return {"size": _numbers(self.size), "jump": _numbers(self.jump), "start": _numbers(start)}


PIXEL = ReceptiveField((1, 1), (1, 1), (0, 0))


def _half(value: Number) -> Number:
    """value / 2, exactly."""
    return ratio(value, 2) if isinstance(value, int) else value / 2


def _numbers(pair: tuple[Number, Number]) -> list[int | float]:
    return [json_number(value) for value in pair]


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
    warnings: tuple[str, ...] = ()

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
    warnings: tuple[AnalysisWarning, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "name": self.name,
            "source": self.source,
            "input": list(self.input_shape),
            "output": list(self.output_shape),
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


def analyze_spec(spec: Spec, *, batch: int = 1, dtype: str = "float32") -> Analysis:
    """Propagate shapes through a spec and count every layer's parameters, MACs, FLOPs and memory."""
    if not 1 <= batch <= MAX_MAGNITUDE:
        raise ValueError("batch must be at least 1 and at most 10^100")
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPE_BYTES)}")
    run = _Run(spec.input_shape, batch, DTYPE_BYTES[dtype])
    _, output = run.sequence(spec.layers, (NETWORK_INPUT, spec.input_shape))
    layers = tuple(run.results)
    params = sum(r.params for r in layers)
    buffers = sum(r.buffers for r in layers)
    total = Totals(
        params=params,
        buffers=buffers,
        macs=sum(r.macs for r in layers),
        flops=sum(r.flops for r in layers),
        weight_bytes=(params + buffers) * DTYPE_BYTES[dtype],
        activation_bytes=sum(r.activation_bytes for r in layers),
        peak_activation_bytes=peak_activation_bytes(layers, elements(spec.input_shape) * batch * DTYPE_BYTES[dtype]),
    )
    warnings = network_warnings(layers, total.macs, total.flops)
    return Analysis(spec.name, spec.source, spec.input_shape, output, batch, dtype, layers, total, warnings)


def peak_activation_bytes(layers: Sequence[LayerResult], input_bytes: int) -> int:
    """Largest sum of live tensors while running the layers in order; a tensor lives until its last reader runs."""
    last_use = {NETWORK_INPUT: -1}
    for index, layer in enumerate(layers):
        for name in layer.inputs:
            last_use[name] = index
    if layers:
        last_use[layers[-1].name] = len(layers)  # the network's output is kept
    freed_after: dict[int, int] = {}
    for index, layer in enumerate(layers):
        end = max(last_use.get(layer.name, index), index)
        freed_after[end] = freed_after.get(end, 0) + layer.activation_bytes
    freed_after[last_use[NETWORK_INPUT]] = freed_after.get(last_use[NETWORK_INPUT], 0) + input_bytes
    live = peak = input_bytes
    for index, layer in enumerate(layers):
        live += layer.activation_bytes
        peak = max(peak, live)
        live -= freed_after.get(index, 0)
    return peak


class _Run:
    def __init__(self, input_shape: Shape, batch: int, dtype_bytes: int) -> None:
        self.tensors: dict[str, Tensor] = {NETWORK_INPUT: (NETWORK_INPUT, input_shape)}
        self.fields: dict[str, ReceptiveField] = {NETWORK_INPUT: PIXEL}
        self.results: list[LayerResult] = []
        self.batch = batch
        self.dtype_bytes = dtype_bytes

    def sequence(self, nodes: Sequence[Node], tensor: Tensor) -> Tensor:
        for node in nodes:
            tensor = self.node(node, tensor)
        return tensor

    def node(self, node: Node, tensor: Tensor) -> Tensor:
        if isinstance(node, Layer):
            inputs = tuple(self.tensors[name] for name in node.inputs) or (tensor,)
            return self.apply(node.name, node.kind, node.config, inputs, node.location)
        start = self.tensors[node.input] if node.input else tensor
        if isinstance(node, Group):
            output = self.sequence(node.layers, start)
            self.tensors[node.name] = output
            return output
        if isinstance(node, Branches):
            outputs = tuple(self.sequence(branch, start) for branch in node.branches)
            return self.apply(node.name, CATALOGUE["concat"], {}, outputs, node.location)
        body = self.sequence(node.body, start)
        shortcut = self.sequence(node.shortcut, start) if node.shortcut else start
        return self.apply(
            node.name,
            CATALOGUE["add"],
            {},
            (body, shortcut),
            node.location,
            hint="a residual adds its body's output to its shortcut's (or its input's)",
        )

    def apply(
        self,
        name: str,
        kind: LayerKind,
        config: Config,
        inputs: tuple[Tensor, ...],
        location: Location,
        hint: str | None = None,
    ) -> Tensor:
        shapes = tuple(shape for _, shape in inputs)
        try:
            result = kind.evaluate(config, shapes)
            if max(result.shape) > MAX_MAGNITUDE:
                raise ShapeError("an output size above 10^100 is beyond convcalc's limit")
        except ShapeError as error:
            raise AnalysisError(
                str(error), location, layer=name, kind=kind.type, partial=self.results, hint=hint
            ) from None
        sources = tuple(producer for producer, _ in inputs)
        if len(sources) == 1:  # the common case, kept cheap: the engine's time is per layer
            field_in, input_elements = self.fields[sources[0]], elements(shapes[0])
        else:  # a merge sees the largest field among its inputs
            field_in = max((self.fields[source] for source in sources), key=lambda f: f.area)
            input_elements = sum(elements(shape) for shape in shapes)
        receptive = field_in.through(result.windows) if result.windows else field_in
        if max(receptive.jump) > MAX_FIELD:  # strides multiply: 2,000 strides of 10^100 would be 200,000 digits
            raise AnalysisError(
                "the receptive field's jump passes 10^1000 input pixels",
                location,
                layer=name,
                kind=kind.type,
                partial=self.results,
                hint="the strides before it multiply",
            )
        self.results.append(
            LayerResult(
                name=name,
                type=kind.type,
                inputs=sources,
                input_shapes=shapes,
                output_shape=result.shape,
                params=result.params,
                buffers=result.buffers,
                macs=result.macs * self.batch,
                flops=result.flops * self.batch,
                input_bytes=input_elements * self.batch * self.dtype_bytes,
                activation_bytes=elements(result.shape) * self.batch * self.dtype_bytes,
                weight_bytes=(result.params + result.buffers) * self.dtype_bytes,
                receptive_field=receptive,
                location=location,
                note=result.note,
                warnings=result.warnings,
                kind=kind,
                config=config,
            )
        )
        self.fields[name] = receptive
        self.tensors[name] = (name, result.shape)
        return name, result.shape
