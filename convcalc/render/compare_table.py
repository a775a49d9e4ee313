"""The rich output of `convcalc compare`: aligned layer rows, a totals block, the rewrite's changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO

from rich.console import RenderableType

from convcalc.core.tensor import format_shape
from convcalc.core.text import printable
from convcalc.engine.results import Analysis
from convcalc.passes.comparison import Comparison, Row
from convcalc.render.grid import Cell, Grid, GridColumn
from convcalc.render.table import CONVENTION_LINE, print_view, safe_markup
from convcalc.render.units import count_shown, exact, ratio_text, signed, size_shown

MAX_SUM_TERMS = 8
"""A side's total parameters are written out as a sum of its layers' when it has at most this many terms."""


def change(row: Row, inserted: set[str]) -> Cell:
    """What changed in a row: added, removed, the MACs or params ratio, the shape (added and removed coloured)."""
    if row.before is None:
        return ("added (1x1 bottleneck)" if row.name in inserted else "added", "green")
    if row.after is None:
        return ("removed", "red")
    before, after = row.before, row.after
    if before.macs != after.macs:
        return ratio_text(before.macs, after.macs, "MACs")
    if before.params != after.params:
        return ratio_text(before.params, after.params, "params")
    if before.output_shape != after.output_shape:
        return "shape"
    return "changed" if row.status == "changed" else ""


def layer_rows(comparison: Comparison, *, exact_numbers: bool) -> Grid:
    """One row per layer name: its shape, params and MACs in each network, and the change (in a narrow terminal
    the type is left out first, then each side's output, then the change)."""
    count = count_shown(exact_numbers)
    before, after = comparison.before, comparison.after
    title = f"{safe_markup(before.name)} ({before.shapes_text})\n  vs {safe_markup(after.name)} ({after.shapes_text})"
    columns = [
        GridColumn("#", "right", "dim"),
        GridColumn("layer", "left", None, shrink="name"),
        GridColumn("type", "left", "cyan", drop=1),
    ]
    for drop, side in enumerate(("before", "after"), 2):
        columns.append(GridColumn(f"{side}\noutput", "right", None, drop=drop))
        columns.extend(GridColumn(f"{side}\n{what}", "right", None) for what in ("params", "MACs"))
    columns.append(GridColumn("change", "left", None, drop=4, shrink="prose"))
    inserted = {insertion.inserted for insertion in comparison.rewritten}
    rows: list[list[Cell]] = []
    for index, row in enumerate(comparison.rows, 1):
        cells: list[Cell] = [str(index), printable(row.name), row.type]
        for result in (row.before, row.after):
            if result is None:
                cells.extend(["-", "", ""])
            else:
                cells.extend(
                    [
                        format_shape(result.output_shape),
                        exact(result.params) if result.params else "",  # exact, as in analyze's table
                        count(result.macs) if result.macs else "",
                    ]
                )
        cells.append(change(row, inserted))
        rows.append(cells)
    return Grid(title, columns, rows)


def totals(comparison: Comparison, *, exact_numbers: bool) -> Grid:
    """Both totals, the difference (after - before) and the ratio, for params, MACs, FLOPs and activations (in a
    narrow terminal the difference is left out first, then the ratio)."""
    count = count_shown(exact_numbers)
    size = size_shown(exact_numbers)
    before, after = comparison.before.total, comparison.after.total
    columns = [
        GridColumn("", "left", None, shrink="name"),
        GridColumn("before", "right", None),
        GridColumn("after", "right", None),
        GridColumn("difference", "right", None, drop=1),
        GridColumn("ratio", "left", None, drop=2),
    ]
    measures: list[tuple[str, int, int, Callable[[int], str], str]] = [
        ("params", before.params, after.params, exact, "fewer"),
        ("MACs", before.macs, after.macs, count, "fewer"),
        ("FLOPs", before.flops, after.flops, count, "fewer"),
        ("activation memory", before.activation_bytes, after.activation_bytes, size, "less"),
    ]
    rows: list[list[Cell]] = [
        [label, show(old), show(new), signed(show(new - old), new - old), ratio_text(old, new, fewer=fewer)]
        for label, old, new, show, fewer in measures
    ]
    return Grid("totals", columns, rows)


def param_sum(label: str, analysis: Analysis, name: Callable[[str], str] = safe_markup) -> str | None:
    """'params after = 3,072 (conv5x5_reduce) + 12,800 (conv5x5) = 15,872', for a few terms; ``name`` makes a
    layer's name safe for where the line goes (rich markup here, HTML in the report)."""
    terms = [layer for layer in analysis.layers if layer.params]
    if not 2 <= len(terms) <= MAX_SUM_TERMS:
        return None
    written = " + ".join(f"{exact(layer.params)} ({name(layer.name)})" for layer in terms)
    return f"params {label} = {written} = {exact(analysis.total.params)}"


def render_comparison(
    comparison: Comparison, *, exact_numbers: bool, file: IO[str] | None = None, formats: Sequence[str] = ()
) -> None:
    print_view(comparison_view(comparison, exact_numbers=exact_numbers), file, formats)


def comparison_view(comparison: Comparison, *, exact_numbers: bool) -> list[RenderableType]:
    """The layer rows, the totals, then the exact numbers, parameter sums and what the rewrite did."""
    before, after = comparison.before.total, comparison.after.total
    lines = []
    if not exact_numbers:
        lines.append(
            f"exact: params {exact(before.params)} -> {exact(after.params)} · "
            f"MACs {exact(before.macs)} -> {exact(after.macs)} · FLOPs {exact(before.flops)} -> {exact(after.flops)}"
        )
    lines.extend(s for s in (param_sum("before", comparison.before), param_sum("after", comparison.after)) if s)
    if comparison.rewritten:
        lines.append("rewritten: a 1x1 conv inserted before each of")
        for insertion in comparison.rewritten:
            block = f", written in block '{safe_markup(insertion.block)}'" if insertion.block else ""
            layer, inserted = safe_markup(insertion.layer), safe_markup(insertion.inserted)
            lines.append(
                f"  {layer} (line {insertion.location.line}{block}): {inserted}, "
                f"{insertion.input_channels} -> {insertion.filters} channels"
            )
    if comparison.skipped:
        lines.append("not rewritten:")
        lines.extend(
            f"  {safe_markup(', '.join(skip.layers))} (line {skip.location.line}): {safe_markup(skip.reason)}"
            for skip in comparison.skipped
        )
    lines.append(
        f"batch {comparison.after.batch} · {comparison.after.dtype} · [dim]{CONVENTION_LINE}[/dim]",
    )
    return [
        layer_rows(comparison, exact_numbers=exact_numbers),
        totals(comparison, exact_numbers=exact_numbers),
        "\n".join(lines),
    ]
