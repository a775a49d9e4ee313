"""Folding (convcalc/spec/fold/) on graphs drawn at random: the folded spec always counts as the flat one.

The graphs are what an importer makes: chains, residuals (identity or projection shortcut, laid out either way
round, the add reading them either way round), concats of branches (identity branches, any input order), a gate
that reads an earlier layer by name, units repeated with equal or different widths and strides, and names that
are exporter module paths, plain kind-and-count names, or awkward ones ('in', 'input', bare numbers, dots). Each
graph is written folded and flat (tests/test_import.py does the same for every ONNX fixture); both are read back
and analysed, and every layer (matched by order) and total must agree with the graph's own analysis.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import analyze, load_spec
from convcalc.core.errors import Location
from convcalc.engine.graph import NETWORK_INPUT, Graph, Node
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.spec.fold.blocks import Folded, FoldError
from convcalc.spec.fold.items import MAX_REGIONS, Use
from convcalc.spec.writer import write_spec
from tests.test_import import same_numbers

AWKWARD = ["in", "input", "0", "1", "a.b", "x", "x_1", "block", "conv"]


@contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


class Network:
    """Nodes as an importer emits them, with unique names, and the shape of the last one."""

    def __init__(self, naming: str, channels: int, size: int) -> None:
        self.naming = naming
        self.nodes: list[Node] = []
        self.taken = {NETWORK_INPUT}
        self.channels, self.size = channels, size

    def add(self, kind: str, inputs: tuple[str, ...], module: str, local: str, **raw: Any) -> str:
        layer = CATALOGUE[kind]
        config = {key.name: key.convert(raw[key.name]) if key.name in raw else key.default for key in layer.keys}
        if self.naming == "modules":
            base = f"{module}.{local}" if local else module
        elif self.naming == "flat":
            base = f"{kind}{len(self.nodes) + 1}"
        else:
            base = AWKWARD[len(self.nodes) % len(AWKWARD)]
        name, number = base, 1
        while name in self.taken:
            number += 1
            name = f"{base}_{number}"
        self.taken.add(name)
        self.nodes.append(Node(name, layer, config, inputs, Location("drawn", len(self.nodes) + 1, 1)))
        return name

    def conv(self, source: str, module: str, local: str, filters: int, kernel: int = 3, stride: int = 1) -> str:
        self.size = (self.size + 2 * (kernel // 2) - kernel) // stride + 1
        return self.add("conv", (source,), module, local, filters=filters, kernel=kernel, padding=kernel // 2,
                        stride=stride, bias=False)  # fmt: skip


def chain(net: Network, source: str, module: str, width: int, draw: Any) -> str:
    out = net.conv(source, module, "conv", width, draw(st.sampled_from([1, 3])))
    if draw(st.booleans()):
        out = net.add("batchnorm", (out,), module, "bn")
    net.channels = width
    return net.add("relu", (out,), module, "relu")


def residual(net: Network, source: str, module: str, width: int, stride: int, draw: Any) -> str:
    project = stride > 1 or width != net.channels or draw(st.booleans())
    shortcut_first = project and draw(st.booleans())
    size = net.size
    if shortcut_first:
        short = net.conv(source, module, "downsample", width, 1, stride)
        net.size = size
    middle = net.conv(source, module, "conv1", width, 3, stride)
    body = net.conv(net.add("relu", (middle,), module, "relu"), module, "conv2", width)
    if project and not shortcut_first:
        net.size = size
        short = net.conv(source, module, "downsample", width, 1, stride)
    other = short if project else source
    ends = (body, other) if draw(st.booleans()) else (other, body)
    net.channels = width
    return net.add("relu", (net.add("add", ends, module, ""),), module, "relu_1")


def branches(net: Network, source: str, module: str, width: int, draw: Any) -> str:
    count = draw(st.integers(1, 3))
    identity = count > 1 and draw(st.booleans())
    ends, channels = [], 0
    for index in range(count):
        if identity and index == 0:
            ends.append(source)
            channels += net.channels
            continue
        end = net.conv(source, module, f"b{index}", width, 1)
        if draw(st.booleans()):
            end = net.conv(end, module, f"b{index}_3x3", width)
        ends.append(end)
        channels += width
    if draw(st.booleans()):
        ends.reverse()
    net.channels = channels
    return net.add("concat", tuple(ends), module, "")


def gate(net: Network, source: str, module: str, width: int, draw: Any) -> str:
    """Squeeze-and-excitation: the multiply reads the unit's input by name."""
    pooled = net.add("global_avgpool", (source,), module, "pool")
    size, net.size = net.size, 1
    squeezed = net.conv(pooled, module, "fc", max(1, net.channels // 2), 1)
    expanded = net.conv(net.add("relu", (squeezed,), module, "act"), module, "fc2", net.channels, 1)
    net.size = size
    return net.add("multiply", (source, net.add("sigmoid", (expanded,), module, "gate")), module, "scale")


def nested(net: Network, source: str, module: str, width: int, draw: Any) -> str:
    """A residual whose body is a concat of branches and a residual: regions inside a region."""
    channels = net.channels
    inner = branches(net, source, f"{module}.mix", width, draw)
    inner = residual(net, inner, f"{module}.inner", net.channels, 1, draw)
    body = net.conv(inner, module, "back", channels, 1)
    net.channels = channels
    return net.add("add", (body, source), module, "")


def skip(net: Network, source: str, module: str, width: int, draw: Any) -> str:
    """A concat of this point and a layer of the same size before it, read by name (U-Net's skips)."""
    layers = analyze(Graph("part", "part", (4, 16, 16), tuple(net.nodes), source)).layers if net.nodes else ()
    here = layers[-1].output_shape if layers else (4, 16, 16)
    sizes = [layer for layer in layers[:-1] if layer.output_shape[1:] == here[1:]]
    if not sizes:
        return chain(net, source, module, width, draw)
    earlier = draw(st.sampled_from(sizes))
    net.channels = here[0] + earlier.output_shape[0]
    return net.add("concat", (source, earlier.name), module, "cat")


UNITS = {"chain": chain, "residual": residual, "concat": branches, "gate": gate, "nested": nested, "skip": skip}


class Replay:
    """Draws for the first copy of a unit, and the same choices again for the others (where a copy asks for the
    same kind of value at the same point), so that copies are alike unless their widths or strides differ."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.choices: list[tuple[str, Any]] = []
        self.at: int | None = None

    def __call__(self, strategy: Any) -> Any:
        if self.at is None or self.at >= len(self.choices) or self.choices[self.at][0] != repr(strategy):
            self.at = None
            value = self.draw(strategy)
            self.choices.append((repr(strategy), value))
            return value
        self.at += 1
        return self.choices[self.at - 1][1]

    def again(self) -> None:
        self.at = 0


@st.composite
def networks(draw: Any) -> Graph:
    net = Network(draw(st.sampled_from(["modules", "flat", "awkward"])), 4, 16)
    current = NETWORK_INPUT
    for stage in range(draw(st.integers(1, 4))):
        unit = draw(st.sampled_from(sorted(UNITS)))
        copies = draw(st.integers(1, 4))
        widths = draw(st.sampled_from(["same", "grow", "first"]))
        draw = Replay(draw.draw if isinstance(draw, Replay) else draw)
        for copy in range(copies):
            if copy:
                draw.again()
            width = 4 * (copy + 1) if widths == "grow" else 8 if widths == "first" and copy == 0 else 4
            module = f"stage{stage}.{copy}"
            if unit == "residual":
                stride = 2 if copy == 0 and net.size > 4 and draw(st.booleans()) else 1
                current = residual(net, current, module, width, stride, draw)
            else:
                current = UNITS[unit](net, current, module, width, draw)
    return Graph("drawn", "drawn", (4, 16, 16), tuple(net.nodes), current)


@settings(max_examples=300)
@given(networks())
def test_a_folded_graph_counts_as_the_flat_one(graph: Graph):
    reference = analyze(graph)
    flat = analyze(load_spec("flat.yaml", text=write_spec(graph, flat=True)))
    folded = analyze(load_spec("folded.yaml", text=write_spec(graph)))
    same_numbers(reference, flat)
    same_numbers(reference, folded)


def test_a_repeated_unit_without_module_names_is_still_one_block():
    net = Network("flat", 4, 16)
    current = NETWORK_INPUT
    for copy in range(3):
        current = residual(net, current, f"s.{copy}", 4, 1, lambda strategy: False)
    graph = Graph("plain", "plain", (4, 16, 16), tuple(net.nodes), current)
    folded = Folded(graph)
    (use,) = folded.entries
    assert isinstance(use, Use) and len(use.copies) == 3 and use.name == "block1"
    assert folded.full[net.nodes[0].name] == "block1.0.residual.body.conv"  # names by kind: conv1 says nothing
    text = write_spec(graph)
    assert "  - {block: block1, name: block1, repeat: 3}" in text
    same_numbers(analyze(graph), analyze(load_spec("t.yaml", text=text)))


def test_regions_nested_deeper_than_yaml_allows_are_written_as_their_layers():
    """Concats and residuals nested 200 deep: the reader refuses YAML nested over 100 levels, so the outer 31 are
    written as structures and those inside as their layers, with the same numbers."""
    net = Network("flat", 4, 8)

    def nest(source: str, depth: int) -> str:
        inner = net.conv(source, "", "", 4, 1)
        if depth:
            inner = nest(inner, depth - 1)
        last = net.conv(inner, "", "", 4, 1)
        if depth % 2:
            return net.add("add", (last, source), "", "")
        return net.conv(net.add("concat", (source, last), "", ""), "", "", 4, 1)

    with recursion_limit(5000):  # the drawing of the graph recurses, not the fold
        output = nest(NETWORK_INPUT, 200)
    graph = Graph("deep", "deep", (4, 8, 8), tuple(net.nodes), output)
    text = write_spec(graph)
    assert text.count("type: residual") + text.count("branches:") == MAX_REGIONS
    same_numbers(analyze(graph), analyze(load_spec("deep.yaml", text=text)))


def test_a_graph_whose_folded_names_would_hide_a_layer_is_written_flat():
    """In the residual `res`, the multiply `res.x` reads the top-level `x`; folded, it is `x` in `res.body`, where
    the name `x` finds itself first (names are looked up from the innermost scope out): the flat form is written."""
    net = Network("modules", 4, 8)
    x = net.add("conv", (NETWORK_INPUT,), "x", "", filters=4, kernel=1)
    y = net.add("relu", (x,), "y", "")
    conv = net.add("conv", (y,), "res", "conv", filters=4, kernel=1)
    gated = net.add("multiply", (conv, x), "res", "x")
    output = net.add("add", (gated, y), "res", "")
    graph = Graph("hidden", "hidden", (4, 8, 8), tuple(net.nodes), output)
    with pytest.raises(FoldError):
        Folded(graph)
    assert write_spec(graph) == write_spec(graph, flat=True)
    same_numbers(analyze(graph), analyze(load_spec("h.yaml", text=write_spec(graph))))
