"""convcalc: exact costs of convolutional networks from a YAML layer spec, without a framework."""

from typing import TYPE_CHECKING, Any

from convcalc.api import analyze, compare, load_spec
from convcalc.core.errors import Location, SpecError
from convcalc.core.version import __version__
from convcalc.engine.graph import Graph, Node
from convcalc.engine.results import Analysis, AnalysisError, LayerResult, Totals
from convcalc.notebook import analysis_html

Analysis._repr_html_ = analysis_html  # the notebook view (convcalc/notebook.py: the engine renders nothing)

Spec = Graph
"""A loaded spec is its graph (the name the first releases used)."""

if TYPE_CHECKING:
    from convcalc.passes.comparison import Comparison


def __getattr__(name: str) -> Any:
    """``Comparison`` is imported on first use, keeping `import convcalc` light."""
    if name == "Comparison":
        from convcalc.notebook import comparison_html
        from convcalc.passes.comparison import Comparison

        Comparison._repr_html_ = comparison_html
        return Comparison
    raise AttributeError(f"module 'convcalc' has no attribute {name!r}")


__all__ = [
    "Analysis",
    "AnalysisError",
    "Comparison",
    "Graph",
    "LayerResult",
    "Location",
    "Node",
    "Spec",
    "SpecError",
    "Totals",
    "__version__",
    "analyze",
    "compare",
    "load_spec",
]
