"""Folding's rules on small graphs built by hand: which units become blocks, their parameters, ``repeat`` and
``first``, the names written, and when a block is kept (it shortens the spec).

Each expected spec is derived in the test from the rule in convcalc/spec/fold/'s docstrings (lines written inline
against a block's lines, counted here), and every written spec must read back as the same graph
(:func:`checked_spec`) with the same numbers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import yaml

from convcalc import analyze, load_spec
from convcalc.core.errors import Location
from convcalc.engine.graph import MAX_LAYERS, NETWORK_INPUT, Graph, Node
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.spec.fold.blocks import Folded, FoldError
from convcalc.spec.fold.items import Use
from convcalc.spec.reader import MAX_NESTING
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
    return [line for line in text.split("\nlayers:\n")[-1].splitlines() if line.startswith("  - ")]


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


def residual(
    net: Net, module: str, filters: int, stride: int = 1, shortcut: tuple[str, ...] = (), kernel: int = 1
) -> str:
    """torchvision's BasicBlock under its module path: conv 3x3, relu, conv 3x3, the shortcut's layers (``shortcut``:
    their kinds, named downsample.0, ...; none: the identity; its conv ``kernel`` x ``kernel``), the add, relu."""
    start = net.last
    net.add("conv", f"{module}.conv1", filters=filters, kernel=3, padding=1, stride=stride)
    net.add("relu", f"{module}.relu")
    body = net.add("conv", f"{module}.conv2", filters=filters, kernel=3, padding=1)
    other = start
    for index, kind in enumerate(shortcut):
        config = {"filters": filters, "kernel": kernel, "stride": stride, "padding": kernel // 2}
        other = net.add(kind, f"{module}.downsample.{index}", other, **(config if kind == "conv" else {}))
    net.add("add", module, body, other)
    return net.add("relu", f"{module}.relu_1")


def test_a_run_whose_projection_differs_from_the_blocks_is_written_out():
    """layer1's projection is a conv, layer2's a conv and a batch norm: one block cannot have both, so layer2,
    found second, is written out. layer1 is the block (9 + 8 lines inline against 9 + 3 + 1): its projection repeated
    ``${project}`` times, 1 in the first copy of the repeat, whose stride is 2."""
    net = Net()
    residual(net, "layer1.0", 8, 2, ("conv",))
    residual(net, "layer1.1", 8)
    residual(net, "layer2.0", 16, 2, ("conv", "batchnorm"))
    residual(net, "layer2.1", 16)
    assert spec(net.graph()) == (
        "blocks:\n"
        "  block1:\n"
        "    params: {stride: 1, project: 0}\n"
        "    layers:\n"
        "      - type: residual\n"
        "        name: residual\n"
        "        body:\n"
        '          - {type: conv, name: conv1, filters: 8, kernel: 3, stride: "${stride}", padding: 1}\n'
        "          - {type: relu, name: relu}\n"
        "          - {type: conv, name: conv2, filters: 8, kernel: 3, padding: 1}\n"
        "        shortcut:\n"
        '          - {type: conv, name: downsample_0, repeat: "${project}", filters: 8, kernel: 1, stride: 2}\n'
        "      - {type: relu, name: relu_1}\n"
        "layers:\n"
        "  - {block: block1, name: layer1, repeat: 2, first: {stride: 2, project: 1}}\n"
        "  - type: residual\n"
        "    name: layer2_0\n"
        "    body:\n"
        "      - {type: conv, name: conv1, filters: 16, kernel: 3, stride: 2, padding: 1}\n"
        "      - {type: relu, name: relu}\n"
        "      - {type: conv, name: conv2, filters: 16, kernel: 3, padding: 1}\n"
        "    shortcut:\n"
        "      - {type: conv, name: downsample_0, filters: 16, kernel: 1, stride: 2}\n"
        "      - {type: batchnorm, name: downsample_1}\n"
        "  - {type: relu, name: layer2_0_relu_1}\n"
        "  - type: residual\n"
        "    name: layer2_1\n"
        "    body:\n"
        "      - {type: conv, name: conv1, filters: 16, kernel: 3, padding: 1}\n"
        "      - {type: relu, name: relu}\n"
        "      - {type: conv, name: conv2, filters: 16, kernel: 3, padding: 1}\n"
        "  - {type: relu, name: layer2_1_relu_1}\n"
    )


def test_of_units_covering_as_many_layers_the_shortest_is_the_block():
    """[conv 4, relu, conv 8, relu] three times: units of 2, 4 and 6 layers all cover the 12; the unit of 2 is the
    block (its filters a parameter), six instances: 12 lines inline against 2 + 3 + 6."""
    assert 6 * INLINE_PAIR > INLINE_PAIR + BLOCK_COST + 6
    text = spec(pairs(6, [4, 8] * 3))
    assert text.split("\nlayers:\n")[0] == (
        "blocks:\n"
        "  block1:\n"
        "    params: {filters: 4}\n"
        "    layers:\n"
        '      - {type: conv, name: conv, filters: "${filters}", kernel: 3, padding: 1}\n'
        "      - {type: relu, name: relu}"
    )
    names = ["block1", *(f"block1_{n}" for n in range(2, 7))]  # the block's name, made unique
    assert entries(text) == [
        f"  - {{block: block1, name: {name}{', filters: 8' if copy % 2 else ''}}}" for copy, name in enumerate(names)
    ]


def test_runs_of_one_block_apart_are_its_instances_and_a_projection_is_copy_0_of_its_repeat():
    """Two stages of [residual with a projection, residual], a pool between them: two runs of one block (34 lines
    inline against 9 + 3 + 2). The projection's conv differs in its kernel (1, then 3): a parameter, whose default is
    the first instance's value, or where its last copy has no projection, the first value given (1); the flag
    ``project`` repeats the projection, 1 in the first copy of each. The projection's conv, an output of the graph,
    is named as the spec language names copy 0 of its ``repeat``."""
    net = Net()
    residual(net, "layer1.0", 8, 1, ("conv",))
    residual(net, "layer1.1", 8)
    net.add("maxpool", "pool", kernel=2, stride=2)
    residual(net, "layer2.0", 16, 1, ("conv",), kernel=3)
    residual(net, "layer2.1", 16)
    graph = replace(net.graph(), more_outputs=("layer2.0.downsample.0",))
    assert spec(graph) == (
        "blocks:\n"
        "  block1:\n"
        "    params: {filters: 8, kernel: 1, padding: 0, project: 0}\n"
        "    layers:\n"
        "      - type: residual\n"
        "        name: residual\n"
        "        body:\n"
        '          - {type: conv, name: conv1, filters: "${filters}", kernel: 3, padding: 1}\n'
        "          - {type: relu, name: relu}\n"
        '          - {type: conv, name: conv2, filters: "${filters}", kernel: 3, padding: 1}\n'
        "        shortcut:\n"
        '          - {type: conv, name: downsample_0, repeat: "${project}", filters: "${filters}", '
        'kernel: "${kernel}", padding: "${padding}"}\n'
        "      - {type: relu, name: relu_1}\n"
        "layers:\n"
        "  - {block: block1, name: layer1, repeat: 2, first: {project: 1}}\n"
        "  - {type: maxpool, name: pool, kernel: 2, stride: 2}\n"
        "  - {block: block1, name: layer2, repeat: 2, filters: 16, first: {kernel: 3, padding: 1, project: 1}}\n"
        'outputs: ["layer2.1.relu_1", "layer2.0.residual.shortcut.downsample_0.0"]\n'
    )


def test_copies_that_all_have_their_projection_need_no_flag():
    """Widths 8, 16, 32, each copy with its projection: one block, its filters a parameter, three instances (27
    lines inline against 9 + 3 + 3); no ``project``, the projection is written as it is."""
    net = Net()
    for copy, filters in enumerate((8, 16, 32)):
        residual(net, f"layer1.{copy}", filters, 1, ("conv",))
    text = spec(net.graph())
    assert "project" not in text and "repeat" not in text
    assert '\n          - {type: conv, name: downsample_0, filters: "${filters}", kernel: 1}\n' in text
    assert entries(text) == [
        "  - {block: block1, name: layer1_0}",
        "  - {block: block1, name: layer1_1, filters: 16}",
        "  - {block: block1, name: layer1_2, filters: 32}",
    ]


def test_a_block_left_with_one_copy_is_written_out():
    """A lone residual whose projection is a conv and a batch norm, then a run of three whose first has a conv alone:
    one unit, found first with the batch norm; the run does not agree and is written out, and one copy is no
    shorter as a block (9 lines against 9 + 3 + 1): every layer is written out, as in the graph."""
    net = Net()
    residual(net, "a", 8, 1, ("conv", "batchnorm"))
    for copy in range(3):
        residual(net, f"layer1.{copy}", 8, 1, ("conv",) if copy == 0 else ())
    text = spec(net.graph())
    assert "blocks:" not in text
    modules = ["a", "layer1_0", "layer1_1", "layer1_2"]
    assert entries(text) == [
        line for module in modules for line in ("  - type: residual", f"  - {{type: relu, name: {module}_relu_1}}")
    ]
    assert text.count("{type: batchnorm, name: downsample_1}") == 1 and text.count("name: downsample_0,") == 2


def test_without_module_names_a_blocks_layers_are_named_by_their_kinds():
    """Two residuals named a_x and b_x, their layers p1.. and q1..: no two names start alike, so the names are not
    module paths, and the block's layers are named by kind even where the instances' names agree (x). A residual
    is one unit of one item: 2 x 7 lines inline against 7 + 3 + 1."""
    net = Net()
    for module, layers in (("a_x", "p"), ("b_x", "q")):
        start = net.last
        net.add("conv", f"{layers}1", filters=4, kernel=3, padding=1)
        net.add("relu", f"{layers}2")
        net.add("add", module, net.add("conv", f"{layers}3", filters=4, kernel=3, padding=1), start)
    assert spec(net.graph()) == (
        "blocks:\n"
        "  block1:\n"
        "    layers:\n"
        "      - type: residual\n"
        "        name: residual\n"
        "        body:\n"
        "          - {type: conv, name: conv, filters: 4, kernel: 3, padding: 1}\n"
        "          - {type: relu, name: relu}\n"
        "          - {type: conv, name: conv_2, filters: 4, kernel: 3, padding: 1}\n"
        "layers:\n"
        "  - {block: block1, name: block1, repeat: 2}\n"
    )


def nesting(node: yaml.Node) -> int:
    """Levels of YAML nodes, as the reader counts them (a scalar is one)."""
    if isinstance(node, yaml.MappingNode):
        return 1 + max(nesting(part) for pair in node.value for part in pair)
    if isinstance(node, yaml.SequenceNode):
        return 1 + max((nesting(item) for item in node.value), default=0)
    return 1


def test_regions_in_a_block_nest_as_deep_as_the_reader_reads():
    """Two copies of concats of branches nested 41 deep: a block of the outermost. In the block's layers, each
    region takes three levels of YAML: the fold writes as many as the reader's MAX_NESTING holds (one more would
    pass it), and those inside as their layers."""
    net = Net()

    def nest(source: str, depth: int) -> str:
        inner = net.add("conv", f"n{len(net.nodes)}", source, filters=4, kernel=1)
        if depth:
            inner = nest(inner, depth - 1)
        last = net.add("conv", f"n{len(net.nodes)}", inner, filters=4, kernel=1)
        joined = net.add("concat", f"n{len(net.nodes)}", source, last)
        return net.add("conv", f"n{len(net.nodes)}", joined, filters=4, kernel=1)

    nest(nest(NETWORK_INPUT, 40), 40)
    text = spec(net.graph())
    assert text.startswith("blocks:\n  block1:\n    layers:\n      - type: concat\n")
    assert entries(text) == ["  - {block: block1, name: block1, repeat: 2}"]
    assert nesting(yaml.compose(text)) <= MAX_NESTING < nesting(yaml.compose(text)) + 3
    assert "{type: concat, name: concat, inputs: [" in text  # the innermost concats: layers


def test_a_concat_along_another_axis_is_a_layer_not_branches():
    """Branches are written as a concat over the channels (the structure's merge has the kind's defaults): two
    convs of the input joined along the height stay layers that name their inputs."""
    net = Net()
    net.add(
        "concat",
        "cat",
        net.add("conv", "a", filters=4, kernel=1),
        net.add("conv", "b", NETWORK_INPUT, filters=4, kernel=1),
        axis=1,
    )
    assert spec(net.graph()) == (
        "layers:\n"
        "  - {type: conv, name: a, filters: 4, kernel: 1}\n"
        "  - {type: conv, name: b, input: input, filters: 4, kernel: 1}\n"
        "  - {type: concat, name: cat, inputs: [a, b], axis: 1}\n"
    )
    net.nodes[-1] = net.nodes[-1]._replace(config=CATALOGUE["concat"].defaults())
    assert spec(net.graph()).startswith("layers:\n  - type: concat\n    name: cat\n    branches:\n")


def gates(copies: int) -> Graph:
    """Squeeze-and-excitation from the network's input, ``copies`` times: the multiply reads the unit's input."""
    net = Net()
    for copy in range(copies):
        start = net.last
        net.add("global_avgpool", f"pool{copy}")
        net.add("conv", f"squeeze{copy}", filters=2, kernel=1)
        net.add("relu", f"act{copy}")
        net.add("conv", f"expand{copy}", filters=4, kernel=1)
        net.add("multiply", f"scale{copy}", start, net.add("sigmoid", f"gate{copy}"))
    return net.graph()


def test_a_unit_reading_the_networks_input_by_name_is_a_copy_like_the_others():
    """The first gate reads the network's input, the second the first's output: each its own input, the same
    relative read. One block, ``in`` its input (12 lines inline against 6 + 3 + 1)."""
    assert spec(gates(2)) == (
        "blocks:\n"
        "  block1:\n"
        "    layers:\n"
        "      - {type: global_avgpool, name: global_avgpool}\n"
        "      - {type: conv, name: conv, filters: 2, kernel: 1}\n"
        "      - {type: relu, name: relu}\n"
        "      - {type: conv, name: conv_2, filters: 4, kernel: 1}\n"
        "      - {type: sigmoid, name: sigmoid}\n"
        "      - {type: multiply, name: multiply, inputs: [in, sigmoid]}\n"
        "layers:\n"
        "  - {block: block1, name: block1, repeat: 2}\n"
    )


def test_the_entry_after_an_instance_reads_its_last_layer_without_naming_it():
    net = Net()
    net.nodes, net.last = list(pairs(4).nodes), "relu3"
    net.add("maxpool", "pool", kernel=2, stride=2)
    assert entries(spec(net.graph())) == [
        "  - {block: block1, name: block1, repeat: 4}",
        "  - {type: maxpool, name: pool, kernel: 2, stride: 2}",
    ]


def test_an_instance_repeated_is_named_by_its_module_path_without_the_copy():
    net = Net()
    residual(net, "model.layer1.0", 4)
    residual(net, "model.layer1.1", 4)
    assert entries(spec(net.graph())) == ["  - {block: block1, name: model_layer1, repeat: 2}"]


def test_a_module_of_two_equal_halves_is_one_unit():
    """Modules blk.0, blk.1, blk.2, each [conv, relu, conv, relu] of equal convs: [conv, relu] is half a module, no
    copy (its nodes' prefix blk.0 is shared by 4 nodes, not 2), so the unit is the module of 4 layers, one instance
    of it repeated 3 times: 4 block layers + 3 + 1 line against 12 inline. Without module names the shorter unit,
    [conv, relu], covers as much: one block of 2 layers, repeated 6 times."""
    for named in (True, False):
        net = Net()
        for copy in range(3):
            for half in (1, 2):
                net.add("conv", f"blk.{copy}.conv{half}" if named else f"c{copy}{half}", filters=4, kernel=3, padding=1)
                net.add("relu", f"blk.{copy}.relu{half}" if named else f"r{copy}{half}")
        text = spec(net.graph())
        block = text.split("\nlayers:\n")[0]
        assert block.count("{type: conv") == (2 if named else 1), text
        assert entries(text) == [
            f"  - {{block: block1, name: {'blk' if named else 'block1'}, repeat: {3 if named else 6}}}"
        ]


def test_names_by_kind_are_unique_in_each_list_of_a_block():
    """Without module names, a block's layers are named by kind, made unique within each list: the body's second
    conv is conv_2, the shortcut's conv (another list) conv, the last relu relu."""
    net = Net()
    for copy, filters in enumerate((8, 16)):
        start = net.last
        net.add("conv", f"c{copy}", filters=filters, kernel=3, padding=1)
        net.add("relu", f"r{copy}")
        body = net.add("conv", f"d{copy}", filters=filters, kernel=3, padding=1)
        net.add("add", f"s{copy}", body, net.add("conv", f"p{copy}", start, filters=filters, kernel=1))
        net.add("relu", f"t{copy}")
    assert spec(net.graph()) == (
        "blocks:\n"
        "  block1:\n"
        "    params: {filters: 8}\n"
        "    layers:\n"
        "      - type: residual\n"
        "        name: residual\n"
        "        body:\n"
        '          - {type: conv, name: conv, filters: "${filters}", kernel: 3, padding: 1}\n'
        "          - {type: relu, name: relu}\n"
        '          - {type: conv, name: conv_2, filters: "${filters}", kernel: 3, padding: 1}\n'
        "        shortcut:\n"
        '          - {type: conv, name: conv, filters: "${filters}", kernel: 1}\n'
        "      - {type: relu, name: relu}\n"
        "layers:\n"
        "  - {block: block1, name: block1}\n"
        "  - {block: block1, name: block1_2, filters: 16}\n"
    )


@pytest.mark.parametrize(("size", "folded"), [(16, True), (17, False)])
def test_a_unit_is_at_most_16_items(size: int, folded: bool):
    """[conv, relu x (size - 1)] twice: a block of ``size`` items up to MAX_PERIOD, 16 (2 x size lines inline
    against size + 3 + 1), else every layer written out (a relu alone is no unit)."""
    net = Net()
    for copy in range(2):
        net.add("conv", f"c{copy}", filters=4, kernel=1)
        for index in range(size - 1):
            net.add("relu", f"r{copy}x{index}")
    text = spec(net.graph())
    assert ("  - {block: block1, name: block1, repeat: 2}" in entries(text)) == folded
    assert len(entries(text)) == (1 if folded else 2 * size)


@pytest.mark.parametrize(("kernels", "kept"), [((3, 3), True), ((3, 5), False)])
def test_a_region_counts_its_mapping_and_each_path(kernels: tuple[int, int], kept: bool):
    """A residual of one conv counts 2 lines (type, name), 1 + 1 for its body and 1 for its identity shortcut: 5.
    Two alike: 10 lines inline against 5 + 3 + 1, a block; two whose kernels differ are two instances: 10 against
    5 + 3 + 2, written out."""
    net = Net()
    for copy, kernel in enumerate(kernels):
        start = net.last
        net.add("add", f"s{copy}", net.add("conv", f"c{copy}", filters=4, kernel=kernel, padding=kernel // 2), start)
    text = spec(net.graph())
    assert ("blocks:" in text) == kept
    assert entries(text) == (
        ["  - {block: block1, name: block1, repeat: 2}"] if kept else ["  - type: residual", "  - type: residual"]
    )


def test_a_lone_copy_of_a_unit_that_repeats_elsewhere_is_an_instance_too():
    """[conv, batchnorm, relu] twice, a pool, then once more: the lone copy is an instance of the block the run
    made (9 lines inline against 3 + 3 + 2)."""
    net = Net()
    for copy in range(3):
        if copy == 2:
            net.add("maxpool", "pool", kernel=2, stride=2)
        net.add("conv", f"c{copy}", filters=4, kernel=3, padding=1)
        net.add("batchnorm", f"n{copy}")
        net.add("relu", f"r{copy}")
    assert spec(net.graph()) == (
        "blocks:\n"
        "  block1:\n"
        "    layers:\n"
        "      - {type: conv, name: conv, filters: 4, kernel: 3, padding: 1}\n"
        "      - {type: batchnorm, name: batchnorm}\n"
        "      - {type: relu, name: relu}\n"
        "layers:\n"
        "  - {block: block1, name: block1, repeat: 2}\n"
        "  - {type: maxpool, name: pool, kernel: 2, stride: 2}\n"
        "  - {block: block1, name: block1_2}\n"
    )


def test_two_exact_copies_of_one_layer_are_no_unit():
    """Twelve convs, widths in equal pairs (4, 4, 8, 8, ..., 128, 128): a pair of one layer twice is no unit (its
    repeat needs no block), so the shortest unit covering all twelve is three convs, four instances of three
    widths each (12 lines inline against 3 + 3 + 4). Each column of widths differs from the others somewhere: three
    parameters, their defaults the first instance's."""
    net = Net()
    for index, filters in enumerate([4, 4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128]):
        net.add("conv", f"c{index}", filters=filters, kernel=1)
    assert spec(net.graph()) == (
        "blocks:\n"
        "  block1:\n"
        "    params: {filters: 4, filters_2: 4, filters_3: 8}\n"
        "    layers:\n"
        '      - {type: conv, name: conv, filters: "${filters}", kernel: 1}\n'
        '      - {type: conv, name: conv_2, filters: "${filters_2}", kernel: 1}\n'
        '      - {type: conv, name: conv_3, filters: "${filters_3}", kernel: 1}\n'
        "layers:\n"
        "  - {block: block1, name: block1}\n"
        "  - {block: block1, name: block1_2, filters: 8, filters_2: 16, filters_3: 16}\n"
        "  - {block: block1, name: block1_3, filters: 32, filters_2: 32, filters_3: 64}\n"
        "  - {block: block1, name: block1_4, filters: 64, filters_2: 128, filters_3: 128}\n"
    )


def test_of_the_units_the_exporters_modules_allow_the_one_covering_most_layers_is_the_block():
    """Residuals of one conv (kernels 1, 3, 5, 7 in each of a and b) in modules a.0, a.1 and b.0 of two, b.1 and b.2
    of one: at the start, units of two residuals (a module each) repeat three times (b.1 and b.2 are two modules),
    units of four (a, b) twice, covering more: the block is a's four residuals, b its other instance (40 lines inline
    against 20 + 3 + 2; a, b are no NAME.0, NAME.1, so two instances)."""
    net = Net()
    for module, count in (("a.0", 2), ("a.1", 2), ("b.0", 2), ("b.1", 1), ("b.2", 1)):
        for item in range(count):
            before = sum(node.name[0] == module[0] for node in net.nodes) // 2  # residuals of a (b) so far
            start, kernel = net.last, 1 + 2 * before
            conv = net.add("conv", f"{module}.c{item}", filters=4, kernel=kernel, padding=kernel // 2)
            net.add("add", f"{module}.s{item}", conv, start)
    text = spec(net.graph())
    assert text.split("\nlayers:\n")[0].count("type: residual") == 4
    assert entries(text) == ["  - {block: block1, name: a}", "  - {block: block1, name: b}"]


def test_a_unit_reading_a_layer_before_it_other_than_its_input_is_no_copy():
    """Each multiply reads the conv of the copy before it (the first, 5 layers back too, the network's input): every
    copy reads the one before it by more than its input, so none is a unit; every layer is written out."""
    net = Net()
    net.add("conv", "s", filters=4, kernel=1)
    net.add("relu", "t")
    earlier = NETWORK_INPUT
    for copy in range(4):
        conv = net.add("conv", f"c{copy}", filters=4, kernel=3, padding=1)
        net.add("multiply", f"m{copy}", net.add("relu", f"r{copy}"), earlier)
        earlier = conv
    text = spec(net.graph())
    assert "blocks:" not in text
    assert [line for line in entries(text) if "multiply" in line] == [
        "  - {type: multiply, name: m0, inputs: [r0, input]}",
        *(f"  - {{type: multiply, name: m{copy}, inputs: [r{copy}, c{copy - 1}]}}" for copy in range(1, 4)),
    ]


def test_names_are_module_paths_where_two_layers_share_a_first_part():
    """r0.conv and r0 (the add), r1.conv and r1, ...: module paths, each residual a module of its own; r0, r1, r2
    are no NAME.0, NAME.1, so three instances (15 lines inline against 5 + 3 + 3)."""
    net = Net()
    for copy in range(3):
        start = net.last
        net.add("add", f"r{copy}", net.add("conv", f"r{copy}.conv", filters=4, kernel=3, padding=1), start)
    assert entries(spec(net.graph())) == [f"  - {{block: block1, name: r{copy}}}" for copy in range(3)]


def test_copies_of_one_layer_are_no_unit():
    """Twelve equal convs: a unit of copies of one layer is none, whatever its length ([conv, conv, conv] four
    times would cover all twelve): written out, one layer a line."""
    net = Net()
    for index in range(12):
        net.add("conv", f"c{index}", filters=4, kernel=3, padding=1)
    text = spec(net.graph())
    assert "blocks:" not in text and len(entries(text)) == 12


def test_a_unit_reading_its_own_first_layer_is_a_copy():
    """[conv a, sigmoid s, multiply(a, s)] three times: the multiply reads a, the unit's first layer, inside the
    unit: one block of 3 layers repeated 3 times (3 + 3 + 1 lines against 9)."""
    net = Net()
    for copy in range(3):
        first = net.add("conv", f"a{copy}", filters=4, kernel=3, padding=1)
        net.add("multiply", f"m{copy}", first, net.add("sigmoid", f"s{copy}"))
    text = spec(net.graph())
    assert text.count("      - {type:") == 3 and entries(text) == ["  - {block: block1, name: block1, repeat: 3}"]


@pytest.mark.parametrize("outsider", [1, 2])
def test_a_unit_is_no_module_where_one_of_its_layers_is_outside_it(outsider: int):
    """[conv m0.a, relu, conv] four times, one layer of each named z0, z1, ... (the relu, or the last conv), and a
    relu m0.c, m1.c, ... of each module at the end: m0's 3 layers are as many as the unit's, but not the unit's 3,
    so no unit is one module: written out (as four instances of one block, 3 + 3 + 4 lines, it would be shorter
    than 12)."""
    net = Net()
    for copy in range(4):
        names = [f"m{copy}.a", f"m{copy}.b", f"m{copy}.b2"]
        names[outsider] = f"z{copy}"
        net.add("conv", names[0], filters=4, kernel=3, padding=1)
        net.add("relu", names[1])
        net.add("conv", names[2], filters=4, kernel=3, padding=1)
    for copy in range(4):
        net.add("relu", f"m{copy}.c")
    text = spec(net.graph())
    assert "blocks:" not in text and len(entries(text)) == 16


def test_a_top_level_module_is_a_unit():
    """Modules b0, b1, b2 of [conv, relu, conv, relu] (names of one part before the layer's): each is a unit,
    written as three instances (not one repeat: b0, b1 are no NAME.0, NAME.1), 4 + 3 + 3 lines against 12."""
    net = Net()
    for copy in range(3):
        for half in (1, 2):
            net.add("conv", f"b{copy}.conv{half}", filters=4, kernel=3, padding=1)
            net.add("relu", f"b{copy}.relu{half}")
    text = spec(net.graph())
    assert text.count("      - {type:") == 4 and len(entries(text)) == 3
