"""The spec language's structures: entries that hold layer lists and lower to plain nodes of the graph.

* A **block instance** (``{block: NAME, ...}``) is its block's layers under the instance's name, run in
  sequence from its input; reading the instance's name reads its last layer's output.
* A **concat of branches** (``{type: concat, branches: [...]}``) runs each branch from one input and
  concatenates their outputs on channels: the branches' layers, then a ``concat`` node. An empty branch
  is the identity (the input itself is concatenated).
* A **residual** (``{type: residual, body: [...], shortcut: [...]}``) is body(x) + shortcut(x): the body's
  layers, the shortcut's (none: the identity), then an ``add`` node. With ``add: false`` (a condition such as
  ``"${stride == 1 and cin == cout}"``) it is its body alone: no shortcut, no add (MBConv's residual); with
  ``order: shortcut-first`` the shortcut's layers come before the body's (torchvision's RegNet).

Each structure says which entries it is, which keys it takes and which layer lists it holds (for the size
estimate before expansion), and lowers an entry into graph nodes through the builder in :mod:`convcalc.spec.lower`.
The two that run paths from one input and merge them also say how such paths and their merge are written
(``merges``, ``label``, ``written``: the inverse of ``lower``), for ``convcalc import`` (:mod:`convcalc.spec.fold`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

from convcalc.core.errors import Location, SpecError, nearest
from convcalc.core.keys import describe, is_int, shown
from convcalc.engine.graph import Instance, Node
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.kinds.windows import per_axis
from convcalc.spec.hints import key_hint
from convcalc.spec.reader import Located, LocatedList

if TYPE_CHECKING:
    from convcalc.core.keys import Key
    from convcalc.spec.namespace import Namespace, Scope
    from convcalc.spec.shapes import LoweredShapes

ENTRY_KEYS = ("type", "name", "input", "repeat", "first", "expect")
"""Keys of every entry: what it is, its name, what it reads, how many copies, the first copy's overrides, and the
warnings it acknowledges (codes of layers.WARNINGS, for its node or every node inside it)."""
COPY = "copy"
"""What ``${...}`` calls the index of the innermost ``repeat`` copy around (0, 1, ...), inside blocks too."""
ORDERS = ("body-first", "shortcut-first")
"""The orders a residual's paths may run in (its ``order``): the body's layers first (the default), or the
shortcut's."""
REQUIRED_PARAM: Any = object()
"""The default of a block parameter that every instance must set."""


class BlockDef(NamedTuple):
    """A block of the spec's ``blocks``: its parameters and layers, where it is written."""

    name: str
    params: Mapping[str, Any]  # name -> default (REQUIRED_PARAM when none)
    layers: LocatedList
    location: Location


def check_keys(
    mapping: Located, allowed: Iterable[str], where: str, *, layer: str | None = None, noun: str = "key"
) -> None:
    """A SpecError at the first key of ``mapping`` that is not ``allowed``."""
    allowed = list(allowed)
    for key in mapping:
        if key not in allowed:
            raise SpecError(
                f"unknown {noun} '{key}' for {where}",
                mapping.key_at(key),
                layer=layer,
                hint=key_hint(key, allowed) or nearest(key, allowed) or f"expected one of: {', '.join(allowed)}",
            )


class Lowering(Protocol):
    """What a structure's ``lower`` calls back into: the spec builder (:class:`convcalc.spec.lower.Builder`)."""

    names: Namespace
    blocks: dict[str, BlockDef]
    block_stack: list[str]
    shapes: LoweredShapes

    def emit(self, node: Node) -> None: ...

    def config_value(self, entry: Located, key: Key, type_name: str, layer: str) -> Any: ...

    def expand(self, at: Location) -> None: ...

    def entries(self, raw: Any, at: Location, scope: Scope, what: str, current: str) -> str: ...


class Structure:
    """An entry kind that holds layer lists; ``type_name`` is its ``type:`` value (None: chosen by another key)."""

    type_name: ClassVar[str | None] = None
    keys: ClassVar[tuple[str, ...]] = ()
    """Its own keys besides ENTRY_KEYS."""
    holds_layers: ClassVar[bool] = True
    """Its own keys hold layer lists (their ``${...}`` are substituted as their entries expand)."""
    options: ClassVar[tuple[str, ...]] = ()
    """Its keys besides ``keys`` that hold values, not layer lists (substituted as any value)."""
    merges: ClassVar[str | None] = None
    """The catalogue kind of the node it lowers to last, when it runs paths from one input and merges their outputs
    with it (None: it does not)."""
    identity_last: ClassVar[bool] = False
    """Its last path may be left out of the entry (written as nothing: the identity)."""

    def takes(self, paths: int) -> bool:
        """Whether it merges that many paths."""
        return False

    def label(self, index: int) -> str:
        """The name part of its ``index``-th path: the layers on it are named ``<structure>.<label>.<layer>``."""
        raise NotImplementedError

    def written(self, name: str, paths: Sequence[list[Any]]) -> dict[str, Any]:
        """The entry (a mapping, as YAML reads it) that lowers to these paths, each a list of entries, and the merge:
        the inverse of ``lower``. An empty path is the identity."""
        raise NotImplementedError

    def applies(self, entry: Located) -> bool:
        raise NotImplementedError

    def nested(self, entry: Located) -> list[Any]:
        """The raw layer lists the entry holds (whatever is written there, checked or not)."""
        raise NotImplementedError

    def lower(self, builder: Lowering, entry: Located, scope: Scope, name: str | None, current: str, copy: int) -> str:
        """Emit the entry's nodes from the node ``current``; the node whose output it is."""
        raise NotImplementedError


class Branches(Structure):
    type_name = "concat"
    keys = ("branches",)
    merges = "concat"

    def takes(self, paths: int) -> bool:
        return paths >= 1

    def label(self, index: int) -> str:
        return str(index)  # branches written as a list are named by position

    def written(self, name: str, paths: Sequence[list[Any]]) -> dict[str, Any]:
        return {"type": "concat", "name": name, "branches": [list(path) for path in paths]}

    def applies(self, entry: Located) -> bool:
        return entry.get("type") == "concat" and "branches" in entry

    def nested(self, entry: Located) -> list[Any]:
        branches = entry.get("branches")
        if isinstance(branches, Located):
            return list(branches.values())
        return list(branches) if isinstance(branches, LocatedList) else []

    def lower(self, builder: Lowering, entry: Located, scope: Scope, name: str | None, current: str, copy: int) -> str:
        full = builder.names.reserve(name, "concat", scope, entry.location)
        check_keys(entry, (*ENTRY_KEYS, *self.keys), "a concat of branches", layer=full)
        builder.expand(entry.location)
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
        start = builder.names.reference(entry, scope, full) if "input" in entry else current
        outputs = tuple(
            builder.entries(value, where, scope.enter(f"{full}.{label}"), f"branch {label}", start)
            for label, value, where in labelled
        )
        builder.names.commit(full, entry.location, full)
        concat = CATALOGUE["concat"]
        builder.emit(
            Node(full, concat, concat.defaults(), outputs, entry.location, scope.instances, expected=scope.expected)
        )
        return full


class Residual(Structure):
    type_name = "residual"
    keys = ("body", "shortcut")
    options = ("add", "order")
    merges = "add"
    identity_last = True

    def takes(self, paths: int) -> bool:
        return paths == 2

    def label(self, index: int) -> str:
        return self.keys[index]

    def written(self, name: str, paths: Sequence[list[Any]]) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "residual", "name": name, "body": list(paths[0])}
        if paths[1]:  # else no shortcut: the identity
            entry["shortcut"] = list(paths[1])
        return entry

    def applies(self, entry: Located) -> bool:
        return entry.get("type") == "residual"

    def nested(self, entry: Located) -> list[Any]:
        return [entry.get("body"), entry.get("shortcut")]

    def lower(self, builder: Lowering, entry: Located, scope: Scope, name: str | None, current: str, copy: int) -> str:
        full = builder.names.reserve(name, "residual", scope, entry.location)
        check_keys(entry, (*ENTRY_KEYS, *self.keys, *self.options), "a residual", layer=full)
        builder.expand(entry.location)
        if "body" not in entry:
            raise SpecError("residual needs a 'body' list of layers", entry.location, layer=full, kind="residual")
        adds = entry.get("add", True)
        if not isinstance(adds, bool):
            raise SpecError(
                f"'add' must be true or false, not {describe(adds)}",
                entry.value_at("add"),
                layer=full,
                kind="residual",
                hint='a condition is written "${stride == 1 and cin == cout}"',
            )
        order = entry.get("order", ORDERS[0])
        if order not in ORDERS:
            raise SpecError(
                f"'order' must be {' or '.join(ORDERS)}, not {shown(order)}",
                entry.value_at("order"),
                layer=full,
                kind="residual",
                hint="shortcut-first runs the shortcut's layers before the body's (torchvision's RegNet); same counts",
            )
        start = builder.names.reference(entry, scope, full) if "input" in entry else current

        def path(key: str) -> str:
            """The output of the body or the shortcut (none, or null: the identity, the input itself)."""
            if entry.get(key) is None:
                return start
            return builder.entries(entry[key], entry.value_at(key), scope.enter(f"{full}.{key}"), f"'{key}'", start)

        if not adds:  # the body alone: its name reads the body's output
            body = path("body")
            builder.names.commit(full, entry.location, body)
            return body
        if order == "shortcut-first":
            shortcut = path("shortcut")
            body = path("body")
        else:
            body = path("body")
            shortcut = path("shortcut")
        builder.names.commit(full, entry.location, full)
        hint = "a residual adds its body's output to its shortcut's (or its input's)"
        add = CATALOGUE["add"]
        builder.emit(Node(full, add, {}, (body, shortcut), entry.location, scope.instances, hint, scope.expected))
        return full


class MixedConv(Structure):
    """A convolution with ``kernels: [k1, k2, ...]`` (MixNet's MixConv, timm's MixedConv2d): the input channels and the
    filters are split into as many groups as kernels, as equal as possible with the first group taking the remainder
    (C // n each, plus C % n on the first); group i is a conv of kernel k_i from its channels to its filters, and
    the outputs are concatenated. It lowers to a ``slice``, a ``conv`` per group and a ``concat``."""

    keys = ("kernels",)
    holds_layers = False

    def applies(self, entry: Located) -> bool:
        return entry.get("type") == "conv" and "kernels" in entry

    def nested(self, entry: Located) -> list[Any]:
        return []

    def lower(self, builder: Lowering, entry: Located, scope: Scope, name: str | None, current: str, copy: int) -> str:
        conv, at = CATALOGUE["conv"], entry.location
        full = builder.names.reserve(name, "conv", scope, at)
        written = [key.name for key in conv.keys if key.name != "kernel"]
        check_keys(entry, (*ENTRY_KEYS, *self.keys, *written), "a mixed-kernel conv", layer=full)
        builder.expand(at)
        kernels = self.kernels(entry, full)
        start = builder.names.reference(entry, scope, full) if "input" in entry else current
        shape = builder.shapes.shape(start)
        config = {key.name: builder.config_value(entry, key, "conv", full) for key in conv.keys if key.name in written}
        groups, filters = config["groups"], config["filters"]
        if len(shape) == 1 or groups not in (1, shape[0]):
            what = "a flat vector" if len(shape) == 1 else f"groups {groups} of {shape[0]} input channels"
            raise SpecError(
                f"a mixed-kernel conv takes a feature map and groups 1 or its input channels, not {what}",
                at,
                layer=full,
                kind="conv",
                hint="groups: C_in makes each group depthwise (timm's depthwise=True), groups: 1 dense",
            )
        inside = scope.enter(full)
        pieces = zip(
            kernels, split_channels(shape[0], len(kernels)), split_channels(filters, len(kernels)), strict=True
        )
        outputs, first = [], 0
        for index, (kernel, channels, out) in enumerate(pieces):
            if not channels or not out:
                raise SpecError(
                    f"{len(kernels)} kernels split {shape[0]} input channels into {channels}, {filters} filters into "
                    f"{out}: each group needs at least one of both",
                    entry.value_at("kernels"),
                    layer=full,
                    kind="conv",
                )
            part = self.node(builder, inside, f"slice{index}", CATALOGUE["slice"], (start,), at)
            slice_config = {**CATALOGUE["slice"].defaults(), "start": first, "end": first + channels}  # of channels
            builder.emit(
                Node(part, CATALOGUE["slice"], slice_config, (start,), at, scope.instances, None, scope.expected)
            )
            own: dict[str, Any] = {"kernel": kernel, "filters": out, "groups": channels if groups > 1 else 1}
            if "padding" not in entry:
                own["padding"] = timm_padding(kernel, config, shape[1:])
            piece = self.node(builder, inside, str(index), conv, (part,), at)
            builder.emit(Node(piece, conv, {**config, **own}, (part,), at, scope.instances, None, scope.expected))
            outputs.append(piece)
            first += channels
        builder.names.commit(full, at, full)
        concat = CATALOGUE["concat"]
        builder.emit(Node(full, concat, concat.defaults(), tuple(outputs), at, scope.instances, None, scope.expected))
        return full

    @staticmethod
    def node(builder: Lowering, inside: Scope, name: str, kind: Any, inputs: tuple[str, ...], at: Location) -> str:
        """The full name of one of its nodes, reserved, counted and readable."""
        full = builder.names.reserve(name, kind.type, inside, at)
        builder.expand(at)
        builder.names.commit(full, at, full)
        return full

    @staticmethod
    def kernels(entry: Located, layer: str) -> list[int]:
        raw, at = entry["kernels"], entry.value_at("kernels")
        if not isinstance(raw, list) or len(raw) < 2 or not all(is_int(k) and k >= 1 for k in raw):
            raise SpecError(
                f"'kernels' must be a list of two or more whole numbers >= 1 (one per group), not {describe(raw)}",
                at,
                layer=layer,
                kind="conv",
                hint="one kernel for every channel is 'kernel: 3'",
            )
        return list(raw)


def split_channels(channels: int, groups: int) -> list[int]:
    """``channels`` in ``groups`` as equal as possible, the first taking the remainder: timm's ``_split_channels``
    (10 in 3: 4, 3, 3)."""
    share = channels // groups
    return [share + channels - share * groups, *([share] * (groups - 1))]


def timm_padding(kernel: int, config: Mapping[str, Any], size: Sequence[int]) -> tuple[int, ...]:
    """timm's default padding of a group, per spatial axis: ``((stride - 1) + dilation * (kernel - 1)) // 2``."""
    strides, dilations = (per_axis(config[key], size, key) for key in ("stride", "dilation"))
    return tuple(((s - 1) + d * (kernel - 1)) // 2 for s, d in zip(strides, dilations, strict=True))


class BlockInstance(Structure):
    keys = ("block",)
    holds_layers = False

    def applies(self, entry: Located) -> bool:
        return "block" in entry

    def nested(self, entry: Located) -> list[Any]:
        return []  # a block's layers are found through the builder's blocks (see spec.Builder.nested)

    def lower(self, builder: Lowering, entry: Located, scope: Scope, name: str | None, current: str, copy: int) -> str:
        block_name = entry["block"]
        at = entry.location
        block = builder.blocks.get(block_name) if isinstance(block_name, str) else None
        if block is None:
            defined = f"defined blocks: {', '.join(builder.blocks)}" if builder.blocks else None
            raise SpecError(
                f"unknown block {shown(block_name)}",
                entry.value_at("block"),
                hint=nearest(block_name, builder.blocks) or defined or "the spec defines no 'blocks'",
            )
        if block_name in builder.block_stack:
            cycle = " -> ".join([*builder.block_stack[builder.block_stack.index(block_name) :], block_name])
            raise SpecError(f"block '{block_name}' uses itself: {cycle}", at, hint="a block cannot contain itself")
        full = builder.names.reserve(name, block_name, scope, at)
        allowed = ("block", *ENTRY_KEYS[1:], *block.params)
        check_keys(entry, allowed, f"block '{block_name}'", layer=full, noun="parameter")
        builder.expand(at)
        env = block_environment(block.params, entry)
        if COPY in scope.env:  # a block's layers see the copy index of the repeat around them
            env[COPY] = scope.env[COPY]
        missing = [k for k, v in env.items() if v is REQUIRED_PARAM]
        if missing:
            raise SpecError(
                f"block '{block_name}' needs parameter(s) {', '.join(missing)}",
                at,
                layer=full,
                hint=f"write them in the block instance, e.g. {{block: {block_name}, {missing[0]}: ...}}",
            )
        start = builder.names.reference(entry, scope, full) if "input" in entry else current
        builder.block_stack.append(block_name)
        inner = scope.enter(full, env, Instance(full, block_name, at, copy), start)
        output = builder.entries(block.layers, at, inner, f"block '{block_name}'", start)
        builder.block_stack.pop()
        builder.names.commit(full, at, output)
        return output


def block_environment(params: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """A block instance's parameters: the block's defaults, overridden by the values the entry gives."""
    env = dict(params)
    env.update({key: value for key, value in entry.items() if key in params})
    return env


STRUCTURES: tuple[Structure, ...] = (BlockInstance(), Residual(), Branches(), MixedConv())
"""Every structure, in the order an entry is matched against them."""
STRUCTURE_TYPES = tuple(s.type_name for s in STRUCTURES if s.type_name and s.type_name not in CATALOGUE)
"""``type:`` values that only a structure answers to."""
LAYER_LIST_KEYS = frozenset(key for structure in STRUCTURES if structure.holds_layers for key in structure.keys)
"""Keys whose values are layer lists."""


def merging(kind: str, paths: int) -> Structure | None:
    """The structure that runs ``paths`` paths from one input and merges them with a node of the catalogue kind
    ``kind`` (a residual's add, a concat of branches), or None."""
    return next((s for s in STRUCTURES if s.merges == kind and s.takes(paths)), None)


def structure_of(entry: Located) -> Structure | None:
    """The structure an entry is, or None for a layer of a catalogue kind."""
    return next((structure for structure in STRUCTURES if structure.applies(entry)), None)
