"""The flat dataflow graph every front end produces and every back end reads.

The spec language (:mod:`convcalc.spec.lower`) lowers blocks, repeats, branches and residuals into it once;
an importer would build the same. A graph is a list of nodes in execution order (topologically
sorted): each node is one layer of a catalogue kind with its configuration and the names of the nodes
it reads. The engine, explain, checks, export, the bottleneck rewrite and every renderer iterate this
list and nothing else: none of them knows how the network was written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from convcalc.core.errors import Location
from convcalc.core.findings import Finding
from convcalc.core.tensor import Config, Shape
from convcalc.kinds.base import LayerKind

MAX_LAYERS = 10_000
"""The most layers a graph may have, from a spec or a model file: the worst case then answers in about a second
(README: Errors)."""
NETWORK_INPUT = "input"
"""The name of the network's input: the node name that the first layers read."""


class Instance(NamedTuple):
    """A block instance a node was expanded from: its full name, its block, where it is written, which copy
    of that entry's ``repeat`` it is (0 without a repeat)."""

    name: str
    block: str
    location: Location
    copy: int


class Node(NamedTuple):
    """One layer: a kind, its configuration, the nodes it reads (never empty), where it comes from.

    ``instances`` are the block instances around it, outermost first; ``hint`` is said with a shape error
    (a merge made by the spec language says what the structure meant); ``expected``: the warning codes the spec
    acknowledges on it (its entry's ``expect`` and its enclosing structures'); ``findings``: warnings the spec language
    found in how it is written. A tuple: the engine's time is per node.
    """

    name: str
    kind: LayerKind
    config: Config
    inputs: tuple[str, ...]
    location: Location
    instances: tuple[Instance, ...] = ()
    hint: str | None = None
    expected: frozenset[str] = frozenset()
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class Graph:
    """A network ready for the engine: its input shape, its nodes in execution order and the node it outputs.

    ``more_outputs``: the nodes it hands out besides ``output`` (a detector's boxes beside its scores), in order.
    ``relower`` builds the graph again for another input shape, where the nodes depend on it (a spec whose
    ``${...}`` or ``size_of`` read a layer's shape); without it only the input shape changes.
    """

    name: str
    source: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    output: str
    description: str = ""
    relower: Callable[[Shape], Graph] | None = field(default=None, compare=False, repr=False)
    more_outputs: tuple[str, ...] = ()

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every node the network hands out, ``output`` first."""
        return (self.output, *self.more_outputs)

    def at_input(self, shape: Shape) -> Graph:
        """The same network at another input shape."""
        return self.relower(shape) if self.relower else replace(self, input_shape=shape)

    def acknowledging(self, codes: frozenset[str]) -> Graph:
        """The same network with the warnings of ``codes`` acknowledged on every layer, as each entry's ``expect``
        acknowledges them on its own (``--expect``)."""
        if not codes:
            return self
        nodes = tuple(node._replace(expected=node.expected | codes) for node in self.nodes)
        return replace(self, nodes=nodes, relower=None)
