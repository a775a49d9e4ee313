"""Shapes while the spec language lowers: what ``${NAME.channels}`` and ``size_of: NAME`` read.

The lowering does not count anything: when an entry reads a layer's shape, the nodes emitted so far are run through
the catalogue's own ``evaluate`` (the engine's formulas, the shape only) up to that layer, once each. A shape that
cannot be computed is reported by the engine itself, with the layers before it, as the analysis would.

A spec that reads a shape is lowered again for another input size (``Graph.at_input``): the shapes it read depend
on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from convcalc.core.errors import SpecError
from convcalc.core.tensor import Shape, format_shape
from convcalc.engine.graph import NETWORK_INPUT, Graph, Node
from convcalc.kinds.base import ShapeError
from convcalc.spec.expr import ExpressionError
from convcalc.spec.namespace import Namespace, Scope
from convcalc.spec.reader import Located

SIZE_OF = "size_of"
"""The entry key that sets a layer's ``size`` to another layer's spatial sizes (height and width on an image)."""
DIMENSIONS = {
    "channels": {1: 0, 2: 0, 3: 0, 4: 0},
    "length": {2: 1},
    "depth": {4: 1},
    "height": {3: 1, 4: 2},
    "width": {3: 2, 4: 3},
}
"""What ``${NAME.PART}`` reads of a layer's output shape, by the shape's rank: the index of that axis (``channels`` of
a flat vector: its features; ``length`` of a 1-D map; ``depth`` of a 3-D one)."""
DIMENSION_NAME = re.compile(r"[A-Za-z_]\w*(?:\.\w+)*\.(?:channels|length|depth|height|width)")
"""A name in ``${...}`` that reads a shape: a layer's (dotted) name, a dot, and what it reads."""


class LoweredShapes:
    """The output shapes of the nodes emitted so far, computed on demand and in order."""

    def __init__(self, network: Graph, nodes: list[Node]) -> None:
        self.network = network
        self.nodes = nodes
        self.shapes: dict[str, Shape] = {NETWORK_INPUT: network.input_shape}
        self.done = 0
        self.read = False
        """Whether any entry read a shape: then the graph depends on its input shape."""

    def shape(self, node: str) -> Shape:
        self.read = True
        while node not in self.shapes:
            emitted = self.nodes[self.done]
            try:
                evaluation = emitted.kind.evaluate(emitted.config, [self.shapes[i] for i in emitted.inputs])
            except ShapeError:
                self.fail()
                raise
            self.shapes[emitted.name] = evaluation.shape
            self.done += 1
        return self.shapes[node]

    def fail(self) -> None:
        """The engine's own error for the node that cannot be evaluated, with the layers before it."""
        from convcalc.engine.run import analyze_spec  # only on this error path

        failing = self.nodes[self.done]
        analyze_spec(
            replace(self.network, nodes=tuple(self.nodes[: self.done + 1]), output=failing.name, more_outputs=())
        )

    def dimension(self, reference: str, part: str, scope: Scope, names: Namespace) -> int:
        """``reference.part``: the channels, height or width of a readable layer's output, as seen from a scope."""
        try:
            # the location is dropped: the caller reports the error at the value that holds the ${...}
            node = names.resolve(reference, names.defined[NETWORK_INPUT], scope, scope.prefix)
        except SpecError as error:
            raise ExpressionError(f"{error.message}{f' ({error.hint})' if error.hint else ''}") from None
        shape = self.shape(node)
        index = DIMENSIONS[part].get(len(shape))
        if index is None:
            what = "the flat vector" if len(shape) == 1 else "the feature map"
            raise ExpressionError(f"'{reference}' is {what} {format_shape(shape)}: it has no {part}")
        return shape[index]

    def size_of(self, entry: Located, scope: Scope, names: Namespace, layer: str) -> tuple[int, ...]:
        """The spatial sizes of the layer that an entry's ``size_of`` names (height and width of an image)."""
        at = entry.value_at(SIZE_OF)
        if "size" in entry:
            raise SpecError(f"give 'size' or '{SIZE_OF}', not both", at, layer=layer)
        shape = self.shape(names.resolve(entry[SIZE_OF], at, scope, layer))
        if len(shape) == 1:
            raise SpecError(
                f"'{SIZE_OF}': '{entry[SIZE_OF]}' is the flat vector {format_shape(shape)}, not a feature map",
                at,
                layer=layer,
            )
        return tuple(shape[1:])


class ExpressionNames(Mapping[str, Any]):
    """What ``${...}`` reads in a scope: its block parameters, and ``NAME.channels``, ``NAME.height`` and
    ``NAME.width`` of any layer it can read (``in``: the block's input; ``input``: the network's)."""

    def __init__(self, scope: Scope, names: Namespace, shapes: LoweredShapes) -> None:
        self.scope = scope
        self.names = names
        self.shapes = shapes

    def __getitem__(self, key: str) -> Any:
        if key in self.scope.env:
            return self.scope.env[key]
        if not DIMENSION_NAME.fullmatch(key):
            raise KeyError(key)
        reference, _, part = key.rpartition(".")
        return self.shapes.dimension(reference, part, self.scope, self.names)

    def __contains__(self, key: object) -> bool:
        return key in self.scope.env or (isinstance(key, str) and DIMENSION_NAME.fullmatch(key) is not None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope.env)

    def __len__(self) -> int:
        return len(self.scope.env)
