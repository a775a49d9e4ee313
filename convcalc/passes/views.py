"""Grouped views of an analysis: the layers collapsed into the blocks, repeats and structures they came from.

Pure: no I/O, no formatting. The grouping is read from the graph's provenance, never guessed:

* **names**: a layer's dotted name is the path of structures it sits in (``layer1.0.residual1.body.conv1``);
  the layers whose names share the first N parts form one group at depth N.
* **block instances** (each layer's ``instances`` chain): a group whose name is a block instance is labelled
  with its block; a group whose parts below it are the copies ``0, 1, ...`` of a ``repeat`` is a repeat, labelled
  with what it repeats and its count (``bottleneck x3``). Copies of an unnamed ``repeat`` (default names
  ``separable7`` ... ``separable11``, one entry in the spec) are one row ``separable7..separable11``.
* a group that holds a merge node of its own name (a concat of branches, a residual's add) is labelled with
  the merge's type; the other groups are the paths inside such a structure.

A group's row sums its layers' params, buffers, MACs, FLOPs and bytes, so the rows at any depth add up to the
analysis' totals; its output shape and receptive field are its last layer's (a group's output).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Union

from convcalc.engine.results import Analysis, LayerResult

if TYPE_CHECKING:
    from convcalc.core.errors import Location
    from convcalc.core.tensor import Shape
    from convcalc.passes.comparison import Comparison

BLOCK, REPEAT, MERGE, PATH = "block", "repeat", "merge", "path"
"""What a group is: a block instance, the copies of a repeat, a structure ending in a merge, a path inside one."""

Item = Union["Group", LayerResult]
"""One entry of a view: a group of layers, or a single layer."""


@dataclass(frozen=True)
class Group:
    """Layers that came from one block instance, repeat or structure, with the groups and layers inside it."""

    name: str
    kind: str
    label: str
    block: str | None
    count: int
    members: tuple[Item, ...]
    layers: tuple[LayerResult, ...]
    location: Location
    transparent: bool = False
    """A run of an unnamed repeat's copies: a row of its own, but no level of the name hierarchy."""

    @cached_property
    def row(self) -> LayerResult:
        """The group as one row: summed counts, the group's inputs from outside and its output."""
        return summarise(self)

    def to_dict(self) -> dict[str, Any]:
        """The group's sums with its members nested (groups and layers), for JSON."""
        row = self.row
        return {
            "name": self.name,
            "group": self.kind,
            "label": self.label,
            "block": self.block,
            "repeat": self.count,
            "input_shapes": [list(shape) for shape in row.input_shapes],
            "output_shape": list(row.output_shape),
            "params": row.params,
            "buffers": row.buffers,
            "macs": row.macs,
            "flops": row.flops,
            "activation_bytes": row.activation_bytes,
            "weight_bytes": row.weight_bytes,
            "line": self.location.line,
            "members": [item_dict(member) for member in self.members],
        }


def summarise(group: Group) -> LayerResult:
    """One row for a group: sums of the summable counts, its inputs from outside, its last layer's output."""
    layers = group.layers
    inside = {layer.name for layer in layers}
    outside: dict[str, Shape] = {}
    for layer in layers:
        for source, shape in zip(layer.inputs, layer.input_shapes, strict=True):
            if source not in inside:
                outside.setdefault(source, shape)
    last = layers[-1]
    return LayerResult(
        name=group.name,
        type=group.label,
        inputs=tuple(outside),
        input_shapes=tuple(outside.values()),
        output_shape=last.output_shape,
        params=sum(layer.params for layer in layers),
        buffers=sum(layer.buffers for layer in layers),
        macs=sum(layer.macs for layer in layers),
        flops=sum(layer.flops for layer in layers),
        input_bytes=sum(layer.input_bytes for layer in layers),
        activation_bytes=sum(layer.activation_bytes for layer in layers),
        weight_bytes=sum(layer.weight_bytes for layer in layers),
        receptive_field=last.receptive_field,
        location=group.location,
        kind=last.kind,
        config=last.config,
        instances=last.instances[: _own_instances(group, last)],
    )


def _own_instances(group: Group, layer: LayerResult) -> int:
    """How many of a layer's block instances enclose the group (those whose names are not inside it)."""
    return sum(1 for instance in layer.instances if not instance.name.startswith(group.name + "."))


def item_dict(item: Item) -> dict[str, Any]:
    """A group's nested dict, or a layer's JSON with the block instances it came from."""
    if isinstance(item, Group):
        return item.to_dict()
    data = item.to_dict()
    data["instances"] = [
        {"name": instance.name, "block": instance.block, "line": instance.location.line, "copy": instance.copy}
        for instance in item.instances
    ]
    return data


def hierarchy(layers: Sequence[LayerResult]) -> tuple[Item, ...]:
    """The whole network as a tree of groups, top level first, members in execution order."""
    return _join_runs(_split(layers, 0))


def _split(layers: Iterable[LayerResult], level: int) -> list[Item]:
    """Layers sharing their first ``level`` name parts, split by their next part into groups and single layers."""
    buckets: dict[str, list[LayerResult]] = {}
    for layer in layers:
        key = ".".join(layer.name.split(".")[: level + 1])
        buckets.setdefault(key, []).append(layer)
    items: list[Item] = []
    for key, members in buckets.items():
        if len(members) == 1 and members[0].name == key:
            items.append(members[0])
        else:
            items.append(_group(key, members, level + 1))
    return items


def _group(name: str, layers: list[LayerResult], level: int) -> Group:
    members = _split(layers, level)
    instance = next((i for i in layers[0].instances if i.name == name), None)
    merge = next((m for m in members if isinstance(m, LayerResult) and m.name == name), None)
    copies = [_last_part(member.name) for member in members]
    if instance is None and merge is None and copies == [str(index) for index in range(len(members))]:
        first = members[0]
        what, block = (first.label, first.block) if isinstance(first, Group) else (first.type, None)
        label = f"{what} x{len(members)}"
        return Group(name, REPEAT, label, block, len(members), tuple(members), tuple(layers), first.location)
    joined = _join_runs(members)
    if instance is not None:
        return Group(name, BLOCK, instance.block, instance.block, 1, joined, tuple(layers), instance.location)
    if merge is not None:
        return Group(name, MERGE, merge.type, None, 1, joined, tuple(layers), merge.location)
    return Group(name, PATH, PATH, None, 1, joined, tuple(layers), layers[0].location)


def _last_part(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _join_runs(items: list[Item]) -> tuple[Item, ...]:
    """Consecutive groups written by one spec entry (the copies of an unnamed repeat) joined into one group."""
    joined: list[Item] = []
    index = 0
    while index < len(items):
        run = [items[index]]
        while index + len(run) < len(items) and _same_entry(run[0], items[index + len(run)]):
            run.append(items[index + len(run)])
        joined.append(_run_group(run) if len(run) > 1 else run[0])
        index += len(run)
    return tuple(joined)


def _same_entry(first: Item, other: Item) -> bool:
    """Whether two block instances or structures are copies of one entry of the spec."""
    return (
        isinstance(first, Group)
        and isinstance(other, Group)
        and first.kind in (BLOCK, MERGE)
        and other.kind == first.kind
        and other.location == first.location
    )


def _run_group(run: list[Item]) -> Group:
    first, count = run[0], len(run)
    assert isinstance(first, Group)
    name = f"{first.name}..{_last_part(run[-1].name)}"
    layers = tuple(layer for group in run if isinstance(group, Group) for layer in group.layers)
    label = f"{first.label} x{count}"
    return Group(name, REPEAT, label, first.block, count, tuple(run), layers, first.location, transparent=True)


def at_depth(items: Sequence[Item], depth: int) -> tuple[Item, ...]:
    """The rows of a view ``depth`` levels deep: groups at that level, and single layers above it."""
    if depth < 1:
        raise ValueError("depth must be at least 1")
    rows: list[Item] = []
    for item in items:
        if not isinstance(item, Group) or depth == 1:
            rows.append(item)
        else:
            rows.extend(at_depth(item.members, depth if item.transparent else depth - 1))
    return tuple(rows)


def grouped(layers: Sequence[LayerResult], depth: int) -> tuple[Item, ...]:
    """The rows of ``layers`` at ``depth``."""
    return at_depth(hierarchy(layers), depth)


def rows(layers: Sequence[LayerResult], depth: int) -> tuple[LayerResult, ...]:
    """The rows at ``depth``, each a group's summary or a layer: what the table, CSV and markdown print."""
    return tuple(item.row if isinstance(item, Group) else item for item in grouped(layers, depth))


def grouped_dict(analysis: Analysis, depth: int) -> dict[str, Any]:
    """``analysis.to_dict()`` with ``depth`` and ``groups``: the rows at that depth, each with its members nested."""
    data = analysis.to_dict()
    data["depth"] = depth
    data["groups"] = [item_dict(item) for item in grouped(analysis.layers, depth)]
    return data


def grouped_comparison(comparison: Comparison, depth: int) -> Comparison:
    """A comparison whose rows are the groups at ``depth`` of each side, matched by name."""
    from convcalc.passes.comparison import align

    return replace(comparison, rows=align(rows(comparison.before.layers, depth), rows(comparison.after.layers, depth)))


def grouped_comparison_dict(comparison: Comparison, depth: int) -> dict[str, Any]:
    """``compare --format json --depth N``: the grouped rows, and each side's groups nested as for analyze."""
    data = grouped_comparison(comparison, depth).to_dict()
    data["depth"] = depth
    data["before"] = grouped_dict(comparison.before, depth)
    data["after"] = grouped_dict(comparison.after, depth)
    return data
