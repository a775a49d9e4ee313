"""The rich table of `convcalc analyze`: one row per layer, totals, warnings and the counting convention."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from convcalc.core.tensor import format_shape
from convcalc.core.text import plural, printable
from convcalc.engine.results import Analysis, AnalysisWarning, LayerResult
from convcalc.render.columns import (
    BAR,
    COLUMNS,
    DEFAULT_COLUMNS,
    ESTIMATED,
    KEPT,
    NARROW_ORDER,
    RELATIVE,
    SHARE,
    MacsScale,
    cell,
    total_cell,
)
from convcalc.render.fit import fit
from convcalc.render.grid import Grid, GridColumn, Justify, Shrink
from convcalc.render.outputs import closed_pipe
from convcalc.render.units import count_shown, exact, human_bytes, size_shown

if TYPE_CHECKING:
    from convcalc.passes.latency import Latency
    from convcalc.passes.summaries import Sweep, ZooEntry

CONVENTION_LINE = (
    "params: weights + biases + BN gamma/beta (running stats are buffers) · "
    "MACs: conv/linear multiply-accumulates · FLOPs: 2 x MACs + element-wise work (README: Counting)"
)


GRID_ROWS = 100
"""Tables of more rows are drawn by the Grid itself, not as a rich Table (see drawn)."""
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


def print_view(view: Sequence[RenderableType], file: IO[str] | None = None, formats: Sequence[str] = ()) -> None:
    """Print a view (tables and markup lines) on a console. In a terminal each table is fitted to its width
    (convcalc.render.fit) and followed by the columns it left out, which a wider terminal or the other ``formats``
    of the command show."""
    console = make_console(file)
    for part in view:  # into a pipe, a line of text stays one line however long (grep finds a whole warning)
        if isinstance(part, Grid) and console.is_terminal:
            print_fitted(console, part, formats)
        else:
            console.print(drawn(part), soft_wrap=not console.is_terminal and not isinstance(part, (Table, Grid)))


def print_fitted(console: Console, grid: Grid, formats: Sequence[str]) -> None:
    """A table fitted to the terminal, then a line naming the columns left out and where to see them; a table
    whose kept columns alone are too wide is drawn whole, for the terminal to wrap, rather than cut."""
    width = console.width
    fitted, left_out = fit(grid, width)
    wide = console if fitted.width <= width else _PipeConsole(file=console.file, highlight=False, width=fitted.width)
    wide.print(drawn(fitted))
    if left_out:
        also = f", as does --format {or_list(formats)}" if formats else ""
        console.print(
            f"[dim]left out to fit {width} columns: {', '.join(left_out)} (a wider terminal shows them{also})[/dim]"
        )


def or_list(words: Sequence[str]) -> str:
    """'markdown, csv or json'."""
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else "".join(words)


def drawn(part: RenderableType) -> RenderableType:
    """What draws a part: a grid of up to GRID_ROWS rows as a rich Table, a longer one as itself (much faster)."""
    return part.as_table() if isinstance(part, Grid) and len(part.rows) <= GRID_ROWS else part


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
        recorder.print(drawn(part))
    return recorder.export_svg(title=printable(title, one_line=True))


def with_notes(layers: Sequence[LayerResult], columns: Sequence[str]) -> tuple[str, ...]:
    """The default columns (and --device's) gain a 'note' column when some layer has a note (an implicit flatten)."""
    if tuple(columns) in (DEFAULT_COLUMNS, (*DEFAULT_COLUMNS, *ESTIMATED)) and any(layer.note for layer in layers):
        return (*columns, "note")
    return tuple(columns)


def layer_table(
    layers: Sequence[LayerResult],
    *,
    exact_numbers: bool,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    title: str | None = None,
    totals: bool = False,
    latency: Latency | None = None,
) -> Grid:
    """One row per layer, optionally a totals row of the summable columns, as a :class:`Grid` (drawn as a rich
    Table up to GRID_ROWS layers; rich's Table takes a millisecond a row); ``latency``: the estimates of --device."""
    keys = with_notes(layers, columns)
    scale = MacsScale.of(layers)
    grid_columns = [GridColumn("#", "right", "dim")]
    for key in keys:
        drop = None if key in KEPT else NARROW_ORDER.index(key)
        shrink: Shrink = "name" if key == "name" else ("prose" if key == "note" else "never")
        if key in RELATIVE:
            justify: Justify = "right" if key == SHARE else "left"
            grid_columns.append(GridColumn(RELATIVE[key], justify, "magenta" if key == BAR else None, drop, shrink))
            continue
        column = COLUMNS[key]
        style = "cyan" if key == "type" else ("dim" if key == "note" else None)
        justify = "left" if column.measure == "text" else "right"
        grid_columns.append(GridColumn(column.header, justify, style, drop, shrink))
    rows = [
        [str(index), *(printable(cell(key, layer, scale, exact_numbers, latency)) for key in keys)]
        for index, layer in enumerate(layers, 1)
    ]
    total_row = ["", *(total_cell(key, layers, exact_numbers, latency) for key in keys)] if totals else None
    return Grid(title, grid_columns, rows, total_row)


def analysis_view(
    analysis: Analysis,
    *,
    exact_numbers: bool,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    rows: Sequence[LayerResult] | None = None,
    after: Sequence[str] = (),
    latency: Latency | None = None,
    table: bool = True,
) -> list[RenderableType]:
    """The table (of ``rows``, the grouped view's, or else every layer; none when not ``table``: the answer alone),
    the exact totals and memory, the warnings, the counting convention, and ``after`` (plain lines: a training
    step's or deployment's totals, the latency estimate's)."""
    title = f"{safe_markup(analysis.name)}  ({analysis.shapes_text})"
    total = analysis.total
    shown = analysis.layers if rows is None else rows
    head: list[RenderableType] = [
        layer_table(shown, exact_numbers=exact_numbers, columns=columns, title=title, totals=True, latency=latency)
        if table
        else title
    ]
    return [
        *head,
        f"exact: params {exact(total.params)} · MACs {exact(total.macs)} · FLOPs {exact(total.flops)} · "
        f"buffers {exact(total.buffers)}\n"
        f"batch {analysis.batch} · {analysis.dtype} · weights {human_bytes(total.weight_bytes)} · "
        f"activations {human_bytes(total.activation_bytes)} (every layer's output) · forward-pass peak "
        f"{human_bytes(total.peak_activation_bytes)} (alive at once)",
        *warning_lines(analysis.warnings),
        f"[dim]{CONVENTION_LINE}[/dim]",
        *(safe_markup(line) for line in after),
    ]


SHOWN_ALIKE = 3
"""How many layers a summarised warning names before 'and N more'."""


def warning_lines(warnings: Sequence[AnalysisWarning]) -> list[str]:
    """Each code's first warning in full, the others of its code as one line naming their layers, then the codes
    ``--expect`` acknowledges (rich markup)."""
    by_code: dict[str, list[AnalysisWarning]] = {}
    for warning in warnings:
        by_code.setdefault(warning.code, []).append(warning)
    lines = []
    for group in by_code.values():
        first, *alike = group
        lines.append(
            f"[yellow]warning:[/yellow] {safe_markup(first.layer)} ({safe_markup(first.location.place)}): "
            f"{safe_markup(first.message)}"
        )
        if alike:
            names = ", ".join(safe_markup(warning.layer) for warning in alike[:SHOWN_ALIKE])
            more = f" and {len(alike) - SHOWN_ALIKE} more" if len(alike) > SHOWN_ALIKE else ""
            lines.append(f"[yellow]warning:[/yellow] the same at {plural(len(alike), 'more layer')}: {names}{more}")
    codes = ",".join(code for code in by_code if code)
    if codes:
        lines.append(f"[dim](--expect {codes} acknowledges {'them' if len(warnings) > 1 else 'it'})[/dim]")
    return lines


def render_analysis(
    analysis: Analysis,
    *,
    exact_numbers: bool,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    file: IO[str] | None = None,
    rows: Sequence[LayerResult] | None = None,
    formats: Sequence[str] = (),
    after: Sequence[str] = (),
    latency: Latency | None = None,
    table: bool = True,
) -> None:
    view = analysis_view(
        analysis, exact_numbers=exact_numbers, columns=columns, rows=rows, after=after, latency=latency, table=table
    )
    print_view(view, file, formats)


def render_zoo(
    entries: Sequence[ZooEntry], *, exact_numbers: bool, file: IO[str] | None = None, formats: Sequence[str] = ()
) -> None:
    """One row per bundled spec: the name to pass to `convcalc analyze`, its description, input and totals (params
    exact, as in analyze's table; in a narrow terminal the input is left out first, then the description)."""
    count = count_shown(exact_numbers)
    columns = [
        GridColumn("name", "left", "bold", shrink="name"),
        GridColumn("description", "left", None, drop=2, shrink="prose"),
        GridColumn("input", "right", None, drop=1),
        GridColumn("params", "right", None),
        GridColumn("MACs", "right", None),
    ]
    rows = [
        [
            printable(entry.name),
            printable(entry.description),
            format_shape(entry.input_shape),
            exact(entry.params),
            count(entry.macs),
        ]
        for entry in entries
    ]
    print_view(
        [Grid("bundled specs (convcalc analyze NAME)", columns, rows), f"[dim]batch 1 · {CONVENTION_LINE}[/dim]"],
        file,
        formats,
    )


def render_sweep(
    sweep: Sweep, *, exact_numbers: bool, file: IO[str] | None = None, formats: Sequence[str] = ()
) -> None:
    """One row per input size: output shape, params, MACs, FLOPs and peak activation memory (in a narrow terminal
    params are left out first when no input size changes them, then FLOPs, the output and the peak; params last
    when they change, as a network flattening into a linear layer's do)."""
    count = count_shown(exact_numbers)
    size = size_shown(exact_numbers)
    params_drop = 1 if len({row.params for row in sweep.rows}) == 1 else 5
    columns = [
        GridColumn(header, "right", None, drop=drop)
        for header, drop in (
            ("input", None),
            ("output", 3),
            ("params", params_drop),
            ("MACs", None),
            ("FLOPs", 2),
            ("peak activations", 4),
        )
    ]
    rows = [
        [
            format_shape(row.input_shape),
            ", ".join(map(format_shape, row.output_shapes)),
            exact(row.params),  # exact, as in analyze's table
            count(row.macs),
            count(row.flops),
            size(row.peak_activation_bytes),
        ]
        for row in sweep.rows
    ]
    title = f"{safe_markup(sweep.name)}  (batch {sweep.batch} · {sweep.dtype})"
    print_view([Grid(title, columns, rows), f"[dim]{CONVENTION_LINE}[/dim]"], file, formats)
