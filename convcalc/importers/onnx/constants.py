"""Constants an ONNX graph computes: the shape arithmetic before a Reshape, a Pad, a Slice or an Expand (Shape,
Gather, Concat, Where, ...), worked out as ONNX specifies each op, so that the ops reading it see numbers.

A constant is a :class:`Tensor`: its dims, and its values in row-major order where it holds at most :data:`SMALL`
(a larger one keeps its dims only: the work stays bounded). Values are Python ints for integer tensors, computed as
int64 wraps them; bools for bool tensors; floats for float tensors, which are float32 as PyTorch exports them: each
float op rounds its result to float32 (written as the shortest decimal that rounds back, as the file's floats are
read), so that the values are those ONNX's runtimes compute; a Cast to float16 or double is not worked out.
A constant with neither dims nor values is one whose dims are unknown (an op convcalc does not fold): nothing is
folded from it. A value no tensor can hold (a division by zero, an index out of range, NaN where a whole number is
needed, dims that do not broadcast) is a ValueError, which the importer reports at the node.
"""

from __future__ import annotations

import itertools
import math
import operator
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial

from convcalc.importers.onnx.model import MAX_RANK, SMALL, OnnxNode, Tensor
from convcalc.importers.onnx.protobuf import shortest_float32

Value = float | int
"""One element of a constant (a bool is an int)."""
Rule = Callable[[OnnxNode, list[Tensor | None]], Tensor]


class _Unknown(Exception):
    """Something a constant's dims depend on (a Reshape's target, a Slice's bounds) is not known."""


def fold(node: OnnxNode, inputs: Sequence[Tensor | None]) -> Tensor | None:
    """The first output of ``node`` computed from its constant inputs (None for an optional input not given): its
    dims, and its values where they are known and few; None where its dims cannot be told (an op not in
    :data:`RULES`, a shape whose values are not known)."""
    rule = RULES.get(node.op_type)
    if rule is None or not inputs or inputs[0] is None:
        return None
    for tensor in _given(list(inputs)):
        if not tensor.dims and tensor.values is None:
            return None  # dims unknown
        _checked(tensor.dims)
        if tensor.values is not None and len(tensor.values) != math.prod(tensor.dims):
            raise ValueError(f"'{tensor.name}' holds {len(tensor.values)} values for dims {list(tensor.dims)}")
    try:
        made = rule(node, list(inputs))
    except _Unknown:
        return None
    return Tensor(node.outputs[0], made.dims, made.values)


# --- reading numbers --------------------------------------------------------------------------------------------------


def _exact(value: Value) -> float:
    """The float32 a value stands for, exactly (a float is written as the shortest decimal that rounds to it: 0.1 is
    0.100000001490116...); past float32's largest, infinity."""
    try:
        exact: float = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    return exact


def _float32(value: Value) -> float:
    """A value rounded to float32, written as the shortest decimal that rounds back, as the file's floats are read."""
    return shortest_float32(_exact(value))


def whole(value: float | int) -> int:
    """A value of a shape computation as the whole number it stands for (2.0 is 2; a float is the float32 it stands
    for); a ValueError for 2.5, NaN or infinity."""
    if isinstance(value, int):
        return int(value)
    exact = _exact(value)
    if not math.isfinite(exact) or not exact.is_integer():
        raise ValueError(f"expected a whole number, got {value}")
    return int(exact)


def position(index: float | int, size: int, what: str = "index", of: str = "values") -> int:
    """``index`` into ``size`` items counted from 0: a negative one counts from the end (-1 is size - 1); a ValueError
    for one outside [-size, size - 1]."""
    at = whole(index)
    if not -size <= at < size:
        raise ValueError(f"{what} {at} is out of range for {size} {of}")
    return at % size


def gather(values: tuple[float | int, ...], indices: tuple[float | int, ...]) -> tuple[float | int, ...]:
    """values[i] for each index (negative ones count from the end); a ValueError for one out of range."""
    return tuple(values[position(index, len(values))] for index in indices)


def _axis(axis: float | int, rank: int) -> int:
    return position(axis, rank, "axis", "dimensions")


def _attribute(node: OnnxNode, name: str, default: int) -> int:
    return whole(node.attributes.get(name, default))


def _ints(node: OnnxNode, inputs: list[Tensor | None], at: int, attribute: str = "") -> list[int] | None:
    """The whole numbers of input ``at`` or else (as older opsets write them) of the attribute; None where neither is
    given; _Unknown where the input's values are not known."""
    tensor = inputs[at] if at < len(inputs) else None
    if tensor is not None:
        if tensor.values is None:
            raise _Unknown
        return [whole(v) for v in tensor.values]
    given = node.attributes.get(attribute) if attribute else None
    return None if given is None else [whole(v) for v in given]


# --- tensors: dims and row-major values -------------------------------------------------------------------------------


def _make(dims: Sequence[int], compute: Callable[[], Iterable[Value]] | None, *sources: Tensor) -> Tensor:
    """A constant of ``dims``: its values computed (only) where every source's values are known and at most SMALL
    values come out."""
    made = _checked(dims)
    count = math.prod(made)
    if compute is None or count > SMALL or any(source.values is None for source in sources):
        return Tensor("", made, None)
    return Tensor("", made, tuple(compute()) if count else ())


def _checked(dims: Sequence[int]) -> tuple[int, ...]:
    """Dims a tensor can have: a ValueError for a size below 0 or more than MAX_RANK dimensions."""
    if len(dims) > MAX_RANK:
        raise ValueError(f"a tensor of {len(dims)} dimensions (convcalc reads at most {MAX_RANK})")
    if any(size < 0 for size in dims):
        raise ValueError(f"dims {list(dims)}: a size below 0")
    return tuple(dims)


def _strides(dims: Sequence[int]) -> tuple[int, ...]:
    """Row-major strides: the stride of axis k is the product of the sizes after it."""
    return tuple(math.prod(dims[k + 1 :]) for k in range(len(dims)))


def _indices(dims: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every index of a tensor of ``dims``, in row-major order."""
    return itertools.product(*(range(size) for size in dims)) if 0 not in dims else iter(())


def _pick(source: Tensor, dims: Sequence[int], where: Callable[[tuple[int, ...]], Sequence[int]]) -> list[Value]:
    """For each index i of ``dims`` (row-major), source's value at index where(i)."""
    strides = _strides(source.dims)
    values = source.values or ()
    return [values[sum(k * s for k, s in zip(where(i), strides, strict=True))] for i in _indices(dims)]


def broadcast(*shapes: Sequence[int]) -> tuple[int, ...]:
    """Numpy's broadcasting: dims aligned at their ends, a missing axis is 1, and on each axis the sizes other than 1
    are one size (the result's), else a ValueError."""
    rank = max((len(shape) for shape in shapes), default=0)
    dims = []
    for axis in range(rank):
        sizes = {shape[axis - rank + len(shape)] for shape in shapes if axis - rank + len(shape) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"dims {' and '.join(str(list(shape)) for shape in shapes)} do not broadcast")
        dims.append(sizes.pop() if sizes else 1)
    return tuple(dims)


def _spread(source: Tensor, dims: Sequence[int]) -> list[Value]:
    """source's values broadcast to ``dims``: an axis of size 1 repeats its value."""
    values = list(source.values or ())
    if source.dims == tuple(dims):  # no index to work out
        return values
    if len(values) == 1:
        return values * math.prod(dims)
    lead = len(dims) - len(source.dims)
    return _pick(source, dims, lambda i: [0 if size == 1 else i[lead + k] for k, size in enumerate(source.dims)])


def _elementwise(combine: Callable[..., Value], tensors: list[Tensor]) -> Tensor:
    """combine() of the tensors' values, element by element, broadcast to one shape."""
    dims = broadcast(*(tensor.dims for tensor in tensors))
    return _make(dims, lambda: map(combine, *(_spread(tensor, dims) for tensor in tensors)), *tensors)


# --- element-wise ops -------------------------------------------------------------------------------------------------


def _wrap(value: int, bits: int = 64, signed: bool = True) -> int:
    """An integer as a ``bits``-bit integer holds it (two's complement): value mod 2^bits, in [-2^(bits-1),
    2^(bits-1)) when signed."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if signed and value >> (bits - 1) else value


def _arithmetic(integers: Callable[[int, int], int], reals: Callable[[float, float], float]) -> Callable[..., Value]:
    """An op on two values: on integers as int64 computes it (wrapped), else on floats."""

    def combine(a: Value, b: Value) -> Value:
        if isinstance(a, int) and isinstance(b, int):
            return _wrap(integers(a, b))
        return _float32(reals(_exact(a), _exact(b)))

    return combine


def _divisor(value: Value) -> Value:
    if value == 0:
        raise ValueError("a division by zero in the shape arithmetic")
    return value


def _truncated(a: int, b: int) -> int:
    """a / b rounded toward zero, as ONNX divides integers (C++'s /): -7 / 2 = -3."""
    _divisor(b)
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def _remainder(fmod: bool, a: int, b: int) -> int:
    """a - b * q: with fmod, q truncated (the remainder has a's sign: fmod(-7, 2) = -1), else q floored (b's sign:
    -7 mod 2 = 1)."""
    _divisor(b)
    left = abs(a) % abs(b) if fmod else a % b
    return -left if fmod and a < 0 else left


def _float_remainder(fmod: bool, a: float, b: float) -> float:
    _divisor(b)
    return math.fmod(a, b) if fmod else a % b


def _integer_power(a: int, b: int) -> int:
    if b < 0:
        raise ValueError(f"an integer to the power {b}")
    return pow(a, b, 1 << 64)


def _real_power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        raise ValueError(f"{a} to the power {b} is no finite number") from None


def _square_root(a: Value) -> float:
    return _float32(math.sqrt(_exact(a))) if a >= 0 else math.nan


def _rounded(to: Callable[[float], float], a: Value) -> Value:
    """floor or ceil; an integer, infinity and NaN are their own."""
    return _float32(to(_exact(a))) if isinstance(a, float) and math.isfinite(a) else a


def _extreme(choose: Callable[[Iterable[Value]], Value]) -> Callable[..., Value]:
    """min or max of any number of values; NaN if one is NaN, as ONNX's Min and Max propagate it."""
    return lambda *values: math.nan if any(v != v for v in values) else choose(values)


def _sign(change: Callable[[Value], Value], a: Value) -> Value:
    """Neg or Abs: on an integer as int64 computes it (-(-2^63) wraps to -2^63)."""
    return _wrap(int(change(a))) if isinstance(a, int) else change(a)


def _mod(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Mod: the remainder with the divisor's sign, or with fmod=1 the dividend's (C's fmod)."""
    fmod = bool(_attribute(node, "fmod", 0))
    combine = _arithmetic(partial(_remainder, fmod), partial(_float_remainder, fmod))
    return _elementwise(combine, _given(inputs))


ELEMENTWISE: dict[str, Callable[..., Value]] = {
    "Add": _arithmetic(lambda a, b: a + b, lambda a, b: a + b),
    "Sub": _arithmetic(lambda a, b: a - b, lambda a, b: a - b),
    "Mul": _arithmetic(lambda a, b: a * b, lambda a, b: a * b),
    "Div": _arithmetic(_truncated, lambda a, b: a / _divisor(b)),
    "Pow": _arithmetic(_integer_power, _real_power),
    "Neg": partial(_sign, operator.neg),
    "Abs": partial(_sign, abs),
    "Sqrt": _square_root,
    "Floor": partial(_rounded, math.floor),
    "Ceil": partial(_rounded, math.ceil),
    "Min": _extreme(min),
    "Max": _extreme(max),
    "Equal": lambda a, b: a == b,
    "Less": lambda a, b: a < b,
    "LessOrEqual": lambda a, b: a <= b,
    "Greater": lambda a, b: a > b,
    "GreaterOrEqual": lambda a, b: a >= b,
    "Not": lambda a: not a,
    "And": lambda a, b: bool(a) and bool(b),
    "Or": lambda a, b: bool(a) or bool(b),
    "Xor": lambda a, b: bool(a) != bool(b),
    "Where": lambda condition, a, b: a if condition else b,
}
"""Element-wise ops: each output value from the inputs' values at the same (broadcast) index."""


def _given(inputs: list[Tensor | None]) -> list[Tensor]:
    return [tensor for tensor in inputs if tensor is not None]


# --- casts ------------------------------------------------------------------------------------------------------------


def _to_integer(bits: int, signed: bool, value: Value) -> int:
    """A value cast to an integer type: a float truncated toward zero (2.7 -> 2, -2.7 -> -2), then wrapped to the
    type's bits; a ValueError for NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot cast {value} to an integer")
    return _wrap(int(_exact(value) if isinstance(value, float) else value), bits, signed)


CASTS: dict[int, Callable[[Value], Value]] = {
    1: _float32,
    2: partial(_to_integer, 8, False),
    3: partial(_to_integer, 8, True),
    4: partial(_to_integer, 16, False),
    5: partial(_to_integer, 16, True),
    6: partial(_to_integer, 32, True),
    7: partial(_to_integer, 64, True),
    9: bool,
    12: partial(_to_integer, 32, False),
    13: partial(_to_integer, 64, False),
}
"""Cast's ``to`` (ONNX's TensorProto data types) -> the value in that type; another type's values are not worked
out (its dims are)."""


def _cast(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    source = _given(inputs)[0]
    convert = CASTS.get(_attribute(node, "to", 0))
    return _make(source.dims, None if convert is None else lambda: map(convert, source.values or ()), source)


# --- shapes and indexing ----------------------------------------------------------------------------------------------


def _shape(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Shape: the dims from ``start`` to ``end`` (negative ones count from the end; clamped to [0, rank])."""
    dims = _given(inputs)[0].dims
    kept = dims[_attribute(node, "start", 0) : _attribute(node, "end", len(dims))]
    return _make((len(kept),), lambda: kept)


def _gather(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Gather on ``axis``: out[a.., i.., b..] = data[a.., indices[i..], b..]; its dims are data's with the axis
    replaced by the indices' dims."""
    data, indices = _given(inputs)[:2]
    axis = _axis(_attribute(node, "axis", 0), len(data.dims))
    dims = (*data.dims[:axis], *indices.dims, *data.dims[axis + 1 :])
    at = [position(i, data.dims[axis]) for i in indices.values] if indices.values is not None else []
    taken = len(indices.dims)
    strides = _strides(indices.dims)

    def where(i: tuple[int, ...]) -> tuple[int, ...]:
        picked = at[sum(k * s for k, s in zip(i[axis : axis + taken], strides, strict=True))]
        return (*i[:axis], picked, *i[axis + taken :])

    return _make(dims, lambda: _pick(data, dims, where), data, indices)


def _bounds(size: int, start: int, end: int, step: int) -> range:
    """The indices a Slice keeps on an axis of ``size``: start and end past -1 count from the end (+ size), then are
    clamped to [0, size] (stepping back: start to [0, size - 1], end to [-1, size - 1]); start, start + step, ...
    before end."""
    if step == 0:
        raise ValueError("a Slice step of 0")
    start, end = (value + size if value < 0 else value for value in (start, end))
    low = -1 if step < 0 else 0
    return range(min(max(start, 0), size + low), min(max(end, low), size + low), step)


def _slice(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Slice: on each axis given (negative ones from the end; all from 0 where none are), the indices
    :func:`_bounds` keeps; steps default to 1."""
    data = _given(inputs)[0]
    starts, ends = _ints(node, inputs, 1, "starts"), _ints(node, inputs, 2, "ends")
    axes, steps = _ints(node, inputs, 3, "axes"), _ints(node, inputs, 4)
    if starts is None or ends is None:
        raise _Unknown
    axes = [_axis(a, len(data.dims)) for a in (range(len(starts)) if axes is None else axes)]
    steps = [1] * len(starts) if steps is None else steps
    if not len(starts) == len(ends) == len(axes) == len(steps) or len(set(axes)) < len(axes):
        raise ValueError(f"a Slice of starts {starts}, ends {ends}, axes {axes} and steps {steps}")
    kept = [range(size) for size in data.dims]
    for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        kept[axis] = _bounds(data.dims[axis], start, end, step)
    dims = tuple(len(indices) for indices in kept)
    return _make(dims, lambda: _pick(data, dims, lambda i: [r[k] for r, k in zip(kept, i, strict=True)]), data)


def _unsqueeze(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Unsqueeze: a 1 inserted at each axis of the output (negative ones count from its end)."""
    data = _given(inputs)[0]
    axes = _ints(node, inputs, 1, "axes") or []
    rank = len(data.dims) + len(axes)
    at = {_axis(a, rank) for a in axes}
    if len(at) < len(axes):
        raise ValueError(f"axes {axes} name an axis twice")
    rest = iter(data.dims)
    return _make([1 if axis in at else next(rest) for axis in range(rank)], lambda: data.values or (), data)


def _squeeze(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Squeeze: the axes given (each of size 1) removed, or without axes every axis of size 1."""
    data = _given(inputs)[0]
    axes = _ints(node, inputs, 1, "axes")
    at = {_axis(a, len(data.dims)) for a in axes} if axes is not None else None
    for axis in at or ():
        if data.dims[axis] != 1:
            raise ValueError(f"axis {axis} of dims {list(data.dims)} is not of size 1")
    dims = [size for axis, size in enumerate(data.dims) if (size != 1 if at is None else axis not in at)]
    return _make(dims, lambda: data.values or (), data)


def _concat(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Concat on ``axis``: the parts' dims equal but on the axis, where they add up; for each index before the axis,
    each part's block of values after it, in turn."""
    parts = _given(inputs)
    first = parts[0].dims
    axis = _axis(_attribute(node, "axis", 0), len(first))
    for part in parts:
        if len(part.dims) != len(first) or part.dims[:axis] + part.dims[axis + 1 :] != first[:axis] + first[axis + 1 :]:
            raise ValueError(f"dims {list(first)} and {list(part.dims)} do not concatenate on axis {axis}")
    dims = (*first[:axis], sum(part.dims[axis] for part in parts), *first[axis + 1 :])
    blocks = [(part.values or (), math.prod(part.dims[axis:])) for part in parts]

    def compute() -> Iterator[Value]:
        for outer in range(math.prod(first[:axis])):
            for values, block in blocks:
                yield from values[outer * block : (outer + 1) * block]

    return _make(dims, compute, *parts)


def _transpose(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Transpose: output axis k is input axis perm[k] (by default the axes reversed)."""
    data = _given(inputs)[0]
    rank = len(data.dims)
    perm = [whole(p) for p in node.attributes.get("perm") or range(rank - 1, -1, -1)]
    if sorted(perm) != list(range(rank)):
        raise ValueError(f"perm {perm} is not an order of {rank} axes")
    inverse = [perm.index(axis) for axis in range(rank)]
    dims = [data.dims[p] for p in perm]
    return _make(dims, lambda: _pick(data, dims, lambda i: [i[k] for k in inverse]), data)


def reshaped(dims: Sequence[int], target: Sequence[int], allowzero: bool) -> tuple[int, ...]:
    """The dims of a Reshape of ``dims`` to ``target``: a 0 copies the size at its index (with allowzero, it is a
    0), one -1 is the count left over (count / the product of the others); a ValueError where the count differs."""
    sizes = list(target)
    for k, size in enumerate(target):
        if size == 0 and not allowzero:
            if k >= len(dims):
                raise ValueError(f"a 0 at index {k} of {list(target)} for dims {list(dims)}")
            sizes[k] = dims[k]
    count = math.prod(dims)
    known = math.prod(size for size in sizes if size != -1)
    if sizes.count(-1) == 1 and known and count % known == 0:
        sizes[sizes.index(-1)] = count // known
    if any(size < 0 for size in sizes) or math.prod(sizes) != count:
        raise ValueError(f"cannot reshape dims {list(dims)} ({count:,} values) to {list(target)}")
    return tuple(sizes)


def _reshape(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    data = _given(inputs)[0]
    target = _ints(node, inputs, 1, "shape")
    if target is None:
        raise _Unknown
    dims = reshaped(data.dims, target, bool(_attribute(node, "allowzero", 0)))
    return _make(dims, lambda: data.values or (), data)


def _constant_of_shape(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """ConstantOfShape: a tensor of the input's dims, each value the ``value`` attribute's one (by default 0.0)."""
    dims = _ints(node, inputs, 0) or []
    value = node.attributes.get("value", Tensor("", (1,), (0.0,)))
    if not isinstance(value, Tensor) or math.prod(value.dims) != 1:
        raise ValueError("its value is not a tensor of one value")
    fill = value.values
    return _make(dims, None if fill is None else lambda: fill * math.prod(dims))


def _expand(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Expand: the input broadcast with the shape given (either may be the larger on an axis)."""
    data = _given(inputs)[0]
    dims = broadcast(data.dims, _ints(node, inputs, 1) or [])
    return _make(dims, lambda: _spread(data, dims), data)


def _range(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Range: start + k * delta for k = 0, 1, ..., max(ceil((limit - start) / delta), 0) - 1."""
    scalars = []
    for tensor in _given(inputs)[:3]:
        if tensor.values is None:
            raise _Unknown
        if len(tensor.values) != 1:
            raise ValueError(f"a Range bound of dims {list(tensor.dims)}, not one value")
        scalars.append(tensor.values[0])
    start, limit, delta = scalars
    if delta == 0:
        raise ValueError("a Range by a delta of 0")
    if isinstance(start, int) and isinstance(limit, int) and isinstance(delta, int):
        count = -((start - limit) // delta)  # ceil((limit - start) / delta) in integers
    else:
        ratio = (limit - start) / delta
        if not math.isfinite(ratio):
            raise ValueError(f"a Range from {start} to {limit} by {delta}")
        count = math.ceil(ratio)
    add, multiply = ELEMENTWISE["Add"], ELEMENTWISE["Mul"]
    return _make((max(count, 0),), lambda: (add(start, multiply(k, delta)) for k in range(count)))


def _flatten(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """Flatten: dims (d0 * ... * d(axis-1), d(axis) * ... ); axis in [-rank, rank], by default 1."""
    data = _given(inputs)[0]
    rank = len(data.dims)
    axis = _attribute(node, "axis", 1)
    axis += rank if axis < 0 else 0
    if not 0 <= axis <= rank:
        raise ValueError(f"axis {axis} is out of range for {rank} dimensions")
    return _make((math.prod(data.dims[:axis]), math.prod(data.dims[axis:])), lambda: data.values or (), data)


def _same_dims(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    return _make(_given(inputs)[0].dims, None)


def _reduce(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """ReduceMean, ReduceSum, ...: the dims with each axis reduced (``axes``, by default every one, or none with
    noop_with_empty_axes) 1, or with keepdims=0 gone; values not worked out."""
    data = _given(inputs)[0]
    axes = _ints(node, inputs, 1, "axes")
    if not axes and _attribute(node, "noop_with_empty_axes", 0):
        return _make(data.dims, lambda: data.values or (), data)
    reduced = {_axis(a, len(data.dims)) for a in axes} if axes else set(range(len(data.dims)))
    keep = _attribute(node, "keepdims", 1)
    return _make(
        [1 if axis in reduced else size for axis, size in enumerate(data.dims) if keep or axis not in reduced], None
    )


def _scatter_nd(node: OnnxNode, inputs: list[Tensor | None]) -> Tensor:
    """ScatterND: data with, for each index (the last axis of ``indices``: k coordinates into data's first k axes),
    the block of data after those axes replaced by the updates' (other reductions are not worked out); the updates'
    dims are the indices' but the last, then data's after the first k."""
    data, indices, updates = _given(inputs)[:3]
    k = indices.dims[-1] if indices.dims else 0
    if not 1 <= k <= len(data.dims) or updates.dims != indices.dims[:-1] + data.dims[k:]:
        raise ValueError(f"a ScatterND of dims {list(data.dims)}, {list(indices.dims)} and {list(updates.dims)}")
    block = math.prod(data.dims[k:])
    strides = _strides(data.dims)

    def compute() -> list[Value]:
        values, coordinates, new = list(data.values or ()), indices.values or (), updates.values or ()
        for n in range(len(coordinates) // k):
            at = [position(c, size) for c, size in zip(coordinates[n * k : n * k + k], data.dims, strict=False)]
            start = sum(c * stride for c, stride in zip(at, strides, strict=False))
            values[start : start + block] = new[n * block : (n + 1) * block]
        return values

    replaced = node.attributes.get("reduction", "none") == "none"
    return _make(data.dims, compute if replaced else None, data, indices, updates)


MOVES = ("Identity", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Transpose", "Expand")
"""Ops that move values and compute none: one of a parameter is a parameter (torch's exporter writes a parameter equal
to another as an Identity of it; a layer scale is reshaped to C x 1 x 1), a weight and no shape arithmetic."""

RULES: dict[str, Rule] = {
    **dict.fromkeys(ELEMENTWISE, lambda node, inputs: _elementwise(ELEMENTWISE[node.op_type], _given(inputs))),
    "Mod": _mod,
    "Cast": _cast,
    "Identity": lambda node, inputs: _given(inputs)[0],
    "Shape": _shape,
    "Size": lambda node, inputs: _make((), lambda: (math.prod(_given(inputs)[0].dims),)),
    "Gather": _gather,
    "Slice": _slice,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "ConstantOfShape": _constant_of_shape,
    "Expand": _expand,
    "Range": _range,
    "ScatterND": _scatter_nd,
    **dict.fromkeys(("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2"), _reduce),
    # a normalisation has its input's dims; its values are not worked out
    **dict.fromkeys(("BatchNormalization", "InstanceNormalization", "LayerNormalization"), _same_dims),
}
"""The ops folded, by ONNX op type."""
