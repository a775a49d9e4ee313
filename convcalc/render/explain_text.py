"""Plain-text rendering of `convcalc explain`: formula, substituted numbers, result."""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.tensor import format_shape
from convcalc.core.text import printable
from convcalc.passes.explain import Explanation


def render_explanations(explanations: Sequence[Explanation]) -> str:
    """Each layer: a header, then per step its formula, the numbers substituted, and the value (per sample)."""
    blocks = []
    for explanation in explanations:
        layer = explanation.layer
        inputs = ", ".join(format_shape(shape) for shape in layer.input_shapes)
        output = format_shape(layer.output_shape)
        lines = [f"{printable(layer.name)} ({layer.type}, {printable(layer.location.place)}): {inputs} -> {output}"]
        width = max(len(step.label) for step in explanation.steps)
        for step in explanation.steps:
            label = step.label.ljust(width)
            if step.symbols == step.numbers:  # a plain number: nothing to substitute
                lines.append(f"  {label} = {step.result}")
                continue
            lines.append(f"  {label} = {step.symbols}")
            tail = "" if step.numbers.replace(" x ", "x") in (step.result, str(step.value)) else f" = {step.result}"
            lines.append(f"  {' ' * width} = {step.numbers}{tail}")
        lines.append(f"  (FLOPs rule for {layer.type}: {explanation.flops_rule})")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
