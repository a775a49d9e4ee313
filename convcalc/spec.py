"""The spec: located YAML data -> a checked tree of layers, blocks expanded, names resolved.

This is where the spec language lives: top-level keys, per-type ``defaults``, parameterised
``blocks`` with ``${...}`` substitution, ``repeat``, hierarchical default names, ``concat``
branches, ``residual`` bodies and named inputs. Every error names the file, line and layer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from convcalc.errors import Location, SpecError
from convcalc.expr import ExpressionError, substitute
from convcalc.keys import Key, describe, positive_int, shown
from convcalc.layers import CATALOGUE, Config, LayerKind, Shape
from convcalc.reader import Located, LocatedList, location_of

MAX_LAYERS = 10_000
"""Most layers one spec may expand to: blocks, repeats and YAML aliases multiplied out; block instances,
residuals and concats of branches count as one layer each besides their contents."""
MAX_DEPTH = 100
"""Deepest nesting of blocks, branches and residuals."""
FLOOR_BUDGET = 100_000
"""Most entries the up-front size estimate looks at (see ``expansion_floor``)."""
NETWORK_INPUT = "input"
"""The name by which any layer can read the network's input."""

TOP_LEVEL_KEYS = ("name", "description", "input", "defaults", "blocks", "layers")
BLOCK_KEYS = ("params", "layers", "description")
ENTRY_KEYS = ("type", "name", "input", "repeat", "first")
NESTED_LAYER_KEYS = ("body", "shortcut", "branches")
"""Keys holding layer lists: their ``${...}`` are substituted when the nested entries are expanded."""
FIRST_FIXED_KEYS = ("type", "block", "name", "repeat", "first")
"""Keys that ``first`` (the overrides for copy 0 of a ``repeat``) cannot change."""
STRUCTURES = ("residual",)


class Layer(NamedTuple):
    """One layer of a catalogue kind; ``inputs`` are absolute names, empty for the previous output."""

    name: str
    kind: LayerKind
    config: Config
    inputs: tuple[str, ...]
    location: Location


class Branches(NamedTuple):
    """Parallel paths from one input, joined by concatenating their outputs on channels."""

    name: str
    branches: tuple[tuple[Node, ...], ...]
    input: str | None
    location: Location


class Residual(NamedTuple):
    """body(x) + shortcut(x); no shortcut means the identity."""

    name: str
    body: tuple[Node, ...]
    shortcut: tuple[Node, ...] | None
    input: str | None
    location: Location


class Group(NamedTuple):
    """The layers of one block instance, run in sequence."""

    name: str
    block: str
    layers: tuple[Node, ...]
    input: str | None
    location: Location


Node = Layer | Branches | Residual | Group


@dataclass(frozen=True, slots=True)
class Spec:
    """A network ready for the engine."""

    name: str
    source: str
    input_shape: Shape
    layers: tuple[Node, ...]
    layer_count: int
    description: str = ""


class BlockDef(NamedTuple):
    name: str
    params: Mapping[str, Any]  # name -> default (REQUIRED_PARAM when none)
    layers: LocatedList
    location: Location


REQUIRED_PARAM: Any = object()


def nearest(word: str, options: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt key, type or name."""
    import difflib  # only when reporting an error

    if isinstance(word, (list, dict)):  # str() of an aliased structure could be astronomically long
        return None
    match = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


@dataclass
class Scope:
    """Where an entry is expanded: the name prefix, per-type counters for default names, block params.

    ``written`` holds the names given explicitly in this scope's list, which default names avoid.
    """

    prefix: str
    env: Mapping[str, Any]
    depth: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)

    def full(self, local: str) -> str:
        return f"{self.prefix}.{local}" if self.prefix else local

    def enter(self, prefix: str, env: Mapping[str, Any] | None = None) -> Scope:
        """The scope inside the node named ``prefix`` (a full name)."""
        return Scope(prefix, self.env if env is None else env, self.depth + 1)


def build_spec(document: Any, source: str) -> Spec:
    """Check a parsed spec document and expand it into a :class:`Spec`."""
    return _Builder(source).build(document)


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.start = Location(source, 1, 1)
        self.defaults: dict[str, Located] = {}
        self.blocks: dict[str, BlockDef] = {}
        self.names: dict[str, Location] = {NETWORK_INPUT: self.start}
        self.pending: set[str] = set()  # names of nodes being expanded: not readable yet
        self.layer_count = 0
        self.expanded = 0
        self.floor_budget = 0
        self.block_stack: list[str] = []
        self.document = Located()

    # --- top level ------------------------------------------------------------------------------

    def build(self, document: Any) -> Spec:
        if document is None:
            raise SpecError("the spec is empty; it needs at least 'input' and 'layers'", self.start)
        if not isinstance(document, Located):
            raise SpecError(
                f"the top level of a spec must be a mapping with 'input' and 'layers', not {describe(document)}",
                location_of(document, self.start),
            )
        self.document = document
        self.check_keys(document, TOP_LEVEL_KEYS, "the top level")
        for required in ("input", "layers"):
            if required not in document:
                raise SpecError(f"the spec has no '{required}'", document.location)
        name = document.get("name", self.source)
        if not isinstance(name, str):
            raise SpecError("'name' must be text", document.value_at("name"))
        description = document.get("description", "")
        if not isinstance(description, str):
            raise SpecError("'description' must be text", document.value_at("description"))
        input_shape = self.input_shape(document["input"], document.value_at("input"))
        self.read_defaults(document.get("defaults"), document.value_at("defaults"))
        self.read_blocks(document.get("blocks"), document.value_at("blocks"))
        envs: tuple[dict[str, Any] | None, ...] = (None, {})  # blocks and aliases alone, then ${...} evaluated
        for env in envs:
            self.floor_budget = FLOOR_BUDGET
            self.expansion_floor(document["layers"], env, {}, 0)
        layers = self.entries(document["layers"], document.value_at("layers"), Scope("", {}), "'layers'")
        if not layers:
            raise SpecError("'layers' is empty", document.value_at("layers"))
        return Spec(name, self.source, input_shape, layers, self.layer_count, description)

    def input_shape(self, value: Any, at: Location) -> Shape:
        form = "[channels, height, width] or {channels: C, height: H, width: W}"
        if isinstance(value, Located):
            self.check_keys(value, ("channels", "height", "width"), "'input'")
            missing = [k for k in ("channels", "height", "width") if k not in value]
            if missing:
                raise SpecError(f"'input' is missing {', '.join(missing)}; expected {form}", at)
            items = [(value[k], value.value_at(k)) for k in ("channels", "height", "width")]
        elif isinstance(value, LocatedList) and len(value) in (1, 3):
            items = [(n, value.item_at(i)) for i, n in enumerate(value)]
        else:
            raise SpecError(f"'input' must be {form} (or [features] for a flat input)", at)
        shape = []
        for number, where in items:
            try:
                shape.append(positive_int(number))
            except ValueError as error:
                raise SpecError(f"'input': {error}", where) from None
        return tuple(shape)

    def read_defaults(self, defaults: Any, at: Location) -> None:
        if defaults is None:
            return
        if not isinstance(defaults, Located):
            raise SpecError("'defaults' must map layer types to keys, e.g. {conv: {bias: false}}", at)
        for type_name, keys in defaults.items():
            where = defaults.key_at(type_name)
            if type_name not in CATALOGUE:
                raise SpecError(
                    f"'defaults' names unknown layer type '{type_name}'", where, hint=nearest(type_name, CATALOGUE)
                )
            if not isinstance(keys, Located):
                raise SpecError(f"'defaults' for {type_name} must be a mapping of keys", defaults.value_at(type_name))
            self.check_keys(keys, [k.name for k in CATALOGUE[type_name].keys], f"'defaults' for {type_name}")
            self.defaults[type_name] = keys

    def read_blocks(self, blocks: Any, at: Location) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, Located):
            raise SpecError("'blocks' must map block names to {params: ..., layers: [...]}", at)
        for name, body in blocks.items():
            where = blocks.key_at(name)
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w\-]*", name):
                raise SpecError(f"block name {shown(name)} must be a word (letters, digits, _ and -)", where)
            if not isinstance(body, Located):
                raise SpecError(f"block '{name}' must be a mapping with 'layers'", blocks.value_at(name))
            self.check_keys(body, BLOCK_KEYS, f"block '{name}'")
            layers = body.get("layers")
            if not isinstance(layers, LocatedList) or not layers:
                raise SpecError(f"block '{name}' needs a non-empty list of 'layers'", body.value_at("layers"))
            self.blocks[name] = BlockDef(name, self.block_params(name, body), layers, where)

    def block_params(self, block: str, body: Located) -> dict[str, Any]:
        raw = body.get("params")
        if raw is None:
            return {}
        if isinstance(raw, LocatedList):  # a list of names: all required
            items = [(name, None, raw.item_at(index)) for index, name in enumerate(raw)]
        elif isinstance(raw, Located):
            items = [(name, default, raw.key_at(name)) for name, default in raw.items()]
        else:
            raise SpecError(f"'params' of block '{block}' must map names to defaults", body.value_at("params"))
        params: dict[str, Any] = {}
        for name, default, where in items:
            if not isinstance(name, str) or not name.isidentifier() or name in (*ENTRY_KEYS, "block"):
                raise SpecError(
                    f"block parameter {shown(name)} must be an identifier other than {', '.join(ENTRY_KEYS)}, block",
                    where,
                )
            params[name] = REQUIRED_PARAM if default is None else default
        return params

    # --- entries --------------------------------------------------------------------------------

    def entries(self, raw: Any, at: Location, scope: Scope, what: str) -> tuple[Node, ...]:
        if not isinstance(raw, LocatedList):
            raise SpecError(f"{what} must be a list of layers", location_of(raw, at))
        if scope.depth > MAX_DEPTH:
            raise SpecError(f"blocks, branches and residuals are nested more than {MAX_DEPTH} deep", at)
        given = (entry.get("name") for entry in raw if isinstance(entry, Located))
        scope.written |= {scope.full(name) for name in given if isinstance(name, str)}
        nodes: list[Node] = []
        for index, entry in enumerate(raw):
            nodes.extend(self.entry(entry, raw.item_at(index), scope))
        return tuple(nodes)

    def entry(self, raw: Any, at: Location, scope: Scope) -> list[Node]:
        if not isinstance(raw, Located):
            hint = "write it as {type: relu}" if isinstance(raw, str) else None
            raise SpecError(
                f"a layer must be a mapping such as {{type: conv, ...}}, not {describe(raw)}", at, hint=hint
            )
        entry = self.substituted(raw, scope)
        name = entry.get("name")
        if "block" in entry:
            make = self.block_instance
        elif "type" in entry:
            make = self.layer
        else:
            raise SpecError("a layer needs a 'type' (or 'block' for a block instance)", at)
        if name is not None and (not isinstance(name, str) or not re.fullmatch(r"[^\s.]+", name)):
            raise SpecError(f"layer name {shown(name)} must be text without spaces or dots", entry.value_at("name"))
        if "repeat" not in entry:
            if "first" in entry:
                raise SpecError(
                    "'first' sets keys of the first copy of a 'repeat', but there is no 'repeat'", entry.key_at("first")
                )
            return [make(entry, scope, name)]
        count = self.integer(entry, "repeat", minimum=0)
        first = self.first_copy(entry, scope) if "first" in entry else entry
        nodes: list[Node] = []
        for index in range(count):
            before = self.expanded
            nodes.append(make(entry if index else first, scope, f"{name}.{index}" if name else None))
            per_copy = self.expanded - before
            if per_copy * (count - index - 1) + self.expanded > MAX_LAYERS:
                raise SpecError(
                    f"repeat: {count:,} expands the spec past {MAX_LAYERS:,} layers", entry.value_at("repeat")
                )
        return nodes

    def substituted(self, raw: Located, scope: Scope) -> Located:
        """A copy of an entry with its ``${...}`` substituted, keeping every location."""
        name = raw.get("name")
        label = scope.full(name) if isinstance(name, str) and "${" not in name else scope.prefix  # for messages
        copy = Located(
            {
                k: v if k in NESTED_LAYER_KEYS else self.substitute(v, raw.value_at(k), scope, k, label)
                for k, v in raw.items()
            }
        )
        copy.location, copy.key_locations, copy.value_locations = raw.location, raw.key_locations, raw.value_locations
        return copy

    def first_copy(self, entry: Located, scope: Scope) -> Located:
        """The entry with its ``first`` overrides applied: what copy 0 of a ``repeat`` is built from."""
        raw = entry["first"]
        if not isinstance(raw, Located):
            raise SpecError(
                "'first' must map keys to their values for the first copy, e.g. {stride: 2}", entry.value_at("first")
            )
        for key in raw:
            if key in FIRST_FIXED_KEYS:
                raise SpecError(
                    f"'first' cannot change '{key}'",
                    raw.key_at(key),
                    hint=f"'first' may set any key except {', '.join(FIRST_FIXED_KEYS)}",
                )
        overrides = self.substituted(raw, scope)
        merged = Located({**{k: v for k, v in entry.items() if k != "first"}, **overrides})
        merged.location = entry.location
        merged.key_locations = {**entry.key_locations, **overrides.key_locations}
        merged.value_locations = {**entry.value_locations, **overrides.value_locations}
        return merged

    def layer(self, entry: Located, scope: Scope, name: str | None) -> Node:
        type_name = entry["type"]
        at = entry.location
        if type_name == "residual":
            return self.residual(entry, scope, name)
        if type_name == "concat" and "branches" in entry:
            return self.branches(entry, scope, name)
        kind = CATALOGUE.get(type_name) if isinstance(type_name, str) else None
        if kind is None:
            what = (
                f"unknown layer type '{type_name}'"
                if isinstance(type_name, str)
                else f"'type' is {describe(type_name)}"
            )
            raise SpecError(
                what,
                entry.value_at("type"),
                layer=scope.full(name) if name else None,
                hint=nearest(type_name, [*CATALOGUE, *STRUCTURES]) or f"layer types: {', '.join(CATALOGUE)}",
            )
        full = self.reserve_name(name, type_name, scope, at)
        input_key = "inputs" if kind.many_inputs else "input"
        self.check_keys(
            entry,
            (*(input_key if k == "input" else k for k in ENTRY_KEYS), *(k.name for k in kind.keys)),
            f"a {type_name} layer",
            layer=full,
        )
        self.expand(at)
        self.layer_count += 1
        config = {key.name: self.config_value(entry, key, type_name, full) for key in kind.keys}
        if kind.many_inputs:
            if "inputs" not in entry:
                extra = " or 'branches'" if type_name == "concat" else ""
                raise SpecError(f"{type_name} needs 'inputs: [a, b]'{extra}", at, layer=full, kind=type_name)
            inputs = self.references(entry, "inputs", scope, full)
        else:
            inputs = (self.reference(entry, scope, full),) if "input" in entry else ()
        self.commit_name(full, at)
        return Layer(full, kind, config, inputs, at)

    def branches(self, entry: Located, scope: Scope, name: str | None) -> Node:
        full = self.reserve_name(name, "concat", scope, entry.location)
        self.check_keys(entry, (*ENTRY_KEYS, "branches"), "a concat of branches", layer=full)
        self.expand(entry.location)
        raw = entry["branches"]
        at = entry.value_at("branches")
        if isinstance(raw, Located):
            labelled = [(str(label), value, raw.value_at(label)) for label, value in raw.items()]
        elif isinstance(raw, LocatedList):
            labelled = [(str(i), value, raw.item_at(i)) for i, value in enumerate(raw)]
        else:
            raise SpecError(
                "'branches' must be a list of layer lists (or a mapping of name to layer list)",
                at,
                layer=full,
                kind="concat",
            )
        if not labelled:
            raise SpecError("'branches' is empty", at, layer=full, kind="concat")
        input_name = self.reference(entry, scope, full) if "input" in entry else None
        paths = tuple(
            self.entries(value, where, scope.enter(f"{full}.{label}"), f"branch {label}")
            for label, value, where in labelled
        )
        self.commit_name(full, entry.location)
        return Branches(full, paths, input_name, entry.location)

    def residual(self, entry: Located, scope: Scope, name: str | None) -> Node:
        full = self.reserve_name(name, "residual", scope, entry.location)
        self.check_keys(entry, (*ENTRY_KEYS, "body", "shortcut"), "a residual", layer=full)
        self.expand(entry.location)
        if "body" not in entry:
            raise SpecError("residual needs a 'body' list of layers", entry.location, layer=full, kind="residual")
        input_name = self.reference(entry, scope, full) if "input" in entry else None
        body = self.entries(entry["body"], entry.value_at("body"), scope.enter(f"{full}.body"), "'body'")
        raw_shortcut = entry.get("shortcut")
        shortcut = None
        if raw_shortcut:
            shortcut = self.entries(
                raw_shortcut, entry.value_at("shortcut"), scope.enter(f"{full}.shortcut"), "'shortcut'"
            )
        self.commit_name(full, entry.location)
        return Residual(full, body, shortcut, input_name, entry.location)

    def block_instance(self, entry: Located, scope: Scope, name: str | None) -> Node:
        block_name = entry["block"]
        at = entry.location
        block = self.blocks.get(block_name) if isinstance(block_name, str) else None
        if block is None:
            raise SpecError(
                f"unknown block {shown(block_name)}",
                entry.value_at("block"),
                hint=nearest(block_name, self.blocks) or _defined(self.blocks),
            )
        if block_name in self.block_stack:
            cycle = " -> ".join([*self.block_stack[self.block_stack.index(block_name) :], block_name])
            raise SpecError(f"block '{block_name}' uses itself: {cycle}", at, hint="a block cannot contain itself")
        full = self.reserve_name(name, block_name, scope, at)
        self.check_keys(
            entry,
            ("block", *ENTRY_KEYS[1:], *block.params),
            f"block '{block_name}'",
            layer=full,
            noun="parameter",
        )
        self.expand(at)
        env = dict(block.params)
        env.update({k: v for k, v in entry.items() if k in block.params})
        missing = [k for k, v in env.items() if v is REQUIRED_PARAM]
        if missing:
            raise SpecError(
                f"block '{block_name}' needs parameter(s) {', '.join(missing)}",
                at,
                layer=full,
                hint=f"write them in the block instance, e.g. {{block: {block_name}, {missing[0]}: ...}}",
            )
        input_name = self.reference(entry, scope, full) if "input" in entry else None
        self.block_stack.append(block_name)
        layers = self.entries(block.layers, at, scope.enter(full, env), f"block '{block_name}'")
        self.block_stack.pop()
        self.commit_name(full, at)
        return Group(full, block_name, layers, input_name, at)

    # --- values -----------------------------------------------------------------------------------

    def substitute(self, value: Any, at: Location, scope: Scope, key: str, layer: str) -> Any:
        """``${...}`` replaced by block parameters in a value of ``key`` (an error names the key and the layer)."""
        try:
            if isinstance(value, str):
                return substitute(value, scope.env)
            if isinstance(value, LocatedList):  # one level: [h, w] or a list of names; deeper lists are never valid
                copy = LocatedList(substitute(v, scope.env) if isinstance(v, str) else v for v in value)
                copy.location, copy.item_locations = value.location, value.item_locations
                return copy
        except ExpressionError as error:
            raise SpecError(f"'{key}': {error}", at, layer=layer or None) from None
        return value

    def config_value(self, entry: Located, key: Key, type_name: str, layer: str) -> Any:
        source: Located | None = entry if key.name in entry else self.defaults.get(type_name)
        if source is None or key.name not in source:
            if key.required:
                raise SpecError(f"missing required key '{key.name}'", entry.location, layer=layer, kind=type_name)
            return key.default
        try:
            return key.convert(source[key.name])
        except ValueError as error:
            origin = "" if source is entry else " (from 'defaults')"
            raise SpecError(
                f"'{key.name}'{origin}: {error}", source.value_at(key.name), layer=layer, kind=type_name
            ) from None

    def integer(self, entry: Located, key: str, minimum: int) -> int:
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SpecError(f"'{key}' must be a whole number >= {minimum}, got {shown(value)}", entry.value_at(key))
        return value

    def check_keys(
        self, mapping: Located, allowed: Iterable[str], where: str, *, layer: str | None = None, noun: str = "key"
    ) -> None:
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                raise SpecError(
                    f"unknown {noun} '{key}' for {where}",
                    mapping.key_at(key),
                    layer=layer,
                    hint=nearest(key, allowed) or f"expected one of: {', '.join(allowed)}",
                )

    # --- names ------------------------------------------------------------------------------------

    def default_name(self, scope: Scope, base: str) -> str:
        while True:
            scope.counters[base] = scope.counters.get(base, 0) + 1
            candidate = scope.full(f"{base}{scope.counters[base]}")
            if candidate not in self.names and candidate not in scope.written:
                return candidate

    def reserve_name(self, name: str | None, base: str, scope: Scope, at: Location) -> str:
        """The full name of a node; it becomes readable by later layers once committed."""
        full = scope.full(name) if name else self.default_name(scope, base)
        if full in self.names:
            first = self.names[full]
            raise SpecError(f"duplicate layer name '{full}' (first used at line {first.line})", at, layer=full)
        self.pending.add(full)
        return full

    def commit_name(self, full: str, at: Location) -> None:
        self.pending.discard(full)
        self.names[full] = at

    def reference(self, entry: Located, scope: Scope, layer: str) -> str:
        return self.resolve(entry["input"], entry.value_at("input"), scope, layer)

    def references(self, entry: Located, key: str, scope: Scope, layer: str) -> tuple[str, ...]:
        raw = entry[key]
        at = entry.value_at(key)
        if not isinstance(raw, LocatedList) or not raw:
            raise SpecError(f"'{key}' must be a list of layer names", at, layer=layer)
        return tuple(self.resolve(ref, raw.item_at(i), scope, layer) for i, ref in enumerate(raw))

    def resolve(self, ref: Any, at: Location, scope: Scope, layer: str) -> str:
        """A name as seen from a scope: the innermost enclosing scope that defines it wins."""
        if not isinstance(ref, str):
            raise SpecError(f"a layer reference must be a name, not {describe(ref)}", at, layer=layer)
        parts = scope.prefix.split(".") if scope.prefix else []
        for depth in range(len(parts), -1, -1):
            candidate = ".".join([*parts[:depth], ref])
            if candidate in self.names:
                return candidate
            if candidate in self.pending:
                whose = "its own output" if candidate == layer else f"the output of '{candidate}', which contains it"
                raise SpecError(f"a layer cannot read {whose}", at, layer=layer)
        later = self.written_after(ref, at)
        if later:
            raise SpecError(
                f"'{ref}' is defined later, at line {later.line}",
                at,
                layer=layer,
                hint="a layer can only read the outputs of layers before it",
            )
        raise SpecError(
            f"no earlier layer is named '{ref}'",
            at,
            layer=layer,
            hint=nearest(ref, self.names) or "a layer can only read the outputs of layers before it",
        )

    def written_after(self, ref: str, at: Location) -> Location | None:
        """Where a layer named ``ref`` is written after ``at``, if anywhere (searched only for an error message)."""
        local = ref.rsplit(".", 1)[-1]
        stack: list[Any] = [self.document]
        seen: set[int] = set()
        found: list[Location] = []
        while stack:
            value = stack.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, Located):
                if value.get("name") == local and ("type" in value or "block" in value):
                    found.append(value.location)
                stack.extend(value.values())
            elif isinstance(value, LocatedList):
                stack.extend(value)
        return min((w for w in found if (w.line, w.column) > (at.line, at.column)), key=_position, default=None)

    # --- limits -----------------------------------------------------------------------------------

    def expand(self, at: Location) -> None:
        """Count one node (a layer, block instance, residual or concat of branches) against MAX_LAYERS."""
        self.expanded += 1
        if self.expanded > MAX_LAYERS:
            raise SpecError(f"the spec expands to more than {MAX_LAYERS:,} layers", at)

    def expansion_floor(self, raw: Any, env: Mapping[str, Any] | None, memo: dict[Any, int], depth: int) -> int:
        """At least how many nodes a layer list expands to; a SpecError past MAX_LAYERS, before anything expands.

        Repeats, blocks and YAML aliases are multiplied out, but a list used many times (a block's layers with
        the same parameters, an aliased list) is counted once, so 'billion laughs' documents are refused at once.
        With ``env`` (block parameters), ``${...}`` repeats are evaluated; without, they count 0, and so does
        whatever cannot be evaluated or comes after FLOOR_BUDGET entries: the expansion itself checks the rest.
        """
        if not isinstance(raw, LocatedList) or depth > MAX_DEPTH or self.floor_budget <= 0:
            return 0
        key = (id(raw), None if env is None else tuple(sorted((k, v) for k, v in env.items() if type(v) is int)))
        if key in memo:
            return memo[key]
        memo[key] = 0  # a list inside itself (a block cycle) adds nothing here; the expansion reports the cycle
        total = 0
        for index, entry in enumerate(raw):
            self.floor_budget -= 1
            if not isinstance(entry, Located):
                continue
            copies = _count(entry.get("repeat", 1), env)
            inner = sum(
                self.expansion_floor(child, inner_env, memo, depth + 1)
                for child, inner_env in self.children(entry, env)
            )
            total += copies * (1 + inner) - (inner if "first" in entry and copies else 0)  # 'first' may shrink copy 0
            if total > MAX_LAYERS:
                raise SpecError(
                    f"this expands the spec past {MAX_LAYERS:,} layers",
                    entry.value_at("repeat") if copies > 1 else raw.item_at(index),
                    hint="blocks, repeats and YAML aliases multiplied out",
                )
        memo[key] = total
        return total

    def children(self, entry: Located, env: Mapping[str, Any] | None) -> list[tuple[Any, Mapping[str, Any] | None]]:
        """The layer lists an entry expands, with their block parameters: a residual's body and shortcut,
        the branches of a concat, or a block's layers."""
        if "block" in entry:
            block = self.blocks.get(entry["block"]) if isinstance(entry["block"], str) else None
            if block is None:
                return []
            if env is None:
                return [(block.layers, None)]
            inner = dict(block.params)
            for name in block.params.keys() & entry.keys():
                try:
                    inner[name] = substitute(entry[name], env) if isinstance(entry[name], str) else entry[name]
                except ExpressionError:
                    inner[name] = REQUIRED_PARAM
            return [(block.layers, inner)]
        if entry.get("type") == "residual":
            return [(entry.get("body"), env), (entry.get("shortcut"), env)]
        branches = entry.get("branches") if entry.get("type") == "concat" else None
        if isinstance(branches, Located):
            return [(branch, env) for branch in branches.values()]
        return [(branch, env) for branch in branches] if isinstance(branches, LocatedList) else []


def _position(location: Location) -> tuple[int, int]:
    return location.line, location.column


def _count(repeat: Any, env: Mapping[str, Any] | None) -> int:
    """The number of copies a ``repeat`` value makes, if it can be told without expanding; else 0."""
    if isinstance(repeat, str) and env is not None:
        try:
            repeat = substitute(repeat, env)
        except ExpressionError:
            return 0
    return repeat if type(repeat) is int and repeat > 0 else 0


def _defined(blocks: Mapping[str, BlockDef]) -> str:
    return f"defined blocks: {', '.join(blocks)}" if blocks else "the spec defines no 'blocks'"
