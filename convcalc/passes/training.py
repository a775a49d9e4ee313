"""Training memory and compute of one step: what autograd keeps, gradients, optimizer state, the step's peak and the
backward MACs. Pure: reads an :class:`~convcalc.results.Analysis` (its layers, kinds and configurations).

What autograd keeps per layer is the layer kind's ``saved`` rule (:mod:`convcalc.layers`). Kept tensors count
once per storage, as PyTorch holds them: an in-place activation's output is its input's storage, a view (flatten,
crop, slice) its input's; a storage counts in full, for the first layer that keeps it. A layer autograd does not
record (no parameters and no input that needs a gradient, such as a pool on the image) keeps nothing.

The peak of a step follows tensors over a timeline: forward layer by layer, then backward in reverse, then the
optimizer step. Weights and optimizer state (from earlier steps) live throughout; a forward tensor lives from its
layer until its last reader, a kept storage until the backward of the first layer that keeps it, a parameter's
gradient from its layer's backward on (``zero_grad`` sets them to None), a tensor's gradient from the backward of its
last reader until that of its producer. Not counted: the loss, the framework's workspaces and allocator rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from convcalc.core.tensor import elements
from convcalc.engine.graph import NETWORK_INPUT
from convcalc.kinds.base import OUTPUT, Made

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.engine.results import Analysis, LayerResult

OPTIMIZER_COPIES = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
"""Values of optimizer state per parameter: momentum's velocity; Adam's first and second moments."""
PRECISIONS = ("fp32", "amp")
SAVED_DTYPE_BYTES = {"float32": 4, "int64": 8}

TRAINING_CONVENTION = {
    "saved_bytes": "what PyTorch's autograd keeps for backward (train mode, CPU), each storage once, parameters and "
    "batch-norm running statistics excluded",
    "gradient_bytes": "one gradient per parameter, in the parameters' dtype (float32 under amp)",
    "optimizer_bytes": "sgd: none; momentum: 1 value per parameter; adam, adamw: 2 (Adam's step counters excluded)",
    "weight_bytes": "parameters and buffers; amp: float32 master weights plus a float16 copy of the parameters",
    "peak_bytes": "largest sum of live tensors over forward, backward and the optimizer step (weights and optimizer "
    "state throughout; kept storages until their backward; gradients from their backward on)",
    "backward_macs": "input gradient (= forward MACs, none where no input needs a gradient, as the first layer) + "
    "weight gradient (= forward MACs), conv, conv_transpose and linear; a step is forward + backward",
}


@dataclass(frozen=True, slots=True)
class TrainingLayer:
    """One layer's share: the bytes it keeps for backward (storages first kept here) and its backward MACs."""

    name: str
    saved_bytes: int
    input_grad_macs: int
    weight_grad_macs: int

    @property
    def backward_macs(self) -> int:
        return self.input_grad_macs + self.weight_grad_macs


@dataclass(frozen=True, slots=True)
class Training:
    """A training step's memory and compute."""

    optimizer: str
    precision: str
    layers: tuple[TrainingLayer, ...]
    weight_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    peak_bytes: int
    peak_at: str
    forward_macs: int

    @property
    def saved_bytes(self) -> int:
        return sum(layer.saved_bytes for layer in self.layers)

    @property
    def backward_macs(self) -> int:
        return sum(layer.backward_macs for layer in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "precision": self.precision,
            "saved_bytes": self.saved_bytes,
            "gradient_bytes": self.gradient_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "weight_bytes": self.weight_bytes,
            "peak_bytes": self.peak_bytes,
            "peak_at": self.peak_at,
            "backward_macs": self.backward_macs,
            "step_macs": self.forward_macs + self.backward_macs,
            "convention": TRAINING_CONVENTION,
        }

    def attach(self, document: dict[str, Any]) -> dict[str, Any]:
        """An analysis' JSON with ``total.training`` and each layer's ``saved_bytes`` and ``backward_macs``."""
        for record, layer in zip(document["layers"], self.layers, strict=True):
            record["saved_bytes"] = layer.saved_bytes
            record["backward_macs"] = layer.backward_macs
        document["total"]["training"] = self.to_dict()
        return document


def training(analysis: Analysis, optimizer: str = "sgd", precision: str = "fp32") -> Training:
    """The training step of ``analysis`` (its batch; activations in its dtype, or float16 under amp)."""
    if optimizer not in OPTIMIZER_COPIES:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZER_COPIES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    from convcalc.engine.results import DTYPE_BYTES

    amp = precision == "amp"
    value_bytes = 4 if amp else DTYPE_BYTES[analysis.dtype]
    params = analysis.total.params
    weight_bytes = (params + analysis.total.buffers) * value_bytes + (params * 2 if amp else 0)
    gradient_bytes = params * value_bytes
    optimizer_bytes = OPTIMIZER_COPIES[optimizer] * params * value_bytes
    tape = _Tape(analysis, 2 if amp else DTYPE_BYTES[analysis.dtype])
    layers = tuple(tape.record(index, layer) for index, layer in enumerate(analysis.layers))
    peak, at = tape.peak(weight_bytes + optimizer_bytes, value_bytes)
    return Training(
        optimizer, precision, layers, weight_bytes, gradient_bytes, optimizer_bytes, peak, at, analysis.total.macs
    )


class _Tape:
    """Storages, what autograd keeps and when everything lives, filled in layer by layer."""

    def __init__(self, analysis: Analysis, activation_bytes: int) -> None:
        self.layers = analysis.layers
        self.outputs = analysis.output_layers
        self.batch = analysis.batch
        self.element_bytes = activation_bytes
        self.steps = len(self.layers)
        size = elements(analysis.input_shape) * self.batch * activation_bytes
        self.storage = {NETWORK_INPUT: NETWORK_INPUT}  # tensor -> the storage it is
        self.storage_bytes = {NETWORK_INPUT: size}
        self.storage_birth = {NETWORK_INPUT: 0}
        self.needs_grad = {NETWORK_INPUT: False}
        self.keepers: dict[str, int] = {}  # kept storage -> first layer keeping it
        self.new_kept: list[tuple[int, int]] = []  # (layer, bytes) of tensors made for backward

    def record(self, index: int, layer: LayerResult) -> TrainingLayer:
        """Storage, kept bytes and backward MACs of the layer at ``index``."""
        kind, config, sources = layer.kind, layer.config, layer.inputs
        input_grad = any(self.needs_grad[source] for source in sources)
        self.needs_grad[layer.name] = input_grad or layer.params > 0
        if len(sources) == 1 and (kind.view or kind.in_place(config)):
            self.storage[layer.name] = self.storage[sources[0]]
        else:
            self.storage[layer.name] = layer.name
            self.storage_bytes[layer.name] = elements(layer.output_shape) * self.batch * self.element_bytes
            self.storage_birth[layer.name] = index
        kept = 0
        if self.needs_grad[layer.name]:
            for item in kind.saved(config, layer.input_shapes, layer.output_shape, self.batch):
                if isinstance(item, Made):
                    size = item.elements * (SAVED_DTYPE_BYTES[item.dtype] if item.dtype else self.element_bytes)
                    self.new_kept.append((index, size))
                    kept += size
                    continue
                storage = self.storage[layer.name if item.tensor == OUTPUT else sources[item.tensor]]
                if storage not in self.keepers:
                    self.keepers[storage] = index
                    kept += self.storage_bytes[storage]
        weighted = layer.macs if layer.params else 0  # MACs count weights only: conv, conv_transpose, linear
        return TrainingLayer(layer.name, kept, weighted if input_grad else 0, weighted)

    def backward_time(self, index: int) -> int:
        """The timeline: forward of layer i at i, its backward at 2n - 1 - i, the optimizer step at 2n."""
        return 2 * self.steps - 1 - index

    def peak(self, constant: int, value_bytes: int) -> tuple[int, str]:
        """The largest sum of live bytes over the step, and when."""
        change = [0] * (2 * self.steps + 2)

        def live(start: int, end: int, size: int) -> None:  # alive at times start..end
            change[start] += size
            change[end + 1] -= size

        for storage, end in _last_reads(self.layers, self.storage, self.outputs).items():
            first_keeper = self.keepers.get(storage)
            if first_keeper is not None:
                end = self.backward_time(first_keeper)
            live(self.storage_birth[storage], end, self.storage_bytes[storage])
        for index, size in self.new_kept:
            live(index, self.backward_time(index), size)
        for start, end, size in self._gradients(value_bytes):
            live(start, end, size)
        # the optimizer step (time 2n) holds only parameter gradients, all live at time 2n - 1: never the first peak
        running = list(accumulate(change[: 2 * self.steps]))
        best = max(running)
        return constant + best, self.moment(running.index(best))

    def _gradients(self, value_bytes: int) -> Sequence[tuple[int, int, int]]:
        """(from, to, bytes) of parameter gradients and of the gradients of tensors that need one."""
        last_reader = {layer.name: self.steps - 1 for layer in self.layers[-1:]}
        for index, layer in enumerate(self.layers):
            for source in layer.inputs:
                last_reader[source] = index
        end = 2 * self.steps
        spans = [(self.backward_time(i), end, layer.params * value_bytes) for i, layer in enumerate(self.layers)]
        for index, layer in enumerate(self.layers):
            if self.needs_grad[layer.name] and layer.name in last_reader:
                size = elements(layer.output_shape) * self.batch * self.element_bytes
                spans.append((self.backward_time(last_reader[layer.name]), self.backward_time(index), size))
        return spans

    def moment(self, time: int) -> str:
        if time < self.steps:
            return f"forward, {self.layers[time].name}"
        return f"backward, {self.layers[self.backward_time(time)].name}"


def _last_reads(layers: Sequence[LayerResult], storage: dict[str, str], outputs: Sequence[str]) -> dict[str, int]:
    """Each storage's last forward reader (the network's ``outputs`` live into the backward)."""
    last: dict[str, int] = {}
    for index, layer in enumerate(layers):
        last[storage[layer.name]] = max(last.get(storage[layer.name], index), index)
        for source in layer.inputs:
            last[storage[source]] = index
    for output in outputs:
        last[storage[output]] = len(layers)
    return last
