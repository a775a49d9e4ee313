"""A large table drawn fast: the same picture as rich's Table, laid out once instead of cell by cell.

rich measures, wraps and pads every cell of a Table separately, about a millisecond a row: 10 s for a
10,000-layer network. A :class:`Grid` knows its cells are single lines of plain text, so it takes each column's
width from its longest cell and writes every row as a handful of segments, ~100 times faster. It draws what
rich draws for a table that fits (tests/test_hostile.py compares them); one that does not fit the console is
handed to rich, which wraps it. How a grid gives way in a narrow terminal (columns left out, prose wrapped, names
folded, numbers never cut) is :mod:`convcalc.render.fit`'s; each column says its part in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

Justify = Literal["left", "right"]
Shrink = Literal["never", "prose", "name"]
"""How a column's cells give way in a narrow terminal: never (numbers, shapes, kinds: whole or not at all), prose
(wraps at spaces) or name (folds onto more lines, only when leaving columns out is not enough)."""
Cell = str | tuple[str, str]
"""Plain text, or (plain text, a style such as 'green')."""


@dataclass(frozen=True)
class GridColumn:
    header: str  # may have several lines
    justify: Justify
    style: str | None
    drop: int | None = None
    """When the table is too wide for the terminal, columns are left out in this order, lowest first; None: kept."""
    shrink: Shrink = "never"


def _text(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell[0]


@dataclass(frozen=True)
class Grid:
    """Rows of plain text (never markup) under a title (markup), with an optional bold totals row after a rule."""

    title: str | None
    columns: Sequence[GridColumn]
    rows: Sequence[Sequence[Cell]]
    totals: Sequence[str] | None = None
    sizes: Sequence[int] | None = None
    """Each column's width with its padding when it is fitted narrower than its cells (see convcalc.render.fit)."""

    def as_table(self) -> RenderableType:
        """The same as a rich Table under its title: drawn instead when the grid is wider than the console (rich
        wraps cells), or fitted to ``sizes`` (a column that never shrinks is never wrapped; prose and names fold).
        The title is a line of its own, not the Table's (which rich pads with spaces to the table's width)."""
        table = Table()
        for index, column in enumerate(self.columns):
            size = None if self.sizes is None else self.sizes[index] - 2
            table.add_column(
                column.header,
                justify=column.justify,
                style=column.style,
                width=size,
                no_wrap=size is not None and column.shrink == "never",
                overflow="ellipsis" if size is None else "fold",
            )
        for row in self.rows:
            table.add_row(*(Text(cell) if isinstance(cell, str) else Text(*cell) for cell in row))
        if self.totals is not None:
            table.add_section()
            table.add_row(*(Text(text) for text in self.totals), style="bold")
        if self.title is None:
            return table
        return Group(Text.from_markup(self.title, style="table.title"), table)

    @cached_property
    def widths(self) -> list[int]:
        """Each column's width with its padding of one space either side, as rich counts it."""
        widths = [max(map(cell_len, column.header.split("\n"))) for column in self.columns]
        for row in (*self.rows, *([self.totals] if self.totals else [])):
            widths = [max(width, cell_len(_text(cell))) for width, cell in zip(widths, row, strict=True)]
        return [width + 2 for width in widths]

    @property
    def width(self) -> int:
        """The table's width in characters, borders included."""
        return sum(self.sizes or self.widths) + len(self.columns) + 1

    def select(self, kept: Sequence[int], sizes: Sequence[int]) -> Grid:
        """The grid with only the columns at ``kept``, drawn ``sizes`` wide (None where those are their widths)."""
        natural = [self.widths[index] for index in kept]
        return Grid(
            self.title,
            [self.columns[index] for index in kept],
            [[row[index] for index in kept] for row in self.rows],
            None if self.totals is None else [self.totals[index] for index in kept],
            None if list(sizes) == natural else tuple(sizes),
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self.widths
        table_width = sum(widths) + len(widths) + 1
        if table_width > options.max_width or self.sizes is not None:
            yield self.as_table()
            return
        if self.title is not None:
            title = console.render_str(self.title, style="table.title", highlight=False)
            yield from console.render(title, options.update(width=table_width, justify="default", height=None))
        lines = box.HEAVY_HEAD.substitute(options, safe=console.safe_box)
        plain = console.color_system is None  # no styles: one segment a line
        null = Style.null()
        styles = [null if plain or not column.style else console.get_style(column.style) for column in self.columns]
        header = null if plain else console.get_style("table.header")
        bold = null if plain else console.get_style("bold")

        yield Segment(lines.get_top(widths))
        yield Segment.line()
        headers = [column.header.split("\n") for column in self.columns]
        height = max(map(len, headers))
        for line in range(height):  # each header at the bottom of the header row, as rich puts it
            cells = [parts[line - height + len(parts)] if line >= height - len(parts) else "" for parts in headers]
            edges = (lines.head_left, lines.head_vertical, lines.head_right)
            yield from self._row(cells, [header] * len(cells), edges, console, plain)
        yield Segment(lines.get_row(widths, "head"))
        yield Segment.line()
        middle = (lines.mid_left, lines.mid_vertical, lines.mid_right)
        foot = (lines.foot_left, lines.foot_vertical, lines.foot_right)
        for index, row in enumerate(self.rows):
            last = index == len(self.rows) - 1 and self.totals is None
            yield from self._row(row, styles, foot if last else middle, console, plain)
        if self.totals is not None:
            yield Segment(lines.get_row(widths, "row"))
            yield Segment.line()
            yield from self._row(self.totals, [base + bold for base in styles], foot, console, plain)
        yield Segment(lines.get_bottom(widths))
        yield Segment.line()

    def _row(
        self,
        cells: Sequence[Cell],
        styles: Sequence[Style],
        edges: tuple[str, str, str],
        console: Console,
        plain: bool,
    ) -> Iterator[Segment]:
        """One line of cells: a space either side, filled to the column's width; a cell's own style covers its
        text and the fill (as rich styles a Text), the column's style the whole cell."""
        left, divider, right = edges
        filled = []
        for cell, width, column in zip(cells, self.widths, self.columns, strict=True):
            text = _text(cell)
            space = " " * (width - 2 - cell_len(text))
            filled.append(text + space if column.justify == "left" else space + text)
        if plain or not (any(styles) or any(isinstance(cell, tuple) for cell in cells)):
            yield Segment(f"{left} {f' {divider} '.join(filled)} {right}\n")
            return
        yield Segment(left)
        for index, (cell, text, style) in enumerate(zip(cells, filled, styles, strict=True)):
            if index:
                yield Segment(divider)
            if isinstance(cell, str):
                yield Segment(f" {text} ", style)
            else:
                yield Segment(" ", style)
                yield Segment(text, style + console.get_style(cell[1]))
                yield Segment(" ", style)
        yield Segment(right)
        yield Segment.line()
