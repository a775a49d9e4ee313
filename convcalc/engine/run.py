"""The engine: a :class:`~convcalc.graph.Graph` -> per-layer results and totals. Pure: no I/O, no printing.

Shapes flow through the graph's nodes in their order; each node reads the outputs of the nodes it names.
Cost depends on the number of nodes only, never on resolution or channel counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.keys import MAX_FIELD, MAX_MAGNITUDE
from convcalc.core.tensor import Shape, elements, format_shape
from convcalc.engine.checks import channels_first_advice, network_warnings
from convcalc.engine.graph import NETWORK_INPUT, Graph, Node
from convcalc.engine.results import (
    DTYPE_BYTES,
    Analysis,
    AnalysisError,
    LayerResult,
    ReceptiveField,
    Totals,
    pixel,
    whole,
)
from convcalc.kinds.base import ShapeError, Window


def analyze_spec(spec: Graph, *, batch: int = 1, dtype: str = "float32") -> Analysis:
    """Propagate shapes through a graph and count every layer's parameters, MACs, FLOPs and memory."""
    if not 1 <= batch <= MAX_MAGNITUDE:
        raise ValueError("batch must be at least 1 and at most 10^100")
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPE_BYTES)}")
    run = _Run(spec.input_shape, batch, DTYPE_BYTES[dtype])
    for node in spec.nodes:
        run.apply(node)
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
        peak_activation_bytes=peak_activation_bytes(
            layers, elements(spec.input_shape) * batch * DTYPE_BYTES[dtype], spec.outputs
        ),
    )
    expected = {node.name: node.expected for node in spec.nodes if node.expected}
    warnings = network_warnings(layers, total.macs, total.flops, expected, spec.outputs, spec.input_shape)
    output = run.shapes[spec.output]
    more = tuple((name, run.shapes[name]) for name in spec.more_outputs)
    return Analysis(
        spec.name, spec.source, spec.input_shape, output, batch, dtype, layers, total, spec.output, warnings, more
    )


def peak_activation_bytes(layers: Sequence[LayerResult], input_bytes: int, outputs: Sequence[str]) -> int:
    """Largest sum of live tensors while running the layers in order; a tensor lives until its last reader runs,
    the network's ``outputs`` to the end (the first layer always reads the network's input)."""
    last_use: dict[str, int] = {}
    for index, layer in enumerate(layers):
        for name in layer.inputs:
            last_use[name] = index
    for output in outputs:
        last_use[output] = len(layers)
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


def named_inputs(sources: Sequence[str], shapes: Sequence[Shape]) -> str:
    """A merge's inputs with their shapes, for its error (' (inputs: a 8x30x30, b 16x30x30)'); nothing for one input."""
    if len(sources) < 2:
        return ""
    named = (f"{name} {format_shape(shape)}" for name, shape in zip(sources, shapes, strict=True))
    return f" (inputs: {', '.join(named)})"


class _Run:
    """The shapes and receptive fields of the nodes run so far, and their results."""

    def __init__(self, input_shape: Shape, batch: int, dtype_bytes: int) -> None:
        self.shapes: dict[str, Shape] = {NETWORK_INPUT: input_shape}
        self.extent = input_shape[1:] if len(input_shape) > 1 else (1, 1)  # a flat input: a field of one 1x1 pixel
        self.fields: dict[str, ReceptiveField] = {NETWORK_INPUT: pixel(len(self.extent))}
        self.results: list[LayerResult] = []
        self.batch = batch
        self.dtype_bytes = dtype_bytes
        self.layout_advice = channels_first_advice(input_shape)  # the hint of a shape error without its own

    def through(self, field: ReceptiveField, windows: tuple[Window, ...] | None) -> ReceptiveField:
        """The field after a layer's windows (the same field without any); windows on a map of other axes than the
        network input's (a reshape between them) see all of the input."""
        if not windows:
            return field
        return field.through(windows) if len(windows) == len(field.size) else whole(self.extent)

    def apply(self, node: Node) -> None:
        name, kind, sources = node.name, node.kind, node.inputs
        shapes = tuple(self.shapes[source] for source in sources)
        try:
            result = kind.evaluate(node.config, shapes)
            if max(result.shape) > MAX_MAGNITUDE:
                raise ShapeError("an output size above 10^100 is beyond convcalc's limit")
        except ShapeError as error:
            raise AnalysisError(
                str(error) + named_inputs(sources, shapes),
                node.location,
                layer=name,
                kind=kind.type,
                partial=self.results,
                hint=node.hint or self.layout_advice,
            ) from None
        if len(sources) == 1:  # the common case, kept cheap: the engine's time is per layer
            field_in, input_elements = self.fields[sources[0]], elements(shapes[0])
        else:  # a merge sees the largest field among its inputs of the output's size (a broadcast gate aside)
            full = [s for s, shape in zip(sources, shapes, strict=True) if shape[1:] == result.shape[1:]]
            field_in = max((self.fields[source] for source in full or sources), key=lambda f: f.area)
            input_elements = sum(elements(shape) for shape in shapes)
        receptive = self.through(field_in, result.windows)
        if max(receptive.jump) > MAX_FIELD:  # strides multiply: 2,000 strides of 10^100 would be 200,000 digits
            raise AnalysisError(
                "the receptive field's jump passes 10^1000 input pixels",
                node.location,
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
                location=node.location,
                note=result.note,
                warnings=result.warnings + node.findings if node.findings else result.warnings,
                kind=kind,
                config=node.config,
                instances=node.instances,
            )
        )
        self.fields[name] = receptive
        self.shapes[name] = result.shape
