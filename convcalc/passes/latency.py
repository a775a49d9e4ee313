"""Latency estimates (issue 24): each layer's time on a device by a roofline model, calibrated per layer family.

An estimate from the counts, never a measurement. Pure: a finished Analysis and a
:class:`~convcalc.passes.profile.DeviceProfile` in, estimates out; no I/O. The model and its validation against
onnxruntime's measured times: benchmarks/latency_study.md.

**Nodes** (the runtime's, as onnxruntime's CPU provider fuses at its default level): a conv or linear absorbs a batch
norm, an activation of FUSED_ACTIVATIONS and a residual add (and an activation after it) that follow it in that
order, each the only reader of the output before it; a lone batch norm absorbs such an activation; free layers
(dropout, flatten: the identity at inference, a view) are no node; every other layer is a node of its own.

**Time** of a node, with FLOPs = 2 * MACs for convs and linears (convcalc's FLOPs otherwise), W its weights' bytes,
A its activations' bytes (inputs + output at the analysis' dtype, a fused add's other input too), W_net the bytes of
all the network's weights::

    t = max(FLOPs' / peak, W / BW(W_net) + A / BW(A)) / e_family + overhead

FLOPs': channels rounded up to the device's lanes for dense, pointwise and depthwise convs (c_out always, c_in from
one block up: the runtime computes channels in blocks). BW(x): the bandwidth with x bytes in use (weights stream
through the memory hierarchy on each run; activations were just written). The node is compute-bound when
FLOPs' / peak is the larger term (or equal: at the ridge point), else memory-bound. Left out: layout changes
between kernels, the cache state beyond that, data-dependent kernel choices, threads, other runtimes' fusions.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convcalc.core.tensor import elements
from convcalc.engine.results import DTYPE_BYTES
from convcalc.kinds.windows import all_ones

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.engine.results import Analysis, LayerResult
    from convcalc.passes.profile import DeviceProfile

FUSED_ACTIVATIONS = frozenset({"relu", "relu6", "hardswish", "hardsigmoid", "sigmoid", "tanh", "leaky_relu"})
"""Activations onnxruntime fuses into the conv, linear or batch norm before them."""
ACTIVATION_KINDS = frozenset(
    {"silu", "gelu", "sigmoid", "tanh", "hardswish", "hardsigmoid", "softmax", "layernorm", "groupnorm", "lrn"}
)
"""Kinds that run as the 'activation' family when they are a node of their own (transcendentals, normalisations)."""
POOLING_KINDS = frozenset(
    {"maxpool", "avgpool", "global_avgpool", "global_maxpool", "adaptive_avgpool", "adaptive_maxpool"}
)
WEIGHTED_KINDS = frozenset({"conv", "conv_transpose", "linear"})
MATRIX_FAMILIES = frozenset({"dense", "pointwise", "depthwise", "grouped", "linear"})
"""Families run by a device's matrix units (its ``peak_flops``); the others run at its vector peak."""
LANE_FAMILIES = frozenset({"dense", "pointwise", "depthwise"})
BOUNDS = ("compute", "memory", "fused", "free")
"""What bounds a layer: its node's compute or memory time; or it is fused into another node, or free."""

CONVENTION = (
    "an estimate from a roofline model, not a measurement: per runtime node (convs absorb batch norm, activation and "
    "residual add) max(FLOPs / peak, bytes / bandwidth) / family efficiency + per-node overhead, seconds; bytes: "
    "weights + inputs + output at the dtype; intensity: FLOPs per byte (docs/how-to/latency.md)"
)


@dataclass(frozen=True, slots=True)
class Work:
    """What one node does: its family, FLOPs, bytes of weights and of activations, and (convs, linears) channels
    (c_in, c_out, groups)."""

    family: str
    flops: int
    weight_bytes: int
    activation_bytes: int
    channels: tuple[int, int, int] = (0, 0, 1)

    @property
    def bytes(self) -> int:
        return self.weight_bytes + self.activation_bytes


@dataclass(slots=True)
class Node:
    """A runtime node while it forms: its first layer, the layers fused into it, the last one's output."""

    head: LayerResult
    family: str
    fused: list[LayerResult] = field(default_factory=list)
    other_bytes: int = 0
    """Bytes of the other inputs of fused adds (read besides the head's input)."""

    @property
    def work(self) -> Work:
        head = self.head  # the layers fused into it keep its output's shape: its output bytes are the node's
        weighted = head.type in WEIGHTED_KINDS
        channels = (head.input_shapes[0][0], head.output_shape[0], head.config.get("groups", 1)) if weighted else None
        return Work(
            self.family,
            2 * head.macs if weighted else head.flops,
            head.weight_bytes,
            head.input_bytes + head.activation_bytes + self.other_bytes,
            channels or (0, 0, 1),
        )


def family_of(layer: LayerResult) -> str | None:
    """The layer's family (None: free, no node): convs are dense, pointwise (1x1), depthwise (groups = input
    channels), grouped, or linear on a 1x1 map; a linear is linear, or pointwise when applied per position."""
    if layer.kind.deploys_as == "free":
        return None
    if layer.type in ("conv", "conv_transpose"):
        if all_ones(layer.input_shapes[0][1:]) and all_ones(layer.output_shape[1:]):
            return "linear"
        groups = layer.config["groups"]
        if groups == 1:
            return "pointwise" if all_ones(layer.config["kernel"]) else "dense"
        return "depthwise" if groups == layer.input_shapes[0][0] else "grouped"
    if layer.type == "linear":
        return "pointwise" if layer.config.get("per_position") else "linear"
    if layer.type in POOLING_KINDS:
        return "pooling"
    return "activation" if layer.type in ACTIVATION_KINDS else "elementwise"


def nodes_of(layers: Sequence[LayerResult], element_bytes: int, outputs: Sequence[str] = ()) -> list[Node]:
    """The runtime's nodes, in order, fusions applied (``element_bytes``: one element of the batch's tensors); a layer
    the network hands out (``outputs``) is read once more: nothing fuses into it."""
    readers = Counter([*outputs, *(name for layer in layers for name in layer.inputs)])
    nodes: list[Node] = []
    open_nodes: dict[str, Node] = {}  # by its last layer's name: a node whose output has one reader it may absorb
    for layer in layers:
        into = _absorber(layer, open_nodes)
        if into is not None:
            source, node = into
            node.fused.append(layer)
            if layer.type == "add":
                other = layer.input_shapes[1 - layer.inputs.index(source)]
                node.other_bytes += elements(other) * element_bytes
            del open_nodes[source]
            if readers[layer.name] == 1:
                open_nodes[layer.name] = node
            continue
        family = family_of(layer)
        if family is None:
            continue
        node = Node(layer, family)
        nodes.append(node)
        if (layer.type in WEIGHTED_KINDS or layer.type == "batchnorm") and readers[layer.name] == 1:
            open_nodes[layer.name] = node
    return nodes


def _absorber(layer: LayerResult, open_nodes: dict[str, Node]) -> tuple[str, Node] | None:
    """The open node that absorbs ``layer`` and the input it reads of it, in the order conv [batch norm]
    [activation] [add [activation]]: a batch norm and an add into a conv or linear, a fused activation into any
    node whose last layer is no activation."""
    if layer.type == "add" and len(layer.inputs) == 2:
        for source in layer.inputs:
            node = open_nodes.get(source)
            if node is not None and node.head.type in WEIGHTED_KINDS and all(f.type != "add" for f in node.fused):
                return source, node
        return None
    if len(layer.inputs) != 1 or layer.inputs[0] not in open_nodes:
        return None
    node = open_nodes[layer.inputs[0]]
    if layer.type == "batchnorm":
        return (layer.inputs[0], node) if node.head.type in WEIGHTED_KINDS and not node.fused else None
    last = node.fused[-1] if node.fused else node.head
    if layer.type in FUSED_ACTIVATIONS and last.type not in FUSED_ACTIVATIONS:
        return layer.inputs[0], node
    return None


# ---------------------------------------------------------------- the roofline of one node


def padded_flops(work: Work, lanes: int) -> float:
    """FLOPs with channels rounded up to ``lanes`` (dense, pointwise: c_out, and c_in from ``lanes`` up; depthwise:
    c_out); other families, or no lanes: as they are."""
    c_in, c_out, _ = work.channels
    if lanes <= 1 or work.family not in LANE_FAMILIES or not c_out:
        return float(work.flops)

    def up(channels: int) -> float:
        return math.ceil(channels / lanes) * lanes / channels

    factor = up(c_out) if work.family == "depthwise" else up(c_out) * (up(c_in) if c_in >= lanes else 1.0)
    return work.flops * factor


def roofline(work: Work, device: DeviceProfile, dtype: str, weights_at: float | None) -> tuple[float, float]:
    """(compute seconds, memory seconds): FLOPs' / peak, and W / BW(weights_at) + A / BW(A); with ``weights_at``
    None, everything hot: (W + A) / BW(W + A) (a micro-benchmark's node run again and again)."""
    compute = padded_flops(work, device.lanes) / device.peak(dtype, work.family in MATRIX_FAMILIES)
    if weights_at is None:
        return compute, work.bytes / device.bandwidth_at(work.bytes)
    memory = work.weight_bytes / device.bandwidth_at(weights_at)
    return compute, memory + work.activation_bytes / device.bandwidth_at(work.activation_bytes)


def per_group(work: Work) -> int:
    """Input channels per group, c_in / groups (what a grouped conv's efficiency depends on)."""
    c_in, _, groups = work.channels
    return c_in // groups


# ---------------------------------------------------------------- estimates


def significant(seconds: float) -> float:
    """Four significant figures: an estimate claims no more."""
    return float(f"{seconds:.4g}")


@dataclass(frozen=True, slots=True)
class LayerLatency:
    """One layer's estimate: the time of the node it heads (0 when fused into another or free), the bound, the
    node's bytes and FLOPs per byte, and the node it runs in (None: free)."""

    estimate_s: float
    bound: str
    bytes: int
    intensity: float
    node: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate_s": significant(self.estimate_s),
            "bound": self.bound,
            "bytes": self.bytes,
            "intensity": round(self.intensity, 3),
            "node": self.node,
        }


@dataclass(frozen=True, slots=True)
class Latency:
    """A network's estimate on a device: per layer (by name), the sum, the nodes after fusion."""

    device: DeviceProfile
    layers: dict[str, LayerLatency]
    estimate_s: float
    nodes: int
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        """``total.latency`` of the JSON."""
        return {
            "estimate_s": significant(self.estimate_s),
            "device": self.device.name,
            "calibrated": self.device.calibrated,
            "nodes": self.nodes,
            "bytes": self.bytes,
        }

    def attach(self, document: dict[str, Any]) -> dict[str, Any]:
        """An analysis' JSON with ``layers[i].latency``, ``total.latency`` and the convention's ``latency``."""
        for layer in document["layers"]:
            layer["latency"] = self.layers[layer["name"]].to_dict()
        document["total"]["latency"] = self.to_dict()
        document["convention"]["latency"] = CONVENTION
        return document


def peak_check(device: DeviceProfile, dtype: str) -> None:
    """ValueError when the device gives no peak for ``dtype``."""
    if dtype not in device.peak_flops:
        given = ", ".join(device.peak_flops)
        raise ValueError(
            f"device '{device.name}' gives no {dtype} peak (only {given}): give --peak-flops, or another --dtype"
        )


def estimate(analysis: Analysis, device: DeviceProfile) -> Latency:
    """Every layer's estimate on ``device`` at the analysis' dtype and batch (ValueError: no peak for the dtype)."""
    peak_check(device, analysis.dtype)
    nodes = nodes_of(analysis.layers, DTYPE_BYTES[analysis.dtype] * analysis.batch, analysis.output_layers)
    works = [node.work for node in nodes]
    weights = sum(work.weight_bytes for work in works)
    free = LayerLatency(0.0, "free", 0, 0.0, None)
    layers = dict.fromkeys((layer.name for layer in analysis.layers), free)
    total = 0.0
    for node, work in zip(nodes, works, strict=True):
        compute, memory = roofline(work, device, analysis.dtype, weights)
        seconds = max(compute, memory) / device.efficiency_of(work.family, per_group(work)) + device.overhead_s
        total += seconds
        intensity = work.flops / work.bytes if work.bytes else 0.0
        name = node.head.name
        layers[name] = LayerLatency(seconds, "compute" if compute >= memory else "memory", work.bytes, intensity, name)
        for layer in node.fused:
            layers[layer.name] = LayerLatency(0.0, "fused", 0, 0.0, name)
    return Latency(device, layers, total, len(nodes), sum(work.bytes for work in works))
