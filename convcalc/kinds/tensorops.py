"""Tensor operations of hybrid models (transformers inside CNNs): reshape, permute and the product of two activations.

Shapes are per sample, as everywhere in convcalc: axis 0 is PyTorch's dim 1. A reshape and a permute move values
(PyTorch views: no arithmetic); a matmul multiplies two activations, batched over its leading axes, and counts its
multiply-accumulates as MACs, as torch's flop counter counts bmm and matmul (and torchvision's published figures do).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from convcalc.core.formula import named
from convcalc.core.keys import MAX_AXES, Axes, Key, accepts, boolean, choice, integer, is_int
from convcalc.core.tensor import Config, Shape, elements, format_shape
from convcalc.kinds.base import Evaluation, Kept, LayerKind, ShapeError
from convcalc.kinds.merge import broadcast
from convcalc.kinds.torchcode import PERMUTE, call
from convcalc.kinds.windows import feature_map, per_axis


@accepts(
    {
        "type": "array",
        "items": {"anyOf": [{"const": -1}, {"type": "integer", "minimum": 1}]},
        "minItems": 1,
        "contains": {"const": -1},
        "minContains": 0,
        "maxContains": 1,
    },
    "a list of sizes, one of them may be -1 (the rest of the elements)",
)
def new_shape(value: Any) -> tuple[int, ...]:
    """A shape to reshape to: whole numbers >= 1, at most one -1 (whatever the element count leaves)."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"expected a list of sizes such as [768, 196] (one may be -1), got {value!r:.40}")
    sizes = tuple(integer(-1)(item) for item in value)
    if 0 in sizes or sizes.count(-1) > 1:
        raise ValueError(f"sizes must be at least 1, with at most one -1 (the rest), got {list(sizes)}")
    return sizes


class Reshape(LayerKind):
    type = "reshape"
    locality = "all"
    deploys_as = "free"
    summary = (
        "The same elements in another shape (PyTorch's reshape/view): [768, 14, 14] to [768, 196]; -1 for the rest."
    )
    view = True
    keys = (Key("shape", new_shape),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = the given shape, -1 standing for elements / the product of the others; no arithmetic."""
        wanted, count = config["shape"], elements(inputs[0])
        known = math.prod(size for size in wanted if size != -1)
        if -1 in wanted:
            if count % known:
                raise ShapeError(f"cannot reshape {format_shape(inputs[0])} to {_written(wanted)}: {count:,} elements")
            wanted = tuple(count // known if size == -1 else size for size in wanted)
        if math.prod(wanted) != count:
            raise ShapeError(
                f"cannot reshape {format_shape(inputs[0])} ({count:,} elements) to {_written(wanted)} "
                f"({math.prod(wanted):,})"
            )
        return Evaluation(tuple(wanted))

    torch_helper = '''class Reshape(nn.Module):
    """Each sample reshaped: x.reshape(batch, *shape)."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Reshape", *config["shape"])


def _written(shape: Sequence[int]) -> str:
    return "x".join(str(size) for size in shape)


MAX_PERMUTED = 5
"""A permute orders at most this many axes per sample (a 3-D map split into patches: C x D x H x W x P)."""


@accepts(
    {
        "anyOf": [  # n different axes, each < n: a permutation of 0 .. n - 1
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": n - 1},
                "minItems": n,
                "maxItems": n,
                "uniqueItems": True,
            }
            for n in range(1, MAX_PERMUTED + 1)
        ]
    },
    f"a permutation of the axes (at most {MAX_PERMUTED}), 0 the channels: [1, 0] swaps a 2-D tensor's",
)
def permutation(value: Any) -> tuple[int, ...]:
    """The axes in their new order."""
    if not isinstance(value, list) or not all(is_int(axis) for axis in value):
        raise ValueError(f"expected a permutation of 0, 1, ... such as [1, 0], got {value!r:.40}")
    if sorted(value) != list(range(len(value))) or len(value) > MAX_PERMUTED:
        raise ValueError(f"expected a permutation of 0, 1, ... of at most {MAX_PERMUTED} axes, got {value!r:.40}")
    return tuple(value)


class Permute(LayerKind):
    type = "permute"
    locality = "all"
    deploys_as = "free"
    summary = "The axes in another order (PyTorch's permute, transpose): [1, 0] makes [768, 196] [196, 768]."
    view = True
    keys = (Key("dims", permutation),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out[i] = in[dims[i]]; no arithmetic."""
        dims, shape = config["dims"], inputs[0]
        if len(dims) != len(shape):
            raise ShapeError(
                f"dims {list(dims)} order {len(dims)} axes, but the input {format_shape(shape)} has {len(shape)}"
            )
        return Evaluation(tuple(shape[axis] for axis in dims))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """The Permute helper on batched tensors: every axis one further."""
        return call("Permute", 0, *(axis + 1 for axis in config["dims"]))

    torch_helper = PERMUTE


@accepts(
    {
        "anyOf": [
            {"type": "integer"},
            {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": MAX_AXES},
        ]
    },
    "a whole number of any sign (every spatial axis) or one per axis: [height, width]",
)
def shifts(value: Any) -> Axes:
    """Positions to shift by, per spatial axis (negative: towards the start)."""
    if isinstance(value, list) and 1 <= len(value) <= MAX_AXES and all(is_int(item) for item in value):
        return tuple(value)
    if is_int(value):
        return int(value)
    raise ValueError(f"expected a whole number or one per axis such as [-3, -3], got {value!r:.40}")


class Roll(LayerKind):
    type = "roll"
    locality = "all"
    deploys_as = "free"
    summary = "Positions shifted cyclically along the spatial axes (torch.roll: Swin's shifted windows); no arithmetic."
    keys = (Key("shift", shifts),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in: each position moves by shift along its axis, those past the end come round to the start."""
        per_axis(config["shift"], feature_map(inputs[0], self.type)[1], "shift")
        return Evaluation(inputs[0])

    torch_helper = '''class Roll(nn.Module):
    """Positions shifted cyclically along the spatial axes: torch.roll."""

    def __init__(self, *shifts: int) -> None:
        super().__init__()
        self.shifts = shifts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.roll(x, self.shifts, dims=tuple(range(2, 2 + len(self.shifts))))
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Roll", *per_axis(config["shift"], inputs[0][1:], "shift"))


class MatMul(LayerKind):
    type = "matmul"
    summary = "Product of two activations, batched over the leading axes: [.., n, k] @ [.., k, m] (torch.matmul)."
    many_inputs = True
    macs_rule = "batch * n * k * m (batch: the product of the broadcast leading axes)"
    flops_rule = "2 * MACs"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (batch..., n, m); MACs = batch * n * k * m."""
        if len(inputs) != 2 or min(len(inputs[0]), len(inputs[1])) < 2:
            shapes = " and ".join(format_shape(shape) for shape in inputs)
            raise ShapeError(f"matmul multiplies two tensors of at least 2 axes, not {shapes}")
        (*lead_a, n, k), (*lead_b, k_b, m) = inputs
        if k != k_b:
            a, b = format_shape(inputs[0]), format_shape(inputs[1])
            raise ShapeError(f"cannot multiply {a} by {b}: {k} columns against {k_b} rows")
        lead = broadcast(
            [(1,) * (len(lead_b) - len(lead_a)) + tuple(lead_a), (1,) * (len(lead_a) - len(lead_b)) + tuple(lead_b)],
            "multiply",
        )
        macs = named("MACs", math.prod(lead) * n * k * m)
        return Evaluation((*lead, n, m), macs=macs, flops=2 * macs)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Kept, ...]:
        """Both factors, for each other's gradient."""
        return (Kept(0), Kept(1))

    torch_helper = '''class MatMul(nn.Module):
    """The product of two activations: torch.matmul(a, b)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return "MatMul()"


@accepts(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": MAX_PERMUTED - 1},
        "minItems": 1,
        "uniqueItems": True,
    },
    "the axes reduced, 0 the channels: [1, 2] a map's height and width",
)
def reduced_axes(value: Any) -> tuple[int, ...]:
    """Different axes, in order."""
    if not isinstance(value, list) or not value or not all(is_int(axis) and 0 <= axis < MAX_PERMUTED for axis in value):
        raise ValueError(f"expected a list of axes such as [1, 2], got {value!r:.40}")
    if len(set(value)) != len(value):
        raise ValueError(f"expected different axes, got {value!r:.40}")
    return tuple(sorted(value))


REDUCTIONS = ("mean", "sum", "max", "min")
"""What a ``reduce`` layer keeps of the values along its axes."""


class Reduce(LayerKind):
    type = "reduce"
    locality = "all"
    summary = (
        "The mean, sum, max or min along some axes (torch's mean, sum, amax, amin with dim): ResNeSt's sum of its "
        "radix splits, a mean over tokens; keep: false drops the axes."
    )
    keys = (Key("op", choice(*REDUCTIONS)), Key("axes", reduced_axes), Key("keep", boolean, True))
    flops_rule = "one per input element (a mean: and one division per output element)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = the input with its reduced axes 1 (or dropped); FLOPs = input elements (+ output elements, a mean)."""
        shape, axes = inputs[0], config["axes"]
        if axes[-1] >= len(shape):
            raise ShapeError(f"cannot reduce axis {axes[-1]} of {format_shape(shape)}: it has {len(shape)} axes")
        kept = tuple(1 if axis in axes else size for axis, size in enumerate(shape))
        out = kept if config["keep"] else tuple(size for axis, size in enumerate(shape) if axis not in axes) or (1,)
        divisions = elements(out) if config["op"] == "mean" else 0
        return Evaluation(out, flops=elements(shape) + divisions)

    torch_helper = '''class Reduce(nn.Module):
    """The mean, sum, max or min along dims (torch.mean, sum, amax, amin)."""

    def __init__(self, op: str, dims: tuple[int, ...], keepdim: bool = True) -> None:
        super().__init__()
        self.op, self.dims, self.keepdim = op, dims, keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduce = {"mean": torch.mean, "sum": torch.sum, "max": torch.amax, "min": torch.amin}[self.op]
        return reduce(x, dim=self.dims, keepdim=self.keepdim)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        dims = tuple(axis + 1 for axis in config["axes"])
        return call("Reduce", config["op"], dims, keepdim=(config["keep"], True))
