"""Sweeps: one network's totals at several input sizes (what `convcalc sweep` prints).

``Sweep`` and ``SweepRow`` are re-exported from :mod:`convcalc.passes.summaries` for the library's users."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcalc.api import Source, analyze, load_spec, parse_shape
from convcalc.core.tensor import Shape, format_shape
from convcalc.engine.graph import Graph
from convcalc.engine.results import AnalysisError
from convcalc.passes.summaries import Sweep, SweepRow

if TYPE_CHECKING:
    from torch.nn import Module

__all__ = ["Sweep", "SweepRow", "parse_sizes", "sweep"]


def parse_sizes(text: str, like: Shape) -> tuple[Shape, ...]:
    """'224,320,3x512x1024' -> one shape per comma-separated size (see :func:`convcalc.api.parse_shape`)."""
    if not isinstance(text, str):
        raise TypeError(f"sizes must be a str such as '224,320,3x512x1024', not {type(text).__name__}")
    sizes = [part.strip() for part in text.split(",") if part.strip()]
    if not sizes:
        raise ValueError("no input sizes given; write them as 224,320,512 or 3x512x1024")
    return tuple(parse_shape(size, like) for size in sizes)


def sweep(
    spec: Source | Module,
    input_shapes: Sequence[Shape],
    *,
    batch: int = 1,
    dtype: str = "float32",
    convention: str | None = None,
) -> Sweep:
    """Analyse the network (a spec, a model file, a torch module: see :func:`convcalc.analyze`) at each input shape;
    a size the network cannot take is an AnalysisError naming it. ``convention``: MACs and FLOPs as that tool counts.

    TypeError when ``input_shapes`` is not a list of shapes (``[(3, 224, 224), (3, 512, 512)]``)."""
    if not isinstance(input_shapes, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in input_shapes):
        raise TypeError(f"input_shapes must be a list of shapes such as [(3, 224, 224)], not {input_shapes!r:.60}")
    if not isinstance(spec, Graph):
        spec = load_spec(spec, input_shape=tuple(input_shapes[0]) if input_shapes else None)
    rows = []
    for shape in input_shapes:
        try:
            analysis = analyze(spec, batch=batch, dtype=dtype, input_shape=shape, convention=convention)
        except AnalysisError as error:
            error.message = f"at input {format_shape(shape)}: {error.message}"
            raise
        total = analysis.total
        rows.append(
            SweepRow(
                shape,
                tuple(each for _, each in analysis.outputs),
                total.params,
                total.macs,
                total.flops,
                total.peak_activation_bytes,
            )
        )
    return Sweep(spec.name, spec.source, batch, dtype, tuple(rows))
