"""PyTorch export from the library: a spec (or graph) -> the source of a self-contained ``torch.nn.Module``
(:mod:`convcalc.render.pytorch` writes it). convcalc itself never imports torch: this only writes text."""

from __future__ import annotations

import os

from convcalc.api import analyze, load_spec
from convcalc.core.tensor import Shape
from convcalc.engine.graph import Graph
from convcalc.render.pytorch import class_name, write_pytorch

__all__ = ["class_name", "to_pytorch"]


def to_pytorch(spec: Graph | str | os.PathLike[str], *, input_shape: Shape | None = None) -> str:
    """Load and analyse a spec (at ``input_shape`` if given) and write its PyTorch module."""
    if not isinstance(spec, Graph):
        spec = load_spec(spec)
    return write_pytorch(spec, analyze(spec, input_shape=input_shape))
