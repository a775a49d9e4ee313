"""Layer names in the spec language: hierarchical default names, and which earlier output a name reads.

A name is readable once its node is expanded; a name inside a block, branch or residual is the enclosing
node's name, a dot, and its own. A reference resolves in the innermost enclosing scope that defines it.
Every readable name stands for the node that produces its output: a layer itself, the merge of a
structure, or the last node of a block instance. ``input`` is the network's input everywhere; ``in`` is the input of
the innermost block instance around (the network's input outside any block), and no layer may be named so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from convcalc.core.errors import Location, SpecError, nearest
from convcalc.core.keys import describe
from convcalc.engine.graph import NETWORK_INPUT, Instance
from convcalc.spec.reader import Located, LocatedList

BLOCK_INPUT = "in"
"""The name of the innermost enclosing block instance's input (outside blocks: the network's input)."""


@dataclass
class Scope:
    """Where an entry is expanded: the name prefix, per-type counters for default names, block params,
    and the block instances around it.

    ``written`` holds the names given explicitly in this scope's list, which default names avoid; ``expected``
    the warning codes that the entries around acknowledge (``expect``), which hold for every node inside;
    ``block_input`` the node whose output the innermost block instance around reads.
    """

    prefix: str
    env: Mapping[str, Any]
    depth: int = 0
    instances: tuple[Instance, ...] = ()
    counters: dict[str, int] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    expected: frozenset[str] = frozenset()
    block_input: str = NETWORK_INPUT

    def full(self, local: str) -> str:
        return f"{self.prefix}.{local}" if self.prefix else local

    def enter(
        self, prefix: str, env: Mapping[str, Any] | None = None, instance: Instance | None = None, start: str = ""
    ) -> Scope:
        """The scope inside the node named ``prefix`` (a full name); ``instance`` when it is a block instance, which
        reads the node ``start``."""
        instances = (*self.instances, instance) if instance else self.instances
        return Scope(
            prefix,
            self.env if env is None else env,
            self.depth + 1,
            instances,
            expected=self.expected,
            block_input=start if instance else self.block_input,
        )


class Namespace:
    """The names given so far, the node each one reads, and the names still being expanded."""

    def __init__(self, document: Located, start: Location) -> None:
        self.document = document
        self.defined: dict[str, Location] = {NETWORK_INPUT: start}
        self.producers: dict[str, str] = {NETWORK_INPUT: NETWORK_INPUT}
        self.pending: set[str] = set()  # names of nodes being expanded: not readable yet

    def default_name(self, scope: Scope, base: str) -> str:
        while True:
            scope.counters[base] = scope.counters.get(base, 0) + 1
            candidate = scope.full(f"{base}{scope.counters[base]}")
            if candidate not in self.defined and candidate not in scope.written:
                return candidate

    def reserve(self, name: str | None, base: str, scope: Scope, at: Location) -> str:
        """The full name of a node; it becomes readable by later layers once committed."""
        if name is not None and name.split(".")[0] == BLOCK_INPUT:  # a repeat's copies are in.0, in.1, ...
            raise SpecError(
                f"a layer cannot be named '{BLOCK_INPUT}'",
                at,
                hint=f"'{BLOCK_INPUT}' names the input of the block around (outside blocks, the network's input)",
            )
        full = scope.full(name) if name else self.default_name(scope, base)
        if full in self.defined:
            first = self.defined[full]
            raise SpecError(f"duplicate layer name '{full}' (first used at line {first.line})", at, layer=full)
        self.pending.add(full)
        return full

    def commit(self, full: str, at: Location, producer: str) -> None:
        """``full`` is readable from now on, and reads the output of the node ``producer``."""
        self.pending.discard(full)
        self.defined[full] = at
        self.producers[full] = producer

    def reference(self, entry: Located, scope: Scope, layer: str) -> str:
        """The node an entry's ``input`` reads."""
        return self.resolve(entry["input"], entry.value_at("input"), scope, layer)

    def references(self, entry: Located, key: str, scope: Scope, layer: str) -> tuple[str, ...]:
        raw = entry[key]
        at = entry.value_at(key)
        if not isinstance(raw, LocatedList) or not raw:
            raise SpecError(f"'{key}' must be a list of layer names", at, layer=layer)
        return tuple(self.resolve(ref, raw.item_at(i), scope, layer) for i, ref in enumerate(raw))

    def resolve(self, ref: Any, at: Location, scope: Scope, layer: str) -> str:
        """The node a name reads, as seen from a scope: the innermost enclosing scope that defines it wins."""
        if not isinstance(ref, str):
            raise SpecError(f"a layer reference must be a name, not {describe(ref)}", at, layer=layer)
        if ref == BLOCK_INPUT:
            return scope.block_input
        parts = scope.prefix.split(".") if scope.prefix else []
        for depth in range(len(parts), -1, -1):
            candidate = ".".join([*parts[:depth], ref])
            if candidate in self.defined:
                return self.producers[candidate]
            if candidate in self.pending:
                whose = "its own output" if candidate == layer else f"the output of '{candidate}', which contains it"
                raise SpecError(f"a layer cannot read {whose}", at, layer=layer)
        later = self.written_after(ref, at)
        if later:
            raise SpecError(
                f"'{ref}' is defined later, at line {later.line}",
                at,
                layer=layer,
                hint="a layer can only read the outputs of layers before it",
            )
        copies = self.copies(ref, parts)
        if copies:
            joiner = " and " if len(copies) == 2 else " ... "
            listed = f"copies are '{copies[0]}'{joiner}'{copies[-1]}'" if copies[1:] else f"one copy is '{copies[0]}'"
            raise SpecError(
                f"no earlier layer is named '{ref}': it is repeated, and its {listed}",
                at,
                layer=layer,
                hint=f"read one copy by its name, e.g. '{ref}.{len(copies) - 1}' (the last)",
            )
        raise SpecError(
            f"no earlier layer is named '{ref}'",
            at,
            layer=layer,
            hint=nearest(ref, self.defined) or "a layer can only read the outputs of layers before it",
        )

    def copies(self, ref: str, parts: list[str]) -> list[str]:
        """The full names of the copies of a ``repeat`` named ``ref`` (``ref.0``, ``ref.1``, ...), as seen from
        the scope whose prefix is ``parts``; none when no such repeat is readable."""
        for depth in range(len(parts), -1, -1):
            base = ".".join([*parts[:depth], ref])
            found: list[str] = []
            while f"{base}.{len(found)}" in self.defined:
                found.append(f"{base}.{len(found)}")
            if found:
                return found
        return []

    def written_after(self, ref: str, at: Location) -> Location | None:
        """Where a layer named ``ref`` is written after ``at``, if anywhere (searched only for an error message)."""
        local = ref.rsplit(".", 1)[-1]
        stack: list[Any] = [self.document]
        seen: set[int] = set()
        found: list[Location] = []
        while stack:
            value = stack.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, Located):
                if value.get("name") == local and ("type" in value or "block" in value):
                    found.append(value.location)
                stack.extend(value.values())
            elif isinstance(value, LocatedList):
                stack.extend(value)
        after = [where for where in found if (where.line, where.column) > (at.line, at.column)]
        return min(after, key=lambda where: (where.line, where.column), default=None)
