"""A table fitted to a terminal: columns left out in a stated order, prose wrapped, names folded, numbers never cut.

Piped output is never fitted (it keeps every column on one line for grep and scripts); only a terminal is.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.render.grid import Grid, Shrink

PROSE_WIDTH = 16
"""Prose (a description, a change) wraps at spaces down to this many characters before a column is left out."""
NAME_WIDTH = 8
"""A name folds onto more lines down to this many characters, once no column is left to leave out."""


def fit(grid: Grid, available: int) -> tuple[Grid, list[str]]:
    """The grid fitted to ``available`` characters, and the headers of the columns it leaves out.

    Columns are left out in their ``drop`` order while the narrowest the others can be drawn (prose wrapped to
    PROSE_WIDTH, everything else whole) is wider than ``available``; then prose wraps and, if that is not enough,
    names fold. A number is never cut: its column is shown whole or left out. A grid that still does not fit (its
    kept columns alone are too wide) keeps its widths and is drawn wider than the terminal.
    """
    kept = list(range(len(grid.columns)))
    left_out: list[str] = []
    droppable = {index: column.drop for index, column in enumerate(grid.columns) if column.drop is not None}
    for index in sorted(droppable, key=droppable.__getitem__):
        if _narrowest(grid, kept) <= available:
            break
        kept.remove(index)
        left_out.append(" ".join(grid.columns[index].header.split()))
    return grid.select(kept, _shrunk(grid, kept, available)), left_out


def _narrowest(grid: Grid, kept: Sequence[int]) -> int:
    """The width of the kept columns with prose wrapped to PROSE_WIDTH and everything else whole."""
    widths = (
        min(grid.widths[index], PROSE_WIDTH + 2) if grid.columns[index].shrink == "prose" else grid.widths[index]
        for index in kept
    )
    return sum(widths) + len(kept) + 1


def _shrunk(grid: Grid, kept: Sequence[int], available: int) -> list[int]:
    """The kept columns' widths: prose narrowed (the widest first) down to PROSE_WIDTH, then names down to
    NAME_WIDTH, until the table fits."""
    widths = [grid.widths[index] for index in kept]
    excess = sum(widths) + len(widths) + 1 - available
    floors: tuple[tuple[Shrink, int], ...] = (("prose", PROSE_WIDTH + 2), ("name", NAME_WIDTH + 2))
    floor_of = dict(floors)
    narrowest = [
        min(width, floor_of.get(grid.columns[index].shrink, width)) for width, index in zip(widths, kept, strict=True)
    ]
    if sum(narrowest) + len(widths) + 1 > available:  # it cannot fit: drawn whole, for the terminal to wrap
        return widths
    for kind, floor in floors:
        narrower = [at for at, index in enumerate(kept) if grid.columns[index].shrink == kind]
        while excess > 0:
            widest = max(narrower, key=widths.__getitem__, default=None)
            if widest is None or widths[widest] <= floor:
                break
            widths[widest] -= 1
            excess -= 1
    return widths
