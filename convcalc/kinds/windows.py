"""Sliding windows, shared by convolutions and pools: PyTorch's output-size rules, padding, receptive-field windows,
the input rows a stride leaves unread, and the keys that configure them."""

from __future__ import annotations

import math

from convcalc.core.findings import Finding
from convcalc.core.formula import ceil_div, floor_div, named
from convcalc.core.keys import (
    Key,
    Padding,
    Pair,
    boolean,
    explicit_padding,
    positive_int,
    positive_pair,
)
from convcalc.core.numbers import ratio
from convcalc.core.tensor import Shape, format_shape
from convcalc.kinds.base import ShapeError, Window


def feature_map(shape: Shape, kind: str) -> tuple[int, int, int]:
    """The (C, H, W) of an input, or a ShapeError for a flat input."""
    if len(shape) != 3:
        raise ShapeError(f"{kind} needs a CxHxW feature map, but its input is the flat vector {format_shape(shape)}")
    return shape[0], shape[1], shape[2]


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


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> Pair:
    """Padding (before, after) so that out = ceil(in / stride); the odd pixel goes after (bottom/right).

    At stride 1 this is PyTorch's padding='same' (total dilation * (kernel - 1)); at larger strides it is
    TensorFlow's 'SAME'.
    """
    size, kernel, stride, dilation = int(size), int(kernel), int(stride), int(dilation)
    out = ceil_div(size, stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(pad: Padding, size: Pair, kernel: Pair, stride: Pair, dilation: Pair) -> tuple[Pair, Pair]:
    """((top, bottom), (left, right)) for a padding key value."""
    if pad == "valid":
        return (0, 0), (0, 0)
    if pad == "same":
        return (
            same_padding(size[0], kernel[0], stride[0], dilation[0]),
            same_padding(size[1], kernel[1], stride[1], dilation[1]),
        )
    assert isinstance(pad, tuple)
    return (pad[0], pad[0]), (pad[1], pad[1])


def sliding_windows(
    size: Pair, kernel: Pair, stride: Pair, pads: tuple[Pair, Pair], dilation: Pair, kind: str
) -> tuple[int, int, tuple[Window, Window], tuple[Finding, ...]]:
    """Output H and W of a sliding window (conv rule), its windows, and a warning if it does not tile the input."""
    h = named("H_out", conv_output_size(size[0], kernel[0], stride[0], *pads[0], dilation[0]))
    w = named("W_out", conv_output_size(size[1], kernel[1], stride[1], *pads[1], dilation[1]))
    if h < 1 or w < 1:
        raise ShapeError(window_too_large(kind, size, kernel, pads, dilation))
    windows = axis_windows(kernel, stride, (pads[0][0], pads[1][0]), dilation)
    return h, w, windows, untiled_warning(size, (h, w), windows)


def axis_windows(kernel: Pair, stride: Pair, pad_before: Pair, dilation: Pair) -> tuple[Window, Window]:
    """(H, W) windows of a sliding kernel: span = dilation * (kernel - 1) + 1."""
    return (
        Window(int(dilation[0] * (kernel[0] - 1) + 1), int(stride[0]), int(pad_before[0])),
        Window(int(dilation[1] * (kernel[1] - 1) + 1), int(stride[1]), int(pad_before[1])),
    )


def untiled_warning(size: Pair, out: Pair, windows: tuple[Window, Window]) -> tuple[Finding, ...]:
    """The input's last rows/columns that no window reads.

    In padded coordinates the last window ends at (out - 1) * stride + span; the input starts at pad_before, so
    windows read the input up to (out - 1) * stride + span - pad_before, and in - that rows are never read (a
    window that covers only padding loses nothing).
    """
    reach = [
        int((int(out[axis]) - 1) * int(windows[axis].stride) + windows[axis].span - int(windows[axis].pad_before))
        for axis in (0, 1)
    ]
    unread = [max(int(size[axis]) - reach[axis], 0) for axis in (0, 1)]
    if not any(unread):
        return ()
    axes = [
        (
            f"{reach[axis]} of {size[axis]}",
            f"((out {int(out[axis])} - 1) * stride {windows[axis].stride} + window {windows[axis].span} "
            f"- padding {windows[axis].pad_before} = {reach[axis]})",
        )
        for axis in (0, 1)
    ]
    if axes[0] == axes[1]:
        reached = f"{axes[0][0]} input rows and columns {axes[0][1]}"
    else:
        reached = " and ".join(
            f"{axes[axis][0]} input {name} {axes[axis][1]}"
            for axis, name in ((0, "rows"), (1, "columns"))
            if unread[axis]
        )
    lost = " and ".join(
        f"{unread[axis]} {name if unread[axis] > 1 else name[:-1]}"
        for axis, name in ((0, "rows"), (1, "columns"))
        if unread[axis]
    )
    gaps = [
        (f"a stride {windows[axis].stride} over a window of {windows[axis].span}", name)
        for axis, name in ((0, "rows"), (1, "columns"))
        if windows[axis].stride > windows[axis].span
    ]
    if len(gaps) == 2 and gaps[0][0] == gaps[1][0]:
        gaps = [(gaps[0][0], "rows and columns")]
    between = "".join(f" ({how} also skips the {what} between windows)" for how, what in gaps)
    verb = "is" if sorted(unread) == [0, 1] else "are"  # the last 1 row is; the last 2 rows, 1 row and 1 column are
    return (Finding("unread", f"windows reach {reached}: the last {lost} of the input {verb} never read{between}"),)


def window_too_large(kind: str, size: Pair, kernel: Pair, pads: tuple[Pair, Pair], dilation: Pair) -> str:
    """The message for a (dilated) kernel larger than its padded input, naming both sizes."""
    padded = (size[0] + sum(pads[0]), size[1] + sum(pads[1]))
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    dilated = f" (spanning {span[0]}x{span[1]} with dilation)" if span != tuple(kernel) else ""
    return f"{kind} kernel {kernel[0]}x{kernel[1]}{dilated} is larger than its padded input {padded[0]}x{padded[1]}"


def check_groups(groups: int, c_in: int, c_out: int) -> None:
    """groups must divide C_in and C_out (PyTorch's rule)."""
    if c_in % groups or c_out % groups:
        raise ShapeError(
            f"groups={groups} must divide both the input channels ({c_in}) and the output channels ({c_out})"
        )


def bias_count(bias: bool, c_out: int) -> int:
    """One bias per output channel, or none."""
    return c_out if bias else 0


def full_windows(h_in: int, w_in: int, h_out: int, w_out: int) -> tuple[Window, Window]:
    """Each output reads its share of the whole input (global and adaptive pooling, flattening)."""
    return adaptive_window(h_in, h_out), adaptive_window(w_in, w_out)


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


FILTERS = Key("filters", positive_int, symbol="C_out")


KERNEL = Key("kernel", positive_pair, symbol="k")


STRIDE = Key("stride", positive_pair, (1, 1), symbol="s")


EXPLICIT_PADDING = Key("padding", explicit_padding, (0, 0), symbol="p")


DILATION = Key("dilation", positive_pair, (1, 1), symbol="d")


GROUPS = Key("groups", positive_int, 1, symbol="groups")


BIAS = Key("bias", boolean, True)
