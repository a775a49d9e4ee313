"""A graph written back as a spec: what `convcalc import model.onnx` prints, one layer a line.

Each layer is a flow mapping with its type, a name the spec language accepts (an imported name's dots and
slashes become underscores), what it reads when that is not the layer before it, and the keys whose values
differ from the kind's defaults. Where the importer knows the node the layer came from, a comment names it.
Analysing the written spec gives the graph's counts exactly (tests/test_import.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from convcalc import __version__
from convcalc.graph import NETWORK_INPUT, Graph, Node
from convcalc.text import first_free

PLAIN = re.compile(r"[A-Za-z_][\w\-]*")


def yaml_value(value: object) -> str:
    """A key's value as YAML: 3 for (3, 3), [3, 1], true, 1.0e-05, 'same' (text quoted when it must be)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        if len(value) == 2 and value[0] == value[1]:
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


def spec_names(graph: Graph) -> dict[str, str]:
    """A spec name for every node: dots and other separators as underscores, unique, never 'input'."""
    names: dict[str, str] = {NETWORK_INPUT: NETWORK_INPUT}
    taken = {NETWORK_INPUT}
    for node in graph.nodes:
        base = re.sub(r"[^\w\-]+", "_", node.name).strip("_") or node.kind.type
        name = first_free(base, taken.__contains__)
        taken.add(name)
        names[node.name] = name
    return names


def layer_line(node: Node, names: Mapping[str, str], previous: str) -> str:
    """``{type: conv, name: ..., input: ..., filters: 64, kernel: 3}`` for one node."""
    keys = [f"type: {node.kind.type}", f"name: {yaml_value(names[node.name])}"]
    if node.kind.many_inputs:
        keys.append("inputs: [" + ", ".join(yaml_value(names[source]) for source in node.inputs) + "]")
    elif node.inputs[0] != previous:
        keys.append(f"input: {yaml_value(names[node.inputs[0]])}")
    for key in node.kind.keys:
        value = node.config.get(key.name)
        if value is not None and (key.required or value != key.default):
            keys.append(f"{key.name}: {yaml_value(value)}")
    return "{" + ", ".join(keys) + "}"


def write_spec(graph: Graph, origins: Mapping[str, str] | None = None) -> str:
    """The spec text of a graph; ``origins`` maps a node to where it came from (shown as a comment)."""
    names = spec_names(graph)
    lines = [
        f"# Written by convcalc {__version__} (`convcalc import`) from {graph.source}",
        f"name: {json.dumps(graph.name)}",
        f"input: [{', '.join(str(dim) for dim in graph.input_shape)}]",
        "layers:",
    ]
    previous = NETWORK_INPUT
    for node in graph.nodes:
        line = f"  - {layer_line(node, names, previous)}"
        origin = (origins or {}).get(node.name)
        if origin and origin != names[node.name]:
            line += f"  # {json.dumps(origin)[1:-1]}"
        lines.append(line)
        previous = node.name
    if previous != graph.output:
        raise ValueError(f"the graph's output '{graph.output}' is not its last layer; a spec ends with its output")
    return "\n".join(lines) + "\n"
