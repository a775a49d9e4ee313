"""The spec language: located YAML data -> a flat dataflow graph, blocks and structures lowered once.

This is where the spec language lives: top-level keys, per-type ``defaults``, parameterised
``blocks`` with ``${...}`` substitution, ``repeat`` and ``first``, hierarchical default names and named
inputs (:mod:`convcalc.spec.namespace`), and the structures that hold layer lists (:mod:`convcalc.spec.structures`).
The result is a :class:`~convcalc.graph.Graph`: nothing after this module knows how the network was
written. Every error names the file, line and layer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from convcalc.core.errors import Location, SpecError, nearest
from convcalc.core.findings import WARNINGS, Finding
from convcalc.core.keys import MAX_AXES, Key, describe, positive_int, shown
from convcalc.core.tensor import Shape
from convcalc.engine.graph import MAX_LAYERS, NETWORK_INPUT, Graph, Node
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.spec.expr import KEYWORDS, ExpressionError, substitute
from convcalc.spec.hints import type_hint
from convcalc.spec.namespace import Namespace, Scope
from convcalc.spec.reader import Located, LocatedList, location_of
from convcalc.spec.shapes import SIZE_OF, ExpressionNames, LoweredShapes
from convcalc.spec.structures import (
    COPY,
    ENTRY_KEYS,
    LAYER_LIST_KEYS,
    REQUIRED_PARAM,
    STRUCTURE_TYPES,
    BlockDef,
    block_environment,
    check_keys,
    structure_of,
)

# MAX_LAYERS (engine.graph): most layers one spec may expand to: blocks, repeats and YAML aliases multiplied out;
# block instances, residuals and concats of branches count as one layer each besides their contents.
MAX_DEPTH = 100
"""Deepest nesting of blocks, branches and residuals."""
FLOOR_BUDGET = 100_000
"""Most entries the up-front size estimate looks at (see ``SizeEstimate``)."""

TOP_LEVEL_KEYS = ("name", "description", "input", "defaults", "blocks", "layers", "outputs")
BLOCK_KEYS = ("params", "layers", "description")
FIRST_FIXED_KEYS = ("type", "block", "name", "repeat", "first")
"""Keys that ``first`` (the overrides for copy 0 of a ``repeat``) cannot change."""

Spec = Graph
"""A loaded spec is its graph."""


def build_spec(document: Any, source: str, at_input: Shape | None = None) -> Graph:
    """Check a parsed spec document and lower it into a :class:`~convcalc.graph.Graph` (``at_input``: for another
    input shape than the spec's own; it matters where ``${...}`` or ``size_of`` read a layer's shape)."""
    start = Location(source, 1, 1)
    if document is None:
        raise SpecError("the spec is empty; it needs at least 'input' and 'layers'", start)
    if not isinstance(document, Located):
        raise SpecError(
            f"the top level of a spec must be a mapping with 'input' and 'layers', not {describe(document)}",
            location_of(document, start),
        )
    check_keys(document, TOP_LEVEL_KEYS, "the top level")
    for required in ("input", "layers"):
        if required not in document:
            raise SpecError(f"the spec has no '{required}'", document.location)
    name = document.get("name", source)
    if not isinstance(name, str):
        raise SpecError("'name' must be text", document.value_at("name"))
    description = document.get("description", "")
    if not isinstance(description, str):
        raise SpecError("'description' must be text", document.value_at("description"))
    shape = at_input or input_shape(document["input"], document.value_at("input"))
    builder = Builder(document, start, Graph(name, source, shape, (), NETWORK_INPUT, description))
    builder.read_defaults(document.get("defaults"), document.value_at("defaults"))
    builder.read_blocks(document.get("blocks"), document.value_at("blocks"))
    SizeEstimate(builder.blocks).check(document["layers"])
    output = builder.entries(document["layers"], document.value_at("layers"), Scope("", {}), "'layers'", NETWORK_INPUT)
    if not builder.nodes:
        raise SpecError("'layers' is empty", document.value_at("layers"))
    relower = partial(build_spec, document, source) if builder.shapes.read else None
    outputs = named_outputs(document, builder.names) if "outputs" in document else (output,)
    return Graph(name, source, shape, tuple(builder.nodes), outputs[0], description, relower, outputs[1:])


def named_outputs(document: Located, names: Namespace) -> tuple[str, ...]:
    """The nodes whose outputs the spec's ``outputs`` names, in its order (a detector's scores and boxes; without
    the key, the last layer): each by its full name, as the table shows it (a block instance, residual or concat by
    its own name: its output), once."""
    raw, at = document["outputs"], document.value_at("outputs")
    if isinstance(raw, list) and not raw:
        raise SpecError("'outputs' is empty: name the layers the network hands out, or leave the key out", at)
    if not isinstance(raw, list):
        raise SpecError(f"'outputs' must be a list of layer names, not {describe(raw)}", at)
    found: dict[str, None] = {}
    for index, name in enumerate(raw):
        where = raw.item_at(index) if isinstance(raw, LocatedList) else at
        if not isinstance(name, str):
            raise SpecError(f"'outputs' lists layer names, not {describe(name)}", where)
        if name not in names.defined:
            copies = names.copies(name, [])
            hint = (
                f"it is repeated: name a copy, '{name}.0' to '{copies[-1]}'"
                if copies
                else nearest(name, names.defined) or "a layer inside a block has its full name, as the table shows it"
            )
            raise SpecError(f"'outputs' names '{name}', which is no layer of the network", where, hint=hint)
        if names.producers[name] == NETWORK_INPUT:
            said = "the network's input" if name == NETWORK_INPUT else f"'{name}', which passes the network's input on"
            raise SpecError(f"'outputs' names {said}: a network hands out what it computes", where)
        if names.producers[name] in found:
            raise SpecError(f"'outputs' names the output of '{names.producers[name]}' twice", where)
        found[names.producers[name]] = None
    return tuple(found)


INPUT_AXES = (("channels", "length"), ("channels", "height", "width"), ("channels", "depth", "height", "width"))
"""The keys of the input written as a mapping: a 1-D, 2-D or 3-D feature map."""


def input_shape(value: Any, at: Location) -> Shape:
    """The network's input: [features] (flat), [channels, length], [channels, height, width] or [channels, depth,
    height, width], or the same as a mapping ({channels: C, height: H, width: W})."""
    form = "[channels, height, width] or {channels: C, height: H, width: W}"
    if isinstance(value, Located):
        axes = next((keys for keys in INPUT_AXES if set(value) == set(keys)), INPUT_AXES[1])
        check_keys(value, ("channels", "length", "depth", "height", "width"), "'input'")
        missing = [k for k in axes if k not in value]
        if missing:
            raise SpecError(f"'input' is missing {', '.join(missing)}; expected {form}", at)
        items = [(value[k], value.value_at(k)) for k in axes]
    elif isinstance(value, LocatedList) and 1 <= len(value) <= 1 + MAX_AXES:
        items = [(n, value.item_at(i)) for i, n in enumerate(value)]
    else:
        raise SpecError(
            f"'input' must be {form}; [channels, length] or [channels, depth, height, width] for 1-D and 3-D maps, "
            "[features] for a flat input",
            at,
        )
    shape = []
    for number, where in items:
        try:
            shape.append(positive_int(number))
        except ValueError as error:
            raise SpecError(f"'input': {error}", where) from None
    return tuple(shape)


class Builder:
    """Expands entries into graph nodes, in execution order; the structures call back into it."""

    def __init__(self, document: Located, start: Location, network: Graph) -> None:
        self.defaults: dict[str, Located] = {}
        self.blocks: dict[str, BlockDef] = {}
        self.names = Namespace(document, start)
        self.nodes: list[Node] = []
        self.shapes = LoweredShapes(network, self.nodes)
        self.block_stack: list[str] = []
        self.expanded = 0

    def emit(self, node: Node) -> None:
        self.nodes.append(node)

    def expand(self, at: Location) -> None:
        """Count one node (a layer, block instance, residual or concat of branches) against MAX_LAYERS."""
        self.expanded += 1
        if self.expanded > MAX_LAYERS:
            raise SpecError(f"the spec expands to more than {MAX_LAYERS:,} layers", at)

    # --- defaults and blocks ------------------------------------------------------------------------

    def read_defaults(self, defaults: Any, at: Location) -> None:
        if defaults is None:
            return
        if not isinstance(defaults, Located):
            raise SpecError("'defaults' must map layer types to keys, e.g. {conv: {bias: false}}", at)
        for type_name, keys in defaults.items():
            where = defaults.key_at(type_name)
            if type_name not in CATALOGUE:
                raise SpecError(
                    f"'defaults' names unknown layer type '{type_name}'", where, hint=type_hint(type_name, CATALOGUE)
                )
            if not isinstance(keys, Located):
                raise SpecError(f"'defaults' for {type_name} must be a mapping of keys", defaults.value_at(type_name))
            check_keys(keys, [k.name for k in CATALOGUE[type_name].keys], f"'defaults' for {type_name}")
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
            check_keys(body, BLOCK_KEYS, f"block '{name}'")
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
            if not isinstance(name, str) or not name.isidentifier() or name in (*ENTRY_KEYS, "block", COPY, *KEYWORDS):
                raise SpecError(
                    f"block parameter {shown(name)} must be an identifier other than {', '.join(ENTRY_KEYS)}, block, "
                    f"{COPY} (a repeat's copy index) and the words of expressions ({', '.join(sorted(KEYWORDS))})",
                    where,
                )
            params[name] = REQUIRED_PARAM if default is None else default
        return params

    # --- entries --------------------------------------------------------------------------------

    def entries(self, raw: Any, at: Location, scope: Scope, what: str, current: str) -> str:
        """Expand a list of entries, each reading the previous one's output; the last output."""
        if not isinstance(raw, LocatedList):
            raise SpecError(f"{what} must be a list of layers", location_of(raw, at))
        if scope.depth > MAX_DEPTH:
            raise SpecError(f"blocks, branches and residuals are nested more than {MAX_DEPTH} deep", at)
        given = (entry.get("name") for entry in raw if isinstance(entry, Located))
        scope.written |= {scope.full(name) for name in given if isinstance(name, str)}
        for index, entry in enumerate(raw):
            current = self.entry(entry, raw.item_at(index), scope, current)
        return current

    def entry(self, raw: Any, at: Location, scope: Scope, current: str) -> str:
        if not isinstance(raw, Located):
            hint = "write it as {type: relu}" if isinstance(raw, str) else None
            raise SpecError(
                f"a layer must be a mapping such as {{type: conv, ...}}, not {describe(raw)}", at, hint=hint
            )
        if "repeat" not in raw:
            entry = self.prepared(raw, at, scope)
            if "first" in entry:
                raise SpecError(
                    "'first' sets keys of the first copy of a 'repeat', but there is no 'repeat'", entry.key_at("first")
                )
            return self.make(entry, scope, entry.get("name"), current, 0)
        count = repeat_count(raw, scope, ExpressionNames(scope, self.names, self.shapes))
        for index in range(max(count, 1)):  # copy 0 is checked even when there are none
            copy = replace(scope, env={**scope.env, COPY: index})  # what ${copy} reads in this copy
            entry = self.prepared(raw, at, copy)
            if index == 0 and "first" in entry:
                entry = first_copy(entry, copy, ExpressionNames(copy, self.names, self.shapes))
            if index == count:
                break
            before = self.expanded
            name = entry.get("name")
            current = self.make(entry, copy, f"{name}.{index}" if name else None, current, index)
            per_copy = self.expanded - before
            if per_copy * (count - index - 1) + self.expanded > MAX_LAYERS:
                raise SpecError(
                    f"repeat: {count:,} expands the spec past {MAX_LAYERS:,} layers", raw.value_at("repeat")
                )
        return current

    def prepared(self, raw: Located, at: Location, scope: Scope) -> Located:
        """An entry with its ``${...}`` substituted in a scope, checked to be a layer or structure with a good name."""
        entry = substituted(raw, scope, ExpressionNames(scope, self.names, self.shapes))
        if "block" not in entry and "type" not in entry:
            raise SpecError("a layer needs a 'type' (or 'block' for a block instance)", at)
        name = entry.get("name")
        if name is not None and (not isinstance(name, str) or not re.fullmatch(r"[^\s.]+", name)):
            raise SpecError(f"layer name {shown(name)} must be text without spaces or dots", entry.value_at("name"))
        return entry

    def make(self, entry: Located, scope: Scope, name: str | None, current: str, copy: int) -> str:
        """The nodes of one (copy of an) entry, from the node ``current``: a structure's or a layer's."""
        structure = structure_of(entry)
        make = structure.lower if structure else self.layer
        return make(self, entry, acknowledging(entry, scope), name, current, copy)

    def layer(self, builder: Builder, entry: Located, scope: Scope, name: str | None, current: str, copy: int) -> str:
        """A layer of a catalogue kind: one node (``builder`` is this builder, as for the structures)."""
        type_name = entry["type"]
        at = entry.location
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
                hint=type_hint(type_name, [*CATALOGUE, *STRUCTURE_TYPES]) or f"layer types: {', '.join(CATALOGUE)}",
            )
        full = self.names.reserve(name, type_name, scope, at)
        input_key = "inputs" if kind.many_inputs else "input"
        own = [k.name for k in kind.keys]
        check_keys(
            entry,
            (*(input_key if k == "input" else k for k in ENTRY_KEYS), *own, *((SIZE_OF,) if "size" in own else ())),
            f"{article(type_name)} {type_name} layer",
            layer=full,
        )
        self.expand(at)
        sized = {"size": self.shapes.size_of(entry, scope, self.names, full)} if SIZE_OF in entry else {}
        config = {key.name: sized.get(key.name) or self.config_value(entry, key, type_name, full) for key in kind.keys}
        if kind.many_inputs:
            if "inputs" not in entry:
                extra = " or 'branches'" if type_name == "concat" else ""
                raise SpecError(f"{type_name} needs 'inputs: [a, b]'{extra}", at, layer=full, kind=type_name)
            inputs = self.names.references(entry, "inputs", scope, full)
        else:
            inputs = (self.names.reference(entry, scope, full) if "input" in entry else current,)
        self.names.commit(full, at, full)
        findings = network_input_read(scope) if NETWORK_INPUT in inputs and input_key in entry else ()
        self.emit(Node(full, kind, config, inputs, at, scope.instances, expected=scope.expected, findings=findings))
        return full

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
            fraction = isinstance(source[key.name], float) and "whole number" in str(error)
            hint = "round it in the expression: ${round(...)}, ${ceil(...)} or ${floor(...)}" if fraction else None
            raise SpecError(
                f"'{key.name}'{origin}: {error}", source.value_at(key.name), layer=layer, kind=type_name, hint=hint
            ) from None


def network_input_read(scope: Scope) -> tuple[Finding, ...]:
    """A warning for a layer that names 'input' inside a block instance whose own input is another node."""
    if not scope.instances or scope.block_input == NETWORK_INPUT:
        return ()
    instance = scope.instances[-1]
    return (
        Finding(
            "input",
            f"'{NETWORK_INPUT}' is the network's input, not the input of block '{instance.block}' "
            f"(instance '{instance.name}' reads '{scope.block_input}'); a block's first layer reads its input",
        ),
    )


def article(word: str) -> str:
    """'an' before a vowel sound (an avgpool, an lrn layer), else 'a'."""
    return "an" if word[:1] in "aeiou" or word.startswith("lrn") else "a"


# --- values ---------------------------------------------------------------------------------------


def substituted(raw: Located, scope: Scope, names: Mapping[str, Any]) -> Located:
    """A copy of an entry with its ``${...}`` substituted from ``names``, keeping every location."""
    name = raw.get("name")
    label = scope.full(name) if isinstance(name, str) and "${" not in name else scope.prefix  # for messages
    copy = Located(
        {
            k: v if k in LAYER_LIST_KEYS else substitute_value(v, raw.value_at(k), names, k, label)
            for k, v in raw.items()
        }
    )
    copy.location, copy.key_locations, copy.value_locations = raw.location, raw.key_locations, raw.value_locations
    return copy


def acknowledging(entry: Located, scope: Scope) -> Scope:
    """The scope with the warning codes of the entry's ``expect`` added (the same scope without one)."""
    if "expect" not in entry:
        return scope
    raw, at = entry["expect"], entry.value_at("expect")
    codes = [(raw, at)] if isinstance(raw, str) else []
    if isinstance(raw, LocatedList) and raw:
        codes = [(code, raw.item_at(index)) for index, code in enumerate(raw)]
    if not codes:
        raise SpecError(
            f"'expect' must be a warning code or a list of them, not {describe(raw)}",
            at,
            hint=f"warning codes: {', '.join(WARNINGS)}",
        )
    for code, where in codes:
        if code not in WARNINGS:
            raise SpecError(
                f"'expect': unknown warning code {shown(code)}",
                where,
                hint=nearest(code, WARNINGS) or f"warning codes: {', '.join(WARNINGS)}",
            )
    return replace(scope, expected=scope.expected | {code for code, _ in codes})


def first_copy(entry: Located, scope: Scope, names: Mapping[str, Any]) -> Located:
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
    overrides = substituted(raw, scope, names)
    merged = Located({**{k: v for k, v in entry.items() if k != "first"}, **overrides})
    merged.location = entry.location
    merged.key_locations = {**entry.key_locations, **overrides.key_locations}
    merged.value_locations = {**entry.value_locations, **overrides.value_locations}
    return merged


def substitute_value(value: Any, at: Location, names: Mapping[str, Any], key: str, layer: str) -> Any:
    """``${...}`` replaced by block parameters and shapes in a value of ``key`` (an error names the key and the
    layer)."""
    try:
        if isinstance(value, str):
            return substitute(value, names)
        if isinstance(value, LocatedList):  # one level: [h, w] or a list of names; deeper lists are never valid
            copy = LocatedList(substitute(v, names) if isinstance(v, str) else v for v in value)
            copy.location, copy.item_locations = value.location, value.item_locations
            return copy
    except ExpressionError as error:
        raise SpecError(f"'{key}': {error}", at, layer=layer or None) from None
    return value


def repeat_count(raw: Located, scope: Scope, names: Mapping[str, Any]) -> int:
    """How many copies an entry's ``repeat`` makes, substituted in the scope around it (not the copies' own)."""
    at = raw.value_at("repeat")
    value = substitute_value(raw["repeat"], at, names, "repeat", scope.prefix)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"'repeat' must be a whole number >= 0, got {shown(value)}", at)
    return value


class SizeEstimate:
    """At least how many nodes a layer list expands to; a SpecError past MAX_LAYERS, before anything expands.

    Repeats, blocks and YAML aliases are multiplied out, but a list used many times (a block's layers with
    the same parameters, an aliased list) is counted once, so 'billion laughs' documents are refused at once.
    With block parameters, ``${...}`` repeats are evaluated; without (the first pass), they count 0, and so
    does whatever cannot be evaluated or comes after FLOOR_BUDGET entries: the expansion itself checks the rest.
    """

    def __init__(self, blocks: Mapping[str, BlockDef]) -> None:
        self.blocks = blocks
        self.budget = FLOOR_BUDGET

    def check(self, layers: Any) -> None:
        envs: tuple[dict[str, Any] | None, ...] = (None, {})  # blocks and aliases alone, then ${...} evaluated
        for env in envs:
            self.budget = FLOOR_BUDGET
            self.floor(layers, env, {}, 0)

    def floor(self, raw: Any, env: Mapping[str, Any] | None, memo: dict[Any, int], depth: int) -> int:
        if not isinstance(raw, LocatedList) or depth > MAX_DEPTH or self.budget <= 0:
            return 0
        key = (id(raw), None if env is None else tuple(sorted((k, v) for k, v in env.items() if type(v) is int)))
        if key in memo:
            return memo[key]
        memo[key] = 0  # a list inside itself (a block cycle) adds nothing here; the expansion reports the cycle
        total = 0
        for index, entry in enumerate(raw):
            self.budget -= 1
            if not isinstance(entry, Located):
                continue
            copies = _count(entry.get("repeat", 1), env)
            inner = sum(self.floor(child, inner_env, memo, depth + 1) for child, inner_env in self.nested(entry, env))
            total += copies * (1 + inner) - (inner if "first" in entry and copies else 0)  # 'first' may shrink copy 0
            if total > MAX_LAYERS:
                raise SpecError(
                    f"this expands the spec past {MAX_LAYERS:,} layers",
                    entry.value_at("repeat") if copies > 1 else raw.item_at(index),
                    hint="blocks, repeats and YAML aliases multiplied out",
                )
        memo[key] = total
        return total

    def nested(self, entry: Located, env: Mapping[str, Any] | None) -> list[tuple[Any, Mapping[str, Any] | None]]:
        """The layer lists an entry expands, with their block parameters."""
        if "block" not in entry:
            structure = structure_of(entry)
            return [(child, env) for child in structure.nested(entry)] if structure else []
        block = self.blocks.get(entry["block"]) if isinstance(entry["block"], str) else None
        if block is None:
            return []
        if env is None:
            return [(block.layers, None)]
        inner = block_environment(block.params, {})
        for name in block.params.keys() & entry.keys():
            try:
                inner[name] = substitute(entry[name], env) if isinstance(entry[name], str) else entry[name]
            except ExpressionError:
                inner[name] = REQUIRED_PARAM
        return [(block.layers, inner)]


def _count(repeat: Any, env: Mapping[str, Any] | None) -> int:
    """The number of copies a ``repeat`` value makes, if it can be told without expanding; else 0."""
    if isinstance(repeat, str) and env is not None:
        try:
            repeat = substitute(repeat, env)
        except ExpressionError:
            return 0
    return repeat if type(repeat) is int and repeat > 0 else 0
