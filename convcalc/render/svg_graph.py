"""The dataflow diagram as an SVG picture, laid out by convcalc itself (no Graphviz): a simple layered layout.

Each box's rank is one more than the largest rank of the boxes it reads (the input is rank 0), so every arrow
points down; boxes of one rank stand side by side, centred, in execution order. Arrows are curves from the
bottom of a box to the top of the next, with the tensor shape as a tooltip (and as text beside short ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from convcalc.core.text import printable
from convcalc.render.dataflow import Box, Diagram
from convcalc.render.graph_text import visible

BOX_WIDTH, BOX_HEIGHT = 200, 34
COLUMN, ROW = 220, 64
"""Horizontal and vertical distance between box centres."""
MAX_CHARS = 32
"""Longest text line inside a box; longer ones end in an ellipsis (the tooltip has the whole name)."""


@dataclass(frozen=True, slots=True)
class Placed:
    box: Box
    x: float
    y: float
    """Top-left corner."""


def layout(diagram: Diagram) -> tuple[dict[str, Placed], float, float]:
    """Each box's position, and the picture's width and height."""
    sources: dict[str, list[str]] = {}
    for arrow in diagram.arrows:
        sources.setdefault(arrow.target, []).append(arrow.source)
    rank: dict[str, int] = {}
    for box in diagram.boxes:  # in execution order: a box's sources come before it
        rank[box.id] = 1 + max((rank[source] for source in sources.get(box.id, ())), default=-1)
    rows: dict[int, list[Box]] = {}
    for box in diagram.boxes:
        rows.setdefault(rank[box.id], []).append(box)
    widest = max((len(row) for row in rows.values()), default=1)
    width = widest * COLUMN
    placed: dict[str, Placed] = {}
    for number, row in rows.items():
        left = (width - len(row) * COLUMN) / 2 + (COLUMN - BOX_WIDTH) / 2
        for index, box in enumerate(row):
            placed[box.id] = Placed(box, left + index * COLUMN, 10 + number * ROW)
    height = 20 + len(rows) * ROW
    return placed, width, height


def _short(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def to_svg(diagram: Diagram) -> str:
    """An ``<svg>`` element (for inline use in HTML): boxes with tooltips, arrows, no external references."""
    placed, width, height = layout(diagram)
    parts = [
        f'<svg class="graph" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="dataflow graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0L10,5L0,10z" fill="#666"/></marker></defs>',
    ]
    for arrow in diagram.arrows:
        start, end = placed[arrow.source], placed[arrow.target]
        x1, y1 = start.x + BOX_WIDTH / 2, start.y + BOX_HEIGHT
        x2, y2 = end.x + BOX_WIDTH / 2, end.y
        bend = (y2 - y1) / 2
        label = escape(visible(arrow.label))
        parts.append(
            f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} '
            f'{x2:.1f},{y2:.1f}" marker-end="url(#arrow)"><title>{label}</title></path>'
        )
        if y2 - y1 < ROW:
            parts.append(f'<text class="shape" x="{x2 + 4:.1f}" y="{(y1 + y2) / 2 + 4:.1f}">{label}</text>')
    for item in placed.values():
        parts.append(_box(item))
    parts.append("</svg>")
    return "\n".join(parts)


def _box(item: Placed) -> str:
    box = item.box
    kind = "io" if box.layer is None else "layer"
    tooltip = escape(printable("\n".join((box.name, *box.lines[1:]))))
    first, second = (escape(visible(_short(line))) for line in (*box.lines, "")[:2])
    cx = item.x + BOX_WIDTH / 2
    return (
        f'<g class="node {kind}" data-layer="{escape(visible(box.name))}"><title>{tooltip}</title>'
        f'<rect x="{item.x:.1f}" y="{item.y:.1f}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6"/>'
        f'<text x="{cx:.1f}" y="{item.y + 14:.1f}">{first}</text>'
        f'<text class="sub" x="{cx:.1f}" y="{item.y + 27:.1f}">{second}</text></g>'
    )
