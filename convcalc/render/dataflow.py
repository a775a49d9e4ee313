"""The dataflow graph of an analysis as a picture would show it: boxes, arrows and clusters. Pure: no formatting
beyond the text of each box (the DOT, Mermaid and SVG renderers only lay it out in their own syntax).

* a **box** per layer, with its name, its kind, and its params and MACs where it has any; two more for the
  network's input and output;
* an **arrow** per input a layer reads, labelled with the shape of that tensor (per sample);
* a **cluster** per group of :mod:`convcalc.passes.views` (block instances, repeats, structures and their paths),
  nested as the groups are.

With a depth, each group of :func:`convcalc.passes.views.grouped` at that depth is one box (its summed row) and
the arrows are those into a group from outside it, as the table's ``--depth`` rows are.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from convcalc.core.tensor import format_shape
from convcalc.engine.graph import NETWORK_INPUT
from convcalc.engine.results import Analysis, LayerResult
from convcalc.passes.views import REPEAT, Group, Item, at_depth, hierarchy
from convcalc.render.units import human_count

OUTPUT = "output"
"""The box after the network's output layer."""


@dataclass(frozen=True, slots=True)
class Box:
    """A box: its identifier in the picture (``n0``, ``n1``, ...), the name it stands for and its lines of text."""

    id: str
    name: str
    lines: tuple[str, ...]
    layer: LayerResult | None = None
    """The layer it shows (None for the input and output boxes)."""


@dataclass(frozen=True, slots=True)
class Arrow:
    source: str
    target: str
    label: str


@dataclass(frozen=True, slots=True)
class Cluster:
    """A group drawn around its boxes and inner clusters (``members`` hold box ids and clusters, in order)."""

    id: str
    title: str
    members: tuple[str | Cluster, ...]
    short: str
    """The title with the group's name inside its parent's (``residual1: add``), for a picture's small labels."""


@dataclass(frozen=True, slots=True)
class Diagram:
    title: str
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    clusters: tuple[str | Cluster, ...]
    """The top level: ids of boxes outside any cluster, and the outermost clusters, in execution order."""


def box_lines(layer: LayerResult, shown: str) -> tuple[str, ...]:
    """A layer's (or a group row's) name as shown, then its kind with its params and MACs where they are not zero."""
    costs = [f"{human_count(layer.params)} params"] if layer.params else []
    if layer.macs:
        costs.append(f"{human_count(layer.macs)} MACs")
    return shown, " · ".join([layer.type, *costs])


def diagram(analysis: Analysis, depth: int | None = None) -> Diagram:
    """The boxes, arrows and clusters of an analysis: a box per layer, or per row of ``depth`` (a group's box
    stands for all its layers, and its arrows are its inputs from outside it)."""
    tree = hierarchy(analysis.layers)
    items = at_depth(tree, depth) if depth is not None else tuple(analysis.layers)
    collapsed = {item.name: item for item in items if isinstance(item, Group)}
    rows = [item.row if isinstance(item, Group) else item for item in items]
    ids = {NETWORK_INPUT: "n0", **{row.name: f"n{index}" for index, row in enumerate(rows, 1)}}
    owner = dict(ids)  # the box each layer is drawn in
    for group in collapsed.values():
        owner.update((layer.name, ids[group.name]) for layer in group.layers)
    output_id = f"n{len(rows) + 1}"
    shown = local_names(tree, "")
    boxes = [Box("n0", NETWORK_INPUT, (NETWORK_INPUT, format_shape(analysis.input_shape)))]
    boxes.extend(Box(ids[row.name], row.name, box_lines(row, shown[row.name]), row) for row in rows)
    boxes.append(Box(output_id, OUTPUT, (OUTPUT, analysis.outputs_text)))
    arrows = dict.fromkeys(  # one arrow per tensor between two boxes, in order
        Arrow(owner[source], ids[row.name], format_shape(shape))
        for row in rows
        for source, shape in zip(row.inputs, row.input_shapes, strict=True)
    )
    for layer, shape in analysis.outputs:
        arrows[Arrow(owner[layer], output_id, format_shape(shape))] = None
    counter = iter(range(len(analysis.layers) + 1))
    top = ["n0", *_members(tree, ids, collapsed, shown, counter), output_id]
    return Diagram(analysis.name, tuple(boxes), tuple(arrows), tuple(top))


def fitting_depth(analysis: Analysis, most: int) -> int | None:
    """The deepest ``--depth`` whose picture has at most ``most`` boxes (None: every layer fits; at least 1)."""
    if len(analysis.layers) + 2 <= most:
        return None
    tree, depth = hierarchy(analysis.layers), 1
    while len(at_depth(tree, depth + 1)) + 2 <= most and len(at_depth(tree, depth + 1)) > len(at_depth(tree, depth)):
        depth += 1
    return depth


def _members(
    items: Sequence[Item],
    ids: dict[str, str],
    collapsed: dict[str, Group],
    shown: dict[str, str],
    counter: Iterator[int],
) -> list[str | Cluster]:
    members: list[str | Cluster] = []
    for item in items:
        if isinstance(item, Group) and item.name not in collapsed:
            cluster_id = f"c{next(counter)}"
            inner = tuple(_members(item.members, ids, collapsed, shown, counter))
            short = f"{shown[item.name]}: {item.label}"
            members.append(Cluster(cluster_id, f"{item.name}: {item.label}", inner, short))
        else:
            members.append(ids[item.name])
    return members


def local_names(items: Sequence[Item], within: str) -> dict[str, str]:
    """Each layer's and group's name inside the innermost named group around it (the group's title says the
    rest): the part after that group's name, or the last part of a merge named as its group. A repeat is no
    naming level, so its copies keep the repeat's name (``conv.0``, never a bare ``0``)."""
    names: dict[str, str] = {}
    for item in items:
        names[item.name] = _local(item.name, within)
        if isinstance(item, Group):
            inner = within if item.transparent or item.kind == REPEAT else item.name
            names.update(local_names(item.members, inner))
    return names


def _local(name: str, within: str) -> str:
    if within and name.startswith(within + "."):
        return name[len(within) + 1 :]
    return name.rsplit(".", 1)[-1] if name == within else name
