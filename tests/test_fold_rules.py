"""Folding's rules on small graphs built by hand: which units become blocks, their parameters, ``repeat`` and
``first``, the names written, and when a block is kept (it shortens the spec).

Each expected spec is derived in the test from the rule in convcalc/spec/fold/'s docstrings (lines written inline
against a block's lines, counted here), and every written spec must read back as the same graph
(:func:`checked_spec`) with the same numbers.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc import analyze, load_spec
from convcalc.core.errors import Location
from convcalc.engine.graph import MAX_LAYERS, NETWORK_INPUT, Graph, Node
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.spec.fold.blocks import Folded, FoldError
from convcalc.spec.fold.items import Use
from convcalc.spec.writer import checked_spec
from tests.test_import import same_numbers

HEADER = 3
"""The lines before the spec's own: the comment saying who wrote it, the name, the input."""


class Net:
    """Nodes as an importer emits them: each reads the one before it unless told otherwise."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.last = NETWORK_INPUT

    def add(self, kind: str, name: str, *inputs: str, **raw: Any) -> str:
        layer = CATALOGUE[kind]
        config = {key.name: key.convert(raw[key.name]) if key.name in raw else key.default for key in layer.keys}
        self.nodes.append(Node(name, layer, config, inputs or (self.last,), Location("built", len(self.nodes) + 1, 1)))
        self.last = name
        return name

    def graph(self, channels: int = 4, size: int = 8) -> Graph:
        return Graph("built", "built", (channels, size, size), tuple(self.nodes), self.last)


def spec(graph: Graph) -> str:
    """The folded spec without its header, checked to read back as the graph with its numbers."""
    text = checked_spec(graph)
    same_numbers(analyze(graph), analyze(load_spec("folded.yaml", text=text)))
    return text.split("\n", HEADER)[HEADER]


def entries(text: str) -> list[str]:
    """The entries of the top-level layers list."""
    return [line for line in text.split("layers:\n")[-1].splitlines() if line.startswith("  - ")]


def pairs(copies: int, filters: list[int] | None = None) -> Graph:
    """``copies`` of [conv 3x3, relu], names saying nothing of modules (conv0, relu0, ...)."""
    net = Net()
    for copy in range(copies):
        net.add("conv", f"conv{copy}", filters=filters[copy] if filters else 4, kernel=3, padding=1)
        net.add("relu", f"relu{copy}")
    return net.graph()


INLINE_PAIR = 2
"""Lines of one copy of [conv, relu] written out: one a layer."""
BLOCK_COST = 3
"""A block's lines besides its layers: its name, its params, 'layers:' (blocks.py: `+ 3`)."""


def test_a_block_is_kept_only_where_it_writes_fewer_lines_than_its_copies_written_out():
    # 3 copies as one instance with repeat: 3 x 2 lines inline against 2 layers + 3 + 1 instance = 6: not shorter
    assert 3 * INLINE_PAIR == INLINE_PAIR + BLOCK_COST + 1
    text = spec(pairs(3))
    assert "blocks:" not in text
    assert entries(text) == [
        f"  - {{type: {kind}, name: {kind}{copy}{config}}}"
        for copy in range(3)
        for kind, config in (("conv", ", filters: 4, kernel: 3, padding: 1"), ("relu", ""))
    ]
    # 4 copies: 8 lines against 6: the block, one instance repeated 4 times; its layers named by kind
    assert 4 * INLINE_PAIR > INLINE_PAIR + BLOCK_COST + 1
    assert spec(pairs(4)) == (
        "blocks:\n"
        "  block1:\n"
        "    layers:\n"
        "      - {type: conv, name: conv, filters: 4, kernel: 3, padding: 1}\n"
        "      - {type: relu, name: relu}\n"
        "layers:\n"
        "  - {block: block1, name: block1, repeat: 4}\n"
    )


def test_each_instance_the_block_takes_counts_against_it():
    # filters 4, 4, 8, 8: two instances of repeat 2 (the second gives filters: 8); 8 lines inline against
    # 2 + 3 + 2 = 7: kept
    assert 4 * INLINE_PAIR == INLINE_PAIR + BLOCK_COST + 2 + 1
    assert spec(pairs(4, [4, 4, 8, 8])) == (
        "blocks:\n"
        "  block1:\n"
        "    params: {filters: 4}\n"
        "    layers:\n"
        '      - {type: conv, name: conv, filters: "${filters}", kernel: 3, padding: 1}\n'
        "      - {type: relu, name: relu}\n"
        "layers:\n"
        "  - {block: block1, name: block1, repeat: 2}\n"
        "  - {block: block1, name: block1_2, repeat: 2, filters: 8}\n"
    )
    # filters 4, 8, 16, 32: four instances, 2 + 3 + 4 = 9 lines against 8: written out
    assert "blocks:" not in spec(pairs(4, [4, 8, 16, 32]))


def test_a_fold_that_would_expand_past_the_layer_limit_is_refused():
    """The spec language counts every layer and every copy of a block instance against MAX_LAYERS (spec/lower.py):
    a folded spec expanding to more is a FoldError (the writer writes the flat form)."""
    net = Net()
    for copy in range(4):  # [conv, relu] x 4: one instance, 4 copies, each counted (8 lines against 2 + 3 + 1)
        net.add("conv", f"conv{copy}", filters=4, kernel=3, padding=1)
        net.add("relu", f"relu{copy}")
    for index in range(MAX_LAYERS - 8 - 4):  # relus alike: one layer is no unit
        net.add("relu", f"r{index}")
    graph = net.graph()
    assert len(graph.nodes) + 4 == MAX_LAYERS
    folded = Folded(graph)
    assert isinstance(folded.entries[0], Use) and len(folded.entries[0].copies) == 4
    net.add("relu", "one_more")
    with pytest.raises(FoldError, match="more than 10,000 layers"):
        Folded(net.graph())


def test_a_graph_of_the_most_layers_folds_when_nothing_repeats_as_a_block():
    net = Net()
    for index in range(MAX_LAYERS):
        net.add("relu", f"r{index}")
    assert len(Folded(net.graph()).entries) == MAX_LAYERS
