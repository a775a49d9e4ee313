"""Build small specs from Python data and analyze them through the public API.

JSON is valid YAML, so a spec written as a dict is dumped with ``json.dumps`` and read back by
``convcalc.load_spec(name, text=...)`` exactly as a file would be.
"""

from __future__ import annotations

import json
from typing import Any

from convcalc import Analysis, LayerResult, analyze, load_spec


def spec_text(input_shape: list[int], layers: list[dict[str, Any]], **top: Any) -> str:
    """The YAML (JSON) text of a spec with this input, these layers and any other top-level keys."""
    return json.dumps({"name": "test", "input": input_shape, **top, "layers": layers})


def analyze_layers(input_shape: list[int], layers: list[dict[str, Any]], **top: Any) -> Analysis:
    """Analyze a spec given as data (``batch`` and ``dtype`` are passed to the analysis)."""
    options = {key: top.pop(key) for key in ("batch", "dtype") if key in top}
    return analyze(load_spec("test.yaml", text=spec_text(input_shape, layers, **top)), **options)


def analyze_text(text: str, **options: Any) -> Analysis:
    """Analyze a spec given as YAML text."""
    return analyze(load_spec("test.yaml", text=text), **options)


def one_layer(input_shape: list[int], layer: dict[str, Any]) -> LayerResult:
    """The result of a network made of this single layer."""
    (result,) = analyze_layers(input_shape, [layer]).layers
    return result


def by_name(analysis: Analysis) -> dict[str, LayerResult]:
    return {layer.name: layer for layer in analysis.layers}
