"""The rich table of `convcalc analyze`: one row per layer, totals, the counting convention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from convcalc.engine import Analysis, LayerResult
from convcalc.layers import format_shape
from convcalc.render.units import exact, human_bytes, human_count

if TYPE_CHECKING:
    from convcalc.zoo import ZooEntry

CONVENTION_LINE = (
    "params: weights + biases + BN gamma/beta (running stats are buffers) · "
    "MACs: conv/linear multiply-accumulates · FLOPs: 2 x MACs + element-wise work (README: Counting)"
)


def make_console(file: IO[str] | None = None) -> Console:
    """A console that honours NO_COLOR and, when not writing to a terminal, does not wrap at 80 columns."""
    console = Console(file=file, highlight=False)
    if not console.is_terminal:
        console = Console(file=file, highlight=False, width=max(console.width, 200))
    return console


def layer_table(layers: Sequence[LayerResult], *, exact_numbers: bool, title: str | None = None) -> Table:
    """The per-layer table; totals are added by the caller when the run completed."""
    count: Callable[[int], str] = exact if exact_numbers else human_count
    size: Callable[[int], str] = exact if exact_numbers else human_bytes
    total_macs = sum(layer.macs for layer in layers)
    table = Table(title=title, title_justify="left", show_footer=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("layer")
    table.add_column("type", style="cyan")
    table.add_column("output", justify="right")
    table.add_column("params", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("FLOPs", justify="right")
    table.add_column("memory", justify="right")
    table.add_column("MACs %", justify="right")
    has_notes = any(layer.note for layer in layers)
    if has_notes:
        table.add_column("note", style="dim")
    for index, layer in enumerate(layers, 1):
        share = f"{100 * layer.macs / total_macs:.1f}" if total_macs and layer.macs else ""
        row = [
            str(index),
            escape(layer.name),
            layer.type,
            format_shape(layer.output_shape),
            count(layer.params) if layer.params else "",
            count(layer.macs) if layer.macs else "",
            count(layer.flops) if layer.flops else "",
            size(layer.activation_bytes),
            share,
        ]
        if has_notes:
            row.append(layer.note or "")
        table.add_row(*row)
    return table


def render_analysis(analysis: Analysis, *, exact_numbers: bool, file: IO[str] | None = None) -> None:
    count: Callable[[int], str] = exact if exact_numbers else human_count
    size: Callable[[int], str] = exact if exact_numbers else human_bytes
    title = f"{escape(analysis.name)}  ({format_shape(analysis.input_shape)} -> {format_shape(analysis.output_shape)})"
    table = layer_table(analysis.layers, exact_numbers=exact_numbers, title=title)
    total = analysis.total
    table.add_section()
    totals = [
        "",
        "total",
        "",
        "",
        count(total.params),
        count(total.macs),
        count(total.flops),
        size(total.activation_bytes),
        "100.0" if total.macs else "",
    ]
    if len(table.columns) > len(totals):
        totals.append("")
    table.add_row(*totals, style="bold")
    console = make_console(file)
    console.print(table)
    console.print(
        f"exact: params {exact(total.params)} · MACs {exact(total.macs)} · FLOPs {exact(total.flops)} · "
        f"buffers {exact(total.buffers)}\n"
        f"batch {analysis.batch} · {analysis.dtype} · weights {human_bytes(total.weight_bytes)} · "
        f"activations {human_bytes(total.activation_bytes)} (sum of all layer outputs)\n"
        f"[dim]{CONVENTION_LINE}[/dim]"
    )


def render_zoo(entries: Sequence[ZooEntry], *, exact_numbers: bool, file: IO[str] | None = None) -> None:
    """One row per bundled spec: the name to pass to `convcalc analyze`, its description, input and totals."""
    count: Callable[[int], str] = exact if exact_numbers else human_count
    table = Table(title="bundled specs (convcalc analyze NAME)", title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("description")
    table.add_column("input", justify="right")
    table.add_column("params", justify="right")
    table.add_column("MACs", justify="right")
    for entry in entries:
        table.add_row(
            escape(entry.name),
            escape(entry.description),
            format_shape(entry.input_shape),
            count(entry.params),
            count(entry.macs),
        )
    console = make_console(file)
    console.print(table)
    console.print(f"[dim]batch 1 · {CONVENTION_LINE}[/dim]")
