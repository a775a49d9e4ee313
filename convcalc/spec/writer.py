"""A graph written back as a spec: what `convcalc import model.onnx` prints.

By default the graph is folded first (:mod:`convcalc.spec.fold`): residuals and concats of branches as those
structures, repeated units as ``blocks`` with parameters and instances with ``repeat``/``first``; with ``flat``
it is one layer a line. Each layer is a flow mapping with its type, a name the spec language accepts (an
imported name's dots and slashes become underscores), what it reads when that is not the entry before it, and
the keys whose values differ from the kind's defaults. Where the importer knows the node a line stands for, a
comment names it. Analysing the written spec gives the graph's counts exactly (tests/test_import.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from convcalc.core.keys import Key
from convcalc.core.text import first_free, printable
from convcalc.core.version import __version__
from convcalc.engine.graph import NETWORK_INPUT, Graph, Node
from convcalc.spec.fold.blocks import Folded, FoldError
from convcalc.spec.fold.items import Block, Entry, Leaf, Use, entry_nodes
from convcalc.spec.namespace import BLOCK_INPUT
from convcalc.spec.reader import reads_as_text

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
        return value if PLAIN.fullmatch(value) and reads_as_text(value) else quoted(printable(value))
    return str(value)


ESCAPED = re.compile(r'[\\"\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]')
"""What YAML's double quotes cannot hold as it is: the quote and backslash, controls, line and paragraph separators
(line breaks to YAML 1.1), the byte-order mark and the non-characters."""
SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\u2028": "\\L", "\u2029": "\\P"}


def quoted(text: str) -> str:
    """Text in YAML's double quotes, as the reader reads it back (characters beyond U+FFFF as they are: an escaped
    surrogate pair is no character to libyaml)."""
    return '"' + ESCAPED.sub(lambda found: _escape(found.group()), text) + '"'


def _escape(character: str) -> str:
    return SHORT_ESCAPES.get(character) or f"\\u{ord(character):04x}"


def comment(text: str) -> str:
    """Text for a YAML comment: on one line (YAML 1.1 also breaks lines at U+2028 and U+2029), nothing raw that a
    terminal would act on."""
    return printable(text, one_line=True).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


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
    return isinstance(value, list) and bool(value) and not isinstance(value[0], (str, int))  # not names, sizes


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
            keys[key.name] = value if takes_one_size(key, value) else list(value)
    return keys


def takes_one_size(key: Key, value: object) -> bool:
    """Whether the key reads a number for a size on every axis: a kernel's ``3`` is ``[3, 3]``, but a shape's
    ``[1]`` or ``[4, 4]`` is a list (an arithmetic's ``constant``, a reshape's ``shape``)."""
    if not isinstance(value, tuple) or not value:
        return True
    try:
        key.convert(value[0])
    except (ValueError, TypeError):
        return False
    return True


def one_size(value: object) -> object:
    """A size given per axis as the one number it is on every axis ((1, 1) is 1, a key's default)."""
    if isinstance(value, tuple) and value and all(item == value[0] for item in value):
        return value[0]
    return value


def origin_comment(origins: Mapping[str, str], nodes: Sequence[Node], name: str = "") -> str:
    """The ONNX node(s) an entry stands for (none when the name says it already)."""
    first, last = origins.get(nodes[0].name, ""), origins.get(nodes[-1].name, "")
    text = first if len(nodes) == 1 else f"{first} ... {last}" if first and last else ""
    return comment(text) if text and text != name else ""


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
    origins = origins or {}
    lines = [
        f"# Written by convcalc {__version__} (`convcalc import`) from {comment(graph.source)}",
        f"name: {quoted(printable(graph.name))}",
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
    if graph.outputs != (graph.nodes[-1].name,):  # not the last layer alone: each by its name in the spec
        written = folded.full if folded else spec_names(graph)
        names = [written.get(name, name) for name in graph.outputs]
        lines.append(f"outputs: [{', '.join(yaml_value(name) for name in names)}]")
    return "\n".join(lines) + "\n"


def checked_spec(graph: Graph, origins: Mapping[str, str] | None = None, *, flat: bool = False) -> str:
    """The spec text of a graph (:func:`write_spec`), read back as `convcalc analyze` reads a spec and held to the
    graph: a ValueError when it would not read back as the same graph (over the reader's limits, for one)."""
    from convcalc.core.errors import SpecError
    from convcalc.spec.lower import build_spec
    from convcalc.spec.reader import MAX_BYTES, read_text

    text = write_spec(graph, origins, flat=flat)
    where = "the spec written"
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"{where} would not read back: it is more than {MAX_BYTES // 2**20} MiB, a spec's limit")
    try:
        loaded = build_spec(read_text(text, where), where)
    except SpecError as error:
        line = f" (its line {error.location.line})" if error.location else ""
        raise ValueError(f"{where} would not read back{line}: {error.message}") from None
    difference = first_difference(graph, loaded)
    if difference:
        raise ValueError(f"{where} would not read back as the same graph: {difference}")
    return text


def first_difference(graph: Graph, loaded: Graph) -> str | None:
    """How a graph read back from its spec differs from it, names aside (text as the writer can hold it), or None."""
    if loaded.input_shape != graph.input_shape:
        return f"its input is {list(loaded.input_shape)}, not {list(graph.input_shape)}"
    if len(loaded.nodes) != len(graph.nodes):
        return f"it has {len(loaded.nodes):,} layers, not {len(graph.nodes):,}"
    at = {NETWORK_INPUT: -1, **{node.name: index for index, node in enumerate(graph.nodes)}}
    loaded_at = {NETWORK_INPUT: -1, **{node.name: index for index, node in enumerate(loaded.nodes)}}
    for node, read in zip(graph.nodes, loaded.nodes, strict=True):
        if _form(node, at) != _form(read, loaded_at):
            return f"layer '{node.name}' ({node.kind.type}) reads back as '{read.name}' ({read.kind.type})"
    if [at[name] for name in graph.outputs] != [loaded_at[name] for name in loaded.outputs]:
        return f"its outputs are {', '.join(loaded.outputs)}, not the layers {', '.join(graph.outputs)}"
    return None


ORDERLESS = frozenset({"add", "multiply"})
"""Merges whose result is the same in any order of their inputs (a residual's add is written body first)."""


def _form(node: Node, at: Mapping[str, int]) -> tuple[object, ...]:
    """A node without its name: its kind, its configuration as a spec holds it and the positions of what it reads."""
    reads = [at[name] for name in node.inputs]
    config = {key: _as_written(value) for key, value in node.config.items()}
    return node.kind.type, config, sorted(reads) if node.kind.type in ORDERLESS else reads


def _as_written(value: object) -> object:
    """A configuration value as a spec holds it: a size on every axis as one number, text made printable."""
    return printable(value) if isinstance(value, str) else one_size(value)
