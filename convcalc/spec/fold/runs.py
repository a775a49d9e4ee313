"""Runs: consecutive copies of a unit of items with equal forms (kinds, configuration without its whole numbers,
what each item reads relative to itself), and units that occur alone elsewhere with such a form."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from convcalc.engine.graph import NETWORK_INPUT, Graph, Node
from convcalc.spec.fold.items import (
    MAX_PERIOD,
    NAME_PARTS,
    NUMBER,
    Block,
    Entry,
    Form,
    Merge,
    Occurrence,
    Regions,
    Use,
    entry_nodes,
    is_number,
    last_node,
)

"""What separates the parts of an imported name: ``layer1.0.relu_2`` is layer1, 0, relu, 2."""


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
        keys, values = self.configuration(node)
        strict = self.intern((node.kind.type, reads, keys))
        outside = frozenset() if chained else frozenset(node.inputs)
        return Form(strict, strict, None, tuple(values), (), outside, at, at, start)

    @staticmethod
    def configuration(node: Node) -> tuple[tuple[object, ...], tuple[object, ...]]:
        """A node's configuration in canonical form (whole numbers marked, in the kind's order of keys) and those
        numbers."""
        keys: list[object] = []
        values: list[object] = []
        for key in node.kind.keys:
            value = node.config.get(key.name)
            number = is_number(value)
            if number:
                values.append(value)
            keys.append(NUMBER if number else hashable(value))
        return tuple(keys), tuple(values)

    def merge(self, item: Merge, start: str) -> Form:
        paths = [self.sequence(path, start) for path in item.paths]
        keys = [("path", *(form.strict for form in path)) for path in paths]
        values = [tuple(value for form in path for value in (*form.values, *form.tail_values)) for path in paths]
        fixed = len(paths) - 1 if item.structure.identity_last else len(paths)
        own_keys, own_values = self.configuration(item.node)  # a concat's axis: after the paths, as numbered() lists
        loose = self.intern(("merge", item.node.kind.type, own_keys, tuple(keys[:fixed])))
        tail = self.intern(keys[fixed]) if fixed < len(paths) and paths[fixed] else None
        inner = [form for path in paths for form in path]
        at = self.position[item.node.name]
        first = min((form.first for form in inner), default=at)
        outside = frozenset(node for form in inner for node in form.outside if self.position[node] < first)
        return Form(
            self.intern(("strict", loose, tail)),
            loose,
            tail,
            (*(value for part in values[:fixed] for value in part), *own_values),
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
            if copies and period * copies > best[0] * best[1]:  # copies: 0, or 2 and more
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
        if forms[index + period].loose != unit[0].loose:  # run() asks only for units that fit twice
            return 0  # the common case, kept cheap
        if period > 1 and self.alike(forms)[index] >= period:
            return 0  # copies of one layer: [conv, conv] is no unit (MobileNet's [depthwise, pointwise] is)
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
