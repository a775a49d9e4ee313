"""Blocks: all occurrences of one form as one block with parameters, copies as ``repeat`` (``first``), and the
folded graph (:class:`Folded`) that :mod:`convcalc.spec.writer` writes."""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.text import first_free
from convcalc.engine.graph import MAX_LAYERS, NETWORK_INPUT, Graph, Node
from convcalc.spec.fold.items import FIRST_KEYS, Block, Entry, Merge, Occurrence, Use, last_node
from convcalc.spec.fold.runs import Runs, differences, lines, numbered, split_nodes
from convcalc.spec.namespace import BLOCK_INPUT
from convcalc.spec.structures import ENTRY_KEYS


class Blocks:
    """Step 3: each block's parameters and instances, or its runs written out where it does not shorten the spec."""

    def __init__(self, runs: Runs) -> None:
        self.runs = runs.runs
        self.named = runs.named
        self.final: dict[int, list[Use]] = {}  # id of a run -> its instances (none: it is written out)
        for block in runs.blocks.values():
            self.settle(block)

    def settle(self, block: Block) -> None:
        """The block's parameters and instances; its runs written out where it does not shorten the spec."""
        runs = [run for run in self.runs if run.block is block and self.agrees(block, run)]
        block.occurrences = [occurrence for run in runs for occurrence in run.copies]
        if not block.occurrences:
            return
        self.parameterise(block)
        split = {id(run): self.split(run) for run in runs}
        uses = [use for run in runs for use in split[id(run)]]
        self.defaults(block, uses)
        written = sum(lines(item) for occurrence in block.occurrences for item in occurrence.items)
        kept = written > sum(lines(item) for item in block.items) + 3 + len(uses)  # + name, params, layers
        for run in runs:
            self.final[id(run)] = split[id(run)] if kept else []

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
            if not self.repeatable(run.copies[at:end]):
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
        common = 0  # never all of there: a layer never reads a structure it is in (a merge comes after its paths)
        while common < min(len(here), len(there)) and here[common] == there[common]:
            common += 1
        written = there[common:]
        for depth in range(len(here), common, -1):
            if ".".join([*here[:depth], *written]) in self.defined:
                raise FoldError(f"'{'.'.join(written)}' would name another layer from '{scope}'")
        return ".".join(written)
