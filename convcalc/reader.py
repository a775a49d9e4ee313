"""The YAML reader: spec text -> plain data that remembers where every value was written.

Mappings become :class:`Located` dicts and sequences :class:`LocatedList` lists; both carry the
location of the node itself and of each key and value, so that later stages can point at the
exact line of a mistake. Only YAML's safe, plain-data tags are accepted: specs never construct
Python objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from convcalc.errors import Location, SpecError

try:  # libyaml's parser is several times faster; constructors stay in Python, so marks survive.
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

MAX_NODES = 1_000_000
"""Upper bound on YAML nodes in one document (aliases included), against 'billion laughs' inputs."""


class Located(dict[Any, Any]):
    """A YAML mapping with the location of the mapping, of each key and of each value."""

    location: Location
    key_locations: dict[Any, Location]
    value_locations: dict[Any, Location]

    def key_at(self, key: Any) -> Location:
        return self.key_locations.get(key, self.location)

    def value_at(self, key: Any) -> Location:
        return self.value_locations.get(key, self.location)


class LocatedList(list[Any]):
    """A YAML sequence with the location of the sequence and of each item."""

    location: Location
    item_locations: list[Location]

    def item_at(self, index: int) -> Location:
        return self.item_locations[index] if index < len(self.item_locations) else self.location


def location_of(value: Any, fallback: Location) -> Location:
    """The location a value was written at, if it is a mapping or a sequence."""
    return getattr(value, "location", fallback)


def _loader_class(filename: str) -> type[yaml.SafeLoader]:
    def mark(m: yaml.Mark) -> Location:
        return Location(filename, m.line + 1, m.column + 1)

    class Loader(_BaseLoader):  # type: ignore[valid-type,misc]
        nodes_seen = 0

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            Loader.nodes_seen += 1
            if Loader.nodes_seen > MAX_NODES:
                raise SpecError(
                    f"the document has more than {MAX_NODES:,} YAML nodes (aliases counted); refusing to expand it",
                    mark(node.start_mark),
                )
            return super().construct_object(node, deep)

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[Located]:
        result = Located()
        result.location = mark(node.start_mark)
        result.key_locations = {}
        result.value_locations = {}
        yield result
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            where = mark(key_node.start_mark)
            try:
                duplicate = key in result
            except TypeError:
                raise SpecError("a mapping key must be a plain value, not a list or mapping", where) from None
            if duplicate:
                raise SpecError(
                    f"duplicate key '{key}' (first written at line {result.key_locations[key].line})", where
                )
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_locations[key] = where
            result.value_locations[key] = mark(value_node.start_mark)

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> Iterator[LocatedList]:
        result = LocatedList()
        result.location = mark(node.start_mark)
        result.item_locations = [mark(child.start_mark) for child in node.value]
        yield result
        result.extend(loader.construct_object(child, deep=True) for child in node.value)

    def refuse_tag(loader: yaml.SafeLoader, node: yaml.Node) -> None:
        raise SpecError(f"unsupported YAML tag '{node.tag}': a spec holds plain data only", mark(node.start_mark))

    Loader.add_constructor("tag:yaml.org,2002:map", construct_mapping)
    Loader.add_constructor("tag:yaml.org,2002:omap", refuse_tag)
    Loader.add_constructor("tag:yaml.org,2002:seq", construct_sequence)
    Loader.add_constructor(None, refuse_tag)  # any tag not known as safe plain data
    return Loader


def read_text(text: str, filename: str) -> Any:
    """Parse one YAML document into located plain data; raise SpecError with the parser's position."""
    loader = _loader_class(filename)(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        where = error.problem_mark or error.context_mark
        location = Location(filename, where.line + 1, where.column + 1) if where else None
        problem = error.problem or "invalid YAML"
        raise SpecError(f"YAML syntax: {problem}", location) from None
    except yaml.YAMLError as error:
        raise SpecError(f"YAML syntax: {error}", Location(filename, 1, 1)) from None
    except RecursionError:
        raise SpecError("the YAML document is nested too deeply", Location(filename, 1, 1)) from None
    finally:
        loader.dispose()


def read_source(path: str) -> tuple[str, str]:
    """The text of a spec file (or of standard input for '-') and its display name."""
    import sys

    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a directory, not a spec file") from None
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror}") from None
    try:
        return raw.decode("utf-8-sig"), path
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SpecError(
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x})", Location(path, line, 1)
        ) from None


def read_file(path: str) -> tuple[Any, str]:
    """Read a spec file (or standard input for '-') and parse it; returns (data, display name)."""
    text, name = read_source(path)
    return read_text(text, name), name
