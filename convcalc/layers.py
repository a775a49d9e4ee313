"""The layer catalogue: one small definition per layer kind, its shape, parameter and cost formulas side by side.

Shapes are per sample: ``(C, H, W)`` for feature maps, ``(N,)`` for flat vectors. Every count is an
exact Python int. Conventions, stated once here and shown in README, the table footer and JSON:

* **params**: trainable weights, biases and batch-norm gamma/beta. Non-trainable state (batch-norm
  running mean and variance) is counted separately as **buffers**.
* **MACs**: multiply-accumulates of conv, transposed-conv and linear weights only (what torchvision,
  fvcore and most papers call "FLOPs" or "mult-adds").
* **FLOPs**: 2 x MACs (one multiply and one add each) plus the element-wise work listed per kind in
  its ``flops_rule``: bias adds, pooling, normalisation, activations, merges.

The formulas are plain integer arithmetic. `convcalc explain` runs the very same ``evaluate`` with
:class:`~convcalc.formula.Term` values, which record the arithmetic as they go; ``named`` labels an
intermediate result (``H_out``, ``MACs``) so that later formulas refer to it by name.

To add a layer kind, write one class (or one table row, for activations) and register it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, NamedTuple

from convcalc.formula import Term, ceil_div, floor_div, named, symbol
from convcalc.keys import (
    Key,
    Padding,
    Pair,
    accepts,
    boolean,
    choice,
    dimensions,
    explicit_padding,
    json_schema,
    non_negative_int,
    non_negative_pair,
    number,
    padding,
    positive_int,
    positive_pair,
    rate,
    word,
)
from convcalc.torchcode import call

if TYPE_CHECKING:
    from fractions import Fraction

Shape = tuple[int, ...]
Config = Mapping[str, Any]


def json_number(value: int | Fraction, places: int = 3) -> int | float:
    """A value for JSON and tables: the int itself when whole, else rounded to ``places`` decimals from the exact
    fraction (the nearest int when it is beyond what a float can hold)."""
    if isinstance(value, int):
        return value
    if value.denominator == 1:
        return value.numerator
    rounded = round(value, places)
    try:
        return float(rounded)
    except OverflowError:
        return int(rounded)


def ratio(numerator: int, denominator: int) -> int | Fraction:
    """numerator / denominator exactly: an int when it divides, else a Fraction (imported only then)."""
    numerator, denominator = int(numerator), int(denominator)
    if numerator % denominator == 0:
        return numerator // denominator
    from fractions import Fraction

    return Fraction(numerator, denominator)


Reach = Literal["pixel", "window", "scatter", "all"]
DeployRole = Literal["step", "fused", "folded", "free"]


class ShapeError(ValueError):
    """The layer cannot be applied to its input shape(s)."""


class Finding(NamedTuple):
    """A warning about one layer: its code (a key of WARNINGS) and its message."""

    code: str
    message: str


WARNINGS = {
    "unread": "a conv or pool whose windows do not reach the last rows or columns of its input",
    "asymmetric": "'same' padding with more pixels after than before (even kernels, or TensorFlow-style stride)",
    "widens": "a 1x1 conv meant as a bottleneck (named reduce, red, bottleneck or squeeze) with more filters than "
    "input channels, in front of a larger conv",
    "input": "a layer in a block that names 'input', which is the network's input, not the block's",
    "costly": "a layer that reads only its own pixel (element-wise, per position, a 1x1 conv) and keeps its input's "
    "shape yet takes at least 20% of the network's MACs (or FLOPs)",
    "uncounted": "operations of an imported model that convcalc does not count (opaque layers)",
    "unused": "a layer whose output no layer reads and that is not the network's output (a dangling branch)",
    "shape": "an imported model states another shape for a layer's output than convcalc computes",
    "layout": "the network's input looks channels-last (height x width x channels, as Keras writes it), where "
    "convcalc reads channels x height x width",
}
"""Every warning an analysis gives, by code: what an entry's ``expect`` names to acknowledge it on a layer."""


class Window(NamedTuple):
    """How one axis of a layer's output looks at its input, for receptive fields (a tuple: one per layer and axis).

    ``span``: input pixels one output pixel reads (dilation included); ``stride``: input pixels between
    neighbouring outputs (a fraction for upsampling layers); ``pad_before``: padding before the first window.
    """

    span: int
    stride: int | Fraction
    pad_before: int | Fraction


@dataclass(slots=True)
class Evaluation:
    """What one layer produces and costs, per sample; ``windows`` (H, W) when it mixes neighbouring pixels."""

    shape: Shape
    params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    note: str | None = None
    windows: tuple[Window, Window] | None = None
    warnings: tuple[Finding, ...] = ()


OUTPUT: Final = "output"
"""``Kept.tensor`` of the layer's own output."""


class Kept(NamedTuple):
    """One of a layer's own tensors that PyTorch's autograd keeps for its backward pass (train mode, CPU): input
    ``tensor`` (an index into the layer's inputs) or its output (:data:`OUTPUT`). Its storage is its producer's,
    counted once, for the first layer that keeps it."""

    tensor: int | Literal["output"]


class Made(NamedTuple):
    """A tensor made for the backward pass alone (statistics, indices, masks, copies): a storage of its own, of
    ``elements`` for the whole batch in ``dtype`` (None: the activations' dtype)."""

    elements: int
    dtype: str | None = None


Saved = Kept | Made
KEEPS_INPUT = Kept(0)
KEEPS_OUTPUT = Kept(OUTPUT)


def format_shape(shape: Shape) -> str:
    """``(256, 13, 13)`` -> ``256x13x13``."""
    return "x".join(str(n) for n in shape)


def elements(shape: Shape) -> int:
    """Number of elements: C * H * W (or N)."""
    return math.prod(shape)


class LayerKind:
    """A layer type: the keys it accepts and how it maps input shapes to an output shape and costs."""

    type: str
    keys: tuple[Key, ...] = ()
    many_inputs: ClassVar[bool] = False
    passes_through: ClassVar[bool] = False
    """Element-wise on one input with the shape kept, mixing neither positions nor channels (activations,
    normalisation at inference, dropout): what it feeds sees what its input would."""
    flops_rule: str = "0"
    macs_rule: ClassVar[str] = "0"
    summary: str = ""
    """One line for users (schema, README): what the layer is, and its PyTorch module."""
    torch_helper: ClassVar[str | None] = None
    """Source of a small nn.Module class that ``torch_module`` calls, where torch has none (merges, crop)."""
    view: ClassVar[bool] = False
    """Its output is a view of its input in PyTorch (the same storage): flatten, crop, slice."""
    locality: ClassVar[Reach] = "all"
    """What one output pixel reads of its inputs' rows and columns, whatever the configuration (see ``reach``)."""
    deploys_as: ClassVar[DeployRole] = "step"
    """What a microcontroller runtime makes of it (`--mode deploy`): a ``step`` of its own, ``fused`` into its
    producer (an activation read by nothing else), ``folded`` into a producer with a bias (batch norm), or ``free``
    (the identity at inference, or a view)."""

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        raise NotImplementedError

    def reach(self, config: Config) -> Reach:
        """What one output pixel reads of its inputs' rows and columns: the same ``pixel`` (element-wise and
        per-position layers), the ``window``s ``evaluate`` gives, a window its input pixels ``scatter`` into (a
        transposed conv, whose cost is per input pixel), or ``all`` of them (global and adaptive pools, flatten,
        linear, statistics over positions): patch-based inference runs the first two on tiles."""
        return self.locality

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """What autograd keeps for the backward pass of this layer (training): nothing by default (reshapes,
        sums, concatenation, padding need only sizes)."""
        return ()

    def in_place(self, config: Config) -> bool:
        """Whether it overwrites its input (``inplace: true`` on an activation): the output is the input's storage."""
        return False

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str | None:
        """The Python source of the equivalent torch module (`convcalc export`); None where there is none."""
        return None

    def torch_helpers(self, config: Config) -> tuple[str, ...]:
        """The helper classes a layer of this configuration's ``torch_module`` calls."""
        return (self.torch_helper,) if self.torch_helper else ()


CATALOGUE: dict[str, LayerKind] = {}


def register(kind: LayerKind) -> LayerKind:
    CATALOGUE[kind.type] = kind
    return kind


# --- shared formulas ------------------------------------------------------------------------------


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


# --- keys shared by the convolution and pooling kinds ---------------------------------------------

FILTERS = Key("filters", positive_int, symbol="C_out")
KERNEL = Key("kernel", positive_pair, symbol="k")
STRIDE = Key("stride", positive_pair, (1, 1), symbol="s")
EXPLICIT_PADDING = Key("padding", explicit_padding, (0, 0), symbol="p")
DILATION = Key("dilation", positive_pair, (1, 1), symbol="d")
GROUPS = Key("groups", positive_int, 1, symbol="groups")
BIAS = Key("bias", boolean, True)
INPLACE = Key("inplace", boolean, False)
"""An activation that overwrites its input (PyTorch's inplace=True; torchvision's networks use it)."""


# --- weighted layers ------------------------------------------------------------------------------


class Conv(LayerKind):
    type = "conv"
    locality = "window"
    summary = "2-D convolution (PyTorch nn.Conv2d)."
    keys = (
        FILTERS,
        KERNEL,
        STRIDE,
        Key("padding", padding, (0, 0), symbol="p"),
        DILATION,
        GROUPS,
        BIAS,
    )
    macs_rule = "H_out * W_out * C_out * k_h * k_w * (C_in / groups)"
    flops_rule = "2 * MACs + (C_out * H_out * W_out if bias)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = k_h * k_w * (C_in / groups) * C_out (+ C_out bias)."""
        c_in, h_in, w_in = feature_map(inputs[0], self.type)
        c_out, groups = config["filters"], config["groups"]
        (k_h, k_w), stride, dilation = config["kernel"], config["stride"], config["dilation"]
        check_groups(groups, c_in, c_out)
        pads = resolve_padding(config["padding"], (h_in, w_in), (k_h, k_w), stride, dilation)
        h_out, w_out, windows, warnings = sliding_windows((h_in, w_in), (k_h, k_w), stride, pads, dilation, self.type)
        if pads[0][0] != pads[0][1] or pads[1][0] != pads[1][1]:
            warnings += (
                Finding(
                    "asymmetric",
                    f"'same' padding is asymmetric: {pads[0][0]}/{pads[0][1]} rows, {pads[1][0]}/{pads[1][1]} "
                    "columns before/after (the odd pixel goes bottom/right, as in PyTorch and TensorFlow)",
                ),
            )
        bias = bias_count(config["bias"], c_out)
        params = k_h * k_w * (c_in // groups) * c_out + bias
        macs = named("MACs", h_out * w_out * c_out * k_h * k_w * (c_in // groups))
        flops = 2 * macs + bias * h_out * w_out
        return Evaluation((c_out, h_out, w_out), params, macs=macs, flops=flops, windows=windows, warnings=warnings)

    @staticmethod
    def sides(config: Config, shape: Shape) -> tuple[Pair, Pair]:
        """((top, bottom), (left, right)): the padding the layer's padding key means on this input."""
        kernel, stride, dilation = config["kernel"], config["stride"], config["dilation"]
        return resolve_padding(config["padding"], (shape[1], shape[2]), kernel, stride, dilation)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter); under asymmetric 'same' padding, which
        PyTorch pads as a copy first (padding='same' with an even kernel, or the export's ZeroPad2d), that copy:
        C x (H + top + bottom) x (W + left + right)."""
        (top, bottom), (left, right) = self.sides(config, inputs[0])
        if (top, left) == (bottom, right):
            return (KEEPS_INPUT,)
        channels, height, width = inputs[0]
        return (Made(channels * (height + top + bottom) * (width + left + right) * batch),)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.Conv2d; 'same' at stride 1 is torch's own padding='same', elsewhere explicit (ZeroPad2d if asymmetric)."""
        channels = inputs[0][0]
        stride, dilation, pad = config["stride"], config["dilation"], config["padding"]
        pad_first = None
        if pad == "same" and stride != (1, 1):
            (top, bottom), (left, right) = self.sides(config, inputs[0])
            if (top, left) == (bottom, right):
                pad = (top, left)
            else:
                pad, pad_first = (0, 0), call("nn.ZeroPad2d", (left, right, top, bottom))
        conv = call(
            "nn.Conv2d",
            channels,
            config["filters"],
            kernel_size=(config["kernel"], None),
            stride=(stride, (1, 1)),
            padding=(pad, (0, 0)),
            dilation=(dilation, (1, 1)),
            groups=(config["groups"], 1),
            bias=(config["bias"], True),
        )
        return f"nn.Sequential({pad_first}, {conv})" if pad_first else conv


class ConvTranspose(LayerKind):
    type = "conv_transpose"
    locality = "scatter"
    summary = "2-D transposed convolution (PyTorch nn.ConvTranspose2d)."
    keys = (
        FILTERS,
        KERNEL,
        STRIDE,
        EXPLICIT_PADDING,
        Key("output_padding", non_negative_pair, (0, 0), symbol="op"),
        DILATION,
        GROUPS,
        BIAS,
    )
    macs_rule = "H_in * W_in * C_in * (C_out / groups) * k_h * k_w  (each input pixel scattered through the kernel)"
    flops_rule = "2 * MACs + (C_out * H_out * W_out if bias)"

    @staticmethod
    def output_size(size: int, kernel: int, stride: int, pad: int, output_pad: int, dilation: int) -> int:
        """PyTorch's rule: (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1."""
        return (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_pad + 1

    @staticmethod
    def window(kernel: int, stride: int, pad: int, dilation: int) -> Window:
        """An output pixel gathers ceil(span / stride) neighbouring inputs; outputs are 1/stride input pixels apart."""
        span = int(dilation) * (int(kernel) - 1) + 1
        reads = ceil_div(span, int(stride))
        centre_offset = ratio(int(pad) * 2 - (span - 1), 2 * int(stride))
        return Window(reads, ratio(1, stride), ratio(reads - 1, 2) - centre_offset)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = C_in * (C_out / groups) * k_h * k_w (+ C_out bias)."""
        c_in, h_in, w_in = feature_map(inputs[0], self.type)
        c_out, groups = config["filters"], config["groups"]
        (k_h, k_w), stride, pad = config["kernel"], config["stride"], config["padding"]
        output_pad, dilation = config["output_padding"], config["dilation"]
        check_groups(groups, c_in, c_out)
        for axis in (0, 1):
            if output_pad[axis] >= max(stride[axis], dilation[axis]):
                raise ShapeError(
                    f"output_padding {output_pad[axis]} must be smaller than the stride ({stride[axis]}) "
                    f"or the dilation ({dilation[axis]})"
                )
        h_out, w_out = (
            named(name, self.output_size(size, k, s, p, op, d))
            for name, size, k, s, p, op, d in zip(
                ("H_out", "W_out"), (h_in, w_in), (k_h, k_w), stride, pad, output_pad, dilation, strict=True
            )
        )
        if h_out < 1 or w_out < 1:
            raise ShapeError(f"padding {pad[0]}x{pad[1]} leaves an output of {h_out}x{w_out}")
        bias = bias_count(config["bias"], c_out)
        params = c_in * (c_out // groups) * k_h * k_w + bias
        macs = named("MACs", h_in * w_in * c_in * (c_out // groups) * k_h * k_w)
        flops = 2 * macs + bias * h_out * w_out
        windows = (self.window(k_h, stride[0], pad[0], dilation[0]), self.window(k_w, stride[1], pad[1], dilation[1]))
        return Evaluation((c_out, h_out, w_out), params, macs=macs, flops=flops, windows=windows)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter)."""
        return (KEEPS_INPUT,)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(
            "nn.ConvTranspose2d",
            inputs[0][0],
            config["filters"],
            kernel_size=(config["kernel"], None),
            stride=(config["stride"], (1, 1)),
            padding=(config["padding"], (0, 0)),
            output_padding=(config["output_padding"], (0, 0)),
            groups=(config["groups"], 1),
            bias=(config["bias"], True),
            dilation=(config["dilation"], (1, 1)),
        )


class Linear(LayerKind):
    type = "linear"
    summary = (
        "Fully connected layer (PyTorch nn.Linear); a feature-map input is flattened first, or with per_position "
        "the same Linear maps the channels at every position (as ConvNeXt's, channels-last)."
    )
    keys = (Key("units", positive_int, symbol="units"), BIAS, Key("per_position", boolean, False))
    macs_rule = "in_features * units (per position: H * W * C_in * units)"
    flops_rule = "2 * MACs + (units if bias; per position: units * H * W)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = in_features * units (+ units bias), in_features = product of the input shape, or C_in when
        applied per position."""
        if config["per_position"]:
            return self.per_position(config, inputs[0])
        in_features, units = named("in_features", elements(inputs[0])), config["units"]
        bias = bias_count(config["bias"], units)
        macs = named("MACs", in_features * units)
        note, windows = None, None
        if len(inputs[0]) == 3:
            note = f"flattens {format_shape(inputs[0])} = {in_features:,}"
            windows = full_windows(inputs[0][1], inputs[0][2], 1, 1)
        return Evaluation(
            (units,), in_features * units + bias, macs=macs, flops=2 * macs + bias, note=note, windows=windows
        )

    def reach(self, config: Config) -> Reach:
        """Per position, the pixel's channels; otherwise all of the input."""
        return "pixel" if config["per_position"] else "all"

    def per_position(self, config: Config, shape: Shape) -> Evaluation:
        """out = (units, H, W); MACs = H * W * C_in * units; the bias added at every position."""
        c_in, h, w = feature_map(shape, "a linear layer per position")
        units = config["units"]
        bias = bias_count(config["bias"], units)
        macs = named("MACs", h * w * c_in * units)
        return Evaluation((units, h, w), c_in * units + bias, macs=macs, flops=2 * macs + bias * h * w)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter)."""
        return (KEEPS_INPUT,)

    torch_helper = '''class Permute(nn.Module):
    """The tensor's dimensions in another order (torchvision.ops.Permute): channels-last and back."""

    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)
'''

    def torch_helpers(self, config: Config) -> tuple[str, ...]:
        return super().torch_helpers(config) if config["per_position"] else ()

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.Linear over the product of the input shape; a feature map is flattened first, or, per position, a
        plain nn.Linear maps the channels of the channels-last map, as in torchvision's ConvNeXt block (a subclass
        of nn.Linear would go uncounted by the tools that match modules by exact type: ptflops, thop)."""
        in_features = inputs[0][0] if config["per_position"] else elements(inputs[0])
        linear = call("nn.Linear", in_features, config["units"], bias=(config["bias"], True))
        if config["per_position"]:
            return f"nn.Sequential(Permute(0, 2, 3, 1), {linear}, Permute(0, 3, 1, 2))"
        return f"nn.Sequential(nn.Flatten(), {linear})" if len(inputs[0]) == 3 else linear


class BatchNorm(LayerKind):
    type = "batchnorm"
    deploys_as = "folded"
    locality = "pixel"
    summary = "Batch normalisation over channels (PyTorch nn.BatchNorm2d / BatchNorm1d), inference."
    passes_through = True
    keys = (Key("affine", boolean, True), Key("eps", number, 1e-5), Key("momentum", number, 0.1))
    flops_rule = "2 per element (scale and shift)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = 2 * C (gamma, beta) if affine; buffers = 2 * C (running mean and variance)."""
        channels = inputs[0][0]
        params = 2 * channels if config["affine"] else 0
        return Evaluation(inputs[0], params, buffers=2 * channels, flops=2 * elements(inputs[0]))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input and the batch mean and inverse standard deviation per channel (float32); the running
        statistics it also keeps are buffers, model state."""
        channels = inputs[0][0]
        return (KEEPS_INPUT, Made(channels, "float32"), Made(channels, "float32"))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(
            "nn.BatchNorm2d" if len(inputs[0]) == 3 else "nn.BatchNorm1d",
            inputs[0][0],
            eps=(config["eps"], 1e-5),
            momentum=(config["momentum"], 0.1),
            affine=(config["affine"], True),
        )


# --- windows without weights -----------------------------------------------------------------------


class Pool(LayerKind):
    """A sliding-window pool; stride defaults to the kernel, padding is at most half the kernel."""

    locality = "window"

    def __init__(self, type: str, module: str, window_flops: str, dilation: bool) -> None:
        self.type = type
        self.module = module
        self.summary = f"{'Max' if type == 'maxpool' else 'Average'} pooling (PyTorch {module})."
        self.flops_rule = f"{window_flops} per output element"
        self.max = type == "maxpool"
        extra = (DILATION,) if dilation else ()
        averaging = () if self.max else (Key("count_include_pad", boolean, True),)  # the values, not the counts
        self.keys = (
            KERNEL,
            Key("stride", positive_pair, None, symbol="s"),  # None: the kernel
            EXPLICIT_PADDING,
            *extra,
            Key("ceil_mode", boolean, False),
            *averaging,
        )

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = pool_output_size(...) per axis; channels unchanged; no parameters."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        kernel = config["kernel"]
        stride = config["stride"] or kernel
        pad, dilation = config["padding"], config.get("dilation", (1, 1))
        for axis in (0, 1):
            if pad[axis] > kernel[axis] // 2:  # PyTorch checks the kernel itself, dilated or not
                raise ShapeError(f"padding {pad[axis]} is more than half the kernel {kernel[axis]} (PyTorch's limit)")
        h_out, w_out = (
            named(name, pool_output_size(size, k, s, p, d, config["ceil_mode"]))
            for name, size, k, s, p, d in zip(
                ("H_out", "W_out"), (h_in, w_in), kernel, stride, pad, dilation, strict=True
            )
        )
        pads = ((pad[0], pad[0]), (pad[1], pad[1]))
        if h_out < 1 or w_out < 1:
            raise ShapeError(window_too_large(self.type, (h_in, w_in), kernel, pads, dilation))
        windows = axis_windows(kernel, stride, pad, dilation)
        warnings = untiled_warning((h_in, w_in), (h_out, w_out), windows)
        per_output = kernel[0] * kernel[1] - 1 if self.max else kernel[0] * kernel[1]
        flops = per_output * channels * h_out * w_out
        return Evaluation((channels, h_out, w_out), flops=flops, windows=windows, warnings=warnings)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input; max pooling also the int64 index of each output's maximum."""
        return pooled(self.max, inputs, output, batch)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        extra: dict[str, tuple[object, object]] = {}
        if "dilation" in config:
            extra["dilation"] = (config["dilation"], (1, 1))
        if "count_include_pad" in config:
            extra["count_include_pad"] = (config["count_include_pad"], True)
        return call(
            self.module,
            config["kernel"],
            stride=(config["stride"] or config["kernel"], config["kernel"]),
            padding=(config["padding"], (0, 0)),
            **extra,
            ceil_mode=(config["ceil_mode"], False),
        )


def pooled(maximum: bool, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
    """A pool keeps its input, max pooling the int64 indices of its output's size too."""
    indices = (Made(elements(output) * batch, "int64"),) if maximum else ()
    return (KEEPS_INPUT, *indices)


def adaptive_windows_total(size: int, out: int) -> int:
    """Sum of PyTorch's adaptive window lengths: window i spans [floor(i*in/out), ceil((i+1)*in/out)).

    In closed form (so that a huge output costs nothing): in + out - gcd(in, out). Each window is
    floor((i+1)*in/out) - floor(i*in/out) long, which telescopes to in, plus one for every window whose
    end (i+1)*in/out is not a whole number: out - gcd(in, out) of them.
    """
    size, out = int(size), int(out)
    return size + out - math.gcd(size, out)


class AdaptivePool(LayerKind):
    """Adaptive pool to a fixed output size (PyTorch nn.AdaptiveAvgPool2d / AdaptiveMaxPool2d)."""

    def __init__(self, type: str, summary: str, fixed_output: Pair | None) -> None:
        self.type = type
        self.summary = summary
        self.max = "max" in type
        self.fixed_output = fixed_output
        self.keys = () if fixed_output else (Key("output", positive_pair, symbol="out"),)
        self.flops_rule = (
            "sum over output elements of (window size - 1)" if self.max else "sum over output elements of window size"
        )

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, out_h, out_w); FLOPs from the exact adaptive window sizes."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        h_out, w_out = self.fixed_output or config["output"]
        windows_h = named("windows_h", adaptive_windows_total(h_in, h_out), like=h_in)
        windows_w = named("windows_w", adaptive_windows_total(w_in, w_out), like=w_in)
        read = channels * windows_h * windows_w
        flops = read - channels * h_out * w_out if self.max else read
        return Evaluation((channels, h_out, w_out), flops=flops, windows=full_windows(h_in, w_in, h_out, w_out))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """As a pool; an average to 1x1 is a mean in PyTorch, which keeps nothing."""
        if not self.max and output[1:] == (1, 1):
            return ()
        return pooled(self.max, inputs, output, batch)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        module = "nn.AdaptiveMaxPool2d" if self.max else "nn.AdaptiveAvgPool2d"
        return call(module, self.fixed_output or config["output"])


# --- shape-only and element-wise layers ------------------------------------------------------------


class Flatten(LayerKind):
    type = "flatten"
    deploys_as = "free"
    summary = "Flatten a feature map to a vector of C*H*W features."
    view = True

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C * H * W,)."""
        shape = inputs[0]
        windows = full_windows(shape[1], shape[2], 1, 1) if len(shape) == 3 else None
        return Evaluation((elements(shape),), windows=windows)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return "nn.Flatten()"


class Dropout(LayerKind):
    type = "dropout"
    deploys_as = "free"
    locality = "pixel"
    summary = "Dropout: the identity at inference."
    passes_through = True
    keys = (Key("rate", rate, 0.5),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; no cost at inference."""
        return Evaluation(inputs[0])

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its mask, of the input's size and dtype (on CPU a scaled float noise tensor; rate 0: nothing)."""
        return (Made(elements(inputs[0]) * batch),) if config["rate"] else ()

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("nn.Dropout", p=(config["rate"], 0.5))


class LocalResponseNorm(LayerKind):
    type = "lrn"
    locality = "pixel"
    summary = "Local response normalisation across channels (AlexNet; PyTorch nn.LocalResponseNorm)."
    keys = (
        Key("size", positive_int, 5, symbol="size"),
        Key("alpha", number, 1e-4),
        Key("beta", number, 0.75),
        Key("k", number, 1),
    )
    flops_rule = "(2 * size + 3) per element: square and sum the window, scale, add k, power, divide"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; no parameters."""
        feature_map(inputs[0], self.type)
        return Evaluation(inputs[0], flops=(2 * config["size"] + 3) * elements(inputs[0]))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """F.local_response_norm's steps: x * x keeps x; the channel-padded squares (C + size - 1 channels) for
        the window average; scale + k before the power; the power's result for the divide."""
        channels, height, width = feature_map(inputs[0], self.type)
        padded = (channels + config["size"] - 1) * height * width * batch
        return (
            KEEPS_INPUT,
            Made(padded),
            Made(elements(output) * batch),
            Made(elements(output) * batch),
        )

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(
            "nn.LocalResponseNorm",
            config["size"],
            alpha=(config["alpha"], 1e-4),
            beta=(config["beta"], 0.75),
            k=(config["k"], 1.0),
        )


class Crop(LayerKind):
    type = "crop"
    locality = "window"
    summary = "Centre crop of a feature map to [height, width] (U-Net's crop-and-copy)."
    view = True
    keys = (Key("size", positive_pair, symbol="crop"),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, h, w), h <= H and w <= W; the crop starts (H - h) / 2 rows and (W - w) / 2 columns in."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        h_out, w_out = config["size"]
        if h_out > h_in or w_out > w_in:
            raise ShapeError(f"cannot crop {h_in}x{w_in} to the larger {h_out}x{w_out}")
        windows = (Window(1, 1, -(int(h_in - h_out) // 2)), Window(1, 1, -(int(w_in - w_out) // 2)))
        return Evaluation((channels, h_out, w_out), windows=windows)

    torch_helper = '''class Crop(nn.Module):
    """Centre crop to (height, width), from row ``top`` and column ``left`` (fixed: exports as a constant Slice)."""

    def __init__(self, height: int, width: int, top: int, left: int) -> None:
        super().__init__()
        self.height, self.width, self.top, self.left = height, width, top, left

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, self.top : self.top + self.height, self.left : self.left + self.width]
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        (height, width), (_, h_in, w_in) = config["size"], inputs[0]
        return call("Crop", height, width, (h_in - height) // 2, (w_in - width) // 2)


class Upsample(LayerKind):
    type = "upsample"
    locality = "window"
    summary = "Upsampling by an integer scale or to a size (PyTorch nn.Upsample)."
    keys = (
        Key("scale", positive_pair, None, symbol="scale"),
        Key("size", positive_pair, None, symbol="size"),
        Key("mode", choice("nearest", "bilinear"), "nearest"),
        Key("align_corners", boolean, False),
    )
    flops_rule = "nearest: 0; bilinear: 7 per output element (4 weighted neighbours: 4 multiplies, 3 adds)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, H * scale_h, W * scale_w), or (C, size_h, size_w)."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        scale, size = config["scale"], config["size"]
        if (scale is None) == (size is None):
            raise ShapeError("give exactly one of 'scale' and 'size'")
        h_out, w_out = size or (named("H_out", h_in * scale[0]), named("W_out", w_in * scale[1]))
        bilinear = config["mode"] == "bilinear"
        flops = (7 if bilinear else 0) * channels * h_out * w_out
        reads = 2 if bilinear else 1
        aligned = bilinear and config["align_corners"]
        windows = tuple(
            # align_corners: corner pixels' centres coincide, output o samples input o * (in - 1) / (out - 1)
            # (a single output samples input 0; its neighbour, were there one, would be the whole input further on)
            Window(reads, ratio(i - 1, o - 1) if o > 1 else i, ratio(reads - 1, 2))
            if aligned
            # bilinear: output o samples input (o + 1/2) * in / out - 1/2 (PyTorch's half-pixel rule)
            else Window(reads, ratio(i, o), ratio(reads - 1, 2) - ratio(int(i) - int(o), 2 * int(o)))
            if bilinear
            # nearest: output o reads input floor(o * in / out), on average (out - gcd(in, out)) / (2 * out) before
            # o * in / out (PyTorch's 'nearest'; the same as the half-pixel rule when out is a multiple of in)
            else Window(reads, ratio(i, o), ratio(int(o) - math.gcd(int(i), int(o)), 2 * int(o)))
            for i, o in ((h_in, h_out), (w_in, w_out))
        )
        return Evaluation((channels, h_out, w_out), flops=flops, windows=(windows[0], windows[1]))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        scale = config["scale"] and tuple(float(factor) for factor in config["scale"])
        size = ("size", config["size"]) if config["size"] else ("scale_factor", scale)
        bilinear = config["mode"] == "bilinear"
        return call(
            "nn.Upsample",
            **{size[0]: (size[1], None)},
            mode=(config["mode"], "nearest"),
            align_corners=(config["align_corners"] if bilinear else None, None),
        )


class Activation(LayerKind):
    """An element-wise activation; the shape is unchanged."""

    deploys_as = "fused"
    locality = "pixel"

    passes_through = True

    def __init__(
        self, type: str, formula: str, flops_per_element: int, module: str, keeps: str, in_place_keeps: str | None
    ) -> None:
        """``keeps``: what autograd saves, 'output' or 'input'; ``in_place_keeps``: in place, 'output' or 'copy'
        (None: the module takes no inplace=)."""
        self.type = type
        self.summary = f"{type}(x) = {formula}, element-wise."
        self.per_element = flops_per_element
        self.flops_rule = f"{flops_per_element} per element"
        self.module = module
        self.keeps = keeps
        self.in_place_keeps = in_place_keeps
        self.keys = (INPLACE,) if in_place_keeps else ()

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; FLOPs = (operations in the formula) * elements, exp/tanh/erf counting 1."""
        return Evaluation(inputs[0], flops=self.per_element * elements(inputs[0]))

    def in_place(self, config: Config) -> bool:
        return bool(config.get("inplace"))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its output (relu, sigmoid, tanh) or its input (the others); in place, its output (the overwritten
        storage) or a copy of its input made before it is overwritten."""
        keeps = self.keeps
        if self.in_place(config) and self.in_place_keeps:
            keeps = self.in_place_keeps
        if keeps == "copy":
            return (Made(elements(inputs[0]) * batch),)
        return (KEEPS_OUTPUT if keeps == "output" else KEEPS_INPUT,)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(self.module, inplace=(self.in_place(config), False))


class Softmax(LayerKind):
    type = "softmax"
    locality = "pixel"
    summary = "Softmax over the channels at each position: exp(x_i) / sum_j exp(x_j)."
    flops_rule = "3 * C - 1 per position: C exponentials, C - 1 adds, C divides"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in."""
        channels, positions = inputs[0][0], elements(inputs[0][1:])
        return Evaluation(inputs[0], flops=(3 * channels - 1) * positions)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its output."""
        return (KEEPS_OUTPUT,)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return "nn.Softmax(dim=1)"


def merge_helper(name: str, operator: str, doc: str) -> str:
    """Source of a torch helper folding its inputs with a binary operator (``Add``: +, ``Multiply``: *)."""
    return f'''class {name}(nn.Module):
    """{doc}"""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        result = inputs[0]
        for tensor in inputs[1:]:
            result = result {operator} tensor
        return result
'''


# --- merges -----------------------------------------------------------------------------------------


class Concat(LayerKind):
    type = "concat"
    locality = "pixel"
    summary = "Concatenation along channels; all other dimensions must match."
    many_inputs = True

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C_1 + C_2 + ..., H, W)."""
        first = inputs[0]
        for other in inputs[1:]:
            if len(other) != len(first) or other[1:] != first[1:]:
                shapes = ", ".join(format_shape(s) for s in inputs)
                raise ShapeError(f"cannot concatenate {shapes}: sizes other than the channels differ")
        return Evaluation((sum(s[0] for s in inputs), *first[1:]))

    torch_helper = '''class Concat(nn.Module):
    """Concatenation on the channel axis."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=1)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return "Concat()"


class Add(LayerKind):
    type = "add"
    locality = "pixel"
    summary = "Element-wise sum of inputs of one shape (a residual connection's merge)."
    many_inputs = True
    flops_rule = "(inputs - 1) per output element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; FLOPs = (n - 1) * elements."""
        if any(s != inputs[0] for s in inputs[1:]):
            shapes = " and ".join(format_shape(s) for s in inputs)
            raise ShapeError(f"cannot add {shapes}: shapes differ")
        return Evaluation(inputs[0], flops=(len(inputs) - 1) * elements(inputs[0]))

    torch_helper = merge_helper("Add", "+", "Element-wise sum of tensors of one shape (a residual connection's merge).")

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """The helper class named after the kind: Add(), Multiply()."""
        return f"{self.type.capitalize()}()"


# --- modern CNNs: gates, layer scale, norms with statistics, channel and pixel rearrangements -----------


def broadcast(inputs: Sequence[Shape], kind: str) -> Shape:
    """The shape of inputs broadcast together (PyTorch's rule, same number of dimensions): per dimension, every
    size is 1 or the largest."""
    first = inputs[0]
    if any(len(shape) != len(first) for shape in inputs[1:]):
        shapes = " and ".join(format_shape(s) for s in inputs)
        raise ShapeError(f"cannot {kind} {shapes}: they have different numbers of dimensions")
    shape = tuple(max(sizes) for sizes in zip(*inputs, strict=True))
    for shape_in in inputs:
        if any(size not in (1, largest) for size, largest in zip(shape_in, shape, strict=True)):
            shapes = " and ".join(format_shape(s) for s in inputs)
            target = format_shape(shape)
            raise ShapeError(
                f"cannot {kind} {shapes}: each size must equal the largest or be 1 (broadcasting to {target})"
            )
    return shape


class Multiply(Add):
    """Add's merge with a product, and sizes of 1 broadcast (its FLOPs rule and torch module are Add's)."""

    type = "multiply"
    summary = (
        "Element-wise product of inputs, broadcasting sizes of 1 (squeeze-and-excitation's x * gate(x), "
        "C x H x W times C x 1 x 1)."
    )
    torch_helper = merge_helper("Multiply", "*", "Element-wise product of tensors, broadcasting sizes of 1.")

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = the inputs' broadcast shape; FLOPs = (n - 1) * elements of the output."""
        shape = broadcast(inputs, "multiply")
        return Evaluation(shape, flops=(len(inputs) - 1) * elements(shape))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Each product keeps both factors: every input, and the partial products of more than two."""
        partial = tuple(Made(elements(output) * batch) for _ in inputs[2:])
        return (*(Kept(index) for index in range(len(inputs))), *partial)


class Scale(LayerKind):
    type = "scale"
    locality = "pixel"
    summary = "A learned multiplier per channel (layer scale, as in ConvNeXt): x * gamma, gamma of shape C x 1 x 1."
    passes_through = True
    flops_rule = "1 per element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = C (one gamma per channel); FLOPs = one multiply per element."""
        channels, _, _ = feature_map(inputs[0], self.type)
        return Evaluation(inputs[0], params=channels, flops=elements(inputs[0]))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """x * gamma keeps x, for gamma's gradient."""
        return (KEEPS_INPUT,)

    torch_helper = '''class Scale(nn.Module):
    """A learned multiplier per channel (layer scale): x * gamma, gamma of shape (C, 1, 1)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Scale", inputs[0][0])


NORM_FLOPS = "5 per element (mean, variance, normalise, scale, shift; 4 without affine), as fvcore counts norms"


def norm_flops(affine: bool, shape: Shape) -> int:
    """Normalisation with per-sample statistics: mean, variance and normalise per element, then scale and shift."""
    return (5 if affine else 4) * elements(shape)


def groups_divide(groups: int, channels: int) -> None:
    """groups must divide the channels (group norm, channel shuffle)."""
    if channels % groups:
        raise ShapeError(f"groups={groups} must divide the input channels ({channels})")


class LayerNorm(LayerKind):
    type = "layernorm"
    summary = (
        "Layer normalisation over the channels at each position (ConvNeXt's channels-first LayerNorm), or with "
        "over: all over the whole C x H x W (PyTorch nn.LayerNorm([C, H, W]))."
    )
    passes_through = True
    keys = (Key("over", choice("channels", "all"), "channels"), Key("affine", boolean, True), Key("eps", number, 1e-5))
    flops_rule = NORM_FLOPS

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = 2 * C (gamma, beta) over channels, 2 * C * H * W over all, 0 without affine."""
        normalised = inputs[0] if config["over"] == "all" else inputs[0][:1]
        params = 2 * elements(normalised) if config["affine"] else 0
        return Evaluation(inputs[0], params, flops=norm_flops(config["affine"], inputs[0]))

    def reach(self, config: Config) -> Reach:
        """Over the channels, each pixel's own; over all, the whole input."""
        return "pixel" if config["over"] == "channels" else "all"

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input (over channels of a feature map: the contiguous channels-last copy LayerNorm2d makes), and a
        float32 mean and inverse standard deviation per normalised group (per position, or per sample)."""
        per_position = config["over"] == "channels" and len(inputs[0]) == 3
        groups = elements(inputs[0][1:]) * batch if per_position else batch
        kept = Made(elements(inputs[0]) * batch) if per_position else KEEPS_INPUT
        return (kept, Made(groups, "float32"), Made(groups, "float32"))

    torch_helper = '''class LayerNorm2d(nn.Module):
    """LayerNorm over the channels at each position of an N x C x H x W tensor (ConvNeXt's channels-first)."""

    def __init__(self, channels: int, eps: float = 1e-5, elementwise_affine: bool = True) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps, elementwise_affine=elementwise_affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.LayerNorm over the normalised shape; over channels of a feature map, LayerNorm2d (channels last)."""
        per_position = config["over"] == "channels" and len(inputs[0]) == 3
        normalised: object = inputs[0][0] if config["over"] == "channels" else list(inputs[0])
        return call(
            "LayerNorm2d" if per_position else "nn.LayerNorm",
            normalised,
            eps=(config["eps"], 1e-5),
            elementwise_affine=(config["affine"], True),
        )


class GroupNorm(LayerKind):
    type = "groupnorm"
    summary = "Group normalisation: channels in groups, each normalised over its channels and positions (nn.GroupNorm)."
    passes_through = True
    keys = (GROUPS, Key("affine", boolean, True), Key("eps", number, 1e-5))
    flops_rule = NORM_FLOPS

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = 2 * C (gamma, beta per channel) if affine; groups must divide C."""
        channels = inputs[0][0]
        groups_divide(config["groups"], channels)
        params = 2 * channels if config["affine"] else 0
        return Evaluation(inputs[0], params, flops=norm_flops(config["affine"], inputs[0]))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, and a float32 mean and inverse standard deviation per sample and group."""
        groups = config["groups"] * batch
        return (KEEPS_INPUT, Made(groups, "float32"), Made(groups, "float32"))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(
            "nn.GroupNorm", config["groups"], inputs[0][0], eps=(config["eps"], 1e-5), affine=(config["affine"], True)
        )


class ChannelShuffle(LayerKind):
    type = "channel_shuffle"
    locality = "pixel"
    summary = "Channel shuffle (ShuffleNet): channels in groups, interleaved; shape unchanged (nn.ChannelShuffle)."
    keys = (Key("groups", positive_int, symbol="groups"),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in, channels reordered; groups must divide C; no arithmetic."""
        channels, _, _ = feature_map(inputs[0], self.type)
        groups_divide(config["groups"], channels)
        return Evaluation(inputs[0])

    torch_helper = '''class ChannelShuffle(nn.Module):
    """Channel shuffle as torchvision's ShuffleNetV2 writes it (view, transpose, view): nn.ChannelShuffle does the
    same but does not export to ONNX."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("ChannelShuffle", config["groups"])


class PixelShuffle(LayerKind):
    """Sub-pixel rearrangement: ``C * r * r x H x W -> C x H * r x W * r`` (shuffle), or back (unshuffle)."""

    locality = "window"

    def __init__(self, type: str, module: str, up: bool) -> None:
        self.type = type
        self.module = module
        self.up = up
        self.keys = (Key("factor", positive_int, symbol="r"),)
        moved = "C * r * r x H x W -> C x H * r x W * r" if up else "C x H * r x W * r -> C * r * r x H x W"
        self.summary = f"Pixel {'shuffle' if up else 'unshuffle'} by a factor r: {moved}, no arithmetic ({module})."

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """Shuffle: out = (C / (r * r), H * r, W * r), each output reads one input pixel (its jump 1 / r, centred as
        nearest upsampling's); unshuffle: out = (C * r * r, H / r, W / r), each output position reads an r x r block."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        r = config["factor"]
        if self.up:
            if channels % (r * r):
                raise ShapeError(
                    f"{self.type} by {r} needs channels divisible by {r * r}, but the input has {channels}"
                )
            window = Window(1, ratio(1, r), ratio(r - 1, 2 * r))
            h_out, w_out = named("H_out", h_in * r), named("W_out", w_in * r)
            return Evaluation((named("C_out", channels // (r * r)), h_out, w_out), windows=(window, window))
        if h_in % r or w_in % r:
            raise ShapeError(f"{self.type} by {r} needs a height and width divisible by {r}, not {h_in}x{w_in}")
        window = Window(int(r), int(r), 0)
        h_out, w_out = named("H_out", h_in // r), named("W_out", w_in // r)
        return Evaluation((named("C_out", channels * r * r), h_out, w_out), windows=(window, window))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(self.module, config["factor"])


@accepts(
    {
        "anyOf": [
            json_schema(non_negative_int),
            {"type": "array", "items": json_schema(non_negative_int), "minItems": 4, "maxItems": 4},
        ]
    },
    "a whole number >= 0 or [top, bottom, left, right]",
)
def four_sides(value: Any) -> tuple[int, int, int, int]:
    """Zero padding on each side: one number for all four, or [top, bottom, left, right]."""
    if isinstance(value, list):
        if len(value) != 4:
            raise ValueError(f"expected a number or [top, bottom, left, right], got a list of {len(value)}")
        top, bottom, left, right = (non_negative_int(side) for side in value)
        return top, bottom, left, right
    side = non_negative_int(value)
    return side, side, side, side


SIDES = ("top", "bottom", "left", "right")


class Pad(LayerKind):
    type = "pad"
    locality = "window"
    summary = "Explicit zero padding: a number for every side, or [top, bottom, left, right] (nn.ZeroPad2d)."
    keys = (Key("padding", four_sides),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, H + top + bottom, W + left + right); the first output pixel is `top` (`left`) before the input."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        top, bottom, left, right = config["padding"]
        if isinstance(h_in, Term):  # explained: the sides by name
            top, bottom, left, right = (
                symbol(f"p_{side}", n) for side, n in zip(SIDES, config["padding"], strict=True)
            )
        h_out, w_out = named("H_out", h_in + top + bottom), named("W_out", w_in + left + right)
        return Evaluation((channels, h_out, w_out), windows=(Window(1, 1, top), Window(1, 1, left)))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.ZeroPad2d takes (left, right, top, bottom)."""
        top, bottom, left, right = config["padding"]
        return call("nn.ZeroPad2d", (left, right, top, bottom))


class StochasticDepth(LayerKind):
    type = "stochastic_depth"
    deploys_as = "free"
    locality = "pixel"
    summary = "Stochastic depth (drop path): drops a residual branch in training, the identity at inference."
    passes_through = True
    keys = (Key("rate", rate, 0.0), Key("mode", choice("row", "batch"), "row"))

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; no cost at inference."""
        return Evaluation(inputs[0])

    torch_helper = '''class StochasticDepth(nn.Module):
    """Drop path, as torchvision.ops.StochasticDepth: in training, zero each sample's input ("row") or the whole
    batch's ("batch") with probability p and scale what is kept by 1 / (1 - p); the identity at inference."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        kept = 1 - self.p
        mask = x.new_empty((x.shape[0] if self.mode == "row" else 1,) + (1,) * (x.dim() - 1)).bernoulli_(kept)
        return x * (mask / kept if kept > 0 else mask)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("StochasticDepth", config["rate"], mode=(config["mode"], "row"))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """input * noise keeps the noise: one value per sample (row) or one (batch); rate 0: nothing."""
        if not config["rate"]:
            return ()
        return (Made(batch if config["mode"] == "row" else 1),)


class Slice(LayerKind):
    type = "slice"
    locality = "pixel"
    summary = "Channels start to end - 1 of the input (a channel split is two slices reading one input)."
    view = True
    keys = (Key("start", non_negative_int, 0, symbol="start"), Key("end", positive_int, symbol="end"))

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (end - start, H, W); 0 <= start < end <= C; no arithmetic."""
        channels, start, end = inputs[0][0], config["start"], config["end"]
        if not start < end <= channels:
            raise ShapeError(f"cannot slice channels {start} to {end} of {channels}: need start < end <= {channels}")
        return Evaluation((end - start, *inputs[0][1:]))

    torch_helper = '''class Slice(nn.Module):
    """Channels start to end - 1: x[:, start:end]."""

    def __init__(self, start: int, end: int) -> None:
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.end]
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Slice", config["start"], config["end"])


class Opaque(LayerKind):
    type = "opaque"
    summary = "An operation convcalc does not count (from an imported model): its stated output shape, no cost."
    keys = (Key("op", word), Key("shape", dimensions))

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = the stated shape; params, MACs and FLOPs not counted (0)."""
        return Evaluation(tuple(config["shape"]), note=f"{config['op']}: not counted")

    torch_helper = '''class Opaque(nn.Module):
    """An operation convcalc does not count, kept for its shape: zeros of the stated shape."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[0], *self.shape)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Opaque", *config["shape"])


ACTIVATIONS = (
    ("relu", "max(0, x)", 1, "nn.ReLU", "output", "output"),
    ("relu6", "min(max(0, x), 6)", 2, "nn.ReLU6", "input", "copy"),
    ("leaky_relu", "max(x, a * x)", 2, "nn.LeakyReLU", "input", "output"),
    ("sigmoid", "1 / (1 + exp(-x))", 3, "nn.Sigmoid", "output", None),
    ("tanh", "tanh(x)", 1, "nn.Tanh", "output", None),
    ("silu", "x * sigmoid(x)", 4, "nn.SiLU", "input", "copy"),
    ("gelu", "x / 2 * (1 + erf(x / sqrt(2)))", 5, "nn.GELU", "input", None),
    ("hardsigmoid", "relu6(x + 3) / 6", 4, "nn.Hardsigmoid", "input", "copy"),
    ("hardswish", "x * relu6(x + 3) / 6", 5, "nn.Hardswish", "input", "copy"),
)
"""Each activation: its name, formula, FLOPs per element, torch module, what autograd keeps for it ('input' or
'output'), and in place (None: the module cannot run in place) what it keeps instead: its 'output' (the
overwritten storage) or a 'copy' of its input made before it is overwritten (measured: tools/record_autograd.py)."""

for kind in (
    Conv(),
    ConvTranspose(),
    Linear(),
    BatchNorm(),
    Pool("maxpool", "nn.MaxPool2d", "k_h * k_w - 1 comparisons", dilation=True),
    Pool("avgpool", "nn.AvgPool2d", "k_h * k_w (adds and a divide)", dilation=False),
    AdaptivePool("adaptive_avgpool", "Adaptive average pooling (PyTorch nn.AdaptiveAvgPool2d).", None),
    AdaptivePool("adaptive_maxpool", "Adaptive max pooling (PyTorch nn.AdaptiveMaxPool2d).", None),
    AdaptivePool("global_avgpool", "Global average pooling to Cx1x1.", (1, 1)),
    AdaptivePool("global_maxpool", "Global max pooling to Cx1x1.", (1, 1)),
    Flatten(),
    Dropout(),
    LocalResponseNorm(),
    Crop(),
    Upsample(),
    Softmax(),
    Concat(),
    Add(),
    Opaque(),
    Multiply(),
    Scale(),
    LayerNorm(),
    GroupNorm(),
    ChannelShuffle(),
    PixelShuffle("pixel_shuffle", "nn.PixelShuffle", up=True),
    PixelShuffle("pixel_unshuffle", "nn.PixelUnshuffle", up=False),
    Pad(),
    StochasticDepth(),
    Slice(),
    *(Activation(*activation) for activation in ACTIVATIONS),
):
    register(kind)
