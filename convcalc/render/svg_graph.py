"""The dataflow diagram as an SVG picture, laid out by convcalc itself (no Graphviz): a layered layout.

* **Ranks.** Each box's rank is one more than the largest rank of the boxes it reads (the input is rank 0), so
  every arrow points down; then a box is moved down to just above its first reader. Boxes of one rank share a row.
* **Lanes.** The first reader of a box continues its lane (column); a later one opens a lane right of those used
  between the two rows. A path of layers stays in one column; a shortcut or a concat's branches stand beside it.
* **Arrows.** An arrow to the next rank is a curve through the gap between the two rows (where no box is). A
  longer one (a skip connection) leaves its source downwards, runs along the gap to a *gutter* right of every box
  of the rows it passes, down the gutter and back along the gap above its target: it never runs behind a box.
  Skips whose rows overlap take different gutters.
* **Clusters.** Each group is a rectangle around its members, titled with its name inside its parent's; rows
  leave room above and below for the clusters that open and close there.
* **Text.** Every box has one width, the widest text's estimate (:func:`text_width`) plus padding: no label is cut.
  A straight arrow into a box with one input has its tensor shape beside it (every arrow has it as a tooltip),
  unless a cluster's title is in that gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from convcalc.core.text import printable
from convcalc.render.dataflow import Box, Cluster, Diagram
from convcalc.render.graph_text import visible

BOX_HEIGHT, GAP_Y = 34, 28
"""A box's height and the space between two rows (without clusters)."""
TEXT_PAD, MIN_WIDTH = 8, 120
"""Space between a box's text and its sides, and the narrowest box."""
PAD, TITLE = 10, 13
"""Space between a cluster's border and what it encloses (and between two gutters), and its title's height."""
NAME_SIZE, SUB_SIZE, TITLE_SIZE = 11, 10, 10
"""Font sizes (px) of a box's first line, its second line and a cluster's title."""
MARGIN = 12

NARROW, WIDE = frozenset("iljtfr.,:;|!'·()[] "), frozenset("mwMW@%")
"""Characters narrower and wider than most in a sans-serif font."""


def char_width(char: str) -> float:
    """A character's width in em, an upper estimate for sans-serif fonts (Helvetica, Arial, DejaVu Sans):
    0.4 for narrow ones, 1.0 for m, w, M, W, @, %, 0.75 for other capitals, 0.62 for the rest."""
    if char in NARROW:
        return 0.4
    if char in WIDE:
        return 1.0
    return 0.75 if char.isupper() else 0.62


def text_width(text: str, size: float) -> float:
    """A line's estimated width in px at font size ``size``: the sum of its characters' widths times the size."""
    return size * sum(char_width(char) for char in text)


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class Frame:
    """A cluster's rectangle, its title and how many clusters enclose it."""

    cluster: Cluster
    rect: Rect
    level: int


@dataclass(frozen=True, slots=True)
class Layout:
    boxes: dict[str, Rect]
    frames: tuple[Frame, ...]
    edges: tuple[tuple[str, str, str], ...]
    """Each arrow's path (``d``), label and class (``edge`` or ``edge skip``)."""
    shapes: tuple[tuple[float, float, str], ...]
    """Tensor shapes written beside straight arrows (x, baseline y, text), where no cluster title is."""
    width: float
    height: float


def _ranks(diagram: Diagram) -> dict[str, int]:
    """Each box's row: one below its lowest source, then moved down to just above its first reader (a branch
    read far below, such as U-Net's cropped skip, sits beside the boxes it joins)."""
    sources = _sources(diagram)
    rank: dict[str, int] = {}
    for box in diagram.boxes:  # in execution order: a box's sources come before it
        rank[box.id] = 1 + max((rank.get(source, -1) for source in sources.get(box.id, ())), default=-1)
    readers: dict[str, list[str]] = {}
    for arrow in diagram.arrows:
        readers.setdefault(arrow.source, []).append(arrow.target)
    for box in reversed(diagram.boxes):  # readers come after: their rows are final
        if box.id in readers:
            rank[box.id] = max(rank[box.id], min(rank[reader] for reader in readers[box.id]) - 1)
    return rank


def _sources(diagram: Diagram) -> dict[str, list[str]]:
    sources: dict[str, list[str]] = {}
    for arrow in diagram.arrows:
        sources.setdefault(arrow.target, []).append(arrow.source)
    return sources


def _lanes(diagram: Diagram, rank: dict[str, int]) -> dict[str, int]:
    """Each box's column: the first reader of a box continues its column; a later reader (a branch, a shortcut)
    opens one right of every column used between the two rows; the next free one if that is taken."""
    sources, taken, continued = _sources(diagram), set[tuple[int, int]](), set[str]()
    lane: dict[str, int] = {}
    for box in diagram.boxes:
        first = sources.get(box.id, [None])[0]
        if first is None or first not in continued:
            column = lane.get(first, 0) if first else 0
        else:
            rows = range(rank[first] + 1, rank[box.id] + 1)
            column = 1 + max([lane[first], *(c for r, c in taken if r in rows)])
        continued.update(sources.get(box.id, [])[:1])
        while (rank[box.id], column) in taken:
            column += 1
        taken.add((rank[box.id], column))
        lane[box.id] = column
    return lane


def _enclosing(
    members: tuple[str | Cluster, ...], chain: tuple[Cluster, ...], out: dict[str, tuple[Cluster, ...]]
) -> None:
    """Each box's enclosing clusters, outermost first."""
    for member in members:
        if isinstance(member, Cluster):
            _enclosing(member.members, (*chain, member), out)
        else:
            out[member] = chain


def _box_width(diagram: Diagram, clusters: list[Cluster]) -> float:
    widths = [float(MIN_WIDTH - 2 * TEXT_PAD)]
    for box in diagram.boxes:
        sizes = (NAME_SIZE, SUB_SIZE)
        widths += [text_width(visible(line), size) for line, size in zip(box.lines, sizes, strict=False)]
    widths += [text_width(visible(cluster.short), TITLE_SIZE) for cluster in clusters]
    return max(widths) + 2 * TEXT_PAD


def layout(diagram: Diagram) -> Layout:
    """Every box's and cluster's rectangle, every arrow's path, and the picture's size."""
    rank, sources = _ranks(diagram), _sources(diagram)
    lane = _lanes(diagram, rank)
    chains: dict[str, tuple[Cluster, ...]] = {}
    _enclosing(diagram.clusters, (), chains)
    clusters = list(dict.fromkeys(cluster for chain in chains.values() for cluster in chain))
    span = {c.id: [rank[b] for b, chain in chains.items() if c in chain] for c in clusters}
    rows = max(rank.values(), default=0) + 1
    opens, closes = [0] * rows, [0] * rows  # per row: the most clusters opening above / closing below a box
    for box_id, chain in chains.items():
        here = rank[box_id]
        opens[here] = max(opens[here], sum(1 for c in chain if min(span[c.id]) == here))
        closes[here] = max(closes[here], sum(1 for c in chain if max(span[c.id]) == here))
    nesting = max((len(chain) for chain in chains.values()), default=0)
    width = _box_width(diagram, clusters)
    skips = [a for a in diagram.arrows if rank[a.target] - rank[a.source] > 1]
    track = dict(zip(skips, _tracks([(rank[a.source], rank[a.target]) for a in skips]), strict=True))
    gap_x = PAD * max(2 * nesting, max(track.values(), default=-1) + 1) + 2 * PAD
    top, y = [0.0] * rows, float(MARGIN)
    for row in range(rows):
        y += opens[row] * (PAD + TITLE)
        top[row] = y
        y += BOX_HEIGHT + GAP_Y + closes[row] * PAD
    boxes = {
        box.id: Rect(MARGIN + nesting * PAD + lane[box.id] * (width + gap_x), top[rank[box.id]], width, BOX_HEIGHT)
        for box in diagram.boxes
    }
    frames = tuple(_frames(diagram.clusters, boxes, 0))
    right = [max((r.right for b, r in boxes.items() if rank[b] == row), default=0.0) for row in range(rows)]
    edges: list[tuple[str, str, str]] = []
    shapes: list[tuple[float, float, str]] = []
    for arrow in diagram.arrows:
        start, end = boxes[arrow.source], boxes[arrow.target]
        if arrow in track:
            passed = right[rank[arrow.source] : rank[arrow.target] + 1]
            gutter = max(passed) + PAD / 2 + PAD * track[arrow]
            edges.append((_skip_path(start, end, gutter), arrow.label, "edge skip"))
        else:
            edges.append((_curve(start, end), arrow.label, "edge"))
            if start.x == end.x and not opens[rank[arrow.target]] and len(sources[arrow.target]) == 1:
                shapes.append((start.x + start.width / 2 + 4, (start.bottom + end.y) / 2 + 4, arrow.label))
    widest = max((r.right for r in boxes.values()), default=0.0) + PAD * (max(track.values(), default=0) + nesting + 1)
    frame_right = max((f.rect.right for f in frames), default=0.0)
    return Layout(boxes, frames, tuple(edges), tuple(shapes), max(widest, frame_right) + MARGIN, y + MARGIN)


def _tracks(spans: list[tuple[int, int]]) -> list[int]:
    """A gutter per skip: the lowest one no skip whose rows overlap (ends included) already takes."""
    tracks: list[int] = []
    for index, (first, last) in enumerate(spans):
        used = {tracks[i] for i, (a, b) in enumerate(spans[:index]) if a <= last and first <= b}
        tracks.append(next(t for t in range(len(spans)) if t not in used))
    return tracks


def _frames(members: tuple[str | Cluster, ...], boxes: dict[str, Rect], level: int) -> list[Frame]:
    """Each cluster's rectangle: its members' union, PAD wider on each side and a title's height taller on top."""
    frames: list[Frame] = []
    for member in members:
        if isinstance(member, Cluster):
            inner = _frames(member.members, boxes, level + 1)
            rects = [boxes[m] for m in member.members if isinstance(m, str)]
            rects += [frame.rect for frame in inner if frame.level == level + 1]
            left, right = min(r.x for r in rects) - PAD, max(r.right for r in rects) + PAD
            top, bottom = min(r.y for r in rects) - PAD - TITLE, max(r.bottom for r in rects) + PAD
            frames.append(Frame(member, Rect(left, top, right - left, bottom - top), level))
            frames.extend(inner)
    return frames


def _curve(start: Rect, end: Rect) -> str:
    """From the bottom of one box to the top of a box in the next row, within the gap between the rows."""
    x1, y1, x2, y2 = start.x + start.width / 2, start.bottom, end.x + end.width / 2, end.y
    bend = (y2 - y1) / 2
    return f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"


def _skip_path(start: Rect, end: Rect, gutter: float) -> str:
    """Down out of the source, along the gap below it to the gutter, down, back along the gap above the target;
    it leaves and enters three quarters across (the arrows to and from the next rows use the middle)."""
    x1, x2 = start.x + start.width * 3 / 4, end.x + end.width * 3 / 4
    below, above = start.bottom + PAD / 2, end.y - PAD / 2
    points = [(x1, start.bottom), (x1, below), (gutter, below), (gutter, above), (x2, above), (x2, end.y)]
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)


def to_svg(diagram: Diagram) -> str:
    """An ``<svg>`` element (for inline use in HTML): clusters, arrows and boxes with tooltips, no references."""
    placed = layout(diagram)
    width, height = placed.width, placed.height
    parts = [
        f'<svg class="graph" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="dataflow graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0L10,5L0,10z" fill="#666"/></marker></defs>',
    ]
    for frame in placed.frames:
        rect = frame.rect
        parts.append(
            f'<g class="cluster" data-group="{escape(visible(frame.cluster.title))}">'
            f"<title>{escape(printable(frame.cluster.title))}</title>"
            f'<rect x="{rect.x:.1f}" y="{rect.y:.1f}" width="{rect.width:.1f}" height="{rect.height:.1f}" rx="4"/>'
            f'<text x="{rect.x + PAD / 2:.1f}" y="{rect.y + TITLE - 2:.1f}">{escape(visible(frame.cluster.short))}'
            "</text></g>"
        )
    for path, label, kind in placed.edges:
        shown = escape(visible(label))
        parts.append(f'<path class="{kind}" d="{path}" marker-end="url(#arrow)"><title>{shown}</title></path>')
    for x, y, label in placed.shapes:
        parts.append(f'<text class="shape" x="{x:.1f}" y="{y:.1f}">{escape(visible(label))}</text>')
    for box in diagram.boxes:
        parts.append(_box(box, placed.boxes[box.id]))
    parts.append("</svg>")
    return "\n".join(parts)


def _box(box: Box, rect: Rect) -> str:
    kind = "io" if box.layer is None else "layer"
    tooltip = escape(printable("\n".join((box.name, *box.lines[1:]))))
    first, second = (escape(visible(line)) for line in (*box.lines, "")[:2])
    cx = rect.x + rect.width / 2
    return (
        f'<g class="node {kind}" data-layer="{escape(visible(box.name))}"><title>{tooltip}</title>'
        f'<rect x="{rect.x:.1f}" y="{rect.y:.1f}" width="{rect.width:.1f}" height="{rect.height}" rx="6"/>'
        f'<text x="{cx:.1f}" y="{rect.y + 14:.1f}">{first}</text>'
        f'<text class="sub" x="{cx:.1f}" y="{rect.y + 27:.1f}">{second}</text></g>'
    )
