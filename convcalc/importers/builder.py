"""Building a :class:`~convcalc.engine.graph.Graph` from a model file, whatever its format.

A front end adds nodes in execution order. Each configuration value passes its key's converter, as a spec's does (a
value read from a file is refused as the same value in a spec is); each node is evaluated by the catalogue as it is
added (its shape is what later nodes of the file are read against: a Reshape that flattens, a Split's sizes), and gets
a unique name. Every importer (ONNX today, PyTorch next) builds on this class; the spec language lowers through its
own scopes instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convcalc.core.keys import Key
from convcalc.core.tensor import Config, Shape
from convcalc.core.text import first_free
from convcalc.engine.graph import MAX_LAYERS, NETWORK_INPUT, Node
from convcalc.kinds.base import LayerKind
from convcalc.kinds.catalogue import CATALOGUE


class ConfigError(ValueError):
    """A value read from a model file that the spec language would refuse for that key."""


def checked(key: Key, value: Any) -> Any:
    """A value read from a model file, through the key's converter as a spec's value goes (a size per axis as the
    list a spec writes); None stays for a key whose default is None (upsample's scale or size)."""
    if value is None and key.default is None:
        return None
    try:
        return key.convert(list(value) if isinstance(value, tuple) else value)
    except ValueError as error:
        raise ConfigError(f"'{key.name}': {error}") from None


class GraphBuilder:
    """The nodes made so far, in execution order, with their output shapes and the names taken."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {NETWORK_INPUT: ()}
        self.taken: set[str] = {NETWORK_INPUT}
        self.origins: dict[str, str] = {}  # convcalc node -> what the file calls it

    def unique(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... if taken; the name is taken from then on."""
        name = first_free(base, self.taken.__contains__)
        self.taken.add(name)
        return name

    def evaluate(self, kind: str, config: Config, sources: Sequence[str]) -> tuple[LayerKind, Config, Shape]:
        """The kind, its whole configuration (defaults filled in) and the output shape of a layer reading
        ``sources``; a ConfigError for a value a spec could not hold or a layer past MAX_LAYERS, a ShapeError when
        it cannot read them."""
        if len(self.nodes) >= MAX_LAYERS:
            raise ConfigError(f"the model has more than {MAX_LAYERS:,} layers, the limit of a spec too")
        layer = CATALOGUE[kind]
        config = {key.name: checked(key, config[key.name]) if key.name in config else key.default for key in layer.keys}
        return layer, config, layer.evaluate(config, [self.shapes[source] for source in sources]).shape

    def append(self, node: Node, shape: Shape) -> None:
        """Add an evaluated node."""
        self.nodes.append(node)
        self.shapes[node.name] = shape
