"""A graph written back as a spec: what `convcalc import model.onnx` prints.

By default the graph is folded first (:mod:`convcalc.spec.fold`): residuals and concats of branches as those
structures, repeated units as ``blocks`` with parameters and instances with ``repeat``/``first``; with ``flat``
it is one layer a line. Each layer is a flow mapping with its type, a name the spec language accepts (an
imported name's dots and slashes become underscores), what it reads when that is not the entry before it, and
the keys whose values differ from the kind's defaults. Where the importer knows the node a line stands for, a
comment names it. Analysing the written spec gives the graph's counts exactly (tests/test_import.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from convcalc.core.text import first_free
from convcalc.core.version import __version__
from convcalc.engine.graph import NETWORK_INPUT, Graph, Node
from convcalc.spec.fold.blocks import Folded, FoldError
from convcalc.spec.fold.items import Block, Entry, Leaf, Use, entry_nodes
from convcalc.spec.namespace import BLOCK_INPUT

PLAIN = re.compile(r"[A-Za-z_][\w\-]*")


class Written(NamedTuple):
    """One entry of a layer list as YAML data: its keys in order (a value that is a list of entries, or of lists
    of them, is a layer list), and a comment for its first line."""

    keys: dict[str, Any]
    comment: str = ""


def yaml_value(value: object) -> str:
    """A key's value as YAML: 3 for (3, 3) (a size on every axis), [3, 1], true, 1.0e-05, 'same' (text quoted when it
    must be)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        if value and all(item == value[0] for item in value):
            return yaml_value(value[0])
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    if isinstance(value, float):
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        if "." not in mantissa:  # YAML 1.1 reads 1e-05 as text: write 1.0e-05
            mantissa += ".0"
        return mantissa + (f"e{exponent}" if exponent else "")
    if isinstance(value, str):
        return (
            value
            if PLAIN.fullmatch(value) and value not in ("true", "false", "null", "yes", "no")
            else json.dumps(value)
        )
    return str(value)


def flow(keys: Mapping[str, Any]) -> str:
    """A mapping on one line: ``{type: conv, inputs: [a, b], first: {stride: 2}}``."""
    parts = []
    for key, value in keys.items():
        if isinstance(value, Mapping):
            text = flow(value)
        elif isinstance(value, list):  # names, each as written
            text = "[" + ", ".join(yaml_value(item) for item in value) + "]"
        else:
            text = yaml_value(value)
        parts.append(f"{key}: {text}")
    return "{" + ", ".join(parts) + "}"


def entry_lines(entry: Written, indent: int) -> list[str]:
    """An entry as an item of a YAML list: one line, or a block mapping when it holds layer lists."""
    pad = " " * indent
    comment = f"  # {entry.comment}" if entry.comment else ""
    if not any(holds_layers(value) for value in entry.keys.values()):
        return [f"{pad}- {flow(entry.keys)}{comment}"]
    lines: list[str] = []
    for key, value in entry.keys.items():
        lead = f"{pad}  " if lines else f"{pad}- "
        text = "" if holds_layers(value) else f" {flow({key: value})[len(key) + 3 : -1]}"
        lines.append(f"{lead}{key}:{text}{'' if len(lines) else comment}")
        if holds_layers(value):
            lines += layer_list(value, indent + 4)
    return lines


def holds_layers(value: object) -> bool:
    return isinstance(value, list) and bool(value) and not isinstance(value[0], str)


def layer_list(entries: Sequence[Written | list[Written]], indent: int) -> list[str]:
    """A list of entries, or of lists of entries (a concat's branches: ``- []`` is the identity)."""
    lines = []
    for entry in entries:
        if isinstance(entry, Written):
            lines += entry_lines(entry, indent)
        elif not entry:
            lines.append(" " * indent + "- []")
        else:
            inner = [line for each in entry for line in entry_lines(each, indent + 2)]
            lines += [" " * indent + "- " + inner[0].lstrip(), *inner[1:]]
    return lines


def layer_keys(
    node: Node, name: str, reads: Sequence[str] | None, bound: Mapping[tuple[str, str], str] | None = None
) -> dict[str, Any]:
    """A layer's keys: type, name, what it reads (None: the entry before it), and the keys whose values differ from
    the kind's defaults; ``bound`` maps (node, key) to the block parameter that gives the value."""
    keys: dict[str, Any] = {"type": node.kind.type, "name": name}
    if node.kind.many_inputs:
        keys["inputs"] = list(reads or ())
    elif reads:
        keys["input"] = reads[0]
    for key in node.kind.keys:
        value = node.config.get(key.name)
        parameter = (bound or {}).get((node.name, key.name))
        if parameter:
            keys[key.name] = f"${{{parameter}}}"
        elif value is not None and (key.required or one_size(value) != one_size(key.default)):
            keys[key.name] = value
    return keys


def one_size(value: object) -> object:
    """A size given per axis as the one number it is on every axis ((1, 1) is 1, a key's default)."""
    if isinstance(value, tuple) and value and all(item == value[0] for item in value):
        return value[0]
    return value


def origin_comment(origins: Mapping[str, str], nodes: Sequence[Node], name: str = "") -> str:
    """The ONNX node(s) an entry stands for (none when the name says it already)."""
    first, last = origins.get(nodes[0].name, ""), origins.get(nodes[-1].name, "")
    text = first if len(nodes) == 1 else f"{first} ... {last}" if first and last else ""
    return json.dumps(text)[1:-1] if text and text != name else ""


def spec_names(graph: Graph) -> dict[str, str]:
    """A spec name for every node: dots and other separators as underscores, unique, never 'input' or 'in'."""
    names: dict[str, str] = {NETWORK_INPUT: NETWORK_INPUT}
    taken = {NETWORK_INPUT, BLOCK_INPUT}
    for node in graph.nodes:
        base = re.sub(r"[^\w\-]+", "_", node.name).strip("_") or node.kind.type
        name = first_free(base, taken.__contains__)
        taken.add(name)
        names[node.name] = name
    return names


def flat_entries(graph: Graph, origins: Mapping[str, str]) -> list[Written]:
    """One entry a layer, each reading the one before it unless it names its input(s)."""
    names = spec_names(graph)
    entries = []
    previous = NETWORK_INPUT
    for node in graph.nodes:
        named = node.kind.many_inputs or node.inputs[0] != previous
        reads = [names[source] for source in node.inputs] if named else None
        name = names[node.name]
        entries.append(Written(layer_keys(node, name, reads), origin_comment(origins, [node], name)))
        previous = node.name
    return entries


class FoldedWriter:
    """A folded graph as the entries of its ``blocks`` and ``layers``."""

    def __init__(self, folded: Folded, origins: Mapping[str, str]) -> None:
        self.folded = folded
        self.origins = origins

    def entries(self, entries: Sequence[Entry], block: Block | None = None) -> list[Written]:
        return [self.entry(entry, block) for entry in entries]

    def entry(self, entry: Entry, block: Block | None = None, repeat: str = "", tail: str = "") -> Written:
        """An entry outside blocks (with the ONNX node as a comment), or in ``block`` (with its parameters);
        ``repeat``: the block parameter that is its repeat count, ``tail``: that of its last path's entries."""
        if isinstance(entry, Use):
            return self.use(entry)
        node = entry.node
        name = self.folded.local[node.name]
        if isinstance(entry, Leaf):
            keys = layer_keys(node, name, self.folded.inputs[node.name], block.bound if block else None)
        else:
            last = len(entry.paths) - 1
            paths = [
                [self.entry(item, block, tail if at == last else "") for item in path]
                for at, path in enumerate(entry.paths)
            ]
            keys = entry.structure.written(name, paths)
        if repeat:  # a projection only some copies of a block have: repeated once, or not at all
            keys = {"type": keys.pop("type"), "name": keys.pop("name"), "repeat": f"${{{repeat}}}", **keys}
        return Written(keys, "" if block else origin_comment(self.origins, [node], name))

    def use(self, use: Use) -> Written:
        keys: dict[str, Any] = {"block": use.block.name, "name": use.name}
        if len(use.copies) > 1:
            keys["repeat"] = len(use.copies)
        keys.update(use.values)
        if use.first:
            keys["first"] = use.first
        return Written(keys, origin_comment(self.origins, list(entry_nodes(use))))

    def blocks(self) -> list[str]:
        lines = ["blocks:"] if self.folded.blocks else []
        for block in self.folded.blocks:
            lines += [
                f"  {block.name}:",
                *([f"    params: {flow(block.params)}"] if block.params else []),
                "    layers:",
            ]
            items = [self.entry(item, block, tail=block.flags.get(at, "")) for at, item in enumerate(block.items)]
            lines += layer_list(items, 6)
        return lines


def write_spec(graph: Graph, origins: Mapping[str, str] | None = None, *, flat: bool = False) -> str:
    """The spec text of a graph, folded unless ``flat``; ``origins`` maps a node to where it came from (comments)."""
    if graph.nodes[-1].name != graph.output:
        raise ValueError(f"the graph's output '{graph.output}' is not its last layer; a spec ends with its output")
    origins = origins or {}
    lines = [
        f"# Written by convcalc {__version__} (`convcalc import`) from {graph.source}",
        f"name: {json.dumps(graph.name)}",
        f"input: [{', '.join(str(dim) for dim in graph.input_shape)}]",
    ]
    folded = None
    if not flat:
        try:
            folded = Folded(graph)
        except FoldError:
            folded = None  # a name the folded spec cannot give unambiguously: one layer a line
    if folded:
        writer = FoldedWriter(folded, origins)
        lines += [*writer.blocks(), "layers:", *layer_list(writer.entries(folded.entries), 2)]
    else:
        lines += ["layers:", *layer_list(flat_entries(graph, origins), 2)]
    return "\n".join(lines) + "\n"
