"""Deployment memory: the peak of live activations when a microcontroller runtime (TinyEngine, MCUNet's engine) runs
the network layer by layer. Pure: reads an :class:`~convcalc.results.Analysis`.

The runtime's graph: batch norm after a conv or linear (its only reader) is folded into it (the conv gains a bias;
the batch norm's parameters and running statistics go); an activation is fused into its producer (its only reader);
dropout, stochastic depth and flatten are free (the identity, a view). Every other layer is a step. At a step, the
live tensors are those made before it and read at or after it, plus its output; a tensor is freed after its last
reader (a residual's input lives until its add). A depthwise conv (groups = input channels = output channels) whose
input has no later reader runs in place, as TinyEngine does: its output overwrites its input (its one-channel scratch
buffer is not counted), so it needs max(input, output), not their sum. Weights stay in flash: not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convcalc.core.tensor import elements
from convcalc.engine.graph import NETWORK_INPUT

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from convcalc.engine.results import Analysis, LayerResult

DEPLOY_CONVENTION = {
    "peak_bytes": "largest sum of live activations at one step (RAM; the weights are in flash, not counted)",
    "flash_bytes": "(params + buffers after folding) * dtype bytes: every value in the deployment's dtype (int8 "
    "runtimes keep biases in int32, a few KiB more)",
    "folded": "batch norm after a conv or linear folded into it (params change: the conv gains a bias, the batch "
    "norm's gamma, beta and running statistics go); activations fused into their producer",
    "in_place": "a depthwise conv whose input has no other reader overwrites it: max(input, output), not the sum",
    "live": "a tensor lives from its step until its last reader (a residual input until its add)",
}


@dataclass(frozen=True, slots=True)
class DeployStep:
    """One step of the runtime: the layer that computes, the layers fused into it, its live bytes."""

    name: str
    fused: tuple[str, ...]
    live_bytes: int
    in_place: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fused": list(self.fused), "live_bytes": self.live_bytes, "in_place": self.in_place}


@dataclass(frozen=True, slots=True)
class Deployment:
    """The runtime's steps, its peak, and the parameters after folding; with ``patches``, the initial stage run
    patch by patch (:mod:`convcalc.passes.patches`)."""

    dtype: str
    steps: tuple[DeployStep, ...]
    params: int
    buffers: int
    folded: int
    plan: RuntimePlan = field(repr=False, compare=False)
    """How the steps were made from the layers (what patch-based inference tiles)."""
    patches: PatchPlan | None = None

    @property
    def peak(self) -> DeployStep:
        return max(self.steps, key=lambda step: step.live_bytes)

    @property
    def flash_bytes(self) -> int:
        """Weights after folding in flash: (params + buffers) * dtype bytes."""
        from convcalc.engine.results import DTYPE_BYTES

        return (self.params + self.buffers) * DTYPE_BYTES[self.dtype]

    def to_dict(self) -> dict[str, Any]:
        peak = self.peak
        return {
            "dtype": self.dtype,
            "peak_bytes": peak.live_bytes,
            "peak_layer": peak.name,
            "flash_bytes": self.flash_bytes,
            "params": self.params,
            "buffers": self.buffers,
            "folded_batchnorms": self.folded,
            "convention": DEPLOY_CONVENTION,
            **({"patches": self.patches.to_dict()} if self.patches else {}),
        }

    def attach(self, document: dict[str, Any]) -> dict[str, Any]:
        """An analysis' JSON with ``total.deploy`` and the runtime's steps (and the patch stage's, with patches)."""
        document["total"]["deploy"] = self.to_dict()
        document["deploy_steps"] = [step.to_dict() for step in self.steps]
        if self.patches:
            document["patch_steps"] = [step.to_dict() for step in self.patches.steps]
        return document


def deployment(analysis: Analysis, dtype: str = "int8") -> Deployment:
    """The network as a microcontroller runtime runs it, activations in ``dtype``."""
    from convcalc.engine.results import DTYPE_BYTES

    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPE_BYTES)}")
    plan = runtime_plan(analysis.layers, analysis.output_layers)
    params, buffers = analysis.total.params, analysis.total.buffers
    for layer in plan.folded:
        params -= layer.params
        buffers -= layer.buffers
    params += sum(plan.added_bias.values())
    size = element_bytes(analysis, dtype)
    tensor_bytes = {step.name: elements(step.output_shape) * size for step in plan.steps}
    tensor_bytes[NETWORK_INPUT] = elements(analysis.input_shape) * size
    steps = live_steps(plan, plan.steps, tensor_bytes, plan.steps_of(analysis.output_layers))
    return Deployment(dtype, steps, params, buffers, len(plan.folded), plan)


def element_bytes(analysis: Analysis, dtype: str) -> int:
    """Bytes of one element of a tensor in ``dtype``, for every sample of the batch."""
    from convcalc.engine.results import DTYPE_BYTES

    return DTYPE_BYTES[dtype] * analysis.batch


@dataclass(slots=True)
class RuntimePlan:
    """The runtime's steps: each layer's step (``alias``), the layers fused into each step, the folded batch norms."""

    steps: list[LayerResult]
    alias: dict[str, str]
    fused: dict[str, list[str]]
    folded: list[LayerResult]
    added_bias: dict[str, int]

    def steps_of(self, layers: Sequence[str]) -> list[str]:
        """The step each layer's output is made in (a fused activation's: its conv's)."""
        return [self.alias.get(layer, layer) for layer in layers]


def runtime_plan(layers: Sequence[LayerResult], outputs: Sequence[str] = ()) -> RuntimePlan:
    """Fold batch norms, fuse activations, drop free layers: the steps the runtime runs, in order. A layer the
    network hands out (``outputs``) is read once more: nothing fuses into it."""
    readers: dict[str, int] = dict.fromkeys(outputs, 1)
    for layer in layers:
        for source in set(layer.inputs):
            readers[source] = readers.get(source, 0) + 1
    plan = RuntimePlan([], {NETWORK_INPUT: NETWORK_INPUT}, {}, [], {})
    by_name = {layer.name: layer for layer in layers}
    for layer in layers:
        source = layer.inputs[0]
        producer = plan.alias[source]
        sole = len(layer.inputs) == 1 and readers.get(source) == 1 and producer != NETWORK_INPUT
        role = layer.kind.deploys_as
        if role == "folded" and sole and producer == source and by_name[source].kind.absorbs_batchnorm:
            plan.folded.append(layer)
            if not by_name[source].config["bias"]:
                plan.added_bias[source] = layer.output_shape[0]
        elif not ((role == "fused" and sole) or role == "free"):
            plan.alias[layer.name] = layer.name
            plan.steps.append(layer)
            plan.fused[layer.name] = []
            continue
        plan.alias[layer.name] = plan.alias[source]
        if plan.alias[source] != NETWORK_INPUT:
            plan.fused[plan.alias[source]].append(layer.name)
    return plan


def depthwise(layer: LayerResult) -> bool:
    """groups = input channels = output channels: TinyEngine runs it in place when its input is read no more."""
    channels = layer.input_shapes[0][0]
    return layer.type == "conv" and layer.config["groups"] == channels == layer.output_shape[0]


def live_steps(
    plan: RuntimePlan, steps: Sequence[LayerResult], tensor_bytes: Mapping[str, int], outputs: Sequence[str] = ()
) -> tuple[DeployStep, ...]:
    """Each of ``steps``' live bytes (the plan's steps, or the first of them): tensors made earlier and read now or
    later, plus its output, each of ``tensor_bytes`` (by step name; the network input's under NETWORK_INPUT). The
    last step's output and the network's ``outputs`` are kept to the end (the split's buffer, what the network hands
    out)."""
    last_read: dict[str, int] = {}
    for index, step in enumerate(steps):
        for source in step.inputs:
            last_read[plan.alias[source]] = index
    for kept in [*outputs, *(step.name for step in steps[-1:])]:
        last_read[kept] = len(steps)
    input_bytes = tensor_bytes[NETWORK_INPUT]
    live, result = input_bytes, []
    for index, step in enumerate(steps):
        output = tensor_bytes[step.name]
        sources = {plan.alias[source] for source in step.inputs}
        only = next(iter(sources)) if len(sources) == 1 else None
        now = live + output
        in_place = only is not None and depthwise(step) and last_read[only] == index
        if in_place and only is not None:
            now = live - tensor_bytes[only] + max(tensor_bytes[only], output)
        result.append(DeployStep(step.name, tuple(plan.fused[step.name]), now, in_place))
        live += output
        for tensor in sources:
            if last_read[tensor] == index:
                live -= tensor_bytes[tensor]
        if last_read.get(step.name, index) <= index:
            live -= output  # never read (a dangling branch): freed at once
    return tuple(result)


# --- patch-based inference's plan (computed by convcalc.passes.patches) ---

Grid = tuple[int, int]
Interval = tuple[int, int] | None
"""Rows (or columns) [start, end) of a tensor that one patch computes; None: none of them."""

PATCH_CONVENTION = {
    "regions": "backward from each tile of the split layer's output through each layer's window, clipped to the "
    "input (padding reads nothing); a tensor read by several layers computes the hull of what they need",
    "stage_peak_bytes": "one patch's tiles, live as layer by layer, plus the split layer's whole output buffer; the "
    "network input is read tile by tile (only its tile counts)",
    "rest_peak_bytes": "the layer-by-layer runtime's peak after the split",
    "extra_macs": "sum over patches of each layer's region pixels times its MACs per output pixel, less the "
    "layer-by-layer MACs of the same layers",
    "split": "given, or the valid split with the lowest peak (of equal peaks, the earliest)",
}


@dataclass(frozen=True, slots=True)
class PatchStep:
    """One step of the patch stage: the rows and columns of its output each patch row and column computes, its MACs
    over all patches, and its live bytes in the patch where the stage peaks (split buffer included)."""

    name: str
    rows: tuple[Interval, ...]
    cols: tuple[Interval, ...]
    macs: int
    live_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": [list(region) if region else None for region in self.rows],
            "cols": [list(region) if region else None for region in self.cols],
            "macs": self.macs,
            "live_bytes": self.live_bytes,
        }


@dataclass(frozen=True, slots=True)
class PatchPlan:
    """The initial stage run patch by patch up to ``split``, and the rest layer by layer."""

    grid: Grid
    split: str
    chosen: bool
    """True when convcalc chose the split (the lowest peak), False when it was given."""
    split_shape: tuple[int, ...]
    buffer_bytes: int
    stage_peak: int
    stage_peak_at: str
    peak_patch: Grid
    rest_peak: int
    rest_peak_at: str | None
    stage_macs: int
    patch_macs: int
    network_macs: int
    input_rows: tuple[Interval, ...]
    input_cols: tuple[Interval, ...]
    steps: tuple[PatchStep, ...]

    @property
    def peak(self) -> int:
        return max(self.stage_peak, self.rest_peak)

    @property
    def extra_macs(self) -> int:
        return self.patch_macs - self.stage_macs

    @property
    def tile(self) -> Grid:
        return self.split_shape[1] // self.grid[0], self.split_shape[2] // self.grid[1]

    @property
    def input_tile(self) -> Grid:
        """The input tile (rows by columns) of the patch where the stage peaks."""
        row, column = self.peak_patch
        return region_length(self.input_rows[row]), region_length(self.input_cols[column])

    def to_dict(self) -> dict[str, Any]:
        return {
            "grid": list(self.grid),
            "split": self.split,
            "split_chosen": self.chosen,
            "split_shape": list(self.split_shape),
            "tile": list(self.tile),
            "input_tile": list(self.input_tile),
            "input_rows": [list(region) if region else None for region in self.input_rows],
            "input_cols": [list(region) if region else None for region in self.input_cols],
            "split_buffer_bytes": self.buffer_bytes,
            "stage_peak_bytes": self.stage_peak,
            "stage_peak_at": self.stage_peak_at,
            "stage_peak_patch": list(self.peak_patch),
            "rest_peak_bytes": self.rest_peak,
            "rest_peak_at": self.rest_peak_at,
            "peak_bytes": self.peak,
            "stage_macs": self.stage_macs,
            "patch_macs": self.patch_macs,
            "extra_macs": self.extra_macs,
            "network_macs": self.network_macs,
            "convention": PATCH_CONVENTION,
        }


def region_length(region: Interval) -> int:
    """The rows (or columns) in a region."""
    return region[1] - region[0] if region else 0
