"""The items a folded spec is made of: layers, regions (a residual or a concat of branches, found by
:class:`Regions`), block instances and their uses; each item's nodes and size in lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from convcalc.engine.graph import NETWORK_INPUT, Graph, Node
from convcalc.spec.reader import MAX_NESTING
from convcalc.spec.structures import Structure, merging

MAX_PERIOD = 16
"""Most items (layers and regions) in one block."""
MAX_REGIONS = (MAX_NESTING - 7) // 3
"""Most regions inside one another; deeper ones are written as their layers. A region takes up to three levels of
YAML (its mapping, its list of branches, a branch); around the outermost, the document, 'blocks', a block and its
'layers' take four (a block's layers are the deepest), and inside the innermost, a layer's mapping, a list in it
and the list's items three."""
FIRST_KEYS = ("stride", "")
"""What the first copy of a ``repeat`` may change (``first``): strides and whether it has a projection (a flag)."""
NAME_PARTS = re.compile(r"(?:[^\w\-]|_)+")


class Leaf(NamedTuple):
    """One layer of the graph, written as one entry."""

    node: Node


class Merge(NamedTuple):
    """A region: paths from one node, merged by ``node`` as ``structure`` lowers them (an empty path: the identity)."""

    node: Node
    structure: Structure
    paths: tuple[tuple[Entry, ...], ...]


class Form(NamedTuple):
    """An item's canonical form (interned): ``strict``, and ``loose`` without a residual's last path, whose own form
    is ``tail`` (None: the identity); the whole numbers left out (``values``, ``tail_values``); the nodes it reads
    by name from before it (``outside``); its first and last positions; the node it follows (``start``)."""

    strict: int
    loose: int
    tail: int | None
    values: tuple[object, ...]
    tail_values: tuple[object, ...]
    outside: frozenset[str]
    first: int
    last: int
    start: str


class Occurrence(NamedTuple):
    """One copy of a block's unit: its items, their forms, and the name prefix its nodes share (and no others)."""

    items: tuple[Entry, ...]
    forms: tuple[Form, ...]
    prefix: tuple[str, ...]


@dataclass
class Block:
    """A unit found more than once: its occurrences, its parameters (name -> default), which example config value
    each parameter replaces, and the regions whose last path only some occurrences have (-> its flag parameter)."""

    key: tuple[int, ...]
    occurrences: list[Occurrence]
    name: str = ""
    items: tuple[Entry, ...] = ()  # the unit as written: each item from the first occurrence with its projection
    params: dict[str, object] = field(default_factory=dict)
    bound: dict[tuple[str, str], str] = field(default_factory=dict)
    flags: dict[int, str] = field(default_factory=dict)  # unit position -> the parameter its projection repeats by
    tails: dict[int, int] = field(default_factory=dict)  # unit position -> the form of its region's optional path
    keys: dict[str, str] = field(default_factory=dict)  # parameter -> the configuration key it gives ("": a flag)
    values: list[dict[str, object]] = field(default_factory=list)  # per occurrence; None: a projection left out
    row: dict[int, int] = field(default_factory=dict)  # id of an occurrence -> its values' index


@dataclass
class Use:
    """An instance of a block in the layers list: one copy, or ``copies`` with ``repeat`` (``first``: the first
    copy's parameters that differ from ``values``, which differ from the block's defaults)."""

    block: Block
    copies: list[Occurrence]
    values: dict[str, object] = field(default_factory=dict)
    first: dict[str, object] = field(default_factory=dict)
    name: str = ""


Entry = Leaf | Merge | Use
NUMBER = object()
"""Marks a configuration value that is a whole number (or a pair of them) in a canonical form."""


def is_number(value: object) -> bool:
    if type(value) is tuple:
        return bool(value) and all(type(item) is int for item in value)
    return type(value) is int


def entry_nodes(entry: Entry) -> Iterator[Node]:
    """The graph nodes an entry stands for, in the graph's order."""
    if isinstance(entry, Use):
        for occurrence in entry.copies:
            for item in occurrence.items:
                yield from entry_nodes(item)
        return
    if isinstance(entry, Merge):
        for path in entry.paths:
            for inner in path:
                yield from entry_nodes(inner)
    yield entry.node


def last_node(entry: Entry) -> Node:
    return last_node(entry.copies[-1].items[-1]) if isinstance(entry, Use) else entry.node


class Regions:
    """Residuals and concats of branches in a graph: merges whose paths start at the node that dominates them."""

    def __init__(self, graph: Graph) -> None:
        self.nodes = graph.nodes
        self.position = {node.name: index for index, node in enumerate(graph.nodes)}
        self.position[NETWORK_INPUT] = -1
        self.merges: dict[str, list[int]] = {}  # a node -> positions of the merges it is the fork of
        self.tried: dict[tuple[int, int], Merge | None] = {}
        dominator = {NETWORK_INPUT: NETWORK_INPUT}
        for index, node in enumerate(graph.nodes):
            fork = node.inputs[0]
            for other in node.inputs[1:]:
                while fork != other:  # the nearest node every path to both passes through
                    if self.position[fork] > self.position[other]:
                        fork = dominator[fork]
                    else:
                        other = dominator[other]
            dominator[node.name] = fork
            if merging(node.kind.type, len(node.inputs)) is not None:
                self.merges.setdefault(fork, []).append(index)

    def sequence(self, start: int, stop: int, current: str, depth: int = 0) -> tuple[Entry, ...]:
        """The nodes from position ``start`` up to ``stop`` as a chain of items from ``current``."""
        items: list[Entry] = []
        while start < stop:
            found = self.region(start, stop, current, depth) if depth < MAX_REGIONS else None
            item = found or Leaf(self.nodes[start])
            items.append(item)
            current = item.node.name
            start = self.position[current] + 1
        return tuple(items)

    def region(self, start: int, stop: int, fork: str, depth: int) -> Merge | None:
        """The widest region from ``fork`` whose nodes begin at ``start`` and end before ``stop``."""
        for end in reversed(self.merges.get(fork, ())):
            if start < end < stop:
                if (start, end) not in self.tried:
                    self.tried[start, end] = self.paths(start, end, fork, depth)
                if self.tried[start, end]:
                    return self.tried[start, end]
        return None

    def paths(self, start: int, end: int, fork: str, depth: int) -> Merge | None:
        """The merge at ``end`` as a region, if its paths from ``fork`` fill the positions ``start`` to ``end``."""
        merge = self.nodes[end]
        structure = merging(merge.kind.type, len(merge.inputs))
        tails = list(merge.inputs)
        if structure is None or len(set(tails)) != len(tails) or merge.config != merge.kind.defaults():
            return None  # a structure merges with the kind's defaults (a concat of branches: over the channels)
        if structure.identity_last:  # the path laid out first is written first, the identity last
            tails.sort(key=lambda name: (name == fork, self.position[name]))
        paths: list[tuple[Entry, ...]] = []
        for tail in tails:
            at = self.position[tail]
            if tail == fork:
                paths.append(())
            elif start <= at < end:
                paths.append(self.sequence(start, at + 1, fork, depth + 1))
                start = at + 1
            else:
                return None
        return Merge(merge, structure, tuple(paths)) if start == end else None
