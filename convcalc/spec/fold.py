"""Folding: a flat graph read back as the structures and blocks a person writes (what `convcalc import` prints).

Three steps, each deterministic, each leaving alone what it does not recognise (that stays one layer a line):

1. **Regions** (:class:`Regions`). A residual or a concat of branches is a merge node (an ``add`` of two
   inputs, a ``concat``) whose inputs all start at the node that dominates it (every path from the network
   input to the merge passes through it), with its paths laid out one after another in the graph's order
   (the order the spec language lowers them in). Regions nest; the outermost is tried first.
2. **Runs** (:class:`Runs`). Each item (a layer or a region) has a canonical form: its kinds, its
   configuration with every whole number left out, and what it reads relative to itself. A run is two or more
   consecutive copies of a unit of items with equal forms; the first copy may also have a residual's
   projection where the others have the identity. Where the exporter's names are hierarchical, a copy must be
   exactly one of its modules (its nodes share a name prefix no other node has): ``layer1.0``, not half of it.
   A unit that occurs alone elsewhere with the form of a run is an occurrence too.
3. **Blocks** (:class:`Blocks`). All occurrences of one form are one block: the numbers that differ
   between them become its parameters (equal columns share one), the projection a parameter used as the
   repeat count of its layers. Consecutive copies are one instance with ``repeat`` when they agree, the
   first perhaps in its strides and projection (``first``). A block is kept only if it shortens the spec.

The result is :class:`Folded`: the entries of the ``layers`` list and the blocks, every layer with the name it
is written with, its full name in the folded spec, and what it reads. :mod:`convcalc.spec.writer` writes it.
``tests/test_import.py`` checks that the folded spec of every ONNX fixture lowers to the flat one's numbers, layer
by layer, and ``tests/test_fold.py`` that of graphs drawn at random.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from convcalc.core.text import first_free
from convcalc.engine.graph import NETWORK_INPUT, Graph, Node
from convcalc.spec.lower import MAX_LAYERS
from convcalc.spec.namespace import BLOCK_INPUT
from convcalc.spec.reader import MAX_NESTING
from convcalc.spec.structures import ENTRY_KEYS, Structure, merging

MAX_PERIOD = 16
"""Most items (layers and regions) in one block."""
MAX_REGIONS = (MAX_NESTING - 8) // 3
"""Most regions inside one another; deeper ones are written as their layers. A region takes up to three levels of
YAML (its mapping, its list of branches, a branch), a block three more, the document two."""
FIRST_KEYS = ("stride", "")
"""What the first copy of a ``repeat`` may change (``first``): strides and whether it has a projection (a flag)."""
NAME_PARTS = re.compile(r"(?:[^\w\-]|_)+")
"""What separates the parts of an imported name: ``layer1.0.relu_2`` is layer1, 0, relu, 2."""


class Leaf(NamedTuple):
    """One layer of the graph, written as one entry."""

    node: Node


class Merge(NamedTuple):
    """A region: paths from one node, merged by ``node`` as ``structure`` lowers them (an empty path: the identity)."""

    node: Node
    structure: Structure
    paths: tuple[tuple[Entry, ...], ...]


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
        if structure is None or len(set(tails)) != len(tails):
            return None
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


class Forms:
    """Canonical forms of items: equal forms are the same layers with the same configuration but for whole numbers,
    reading the same nodes relative to themselves."""

    def __init__(self, position: dict[str, int]) -> None:
        self.position = position
        self.ids: dict[object, int] = {}
        self.known: dict[tuple[int, str], list[Form]] = {}  # (id of a list of items, its start) -> their forms

    def intern(self, key: object) -> int:
        return self.ids.setdefault(key, len(self.ids))

    def sequence(self, items: Sequence[Entry], start: str) -> list[Form]:
        """The forms of a list of items from ``start`` (kept: a region's paths are asked for again)."""
        known = self.known.get((id(items), start))
        if known is None:
            known = self.known[id(items), start] = []
            for item in items:
                known.append(self.merge(item, start) if isinstance(item, Merge) else self.leaf(last_node(item), start))
                start = last_node(item).name
        return known

    def leaf(self, node: Node, start: str) -> Form:
        at = self.position[node.name]
        chained = not node.kind.many_inputs and node.inputs == (start,)
        reads = None if chained else tuple(at - self.position[source] for source in node.inputs)
        keys: list[object] = []
        values: list[object] = []
        for key in node.kind.keys:
            value = node.config.get(key.name)
            number = is_number(value)
            if number:
                values.append(value)
            keys.append(NUMBER if number else hashable(value))  # in the kind's order of keys
        strict = self.intern((node.kind.type, reads, tuple(keys)))
        outside = frozenset() if chained else frozenset(node.inputs)
        return Form(strict, strict, None, tuple(values), (), outside, at, at, start)

    def merge(self, item: Merge, start: str) -> Form:
        paths = [self.sequence(path, start) for path in item.paths]
        keys = [("path", *(form.strict for form in path)) for path in paths]
        values = [tuple(value for form in path for value in (*form.values, *form.tail_values)) for path in paths]
        fixed = len(paths) - 1 if item.structure.identity_last else len(paths)
        loose = self.intern(("merge", item.node.kind.type, tuple(keys[:fixed])))
        tail = self.intern(keys[fixed]) if fixed < len(paths) and paths[fixed] else None
        inner = [form for path in paths for form in path]
        at = self.position[item.node.name]
        first = min((form.first for form in inner), default=at)
        outside = frozenset(node for form in inner for node in form.outside if self.position[node] < first)
        return Form(
            self.intern(("strict", loose, tail)),
            loose,
            tail,
            tuple(value for part in values[:fixed] for value in part),
            tuple(value for part in values[fixed:] for value in part),
            outside,
            first,
            at,
            start,
        )


def hashable(value: object) -> object:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def split_nodes(item: Entry) -> tuple[list[Node], list[Node]]:
    """An item's nodes in the graph's order but its optional last path's (a residual's projection), and those."""
    if isinstance(item, Merge) and item.structure.identity_last:
        *fixed, last = item.paths
        return [node for path in fixed for inner in path for node in entry_nodes(inner)] + [item.node], [
            node for inner in last for node in entry_nodes(inner)
        ]
    return list(entry_nodes(item)), []


def numbered(nodes: Sequence[Node]) -> list[tuple[Node, str]]:
    """The (node, key) of every whole-number configuration value, in the order forms list their values."""
    return [(node, key.name) for node in nodes for key in node.kind.keys if is_number(node.config.get(key.name))]


def differences(one: dict[str, object], other: dict[str, object]) -> list[str]:
    """The parameters two copies both give, with different values."""
    return [
        name for name, value in one.items() if value is not None and other[name] is not None and value != other[name]
    ]


def lines(entry: Entry) -> int:
    """About how many lines an entry takes written out."""
    if isinstance(entry, Merge):
        return 2 + sum(1 + sum(lines(inner) for inner in path) for path in entry.paths)
    return 1


class Runs:
    """Step 2: the runs in a graph's regions, each a use of the block its unit is an occurrence of."""

    def __init__(self, graph: Graph) -> None:
        self.regions = Regions(graph)
        self.forms = Forms(self.regions.position)
        self.parts = [tuple(part for part in NAME_PARTS.split(node.name) if part) for node in graph.nodes]
        self.shared = Counter(parts[:length] for parts in self.parts for length in range(1, len(parts) + 1))
        self.named = any(count > 1 for prefix, count in self.shared.items() if len(prefix) == 1)
        self.blocks: dict[tuple[int, ...], Block] = {}
        self.starting: dict[int, list[tuple[int, ...]]] = {}  # a form -> the units found that start with it
        self.runs: list[Use] = []
        self.prefixes: dict[tuple[int, int], tuple[str, ...] | None] = {}
        self.alikes: dict[int, list[int]] = {}  # id of a list of forms -> its runs of one form (see alike)

    def scanned(self) -> list[Entry]:
        """The graph's items, its runs as uses: first which units repeat anywhere, then their runs and lone copies."""
        top = self.regions.sequence(0, len(self.regions.nodes), NETWORK_INPUT)
        self.scan(top, NETWORK_INPUT)
        self.runs.clear()
        for block in self.blocks.values():
            block.occurrences.clear()
        return self.scan(top, NETWORK_INPUT)

    def scan(self, items: Sequence[Entry], start: str) -> list[Entry]:
        """The items with each run (or lone copy of a unit a run has) as a use of its block; other regions' paths
        scanned in turn."""
        forms = self.forms.sequence(items, start)
        entries: list[Entry] = []
        index = 0
        while index < len(items):
            period, copies = self.run(forms, index)
            if copies:
                found = [self.occurrence(items, forms, index + copy * period, period) for copy in range(copies)]
                key = tuple(form.loose for form in forms[index : index + period])
                if key not in self.blocks:
                    self.blocks[key] = Block(key, [])
                    self.starting.setdefault(key[0], []).append(key)
                block = self.blocks[key]
                block.occurrences.extend(found)
                self.runs.append(Use(block, found))
                entries.append(self.runs[-1])
                index += period * copies
                continue
            item = items[index]
            if isinstance(item, Merge):
                fork = forms[index].start
                item = item._replace(paths=tuple(tuple(self.scan(path, fork)) for path in item.paths))
            entries.append(item)
            index += 1
        return entries

    def run(self, forms: Sequence[Form], index: int) -> tuple[int, int]:
        """(unit length, copies) of the run at ``index`` covering most items (of equal cover, the shorter unit);
        else (length, 1) for a lone copy of a unit found before; else (0, 0)."""
        best = (0, 0)
        for period in range(1, min(MAX_PERIOD, (len(forms) - index) // 2) + 1):
            copies = self.copies(forms, index, period)
            if copies > 1 and period * copies > best[0] * best[1]:
                best = (period, copies)
        if best[1]:
            return best
        for key in self.starting.get(forms[index].loose, ()):
            unit = forms[index : index + len(key)]
            if tuple(form.loose for form in unit) == key and self.valid(forms, index, len(key)):
                return len(key), 1
        return 0, 0

    def copies(self, forms: Sequence[Form], index: int, period: int) -> int:
        """How many copies of the unit at ``index`` follow one another (0 for fewer than two); later copies may
        leave out the last path of a region the first has."""
        unit = forms[index : index + period]
        if period == 1 and unit[0].first == unit[0].last:  # a single layer: `repeat` on it needs no block
            return 0
        if index + 2 * period > len(forms) or forms[index + period].loose != unit[0].loose:
            return 0  # the common case, kept cheap
        if period > 1 and self.alike(forms)[index] >= period:
            return 0  # copies of one layer: [conv, conv] is no unit (MobileNet's [depthwise, pointwise] is)
        exact = [(form.strict, form.values) for form in unit]
        if any(exact == exact[:shorter] * (period // shorter) for shorter in range(2, period) if period % shorter == 0):
            return 0
        if not self.valid(forms, index, period):
            return 0
        count = 1
        while index + (count + 1) * period <= len(forms):
            at = index + count * period
            other = forms[at : at + period]
            if any(o.loose != u.loose or o.tail not in (None, u.tail) for o, u in zip(other, unit, strict=True)):
                break
            if not self.valid(forms, at, period):
                break
            count += 1
        return count if count > 1 else 0

    def alike(self, forms: Sequence[Form]) -> list[int]:
        """How many items from each position on are alike, numbers included (1: only that item)."""
        known = self.alikes.get(id(forms))
        if known is None:
            known = self.alikes[id(forms)] = [1] * len(forms)
            for index in range(len(forms) - 2, -1, -1):
                one, other = forms[index], forms[index + 1]
                if (one.strict, one.values) == (other.strict, other.values):
                    known[index] = known[index + 1] + 1
        return known

    def valid(self, forms: Sequence[Form], index: int, period: int) -> bool:
        """Whether the unit at ``index`` reads nothing before it but its input, and is one module of the exporter's
        names (when the graph has such names)."""
        first, start = forms[index].first, forms[index].start
        for form in forms[index : index + period]:
            if any(node != start and self.regions.position[node] < first for node in form.outside):
                return False
        return self.prefix(first, forms[index + period - 1].last) is not None

    def prefix(self, first: int, last: int) -> tuple[str, ...] | None:
        """The shortest name prefix the nodes at positions first..last share and no other node has: () where the
        graph's names are not hierarchical; None if they are and these nodes are not one module."""
        if not self.named:
            return ()
        if (first, last) not in self.prefixes:
            common = self.parts[first]
            for parts in self.parts[first + 1 : last + 1]:
                while parts[: len(common)] != common:
                    common = common[:-1]
            size = last - first + 1
            shortest = (common[:length] for length in range(1, len(common) + 1))
            self.prefixes[first, last] = next((each for each in shortest if self.shared[each] == size), None)
        return self.prefixes[first, last]

    def occurrence(self, items: Sequence[Entry], forms: Sequence[Form], index: int, period: int) -> Occurrence:
        prefix = self.prefix(forms[index].first, forms[index + period - 1].last) or ()
        return Occurrence(tuple(items[index : index + period]), tuple(forms[index : index + period]), prefix)


class Blocks:
    """Step 3: each block's parameters and instances, or its runs written out where it does not shorten the spec."""

    def __init__(self, runs: Runs) -> None:
        self.runs = runs.runs
        self.blocks = runs.blocks
        self.named = runs.named
        self.final: dict[int, list[Use]] = {}  # id of a run -> its instances (none: it is written out)
        for block in list(self.blocks.values()):
            self.settle(block)

    def settle(self, block: Block) -> None:
        """The block's parameters and instances; its runs written out where it does not shorten the spec."""
        runs = [run for run in self.runs if run.block is block and self.agrees(block, run)]
        block.occurrences = [occurrence for run in runs for occurrence in run.copies]
        if not block.occurrences:
            del self.blocks[block.key]
            return
        self.parameterise(block)
        split = {id(run): self.split(run) for run in runs}
        uses = [use for run in runs for use in split[id(run)]]
        self.defaults(block, uses)
        written = sum(lines(item) for occurrence in block.occurrences for item in occurrence.items)
        kept = written > sum(lines(item) for item in block.items) + 3 + len(uses)  # + name, params, layers
        for run in runs:
            self.final[id(run)] = split[id(run)] if kept else []
        if not kept:
            del self.blocks[block.key]

    def agrees(self, block: Block, run: Use) -> bool:
        """Whether the run's optional last paths (projections) have the forms the block's earlier runs gave them;
        records them. A run that does not agree is written out."""
        width = len(block.key)
        tails = [(index % width, form.tail) for index, form in enumerate(f for o in run.copies for f in o.forms)]
        if any(tail is not None and block.tails.get(at, tail) != tail for at, tail in tails):
            self.final[id(run)] = []
            return False
        for at, tail in tails:
            if tail is not None:
                block.tails.setdefault(at, tail)
        return True

    def parameterise(self, block: Block) -> None:
        """The block's parameters: each column of whole numbers that differ between its occurrences (columns of one
        key that agree wherever both are given are one parameter), and a flag for each region whose last path only
        some occurrences have, which is that path's repeat count."""
        width = len(block.key)
        occurrences = block.occurrences
        examples = [next((o for o in occurrences if o.forms[t].tail is not None), occurrences[0]) for t in range(width)]
        block.items = tuple(example.items[t] for t, example in enumerate(examples))
        columns: list[tuple[Node, str]] = []
        rows: list[list[object]] = [[] for _ in occurrences]
        for t, item in enumerate(block.items):
            main, tail = split_nodes(item)
            columns += numbered(main)
            optional = numbered(tail)
            columns += optional
            for row, occurrence in zip(rows, occurrences, strict=True):
                form = occurrence.forms[t]
                row += [*form.values, *(form.tail_values if form.tail is not None else [None] * len(optional))]
        params: dict[str, tuple[str, list[object]]] = {}
        taken = {*ENTRY_KEYS, "block"}
        for index, (node, key) in enumerate(columns):
            column = [row[index] for row in rows]
            if len({value for value in column if value is not None}) > 1:
                name = self.column(params, key, column, taken)
                block.bound[node.name, key] = name
        for t in range(width):
            if block.tails.get(t) is not None and any(o.forms[t].tail is None for o in occurrences):
                name = first_free("project", taken.__contains__)
                taken.add(name)
                block.flags[t] = name
                params[name] = ("", [int(o.forms[t].tail is not None) for o in occurrences])
        block.values = [{name: values[row] for name, (_, values) in params.items()} for row in range(len(occurrences))]
        block.keys = {name: key for name, (key, _) in params.items()}
        block.row = {id(occurrence): row for row, occurrence in enumerate(occurrences)}

    @staticmethod
    def column(params: dict[str, tuple[str, list[object]]], key: str, column: list[object], taken: set[str]) -> str:
        """The parameter a column of ``key`` values is: an earlier one of that key that agrees wherever both are
        given (filled in where it was not), or a new one."""
        for name, (of, values) in params.items():
            if of == key and all(a is None or b is None or a == b for a, b in zip(values, column, strict=True)):
                values[:] = [b if a is None else a for a, b in zip(values, column, strict=True)]
                return name
        name = first_free(key, taken.__contains__)
        taken.add(name)
        params[name] = (key, list(column))
        return name

    def split(self, run: Use) -> list[Use]:
        """A run's copies as instances: consecutive copies that agree are one ``repeat`` (the first may differ in its
        strides and projection), where their names allow (``layer1.0``, ``layer1.1``, ...: ``layer1``)."""
        block = run.block
        rows = [block.values[block.row[id(occurrence)]] for occurrence in run.copies]
        uses: list[Use] = []
        at = 0
        while at < len(rows):
            end = at + 1
            if end < len(rows) and all(block.keys[name] in FIRST_KEYS for name in differences(rows[at], rows[end])):
                end += 1
                while end < len(rows) and not differences(rows[at + 1], rows[end]):
                    end += 1
            if end - at > 1 and not self.repeatable(run.copies[at:end]):
                end = at + 1
            uses.append(Use(block, run.copies[at:end]))
            at = end
        return uses

    def repeatable(self, copies: Sequence[Occurrence]) -> bool:
        """Whether copies can be one ``repeat``: their names are NAME.0, NAME.1, ... (or the graph's names say
        nothing)."""
        if not self.named:
            return True
        stem = copies[0].prefix[:-1]
        return bool(stem) and all(o.prefix == (*stem, str(copy)) for copy, o in enumerate(copies))

    def defaults(self, block: Block, uses: Sequence[Use]) -> None:
        """The parameters' defaults (the first instance's values), and each instance's values that differ."""
        row = block.row
        reference = block.values[row[id(uses[0].copies[-1])]]
        for name, value in reference.items():
            given = (values[name] for values in block.values if values[name] is not None)
            block.params[name] = value if value is not None else next(given)
        for use in uses:
            later, first = block.values[row[id(use.copies[-1])]], block.values[row[id(use.copies[0])]]
            use.values = {k: v for k, v in later.items() if v is not None and v != block.params[k]}
            if len(use.copies) > 1:
                effective = {**block.params, **use.values}
                use.first = {k: v for k, v in first.items() if v is not None and v != effective[k]}

    def finish(self, entries: Sequence[Entry]) -> tuple[Entry, ...]:
        """The entries with each run as its instances, or written out."""
        done: list[Entry] = []
        for entry in entries:
            if isinstance(entry, Use):
                uses = self.final.get(id(entry), [])
                done.extend(uses or [item for occurrence in entry.copies for item in occurrence.items])
            elif isinstance(entry, Merge):
                done.append(entry._replace(paths=tuple(self.finish(path) for path in entry.paths)))
            else:
                done.append(entry)
        return tuple(done)


class FoldError(ValueError):
    """The folded spec could not name a layer's input unambiguously: the flat form is written instead."""


def stripped(parts: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Names of one list's entries without the parts they all start with (each keeps one, and none starts with a
    bare number): conv1, bn1 for layer1.0.conv1, layer1.0.bn1; downsample_0, downsample_1."""
    length = 0
    while parts and all(len(each) > length + 1 and each[length] == parts[0][length] for each in parts):
        length += 1
    while length and any(each[length].isdigit() for each in parts):
        length -= 1
    return [each[length:] for each in parts]


def readable(parts: Sequence[str]) -> str:
    """Name parts as one name, if it says more than a number (the position in a PyTorch Sequential)."""
    name = "_".join(parts)
    return "" if name.isdigit() else name


def generated(entry: Entry) -> str:
    """The name of an entry whose imported name says nothing: its kind (conv, batchnorm) or structure."""
    if isinstance(entry, Merge):
        return entry.structure.type_name or entry.node.kind.type
    return last_node(entry).kind.type


class Folded:
    """A graph folded: the entries of its layers list, its blocks, and for every layer the name its entry is written
    with, its full name in the folded spec and what it reads (None: the entry before it)."""

    def __init__(self, graph: Graph) -> None:
        runs = Runs(graph)
        scanned = runs.scanned()
        self.named = runs.named
        self.entries = Blocks(runs).finish(scanned)
        self.parts = {node.name: parts for node, parts in zip(graph.nodes, runs.parts, strict=True)}
        self.blocks: list[Block] = []
        self.local: dict[str, str] = {}
        self.full: dict[str, str] = {}
        self.scope: dict[str, str] = {}
        self.follows: dict[str, str] = {}
        self.start: dict[str, str] = {}  # a node in a block instance -> the instance's input
        self.defined = {NETWORK_INPUT}
        self.templates: dict[int, dict[tuple[int, ...], str]] = {}
        self.sequence(self.entries, "", NETWORK_INPUT)
        self.inputs = {node.name: self.reads(node) for node in graph.nodes}
        instances = len(self.defined) - len(graph.nodes) - 1  # each block instance counts as a layer too
        if len(graph.nodes) + instances > MAX_LAYERS:
            raise FoldError(f"the folded spec would expand to more than {MAX_LAYERS:,} layers")

    def sequence(self, entries: Sequence[Entry], scope: str, previous: str) -> None:
        """Name one list of entries outside blocks (the top level, or a path of a region there)."""
        own = [() if isinstance(entry, Use) else self.parts[last_node(entry).name] for entry in entries]
        bases = stripped(own) if scope else own
        taken = {NETWORK_INPUT, BLOCK_INPUT}
        for entry, base in zip(entries, bases, strict=True):
            wanted = self.use_name(entry) if isinstance(entry, Use) else readable(base) or generated(entry)
            name = first_free(wanted, taken.__contains__)
            taken.add(name)
            full = f"{scope}.{name}" if scope else name
            if isinstance(entry, Use):
                self.use(entry, full)
            else:
                self.record(entry.node.name, name, full, scope, previous)
                if isinstance(entry, Merge):
                    for index, path in enumerate(entry.paths):
                        self.sequence(path, f"{full}.{entry.structure.label(index)}", previous)
            previous = last_node(entry).name

    def record(self, node: str, name: str, full: str, scope: str, previous: str) -> None:
        self.local[node], self.full[node], self.scope[node], self.follows[node] = name, full, scope, previous
        self.defined.add(full)

    def use_name(self, use: Use) -> str:
        """An instance's name: its module's (NAME for NAME.0, NAME.1, ... repeated), else its block's."""
        if not use.block.name:
            self.blocks.append(use.block)
            use.block.name = f"block{len(self.blocks)}"
        prefix = use.copies[0].prefix
        return "_".join(prefix[:-1] if len(use.copies) > 1 else prefix) or use.block.name

    def use(self, use: Use, full: str) -> None:
        names = self.template(use.block)
        use.name = full.rsplit(".", 1)[-1]
        for copy, occurrence in enumerate(use.copies):
            prefix = f"{full}.{copy}" if len(use.copies) > 1 else full
            self.defined.add(prefix)
            start = occurrence.forms[0].start
            self.copy(use.block, occurrence.items, prefix, (), names, start, start)

    def copy(
        self,
        block: Block,
        items: Sequence[Entry],
        scope: str,
        slot: tuple[int, ...],
        names: dict[tuple[int, ...], str],
        previous: str,
        start: str,
        repeated: bool = False,
    ) -> None:
        """Name the nodes of one copy of a block (``slot``: where ``items`` are in the block's layers)."""
        for index, item in enumerate(items):
            key = (*slot, index)
            full = f"{scope}.{names[key]}" + (".0" if repeated else "")  # the one copy of `repeat: ${project}`
            node = last_node(item).name
            self.record(node, names[key], full, scope, previous)
            self.start[node] = start
            if isinstance(item, Merge):
                for at, path in enumerate(item.paths):
                    optional = not slot and at == len(item.paths) - 1 and index in block.flags
                    label = f"{full}.{item.structure.label(at)}"
                    self.copy(block, path, label, (*key, at), names, previous, start, optional)
            previous = node

    def template(self, block: Block) -> dict[tuple[int, ...], str]:
        """The names of a block's entries: where all its occurrences' imported names agree, those (without the
        instance's prefix), else the entries' kinds."""
        if id(block) not in self.templates:
            proposed: dict[tuple[int, ...], set[str]] = {}
            fallback: dict[tuple[int, ...], str] = {}
            for occurrence in block.occurrences:
                self.propose(occurrence.items, occurrence.prefix, (), proposed, fallback)
            names: dict[tuple[int, ...], str] = {}
            taken: dict[tuple[int, ...], set[str]] = {}
            for key in sorted(proposed):
                agreed = len(proposed[key]) == 1 and self.named  # else the names are kind-and-count or differ
                wanted = next(iter(proposed[key])) if agreed else ""
                siblings = taken.setdefault(key[:-1], {NETWORK_INPUT, BLOCK_INPUT})
                names[key] = first_free(wanted or fallback[key], siblings.__contains__)
                siblings.add(names[key])
            self.templates[id(block)] = names
        return self.templates[id(block)]

    def propose(
        self,
        items: Sequence[Entry],
        prefix: tuple[str, ...],
        slot: tuple[int, ...],
        proposed: dict[tuple[int, ...], set[str]],
        fallback: dict[tuple[int, ...], str],
    ) -> None:
        own = []
        for item in items:
            parts = self.parts[last_node(item).name]
            own.append(parts[len(prefix) :] if parts[: len(prefix)] == prefix else parts)
        for index, (item, parts) in enumerate(zip(items, stripped(own), strict=True)):
            key = (*slot, index)
            proposed.setdefault(key, set()).add(readable(parts))
            fallback[key] = generated(item)
            for at, path in enumerate(item.paths if isinstance(item, Merge) else ()):
                self.propose(path, prefix, (*key, at), proposed, fallback)

    def reads(self, node: Node) -> tuple[str, ...] | None:
        """What a layer's entry names as its input(s): None when it reads the entry before it."""
        if not node.kind.many_inputs and node.inputs == (self.follows[node.name],):
            return None
        start = self.start.get(node.name)
        return tuple(
            BLOCK_INPUT if source == start else self.reference(self.scope[node.name], source) for source in node.inputs
        )

    def reference(self, scope: str, target: str) -> str:
        """How an entry in ``scope`` names the node ``target``: its full name without the scopes they share, when no
        nearer name hides it (the spec language looks names up from the innermost scope out)."""
        if target == NETWORK_INPUT:
            return NETWORK_INPUT
        here, there = scope.split(".") if scope else [], self.full[target].split(".")
        common = 0
        while common < min(len(here), len(there) - 1) and here[common] == there[common]:
            common += 1
        written = there[common:]
        for depth in range(len(here), common, -1):
            if ".".join([*here[:depth], *written]) in self.defined:
                raise FoldError(f"'{'.'.join(written)}' would name another layer from '{scope}'")
        return ".".join(written)
