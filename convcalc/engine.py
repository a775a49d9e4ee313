"""The engine: a :class:`Spec` -> per-layer results and totals. Pure: no I/O, no printing.

Shapes flow through the layer tree in execution order. Nested structures contribute their leaf
layers; every merge (a concat of branches, a residual's sum) is a result of its own, since it has a
shape and a cost. Cost depends on the number of layers only, never on resolution or channel counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from convcalc.errors import Location, SpecError
from convcalc.keys import MAX_MAGNITUDE
from convcalc.layers import CATALOGUE, Config, LayerKind, Shape, ShapeError, elements
from convcalc.spec import NETWORK_INPUT, Branches, Group, Layer, Node, Spec

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}

CONVENTION = {
    "params": "trainable weights + biases + batchnorm gamma/beta; running statistics are 'buffers'",
    "macs": "multiply-accumulates of conv, conv_transpose and linear weights only",
    "flops": "2 * MACs + element-wise work per layer kind (bias adds, pooling, normalisation, activations, merges)",
    "activation_bytes": "output elements * batch * dtype bytes",
    "batch": "macs, flops and activation_bytes are for the whole batch; params are not",
}


@dataclass(frozen=True, slots=True)
class LayerResult:
    """One layer's output shape (per sample) and its costs (for the whole batch)."""

    name: str
    type: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: int
    buffers: int
    macs: int
    flops: int
    activation_bytes: int
    location: Location
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "input_shapes": [list(shape) for shape in self.input_shapes],
            "output_shape": list(self.output_shape),
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
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

    def to_dict(self) -> dict[str, int]:
        return {
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "weight_bytes": self.weight_bytes,
            "activation_bytes": self.activation_bytes,
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
    output = run.sequence(spec.layers, spec.input_shape)
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
    )
    return Analysis(spec.name, spec.source, spec.input_shape, output, batch, dtype, layers, total)


class _Run:
    def __init__(self, input_shape: Shape, batch: int, dtype_bytes: int) -> None:
        self.outputs: dict[str, Shape] = {NETWORK_INPUT: input_shape}
        self.results: list[LayerResult] = []
        self.batch = batch
        self.dtype_bytes = dtype_bytes

    def sequence(self, nodes: Sequence[Node], shape: Shape) -> Shape:
        for node in nodes:
            shape = self.node(node, shape)
        return shape

    def node(self, node: Node, shape: Shape) -> Shape:
        if isinstance(node, Layer):
            inputs = tuple(self.outputs[name] for name in node.inputs) or (shape,)
            return self.apply(node.name, node.kind, node.config, inputs, node.location)
        start = self.outputs[node.input] if node.input else shape
        if isinstance(node, Group):
            output = self.sequence(node.layers, start)
            self.outputs[node.name] = output
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
        inputs: tuple[Shape, ...],
        location: Location,
        hint: str | None = None,
    ) -> Shape:
        try:
            result = kind.evaluate(config, inputs)
            if max(result.shape) > MAX_MAGNITUDE:
                raise ShapeError("an output size above 10^100 is beyond convcalc's limit")
        except ShapeError as error:
            raise AnalysisError(
                str(error), location, layer=name, kind=kind.type, partial=self.results, hint=hint
            ) from None
        self.results.append(
            LayerResult(
                name=name,
                type=kind.type,
                input_shapes=inputs,
                output_shape=result.shape,
                params=result.params,
                buffers=result.buffers,
                macs=result.macs * self.batch,
                flops=result.flops * self.batch,
                activation_bytes=elements(result.shape) * self.batch * self.dtype_bytes,
                location=location,
                note=result.note,
            )
        )
        self.outputs[name] = result.shape
        return result.shape
