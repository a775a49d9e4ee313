"""What the aten op handlers (:mod:`convcalc.importers.torch.ops`) work with: the graph being built, the convcalc
node each traced tensor is, and how the tensor lays that node's values out.

A tensor is laid out ``first`` (torch's [N, C, H, W], convcalc's C x H x W), ``last`` (channels-last [N, H, W, C],
as ConvNeXt's blocks permute it for a LayerNorm or Linear over the channels), ``rows`` (a channels-last map viewed
as [N * H * W, C], as a Linear reads it), ``lifted`` (a 1-D map as [N, C, 1, L]: torch runs MaxPool1d and
AdaptiveAvgPool1d as 2-D pools), or ``grouped`` and ``shuffled`` (a channel shuffle's [N, g, C / g, H, W] and its
transpose [N, C / g, g, H, W]); an opaque op's output whose first axis is not the batch alone is ``merged``
(MobileViT's patches [N * C * h, 2, w, 2]): only opaque ops read it. Ops that work per position follow any layout; a
permute or view between them moves no value and makes no layer.

Layers are named after their module (:meth:`TorchImporter.finish`): the one layer of a leaf module's call is the
module's path (``layer3.2.conv1``; a second call ``layer3.2.relu_2``), the layers of a module's own forward are
``path.kind`` (``layer1.0.add``; at the root, ``flatten``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from convcalc.core.errors import Location
from convcalc.core.findings import Finding
from convcalc.core.tensor import Config, Shape, format_shape
from convcalc.engine.graph import NETWORK_INPUT, Graph, Instance, Node
from convcalc.importers.builder import GraphBuilder
from convcalc.importers.torch.events import Event, Ref, Trace, tensors
from convcalc.kinds.base import ShapeError

Layout = Literal["first", "last", "rows", "lifted", "grouped", "shuffled", "merged"]

CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})
"""Module classes that only hold others: one whose children are all of one class reads as their repeat
(``layer1``: BasicBlock x3), not as a block of its own."""


class Value(NamedTuple):
    """The convcalc node a traced tensor is, its layout, and (laid out ``first``) where torch holds the batch: axis
    0, or another once a permute moved it (attention's [3, N, heads, T, d] before its unbind)."""

    node: str
    layout: Layout = "first"
    batch_axis: int = 0


class NotFollowed(Exception):
    """A handler met an argument it does not map (another layout, a tensor no layer made): the op is opaque."""


class TorchImporter(GraphBuilder):
    """Emits convcalc nodes for a trace's events, in the order they ran."""

    def __init__(self, trace: Trace, source: str) -> None:
        super().__init__(source)
        self.trace = trace
        self.batch = trace.input.shape[0]
        self.values: dict[int, Value] = {trace.input.id: Value(NETWORK_INPUT)}
        self.side: set[int] = set()  # tensors made beside an op's result (indices, statistics): no layer reads them
        self.weights_read: set[int | str] = set()  # weights a layer counts: another layer reading one shares it
        self.sizes = dict(trace.sizes)  # each parameter's values, by name
        self.index = 0
        self.event: Event | None = None
        self.made: dict[str, tuple[str, int, str]] = {}  # node -> (module path, call, label)
        self.final: dict[str, str] = {}  # provisional name -> the layer's name (once the graph is finished)
        self.finished: Graph | None = None
        self.shapes[NETWORK_INPUT] = tuple(trace.input.shape[1:])

    # --- reading arguments ---

    def arg(self, event: Event, position: int, name: str, default: Any = None) -> Any:
        """An argument by position, or by name if passed as a keyword; ``default`` if neither."""
        if position < len(event.args):
            return event.args[position]
        return event.kwargs.get(name, default)

    def value(self, ref: Any) -> Value | None:
        """The node an activation is (None: a parameter, a constant, or not a tensor)."""
        return self.values.get(ref.id) if isinstance(ref, Ref) and ref.role == "a" else None

    def read(self, ref: Any, layout: Layout = "first") -> str:
        """The node an activation argument is, laid out as ``layout`` (the batch first); NotFollowed otherwise."""
        found = self.value(ref)
        if found is None or found.layout != layout or found.layout == "merged" or found.batch_axis:
            raise NotFollowed
        return found.node

    def read_as(self, event: Event, ref: Any, layout: Literal["first", "last"]) -> str:
        """The node an activation is, laid out as ``layout``: a channels-first tensor and a channels-last one are one
        permute apart (a layer of no cost, ``permute``), as torch's Linear over the last axis of [N, T, D] reads the
        D x T tokens convcalc's per-position layers read."""
        found = self.value(ref)
        if found is None or found.batch_axis or found.layout not in ("first", "last") or len(ref.shape) < 3:
            raise NotFollowed
        if found.layout == layout:
            return found.node
        rank = len(ref.shape) - 1
        dims = (rank - 1, *range(rank - 1)) if layout == "last" else (*range(1, rank), 0)
        return self.emit(event, "permute", {"dims": dims}, [found.node], output=None, label="permute")

    def layout(self, ref: Any) -> Layout:
        found = self.value(ref)
        if found is None:
            raise NotFollowed
        return found.layout

    def skipped(self, event: Event) -> bool:
        """Whether the event reads only tensors made beside a result (a pool's indices): it makes no layer."""
        read = [ref for ref in tensors(event.args) + tensors(event.kwargs) if ref.role == "a"]
        if read and all(ref.id in self.side and ref.id not in self.values for ref in read):
            self.side.update(ref.id for ref in event.outputs)
            return True
        return False

    # --- making layers ---

    def alias(
        self, event: Event, ref: Any, layout: Layout | None = None, output: int = 0, batch_axis: int | None = None
    ) -> None:
        """The event's output is the tensor ``ref`` holds (dropout, a view that moves no value), in ``layout``."""
        found = self.value(ref)
        if found is None:
            raise NotFollowed
        moved = found.batch_axis if batch_axis is None else batch_axis
        self.bind(event, Value(found.node, layout or found.layout, moved), output)

    def bind(self, event: Event, value: Value, output: int = 0) -> None:
        """The event's ``output``-th tensor is ``value``: a node already made, in a layout."""
        self.values[event.outputs[output].id] = value

    def emit(
        self,
        event: Event,
        kind: str,
        config: Config,
        sources: Sequence[str],
        *,
        layout: Layout = "first",
        output: int | None = 0,
        label: str | None = None,
        batch_axis: int = 0,
    ) -> str:
        """A node of ``kind`` reading ``sources`` whose output is the event's ``output``-th tensor (None: a step
        before the node that is); an ``opaque`` node instead, with a warning, when convcalc computes another shape
        than torch did."""
        made = event.outputs[output or 0]
        findings: tuple[Finding, ...] = ()
        try:
            layer, config, shape = self.evaluate(kind, config, sources)
            expected = expected_shape(made, layout, self.batch, batch_axis) if output is not None else None
            if expected is not None and shape != expected:
                raise ShapeError(f"convcalc computes {format_shape(shape)}, torch {format_shape(expected)}")
        except ShapeError as error:
            findings = (Finding("shape", f"read as {kind}: {error}"),)
            layer, config, shape = self.evaluate("opaque", self.opaque_config(event, made), sources)
            kind, label, layout = "opaque", event.op.rstrip("_"), "first"
        name = f"\0{len(self.nodes)}"  # provisional: finish() names the layers once every call is known
        self.append(
            Node(name, layer, config, tuple(sources), Location(self.source, self.index + 1, 1), findings=findings),
            shape,
        )
        self.made[name] = (event.module, event.call, label or kind)
        if output is not None:
            self.values[made.id] = Value(name, layout, batch_axis)
            self.side.update(ref.id for ref in event.outputs if ref.id != made.id)
        return name

    def opaque_config(self, event: Event, made: Ref) -> Config:
        """An opaque layer's config: the shape torch made, per sample when the batch is first (as :meth:`opaque`
        lays it out: [N] is one value a sample)."""
        shape = made.shape[1:] if made.shape[:1] == (self.batch,) else made.shape
        return {"op": f"aten.{event.op.rstrip('_')}", "shape": tuple(shape) or (1,)}

    def opaque(self, event: Event) -> None:
        """An op convcalc does not count: a layer of the shape torch gave reading every activation the op read, no
        cost (an ``uncounted`` warning)."""
        read = [
            self.values[ref.id].node for ref in tensors(event.args) + tensors(event.kwargs) if ref.id in self.values
        ]
        sources = list(dict.fromkeys(read)) or [NETWORK_INPUT]  # every activation it reads: the dataflow stays whole
        made = event.outputs[0]
        if 0 in made.shape:
            raise ValueError(f"it makes an empty tensor {list(made.shape)}, and convcalc holds no size of 0")
        layer, config, shape = self.evaluate("opaque", self.opaque_config(event, made), sources)
        name = f"\0{len(self.nodes)}"
        self.append(Node(name, layer, config, tuple(sources), Location(self.source, self.index + 1, 1)), shape)
        self.made[name] = (event.module, event.call, event.op.rstrip("_"))
        self.values[made.id] = Value(name, "first" if made.shape[:1] == (self.batch,) else "merged")
        self.side.update(ref.id for ref in event.outputs[1:])

    # --- naming ---

    def finish(self) -> tuple[tuple[Node, ...], dict[str, str]]:
        """The nodes under their final names, with the block instances (modules) around each; and the final
        name of each provisional one."""
        modules = {module.path: module for module in self.trace.modules}
        per_call: dict[tuple[str, int], int] = {}
        for path, call, _ in self.made.values():
            per_call[path, call] = per_call.get((path, call), 0) + 1
        names: dict[str, str] = {NETWORK_INPUT: NETWORK_INPUT}
        for node in self.nodes:
            path, call, label = self.made[node.name]
            module = modules.get(path)
            alone = module is not None and module.leaf and per_call[path, call] == 1 and path
            names[node.name] = self.unique(path if alone else f"{path}.{label}" if path else label)
            self.origins[names[node.name]] = f"{path or '(root)'} ({module.cls if module else '?'})"
        self.final = names
        instances = _instances(self.trace, self.source)
        nodes = tuple(
            node._replace(
                name=names[node.name],
                inputs=tuple(names[source] for source in node.inputs),
                instances=tuple(instances[prefix] for prefix in _prefixes(names[node.name]) if prefix in instances),
            )
            for node in self.nodes
        )
        return nodes, names

    def graph(self) -> Graph:
        """The finished graph: its outputs are the tensors the module returned, in order (a detector's scores and
        boxes; each once). Once: the layers' names are taken then."""
        if self.finished is not None:
            return self.finished
        nodes, names = self.finish()
        returned = [self.values[ref.id].node for ref in self.trace.outputs if ref.id in self.values]
        outputs = tuple(dict.fromkeys(names[node] for node in returned if node != NETWORK_INPUT))
        if not outputs:  # no layer made, or none returned
            raise ValueError("the module computes nothing from its input that convcalc can count")
        output = outputs[0]
        held, counted = self.trace.parameters, self.counted_parameters()
        if held and counted != held:
            nodes = tuple(
                node._replace(findings=(*node.findings, Finding("uncounted", _held(held, counted))))
                if node.name == output
                else node
                for node in nodes
            )
        shape = tuple(self.trace.input.shape[1:])
        self.finished = Graph(self.trace.name, self.source, shape, nodes, output, more_outputs=outputs[1:])
        return self.finished

    def counted_parameters(self) -> int:
        """The parameters of the layers made, as the catalogue counts them."""
        return sum(
            node.kind.evaluate(node.config, [self.shapes[source] for source in node.inputs]).params
            for node in self.nodes
        )


def expected_shape(ref: Ref, layout: Layout, batch: int, batch_axis: int) -> Shape | None:
    """The shape convcalc should compute for a tensor in ``layout`` (None where it cannot be told: rows)."""
    shape = ref.shape
    if batch_axis:
        return shape[:batch_axis] + shape[batch_axis + 1 :] if shape[batch_axis] == batch else None
    if layout == "rows" or len(shape) < 2 or shape[0] != batch:
        return None
    if layout == "last":
        return (shape[-1], *shape[1:-1])
    if layout == "lifted":
        return (shape[1], *shape[3:])
    if layout in ("grouped", "shuffled"):
        return (shape[1] * shape[2], *shape[3:])
    return tuple(shape[1:])


def _held(held: int, counted: int) -> str:
    """What a warning says when the module holds another number of parameters than its counted layers."""
    if held > counted:
        why = f"the other {held - counted:,} are in ops convcalc does not count, or in modules forward never ran"
    else:
        why = f"{counted - held:,} are counted again where forward uses a weight twice"
    return f"the module holds {held:,} parameters, the layers convcalc counts {counted:,}: {why}"


def _prefixes(name: str) -> list[str]:
    """'layer1.0.conv1' -> ['layer1', 'layer1.0']: the groups a layer sits in."""
    parts = name.split(".")
    return [".".join(parts[:count]) for count in range(1, len(parts))]


def _instances(trace: Trace, source: str) -> dict[str, Instance]:
    """Each module that is a block of its own, as the block instance it is (its class the block)."""
    classes: dict[str, set[str]] = {}
    for module in trace.modules:
        if module.path:
            parent = module.path.rpartition(".")[0]
            classes.setdefault(parent, set()).add(module.cls)
    return {
        module.path: Instance(module.path, module.cls, Location(source, position + 1, 1), 0)
        for position, module in enumerate(trace.modules)
        if module.path and not (module.cls in CONTAINERS and len(classes.get(module.path, ())) == 1)
    }
