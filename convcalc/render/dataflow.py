"""The dataflow graph of an analysis as a picture would show it: boxes, arrows and clusters. Pure: no formatting
beyond the text of each box (the DOT, Mermaid and SVG renderers only lay it out in their own syntax).

* a **box** per layer, with its name, its kind, and its params and MACs where it has any; two more for the
  network's input and output;
* an **arrow** per input a layer reads, labelled with the shape of that tensor (per sample);
* a **cluster** per group of :mod:`convcalc.passes.views` (block instances, repeats, structures and their paths),
  nested as the groups are.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from convcalc.core.tensor import format_shape
from convcalc.engine.graph import NETWORK_INPUT
from convcalc.engine.results import Analysis, LayerResult
from convcalc.passes.views import Group, Item, hierarchy
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


@dataclass(frozen=True, slots=True)
class Diagram:
    title: str
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    clusters: tuple[str | Cluster, ...]
    """The top level: ids of boxes outside any cluster, and the outermost clusters, in execution order."""


def box_lines(layer: LayerResult, shown: str) -> tuple[str, ...]:
    """A layer's name as shown, then its kind with its params and MACs where they are not zero."""
    costs = [f"{human_count(layer.params)} params"] if layer.params else []
    if layer.macs:
        costs.append(f"{human_count(layer.macs)} MACs")
    return shown, " · ".join([layer.type, *costs])


def diagram(analysis: Analysis) -> Diagram:
    """The boxes, arrows and clusters of an analysis."""
    layers = analysis.layers
    ids = {NETWORK_INPUT: "n0", **{layer.name: f"n{index}" for index, layer in enumerate(layers, 1)}}
    output_id = f"n{len(layers) + 1}"
    boxes = [Box("n0", NETWORK_INPUT, (NETWORK_INPUT, format_shape(analysis.input_shape)))]
    tree = hierarchy(layers)
    shown = local_names(tree, "")
    boxes.extend(Box(ids[layer.name], layer.name, box_lines(layer, shown[layer.name]), layer) for layer in layers)
    boxes.append(Box(output_id, OUTPUT, (OUTPUT, format_shape(analysis.output_shape))))
    arrows = [
        Arrow(ids[source], ids[layer.name], format_shape(shape))
        for layer in layers
        for source, shape in zip(layer.inputs, layer.input_shapes, strict=True)
    ]
    arrows.append(Arrow(ids[analysis.output_layer], output_id, format_shape(analysis.output_shape)))
    counter = iter(range(len(layers) + 1))
    top = ["n0", *_members(tree, ids, counter), output_id]
    return Diagram(analysis.name, tuple(boxes), tuple(arrows), tuple(top))


def _members(items: Sequence[Item], ids: dict[str, str], counter: Iterator[int]) -> list[str | Cluster]:
    members: list[str | Cluster] = []
    for item in items:
        if isinstance(item, Group):
            cluster_id = f"c{next(counter)}"
            title = f"{item.name}: {item.label}"
            members.append(Cluster(cluster_id, title, tuple(_members(item.members, ids, counter))))
        else:
            members.append(ids[item.name])
    return members


def local_names(items: Sequence[Item], within: str) -> dict[str, str]:
    """Each layer's name inside the innermost group around it (the group's title says the rest): the part after
    the group's name, or the last part of a merge named as its group."""
    names: dict[str, str] = {}
    for item in items:
        if isinstance(item, Group):
            names.update(local_names(item.members, within if item.transparent else item.name))
        elif within and item.name.startswith(within + "."):
            names[item.name] = item.name[len(within) + 1 :]
        else:
            names[item.name] = item.name.rsplit(".", 1)[-1] if item.name == within else item.name
    return names
