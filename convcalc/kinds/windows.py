"""Sliding windows, shared by convolutions and pools: PyTorch's output-size rules, padding, receptive-field windows,
the input rows a stride leaves unread, and the keys that configure them.

A feature map is ``C x L``, ``C x H x W`` or ``C x D x H x W``: channels, then 1 to 3 spatial axes, as PyTorch's 1-D,
2-D and 3-D layers read it (without the batch). Every rule here applies to each spatial axis on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcalc.core.findings import Finding
from convcalc.core.formula import Term, ceil_div, floor_div, named, symbol
from convcalc.core.keys import (
    MAX_AXES,
    Axes,
    Key,
    Padding,
    boolean,
    explicit_padding,
    integer,
    positive_axes,
    positive_int,
)
from convcalc.core.numbers import ratio
from convcalc.core.tensor import Shape, format_shape
from convcalc.kinds.base import ShapeError, Window

Sides = tuple[tuple[int, int], ...]
"""Padding (before, after) of each spatial axis."""

AXIS_LETTERS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
"""The letters of the spatial axes in formulas, by their number (PyTorch's docs: L_out for Conv1d, D H W for 3-D)."""
AXIS_SUFFIXES = {1: ("",), 2: ("_h", "_w"), 3: ("_d", "_h", "_w")}
"""What a key's symbol gets for each axis: ``k`` on one axis, ``k_h`` and ``k_w`` on two, ``k_d`` ... on three."""
AXIS_UNITS = {1: ("positions",), 2: ("rows", "columns"), 3: ("slices", "rows", "columns")}
"""What the input's units along each axis are called in messages."""


def feature_map(shape: Shape, kind: str) -> tuple[int, tuple[int, ...]]:
    """The channels and spatial sizes of a feature map with 1 to 3 spatial axes, or a ShapeError for a flat input."""
    if len(shape) == 1:
        raise ShapeError(f"{kind} needs a CxHxW feature map, but its input is the flat vector {format_shape(shape)}")
    if len(shape) > 4:
        raise ShapeError(f"{kind} needs a feature map of 1 to 3 spatial axes, but its input is {format_shape(shape)}")
    return shape[0], tuple(shape[1:])


def image(shape: Shape, kind: str) -> tuple[int, int, int]:
    """The (C, H, W) of a 2-D feature map, for the layers PyTorch defines on images only (pixel shuffle)."""
    channels, sizes = feature_map(shape, kind)
    if len(sizes) != 2:
        raise ShapeError(f"{kind} needs a CxHxW feature map, but its input is {format_shape(shape)}")
    return channels, sizes[0], sizes[1]


def per_axis(value: Axes, size: Sequence[int], key: str) -> tuple[int, ...]:
    """A key's size for each spatial axis of an input of spatial ``size``: one number stands for every axis, a list
    must give one per axis. Explained (a symbol ``k``), each axis gets its own (``k_h``, ``k_w``)."""
    count = len(size)
    if isinstance(value, tuple):
        if len(value) != count:
            written = "x".join(str(int(v)) for v in value)
            raise ShapeError(
                f"'{key}' {written} gives {len(value)} sizes, but the input's {'x'.join(str(int(n)) for n in size)} "
                f"has {spatial_axes(count)}: give one number or {count}"
            )
        return value
    if isinstance(value, Term):
        return tuple(symbol(f"{value.symbols}{suffix}", int(value)) for suffix in AXIS_SUFFIXES[count])
    return (value,) * count


def all_ones(value: Axes) -> bool:
    """Whether a size is 1 on every axis: a 1x1 kernel (1 on a 1-D map, 1x1x1 in 3-D)."""
    return all(n == 1 for n in value) if isinstance(value, tuple) else value == 1


def spatial_axes(count: int) -> str:
    """'1 spatial axis', '3 spatial axes'."""
    return f"{count} spatial axis" if count == 1 else f"{count} spatial axes"


def axis_names(count: int, suffix: str) -> tuple[str, ...]:
    """``H_out``, ``W_out`` (``L_out`` on one axis, ``D_out`` ... on three)."""
    return tuple(f"{letter}_{suffix}" for letter in AXIS_LETTERS[count])


def conv_output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> int:
    """PyTorch's rule: floor((in + pad_before + pad_after - dilation * (kernel - 1) - 1) / stride) + 1."""
    return floor_div(size + pad_before + pad_after - dilation * (kernel - 1) - 1, stride) + 1


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling rule: the conv rule, with ceil instead of floor under ceil_mode.

    Under ceil_mode a last window that would start inside the right padding is dropped:
    if (out - 1) * stride >= in + pad then out -= 1.
    """
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (ceil_div(span, stride) if ceil_mode else floor_div(span, stride)) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out = out - 1
    return out


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """Padding (before, after) so that out = ceil(in / stride); the odd pixel goes after (bottom/right).

    At stride 1 this is PyTorch's padding='same' (total dilation * (kernel - 1)); at larger strides it is
    TensorFlow's 'SAME'.
    """
    size, kernel, stride, dilation = int(size), int(kernel), int(stride), int(dilation)
    out = ceil_div(size, stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(
    pad: Padding, size: Sequence[int], kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> Sides:
    """(before, after) per spatial axis for a padding key value (((top, bottom), (left, right)) on a 2-D map)."""
    count = len(size)
    if pad == "valid":
        return ((0, 0),) * count
    if pad == "same":
        return tuple(same_padding(*axis) for axis in zip(size, kernel, stride, dilation, strict=True))
    return tuple((side, side) for side in per_axis(pad, size, "padding"))  # type: ignore[arg-type]


def sliding_windows(
    size: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    pads: Sides,
    dilation: Sequence[int],
    kind: str,
) -> tuple[tuple[int, ...], tuple[Window, ...], tuple[Finding, ...]]:
    """Output sizes of a sliding window (conv rule) per axis, its windows, and a warning if it does not tile the
    input."""
    out = tuple(
        named(name, conv_output_size(size[axis], kernel[axis], stride[axis], *pads[axis], dilation[axis]))
        for axis, name in enumerate(axis_names(len(size), "out"))
    )
    if min(out) < 1:
        raise ShapeError(window_too_large(kind, size, kernel, pads, dilation))
    windows = axis_windows(kernel, stride, tuple(before for before, _ in pads), dilation)
    return out, windows, untiled_warning(size, out, windows)


def axis_windows(
    kernel: Sequence[int], stride: Sequence[int], pad_before: Sequence[int], dilation: Sequence[int]
) -> tuple[Window, ...]:
    """The window of a sliding kernel on each axis: span = dilation * (kernel - 1) + 1."""
    return tuple(
        Window(int(d * (k - 1) + 1), int(s), int(p))
        for k, s, p, d in zip(kernel, stride, pad_before, dilation, strict=True)
    )


def listed(words: Sequence[str]) -> str:
    """'rows', 'rows and columns', 'slices, rows and columns'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def untiled_warning(size: Sequence[int], out: Sequence[int], windows: Sequence[Window]) -> tuple[Finding, ...]:
    """The input's last rows/columns (positions, slices) that no window reads.

    In padded coordinates the last window ends at (out - 1) * stride + span; the input starts at pad_before, so
    windows read the input up to (out - 1) * stride + span - pad_before, and in - that rows are never read (a
    window that covers only padding loses nothing).
    """
    count = len(size)
    reach = [
        int((int(out[axis]) - 1) * int(windows[axis].stride) + windows[axis].span - int(windows[axis].pad_before))
        for axis in range(count)
    ]
    unread = [max(int(size[axis]) - reach[axis], 0) for axis in range(count)]
    short = [axis for axis in range(count) if unread[axis]]
    if not short:
        return ()
    units = AXIS_UNITS[count]
    axes = [
        (
            f"{reach[axis]} of {size[axis]}",
            f"((out {int(out[axis])} - 1) * stride {windows[axis].stride} + window {windows[axis].span} "
            f"- padding {windows[axis].pad_before} = {reach[axis]})",
        )
        for axis in range(count)
    ]
    if count > 1 and all(each == axes[0] for each in axes):
        reached = f"{axes[0][0]} input {listed(units)} {axes[0][1]}"
    else:
        reached = listed([f"{axes[axis][0]} input {units[axis]} {axes[axis][1]}" for axis in short])
    lost = listed([f"{unread[axis]} {units[axis] if unread[axis] > 1 else units[axis][:-1]}" for axis in short])
    gaps = [
        (f"a stride {windows[axis].stride} over a window of {windows[axis].span}", units[axis])
        for axis in range(count)
        if windows[axis].stride > windows[axis].span
    ]
    if len(gaps) > 1 and all(how == gaps[0][0] for how, _ in gaps):
        gaps = [(gaps[0][0], listed([what for _, what in gaps]))]
    between = "".join(f" ({how} also skips the {what} between windows)" for how, what in gaps)
    verb = "is" if sum(unread) == 1 else "are"  # the last 1 row is; the last 2 rows, 1 row and 1 column are
    return (Finding("unread", f"windows reach {reached}: the last {lost} of the input {verb} never read{between}"),)


def window_too_large(
    kind: str, size: Sequence[int], kernel: Sequence[int], pads: Sides, dilation: Sequence[int]
) -> str:
    """The message for a (dilated) kernel larger than its padded input, naming both sizes."""
    padded = [int(n) + sum(int(side) for side in sides) for n, sides in zip(size, pads, strict=True)]
    span = [int(d) * (int(k) - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    kernel_text = "x".join(str(int(k)) for k in kernel)
    dilated = f" (spanning {'x'.join(map(str, span))} with dilation)" if span != [int(k) for k in kernel] else ""
    return f"{kind} kernel {kernel_text}{dilated} is larger than its padded input {'x'.join(map(str, padded))}"


def check_groups(groups: int, c_in: int, c_out: int) -> None:
    """groups must divide C_in and C_out (PyTorch's rule)."""
    if c_in % groups or c_out % groups:
        raise ShapeError(
            f"groups={groups} must divide both the input channels ({c_in}) and the output channels ({c_out})"
        )


def bias_count(bias: bool, c_out: int) -> int:
    """One bias per output channel, or none."""
    return c_out if bias else 0


def full_windows(size: Sequence[int], out: Sequence[int]) -> tuple[Window, ...]:
    """Each output reads its share of the whole input, on every axis (global and adaptive pooling, flattening)."""
    return tuple(adaptive_window(n, o) for n, o in zip(size, out, strict=True))


def adaptive_window(size: int, out: int) -> Window:
    """PyTorch's adaptive window i spans [floor(i * in / out), ceil((i + 1) * in / out)).

    The longest is ceil((in + out - gcd(in, out)) / out) pixels (ceil(in / out) + 1 when out does not divide in:
    9 -> 2 windows of 5, 12 -> 5 windows of 3 and 4); windows are in / out apart and window i is centred on
    (i + 1/2) * in / out - 1/2, so the span's padding before is (span - in / out) / 2.
    """
    size, out = int(size), int(out)
    span = ceil_div(size + out - math.gcd(size, out), out)
    return Window(span, ratio(size, out), ratio(span * out - size, 2 * out))


def adaptive_windows_total(size: int, out: int) -> int:
    """Sum of PyTorch's adaptive window lengths: window i spans [floor(i*in/out), ceil((i+1)*in/out)).

    In closed form (so that a huge output costs nothing): in + out - gcd(in, out). Each window is
    floor((i+1)*in/out) - floor(i*in/out) long, which telescopes to in, plus one for every window whose
    end (i+1)*in/out is not a whole number: out - gcd(in, out) of them.
    """
    size, out = int(size), int(out)
    return size + out - math.gcd(size, out)


def groups_divide(groups: int, channels: int) -> None:
    """groups must divide the channels (group norm, channel shuffle)."""
    if channels % groups:
        raise ShapeError(f"groups={groups} must divide the input channels ({channels})")


AXIS = Key("axis", integer(-1 - MAX_AXES), 0, symbol="axis")
"""An axis of the per-sample tensor: 0 the channels, 1 the first spatial axis (H, or L); negative counts from the
last (-1)."""


def resolve_axis(axis: int, shape: Shape, kind: str) -> int:
    """An axis of ``shape`` as its index from 0; a ShapeError when the shape has no such axis."""
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(f"{kind} on axis {axis}: its input {format_shape(shape)} has axes 0 to {len(shape) - 1}")
    return axis % len(shape)


FILTERS = Key("filters", positive_int, symbol="C_out")


KERNEL = Key("kernel", positive_axes, symbol="k")


STRIDE = Key("stride", positive_axes, 1, symbol="s")


EXPLICIT_PADDING = Key("padding", explicit_padding, 0, symbol="p")


DILATION = Key("dilation", positive_axes, 1, symbol="d")


GROUPS = Key("groups", positive_int, 1, symbol="groups")


BIAS = Key("bias", boolean, True)
SHARED = Key("shared", boolean, False)
"""A layer whose weights (and bias) are another layer's, as RetinaNet's head runs one conv on five levels: its
parameters are counted once, on the first layer, and 0 here; its MACs are its own."""
