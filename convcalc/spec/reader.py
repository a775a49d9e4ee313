"""The YAML reader: spec text -> plain data that remembers where every value was written.

Mappings become :class:`Located` dicts and sequences :class:`LocatedList` lists; both carry the
location of the node itself and of each key and value, so that later stages can point at the
exact line of a mistake. Only YAML's safe, plain-data tags are accepted: specs never construct
Python objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.composer import Composer

from convcalc.core.errors import Location, SpecError
from convcalc.core.files import opened
from convcalc.core.text import clip, describe_character, first_unsafe

try:  # libyaml's parser is several times faster; constructors stay in Python, so marks survive.

    class _CLoader(Composer, yaml.CSafeLoader):
        """libyaml's parser with PyYAML's composer: libyaml's own composer recurses in C and crashes on deep input."""

        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            Composer.__init__(self)

    _BaseLoader: type[yaml.SafeLoader] = _CLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader
FAST_LOADER = _BaseLoader
"""The loader specs are read with (without convcalc's limits and located values): to compose the same text."""

MAX_NODES = 100_000
"""Upper bound on YAML nodes in one document (aliases included), against 'billion laughs' inputs."""
MAX_NESTING = 100
"""Deepest nesting of YAML mappings and sequences in one document."""
MAX_BYTES = 16 * 2**20
"""Largest spec file read (16 MiB), so that a device or an endless pipe given by mistake is refused."""


MERGE_TAG = "tag:yaml.org,2002:merge"
COLLECTION_TAGS: dict[str, tuple[type[yaml.Node], str]] = {
    "tag:yaml.org,2002:map": (yaml.MappingNode, "a mapping {...}"),
    "tag:yaml.org,2002:seq": (yaml.SequenceNode, "a list [...]"),
}
"""Tags that only a mapping or a list can carry (``!!map [1, 2]`` is a mistake, not data)."""


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


class _SpecLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader with convcalc's limits (nodes and nesting counted while composing), located values,
    and only plain-data tags."""

    def __init__(self, text: str, filename: str) -> None:
        super().__init__(text)
        self.filename = filename
        self.nodes_seen = 0
        self.depth = 0

    def mark(self, m: yaml.Mark) -> Location:
        return Location(self.filename, m.line + 1, m.column + 1)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.nodes_seen += 1  # counted as composed, so a huge document is refused before it is all read
        if self.nodes_seen > MAX_NODES:
            raise SpecError(
                f"the document has more than {MAX_NODES:,} YAML nodes (aliases counted); refusing to read it",
                self.mark(self.peek_event().start_mark),
            )
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise SpecError(
                    f"the YAML is nested more than {MAX_NESTING} levels deep", self.mark(self.peek_event().start_mark)
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        expected = COLLECTION_TAGS.get(node.tag)
        if expected is not None and not isinstance(node, expected[0]):
            raise SpecError(f"the tag '{_short_tag(node)}' needs {expected[1]} here", self.mark(node.start_mark))
        try:
            value = super().construct_object(node, deep)
        except (ValueError, OverflowError, ArithmeticError, LookupError, TypeError, AttributeError) as error:
            raise _unreadable(node, error, self.mark(node.start_mark)) from None
        if isinstance(value, str):
            unsafe = first_unsafe(value)
            if unsafe is not None:
                raise SpecError(
                    f"the text {_snippet(node)} holds the control character {describe_character(value[unsafe])}",
                    self.mark(node.start_mark),
                    hint="a spec's names and text are printed to terminals and files: write it without one",
                )
        return value


def _construct_mapping(loader: _SpecLoader, node: yaml.MappingNode) -> Iterator[Located]:
    result = Located()
    result.location = loader.mark(node.start_mark)
    result.key_locations = {}
    result.value_locations = {}
    yield result
    for key_node, value_node in _merged_pairs(loader, node):  # keys the mapping does not write itself, once each
        _set(loader, result, _key(loader, key_node), key_node, value_node)
    written: set[Any] = set()
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            continue
        key = _key(loader, key_node)
        if key in written:
            raise SpecError(
                f"duplicate key '{clip(str(key))}' (first written at line {result.key_locations[key].line})",
                loader.mark(key_node.start_mark),
            )
        written.add(key)
        _set(loader, result, key, key_node, value_node)


def _set(loader: _SpecLoader, mapping: Located, key: Any, key_node: yaml.Node, value_node: yaml.Node) -> None:
    mapping[key] = loader.construct_object(value_node, deep=True)
    mapping.key_locations[key] = loader.mark(key_node.start_mark)
    mapping.value_locations[key] = loader.mark(value_node.start_mark)


def _key(loader: _SpecLoader, key_node: yaml.Node) -> Any:
    key = loader.construct_object(key_node, deep=True)
    try:
        hash(key)
    except TypeError:
        raise SpecError(
            "a mapping key must be a plain value, not a list or mapping", loader.mark(key_node.start_mark)
        ) from None
    return key


def _merged_pairs(loader: _SpecLoader, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """The pairs that merge keys (``<<: *base`` or ``<<: [*a, *b]``) bring into a mapping, as YAML's merge key
    says: a key the mapping writes itself is not merged, and among merged mappings the first that has a key wins
    (whatever order PyYAML's own flattening would give)."""
    own = {_key(loader, key) for key, _ in node.value if key.tag != MERGE_TAG}
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag != MERGE_TAG:
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise SpecError(
                    "a merge key (<<) takes a mapping or a list of mappings", loader.mark(source.start_mark)
                )
            inner = _merged_pairs(loader, source) + [pair for pair in source.value if pair[0].tag != MERGE_TAG]
            for pair in inner:
                key = _key(loader, pair[0])
                if key not in own:
                    own.add(key)
                    pairs.append(pair)
    return pairs


def _construct_sequence(loader: _SpecLoader, node: yaml.SequenceNode) -> Iterator[LocatedList]:
    result = LocatedList()
    result.location = loader.mark(node.start_mark)
    result.item_locations = [loader.mark(child.start_mark) for child in node.value]
    yield result
    result.extend(loader.construct_object(child, deep=True) for child in node.value)


def _refuse_tag(loader: _SpecLoader, node: yaml.Node) -> None:
    raise SpecError(f"unsupported YAML tag '{node.tag}': a spec holds plain data only", loader.mark(node.start_mark))


_SpecLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_SpecLoader.add_constructor("tag:yaml.org,2002:omap", _refuse_tag)
_SpecLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_SpecLoader.add_constructor(None, _refuse_tag)  # any tag not known as safe plain data
_SpecLoader.add_implicit_resolver(  # YAML 1.2's floats too: 1e-6 (YAML 1.1 wants 1.0e-6 and reads 1e-6 as text)
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"), list("-+0123456789.")
)


def reads_as_text(value: str) -> bool:
    """Whether ``value`` written plain (unquoted) reads back as this text: not as a boolean, null or number (YAML
    1.1's On, NULL and ~, YAML 1.2's 1e-6), as the spec reader resolves plain scalars."""
    resolvers = _SpecLoader.yaml_implicit_resolvers
    candidates = [*resolvers.get(value[:1], []), *resolvers.get(None, [])]
    return not any(pattern.match(value) for _, pattern in candidates)


def _snippet(node: yaml.Node) -> str:
    return f"'{clip(str(node.value)) if isinstance(node, yaml.ScalarNode) else node.tag}'"


def _short_tag(node: yaml.Node) -> str:
    """'!!int' for YAML's 'tag:yaml.org,2002:int'."""
    return str(node.tag).replace("tag:yaml.org,2002:", "!!")


def _unreadable(node: yaml.Node, error: Exception, where: Location) -> SpecError:
    """A value its YAML tag cannot read (``!!bool maybe``, ``!!int abc``, ``!!timestamp foo``, 5,000 digits)."""
    text = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
    if node.tag == "tag:yaml.org,2002:int" and re.fullmatch(r"[-+]?[0-9_]{101,}", text):
        return SpecError(f"the number {_snippet(node)} is too large", where)
    tag = _short_tag(node)
    reason = f": {error}" if tag == "!!timestamp" and isinstance(error, ValueError) else ""  # month must be in 1..12
    return SpecError(f"cannot read the value {_snippet(node)} as {tag}{reason}", where, hint="quote it as text")


def _offset_location(text: str, offset: int, filename: str) -> Location:
    """The line and column of a character offset."""
    before = text[:offset]
    return Location(filename, before.count("\n") + 1, offset - before.rfind("\n"))


def _yaml_error(error: yaml.YAMLError, text: str, filename: str) -> SpecError:
    """PyYAML's error as a SpecError at the parser's position, with its context ('while parsing ... at line L')."""
    if isinstance(error, yaml.reader.ReaderError):  # libyaml gives the offset in UTF-8 bytes
        offset = len(text.encode("utf-8")[: error.position].decode("utf-8", "ignore"))
        where = _offset_location(text, offset, filename)
        return SpecError(f"YAML: {error.reason} (character #x{error.character:04x})", where)
    if not isinstance(error, yaml.MarkedYAMLError):
        return SpecError(f"YAML: {error}", Location(filename, 1, 1))
    label = "YAML syntax" if isinstance(error, (yaml.scanner.ScannerError, yaml.parser.ParserError)) else "YAML"
    mark = error.problem_mark or error.context_mark
    where = Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename, 1, 1)
    message = f"{label}: {error.problem or error.context or 'invalid YAML'}"
    if error.problem and error.context and error.context_mark:
        started = Location(filename, error.context_mark.line + 1, error.context_mark.column + 1)
        at = f"line {started.line}, column {started.column}"
        if error.problem.startswith("but "):  # PyYAML's two halves of one sentence
            message = f"{label}: {error.context} (at {at}), {error.problem}"
        elif started != where:
            message += f" ({error.context} at {at})"
    lines = text.splitlines()
    tab = where.line <= len(lines) and "\t" in lines[where.line - 1][: where.column]
    return SpecError(message, where, hint="YAML does not allow tabs for indentation; use spaces" if tab else None)


def read_text(text: str, filename: str) -> Any:
    """Parse one YAML document into located plain data; raise SpecError with the parser's position."""
    if "\x00" in text:  # libyaml would silently stop reading there
        where = _offset_location(text, text.index("\x00"), filename)
        raise SpecError("the file contains a NUL character: is it a binary file?", where)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, from text decoded with errors="surrogateescape"
        raise SpecError("the text is not valid Unicode", _offset_location(text, error.start, filename)) from None
    loader = _SpecLoader(text, filename)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise _yaml_error(error, text, filename) from None
    except RecursionError:
        raise SpecError("the YAML document is nested too deeply", Location(filename, 1, 1)) from None
    finally:
        loader.dispose()


def read_source(path: str) -> tuple[str, str]:
    """The text of a spec file (or of standard input for '-') and its display name."""
    import sys

    if path == "-":
        stream = sys.stdin  # bytes, so that standard input is decoded and checked exactly like a file
        if stream is None or stream.closed:  # `convcalc analyze - <&-`
            raise SpecError("standard input is closed: give a spec file, or pipe one in")
        try:
            raw = stream.buffer.read(MAX_BYTES + 1) if hasattr(stream, "buffer") else stream.read().encode()
        except OSError as error:
            raise SpecError(f"standard input: cannot read: {error.strerror}") from None
        return _decode(raw, "<stdin>"), "<stdin>"
    with opened(path, "a spec file") as handle:
        raw = handle.read(MAX_BYTES + 1)
    return _decode(raw, path), path


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark is dropped), or a SpecError at the first byte that is not."""
    if len(raw) > MAX_BYTES:
        raise SpecError(f"{name}: more than {MAX_BYTES // 2**20} MiB; is it a spec?")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start].decode("utf-8-sig")  # decoding failed only at error.start
        utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
        raise SpecError(
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x})",
            _offset_location(before, len(before), name),
            hint="it looks like UTF-16; save it as UTF-8" if utf16 else "save it as UTF-8",
        ) from None
