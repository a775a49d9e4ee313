"""Where a number comes from: each layer's formulas, then the same with its numbers substituted.

The explanation re-runs the layer's own ``evaluate`` from the catalogue on :class:`~convcalc.formula.Term`
values, so the formulas shown are the code that computed the counts, not separate text that can drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from convcalc.core.formula import ADD, Term, recording, symbol
from convcalc.core.keys import AXES_CONVERTERS
from convcalc.core.tensor import Config, Shape, format_shape
from convcalc.engine.results import Analysis, LayerResult
from convcalc.kinds.base import LayerKind
from convcalc.kinds.windows import AXIS_LETTERS, AXIS_SUFFIXES


@dataclass(frozen=True, slots=True)
class Step:
    """``label = symbols = numbers = result``; ``value`` is the number (None for the output shape)."""

    label: str
    symbols: str
    numbers: str
    result: str
    value: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "formula": self.symbols,
            "substituted": self.numbers,
            "result": self.result,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    layer: LayerResult
    steps: tuple[Step, ...]
    flops_rule: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.layer.name,
            "type": self.layer.type,
            "input_shapes": [list(shape) for shape in self.layer.input_shapes],
            "output_shape": list(self.layer.output_shape),
            "steps": [step.to_dict() for step in self.steps],
            "flops_rule": self.flops_rule,
        }


def select_layers(analysis: Analysis, patterns: Sequence[str]) -> list[LayerResult]:
    """The layers whose names match any of the patterns (exact names or fnmatch globs: ``conv*``, ``layer2.*``),
    in network order; every layer when no pattern is given. ValueError names a pattern that matches nothing.

    A pattern that is a layer's exact name selects that layer only, so ``c[1]`` is the layer named ``c[1]``,
    not the glob matching ``c1``."""
    from fnmatch import fnmatchcase

    from convcalc.core.errors import nearest

    names = {layer.name for layer in analysis.layers}
    globs = [pattern for pattern in patterns if pattern not in names]
    for pattern in globs:
        if not any(fnmatchcase(name, pattern) for name in names):
            inside = any(name.startswith(f"{pattern}.") for name in names)  # a block, repeat or structure
            hint = f"it holds layers: explain them with '{pattern}.*'" if inside else nearest(pattern, names)
            raise ValueError(f"no layer named '{pattern}' in {analysis.source}" + (f"; {hint}" if hint else ""))
    if not patterns:
        return list(analysis.layers)
    exact = set(patterns) & names
    return [
        layer
        for layer in analysis.layers
        if layer.name in exact or any(fnmatchcase(layer.name, glob) for glob in globs)
    ]


def symbolic_config(kind: LayerKind, config: Config) -> dict[str, Any]:
    """The layer's configuration with every number that enters a formula replaced by a named symbol.

    A size per axis is named per axis (``k_h``, ``k_w``; one number for every axis becomes ``k``, which the layer
    names per axis as it reads it). A scalar left at its default of 1 (groups) stays a plain 1, so it drops out of
    products and quotients; a stride or dilation of 1 is named (``s_h``), as the output-size rule is written.
    """
    result = dict(config)
    for key in kind.keys:
        value = config.get(key.name)
        if key.symbol is None or value is None or isinstance(value, (str, bool)):
            continue
        if isinstance(value, tuple):
            suffixes = AXIS_SUFFIXES.get(len(value)) or tuple(f"_{axis}" for axis in range(len(value)))
            result[key.name] = tuple(
                symbol(f"{key.symbol}{suffix}", n) for suffix, n in zip(suffixes, value, strict=True)
            )
        elif key.convert in AXES_CONVERTERS or not (value == 1 and key.default == 1):
            result[key.name] = symbol(key.symbol, value)
    return result


def symbolic_inputs(shapes: Sequence[Shape]) -> list[Shape]:
    """C_in, H_in, W_in for one input (N_in when flat; C_in, L_in on a 1-D map; C_in, D_in, H_in, W_in in 3-D); C_1,
    H_1, W_1, C_2, ... for several."""
    suffixes = ["in"] if len(shapes) == 1 else [str(i) for i in range(1, len(shapes) + 1)]
    named_shapes: list[Shape] = []
    for suffix, shape in zip(suffixes, shapes, strict=True):
        letters = ("C", *AXIS_LETTERS[len(shape) - 1]) if len(shape) - 1 in AXIS_LETTERS else ("N",)
        if len(letters) != len(shape):
            letters = tuple(f"N{axis}" for axis in range(len(shape)))
        named_shapes.append(tuple(symbol(f"{letter}_{suffix}", n) for letter, n in zip(letters, shape, strict=True)))
    return named_shapes


def step(label: str, value: int) -> Step:
    if isinstance(value, Term):
        source = value.definition or value
        return Step(label, source.symbols, source.numbers, f"{int(value):,}", int(value))
    return Step(label, str(int(value)), str(int(value)), f"{int(value):,}", int(value))


def shape_step(shape: Shape) -> Step:
    """``output = C_out x H_out x W_out = 32 x 28 x 28``; a dimension that is a sum is bracketed."""
    symbols, numbers = [], []
    for dim in shape:
        if isinstance(dim, Term):
            bracket = dim.precedence == ADD and len(shape) > 1
            symbols.append(f"({dim.symbols})" if bracket else dim.symbols)
            numbers.append(f"({dim.numbers})" if bracket else dim.numbers)
        else:
            symbols.append(str(dim))
            numbers.append(str(dim))
    return Step("output", " x ".join(symbols), " x ".join(numbers), format_shape(shape), None)


def explain_layer(layer: LayerResult) -> Explanation:
    """Output size, params, MACs and FLOPs of one layer: formula, substitution, value (per sample)."""
    with recording() as definitions:
        evaluation = layer.kind.evaluate(symbolic_config(layer.kind, layer.config), symbolic_inputs(layer.input_shapes))
    steps = [step(term.symbols, term) for term in definitions if term.symbols != "MACs"]
    steps.append(shape_step(evaluation.shape))
    steps.append(step("params", evaluation.params))
    if evaluation.buffers:
        steps.append(step("buffers", evaluation.buffers))
    steps.append(step("MACs", evaluation.macs))
    steps.append(step("FLOPs", evaluation.flops))
    return Explanation(layer, tuple(steps), layer.kind.flops_rule)
