"""convcalc: exact costs of convolutional networks from a YAML layer spec, without a framework."""

from convcalc.api import analyze, compare, load_spec
from convcalc.comparison import Comparison
from convcalc.engine import Analysis, AnalysisError, LayerResult, Totals
from convcalc.errors import Location, SpecError
from convcalc.spec import Spec

__version__ = "0.1.0"
__all__ = [
    "Analysis",
    "AnalysisError",
    "Comparison",
    "LayerResult",
    "Location",
    "Spec",
    "SpecError",
    "Totals",
    "__version__",
    "analyze",
    "compare",
    "load_spec",
]
