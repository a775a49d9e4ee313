"""Constants an ONNX graph computes: the shape arithmetic before a Reshape or a Pad (Shape, Gather, Concat, ...),
worked out from the file's small constants so that the ops reading it see numbers."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from convcalc.importers.onnx.model import OnnxNode

ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add,
    "Sub": operator.sub,
    "Mul": operator.mul,
    "Div": operator.truediv,
}


def fold(node: OnnxNode, values: list[tuple[float | int, ...] | None]) -> tuple[float | int, ...] | None:
    """The values of a shape computation on known constants, or None: Shape, Gather, Slice, Unsqueeze, Squeeze,
    Cast, Concat, Transpose of a vector, and element-wise Add, Sub, Mul, Div."""
    if any(v is None for v in values):
        return None
    known = [v for v in values if v is not None]
    op = node.op_type
    if (
        op in ("Unsqueeze", "Squeeze", "Cast", "Identity")
        or (op == "Transpose" and len(known[0]) <= 1)
        or op == "Concat"
    ):
        return tuple(item for v in (known if op == "Concat" else known[:1]) for item in v)
    if op == "Slice" and len(known) >= 3 and len(known[1]) == len(known[2]) == 1:
        return known[0][whole(known[1][0]) : whole(known[2][0])]
    if op == "Gather" and len(known) == 2:
        return gather(known[0], known[1])
    if op in ARITHMETIC and len(known) == 2 and len(known[1]) in (1, len(known[0])):
        right = known[1] * len(known[0]) if len(known[1]) == 1 else known[1]
        if op == "Div" and 0 in right:
            raise ValueError("a division by zero in the shape arithmetic")
        combine = ARITHMETIC[op]
        if op == "Div" and all(isinstance(v, int) for v in (*known[0], *right)):
            combine = operator.floordiv
        return tuple(combine(a, b) for a, b in zip(known[0], right, strict=True))
    return None


def whole(value: float | int) -> int:
    """A value of a shape computation as the whole number it stands for (2.0 is 2); a ValueError for 2.5, NaN or
    infinity."""
    if isinstance(value, int):
        return value
    if not math.isfinite(value) or not value.is_integer():
        raise ValueError(f"expected a whole number, got {value}")
    return int(value)


def gather(values: tuple[float | int, ...], indices: tuple[float | int, ...]) -> tuple[float | int, ...]:
    """values[i] for each index (negative ones count from the end); a ValueError for one out of range."""
    picked = []
    for index in map(whole, indices):
        if not -len(values) <= index < len(values):
            raise ValueError(f"index {index} is out of range for {len(values)} values")
        picked.append(values[index])
    return tuple(picked)


def fold_dims(node: OnnxNode, dims: tuple[int, ...]) -> tuple[int, ...]:
    """The dims of a constant computed from a constant of ``dims`` where the file does not state them (no shape
    inference): an Identity's (PyTorch shares equal weights so) or a Cast's are the same, a Transpose's permuted
    (the weight of a MatMul, as PyTorch exports nn.Linear on a channels-last map); else unknown."""
    if node.op_type in ("Identity", "Cast"):
        return dims
    perm = node.attributes.get("perm") or tuple(range(len(dims) - 1, -1, -1))  # ONNX's default reverses
    if node.op_type == "Transpose" and isinstance(perm, tuple) and sorted(perm) == list(range(len(dims))):
        return tuple(dims[int(p)] for p in perm)
    return ()
