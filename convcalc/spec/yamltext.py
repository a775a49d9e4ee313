"""Editing a YAML text in place, located by PyYAML's composed node tree: the layout and comments stay.

Used by the bottleneck rewrite; the only module besides the spec language that looks at how a spec is written.
"""

from __future__ import annotations

import json
import re

import yaml

from convcalc.core.errors import SpecError
from convcalc.spec.reader import FAST_LOADER

LINE_BREAKS = "\r\n\x85\u2028\u2029"


def position(node: yaml.Node) -> tuple[int, int]:
    """A node's position as (line, column) counted from 1, as in :class:`~convcalc.errors.Location`."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def child(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    """The value of ``key`` in a mapping node, if written."""
    for key_node, value in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found: yaml.Node = value
            return found
    return None


def scalar(text: str) -> str:
    """A YAML scalar for a name: plain when that is safe, else double-quoted."""
    return text if re.fullmatch(r"[A-Za-z_][\w\-]*", text) else json.dumps(text)


class TextEdits:
    """Pending edits to a YAML text, located by the composed node tree, applied all at once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.edits: list[tuple[int, int, str]] = []

    def raw(self, node: yaml.Node) -> str:
        return self.text[node.start_mark.index : node.end_mark.index]

    def replace(self, node: yaml.Node, new: str) -> None:
        self.edits.append((node.start_mark.index, node.end_mark.index, new))

    def insert(self, offset: int, new: str) -> None:
        self.edits.append((offset, offset, new))

    def insert_item(self, sequence: yaml.SequenceNode, item: yaml.Node, new: str) -> None:
        """Insert ``new`` as an item of ``sequence`` just before ``item``."""
        if sequence.flow_style is True:
            self.insert(item.start_mark.index, f"{new}, ")
            return
        dash = item.start_mark.index - 1
        while dash >= 0 and self.text[dash] in " \t" + LINE_BREAKS:
            dash -= 1
        if dash < 0 or self.text[dash] != "-":
            raise SpecError(f"cannot find the '-' of the item at line {item.start_mark.line + 1} to insert before it")
        column = dash - self.line_start(dash)
        self.insert(dash, f"- {new}\n{' ' * column}")

    def add_key(self, mapping: yaml.MappingNode, key: str, value: str) -> None:
        """Add ``key: value`` to a mapping, after its first pair when that fits on one line."""
        if mapping.flow_style is True:
            close = mapping.end_mark.index - 1
            last = close - 1
            while self.text[last] in " \t" + LINE_BREAKS:
                last -= 1
            separator = "" if self.text[last] == "{" else " " if self.text[last] == "," else ", "
            self.insert(last + 1, f"{separator}{key}: {value}")
            return
        first_key, first_value = mapping.value[0]
        column = first_key.start_mark.column
        if isinstance(first_value, yaml.ScalarNode) and first_value.end_mark.line == first_key.start_mark.line:
            end = first_value.end_mark.index
            while end < len(self.text) and self.text[end] not in LINE_BREAKS:
                end += 1
            self.insert(end, f"\n{' ' * column}{key}: {value}")
        else:
            self.insert(first_key.start_mark.index, f"{key}: {value}\n{' ' * column}")

    def line_start(self, offset: int) -> int:
        while offset > 0 and self.text[offset - 1] not in LINE_BREAKS:
            offset -= 1
        return offset

    def result(self) -> str:
        text = self.text
        # Later offsets first; at one offset, the edit made last goes in first, so edits keep their order.
        ordered = sorted(enumerate(self.edits), key=lambda item: (item[1][0], item[0]), reverse=True)
        for _, (start, end, new) in ordered:
            text = text[:start] + new + text[end:]
        return text


class YamlIndex:
    """The composed node tree of a spec's text: its mappings by position, the list holding each, the entries
    that instantiate each block, and the mappings used again through YAML aliases."""

    def __init__(self, text: str) -> None:
        self.mappings: dict[tuple[int, int], yaml.MappingNode] = {}
        self.parents: dict[tuple[int, int], yaml.SequenceNode] = {}
        self.instances: dict[str, list[yaml.MappingNode]] = {}  # block name -> mappings that instantiate it
        self.aliased: set[tuple[int, int]] = set()  # mappings written once and used again through YAML aliases
        root = yaml.compose(text, Loader=FAST_LOADER)  # the loader that read the spec: it accepts the same text
        assert isinstance(root, yaml.MappingNode)  # the spec has been built: its top level is a mapping
        self.root = root
        self.index(root, set())

    def index(self, node: yaml.Node, seen: set[int]) -> None:
        if id(node) in seen:  # a YAML alias: one text, several places
            self.mark_aliased(node, set())
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            self.mappings[position(node)] = node
            block = child(node, "block")
            if isinstance(block, yaml.ScalarNode):
                self.instances.setdefault(block.value, []).append(node)
            for key, value in node.value:
                self.index(key, seen)
                self.index(value, seen)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.MappingNode):
                    self.parents[position(item)] = node
                self.index(item, seen)

    def mark_aliased(self, node: yaml.Node, seen: set[int]) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            self.aliased.add(position(node))
            for _, value in node.value:
                self.mark_aliased(value, seen)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.mark_aliased(item, seen)

    def block_node(self, block: str) -> yaml.MappingNode:
        blocks = child(self.root, "blocks")
        assert isinstance(blocks, yaml.MappingNode)
        definition = child(blocks, block)
        assert isinstance(definition, yaml.MappingNode)
        return definition

    def existing_params(self, block: str) -> list[str]:
        params = child(self.block_node(block), "params")
        if isinstance(params, yaml.MappingNode):
            return [key.value for key, _ in params.value if isinstance(key, yaml.ScalarNode)]
        if isinstance(params, yaml.SequenceNode):
            return [item.value for item in params.value if isinstance(item, yaml.ScalarNode)]
        return []
