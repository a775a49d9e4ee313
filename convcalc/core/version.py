"""convcalc's version: one place, read by the package, the build (pyproject's hatch) and every file convcalc writes."""

__version__ = "0.1.0"
