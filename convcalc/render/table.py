"""The rich table of `convcalc analyze`: one row per layer, totals, warnings and the counting convention."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from convcalc.layers import format_shape
from convcalc.outputs import closed_pipe
from convcalc.render.columns import BAR, COLUMNS, DEFAULT_COLUMNS, RELATIVE, SHARE, MacsScale, cell, total_cell
from convcalc.render.grid import Grid, GridColumn
from convcalc.render.units import exact, human_bytes, human_count
from convcalc.results import Analysis, LayerResult
from convcalc.text import printable

if TYPE_CHECKING:
    from convcalc.sweep import Sweep
    from convcalc.zoo import ZooEntry

CONVENTION_LINE = (
    "params: weights + biases + BN gamma/beta (running stats are buffers) · "
    "MACs: conv/linear multiply-accumulates · FLOPs: 2 x MACs + element-wise work (README: Counting)"
)


GRID_ROWS = 100
"""Tables of more rows are drawn as a Grid (see layer_table)."""
MIN_WIDTH = 40
"""Narrowest terminal a table is fitted to; a narrower one (or COLUMNS=0) gets tables FALLBACK_WIDTH wide."""
FALLBACK_WIDTH = 80


class _PipeConsole(Console):
    """A closed pipe (`convcalc analyze ... | head`) ends quietly with exit 0, where rich's own handler would exit 1,
    the code for an internal error."""

    def on_broken_pipe(self) -> None:
        closed_pipe()


def safe_markup(text: str) -> str:
    """Text from a spec or a command line as rich markup: unsafe characters written as escapes, brackets escaped."""
    return escape(printable(text))


def make_console(file: IO[str] | None = None) -> Console:
    """A console that honours NO_COLOR and, when not writing to a terminal, does not wrap at 80 columns;
    a terminal too narrow to draw a table in gets one 80 columns wide."""
    console = _PipeConsole(file=file, highlight=False)
    if not console.is_terminal:
        console = _PipeConsole(file=file, highlight=False, width=max(console.width, 200))
    elif console.width < MIN_WIDTH:  # COLUMNS=0 drew nothing, COLUMNS=10 only borders: let the terminal wrap
        console = _PipeConsole(file=file, highlight=False, width=FALLBACK_WIDTH)
    return console


def print_view(view: Sequence[RenderableType], file: IO[str] | None = None) -> None:
    """Print a view (tables and markup lines) on a console."""
    console = make_console(file)
    for part in view:  # into a pipe, a line of text stays one line however long (grep finds a whole warning)
        console.print(part, soft_wrap=not console.is_terminal and not isinstance(part, (Table, Grid)))


def svg_text(view: Sequence[RenderableType], title: str) -> str:
    """Draw a view on a recording console as wide as its widest table: an SVG picture (rich's export).

    Colours are kept whatever NO_COLOR says: the file is a picture.
    """
    probe = Console(file=io.StringIO(), width=1000)
    width = max(
        (Measurement.get(probe, probe.options, part).maximum for part in view if isinstance(part, (Table, Grid))),
        default=80,
    )
    recorder = Console(
        file=io.StringIO(),
        record=True,
        width=max(width, 80),
        force_terminal=True,
        color_system="truecolor",
        no_color=False,
        highlight=False,
    )
    for part in view:
        recorder.print(part)
    return recorder.export_svg(title=printable(title, one_line=True))


def with_notes(layers: Sequence[LayerResult], columns: Sequence[str]) -> tuple[str, ...]:
    """The default columns gain a 'note' column when some layer has a note (an implicit flatten)."""
    if tuple(columns) == DEFAULT_COLUMNS and any(layer.note for layer in layers):
        return (*columns, "note")
    return tuple(columns)


def layer_table(
    layers: Sequence[LayerResult],
    *,
    exact_numbers: bool,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    title: str | None = None,
    totals: bool = False,
) -> RenderableType:
    """One row per layer, optionally a totals row of the summable columns: a rich Table, or for more than
    GRID_ROWS layers the same picture drawn as a :class:`Grid` (rich's Table takes a millisecond a row)."""
    keys = with_notes(layers, columns)
    scale = MacsScale.of(layers)
    grid_columns = [GridColumn("#", "right", "dim")]
    for key in keys:
        if key in RELATIVE:
            grid_columns.append(
                GridColumn(RELATIVE[key], "right" if key == SHARE else "left", "magenta" if key == BAR else None)
            )
            continue
        column = COLUMNS[key]
        grid_columns.append(
            GridColumn(
                column.header,
                "left" if column.measure == "text" else "right",
                "cyan" if key == "type" else ("dim" if key == "note" else None),
            )
        )
    rows = [
        [str(index), *(printable(cell(key, layer, scale, exact_numbers)) for key in keys)]
        for index, layer in enumerate(layers, 1)
    ]
    total_row = ["", *(total_cell(key, layers, exact_numbers) for key in keys)] if totals else None
    return grid_or_table(Grid(title, grid_columns, rows, total_row))


def grid_or_table(grid: Grid) -> RenderableType:
    """A rich Table for up to GRID_ROWS rows; for more, the Grid, which draws the same picture much faster."""
    return grid if len(grid.rows) > GRID_ROWS else grid.as_table()


def analysis_view(
    analysis: Analysis,
    *,
    exact_numbers: bool,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    rows: Sequence[LayerResult] | None = None,
) -> list[RenderableType]:
    """The table (of ``rows``, the grouped view's, or else every layer), the exact totals and memory, the
    warnings and the counting convention."""
    title = (
        f"{safe_markup(analysis.name)}  ({format_shape(analysis.input_shape)} -> {format_shape(analysis.output_shape)})"
    )
    total = analysis.total
    shown = analysis.layers if rows is None else rows
    return [
        layer_table(shown, exact_numbers=exact_numbers, columns=columns, title=title, totals=True),
        f"exact: params {exact(total.params)} · MACs {exact(total.macs)} · FLOPs {exact(total.flops)} · "
        f"buffers {exact(total.buffers)}\n"
        f"batch {analysis.batch} · {analysis.dtype} · weights {human_bytes(total.weight_bytes)} · "
        f"activations {human_bytes(total.activation_bytes)} in all, peak {human_bytes(total.peak_activation_bytes)}",
        *(
            f"[yellow]warning:[/yellow] {safe_markup(warning.layer)} (line {warning.location.line}): "
            f"{safe_markup(warning.message)}"
            for warning in analysis.warnings
        ),
        f"[dim]{CONVENTION_LINE}[/dim]",
    ]


def render_analysis(
    analysis: Analysis,
    *,
    exact_numbers: bool,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    file: IO[str] | None = None,
    rows: Sequence[LayerResult] | None = None,
) -> None:
    print_view(analysis_view(analysis, exact_numbers=exact_numbers, columns=columns, rows=rows), file)


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
            safe_markup(entry.name),
            safe_markup(entry.description),
            format_shape(entry.input_shape),
            count(entry.params),
            count(entry.macs),
        )
    console = make_console(file)
    console.print(table)
    console.print(f"[dim]batch 1 · {CONVENTION_LINE}[/dim]")


def render_sweep(sweep: Sweep, *, exact_numbers: bool, file: IO[str] | None = None) -> None:
    """One row per input size: output shape, params, MACs, FLOPs and peak activation memory."""
    count: Callable[[int], str] = exact if exact_numbers else human_count
    size: Callable[[int], str] = exact if exact_numbers else human_bytes
    table = Table(title=f"{safe_markup(sweep.name)}  (batch {sweep.batch} · {sweep.dtype})", title_justify="left")
    for header in ("input", "output", "params", "MACs", "FLOPs", "peak activations"):
        table.add_column(header, justify="right")
    for row in sweep.rows:
        table.add_row(
            format_shape(row.input_shape),
            format_shape(row.output_shape),
            count(row.params),
            count(row.macs),
            count(row.flops),
            size(row.peak_activation_bytes),
        )
    console = make_console(file)
    console.print(table)
    console.print(f"[dim]{CONVENTION_LINE}[/dim]")
