"""A brute-force oracle for tiny networks, independent of convcalc's formulas.

Every layer kind here acts on rows and columns separately, so the set of input pixels an output pixel reads is the
product of a set of rows and a set of columns; the oracle follows each axis on its own. For every layer it lists,
by enumeration from PyTorch's documented semantics, which positions of its input each output position reads:

* conv / pools: the window starting at ``o * stride`` in the padded input, taps ``dilation`` apart (padding
  positions are pixels of the *theoretical* field: they lie outside the input, at -1, -2, ... or n, n + 1, ...);
  the output has as many windows as fit (nn.Conv2d), or, under ``ceil_mode``, also a last window that overhangs the
  end by less than a stride, as long as it starts before the right padding (nn.MaxPool2d's note);
  'same' padding is ``d * (k - 1)`` in all at stride 1 (nn.Conv2d ``padding='same'``) and TensorFlow's
  ``max((ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0)`` above, the odd pixel after;
* conv_transpose: input ``i`` scatters to ``i * stride + j * dilation - padding`` for each tap ``j``; the output
  is the scattered range cropped by ``padding`` on each side, plus ``output_padding`` at the end;
* upsample: nearest reads ``floor(o * in / out)``; bilinear reads ``floor(src)`` and ``floor(src) + 1`` with
  ``src = (o + 1/2) * in / out - 1/2`` (``align_corners`` false) or ``o * (in - 1) / (out - 1)`` (true);
* adaptive pools: ``[floor(o * in / out), ceil((o + 1) * in / out))`` (nn.AdaptiveAvgPool2d);
* crop: ``o + (in - out) // 2``; flatten, linear and global pools: everything.

Composing these maps gives, for each output of the last layer, the set of input positions it reads. With integer
strides every output reads the same pattern shifted, and ``receptive_field`` must be exactly its size (extent), the
distance between neighbouring outputs' patterns (jump) and the centre of output 0's pattern (start). Through
upsampling, the pattern repeats only every few outputs: the jump is the mean distance, the start the mean of
``centre(o) - o * jump`` over one period, and a single layer's size is the largest extent in a period.
MACs are counted by enumerating every (output position, tap) pair.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import AnalysisError
from tests.netbuild import analyze_layers

Reads = Callable[[int], frozenset[int]]
"""Output position -> the positions of the layer's input it reads (any integer: the theoretical field)."""
Layer = dict[str, Any]


def pair(value: Any, axis: int) -> Any:
    return value[axis] if isinstance(value, list) else value


def fits(start: int, span: int, length: int) -> bool:
    return start + span <= length


Weights = dict[int, Fraction]
"""The input positions an output reads, each with its share of the output (uniform over a window, PyTorch's
interpolation weights for bilinear): their centre of mass is where the output's field is centred."""


def uniform(positions: list[int]) -> Weights:
    return {position: Fraction(1, len(positions)) for position in positions}


class Axis:
    """One axis of one layer: output length and what each output reads, by enumeration."""

    def __init__(self, layer: Layer, axis: int, n: int) -> None:
        self.n_in = n
        self.taps = 1  # taps per output (per input for conv_transpose), for counting MACs
        kind = layer["type"]
        self.weights: Callable[[int], Weights]
        if kind in ("conv", "maxpool", "avgpool"):
            self.sliding(layer, axis, n, kind)
        elif kind == "conv_transpose":
            self.transposed(layer, axis, n)
        elif kind == "upsample":
            self.upsample(layer, axis, n)
        elif kind in ("adaptive_avgpool", "adaptive_maxpool", "flatten", "linear", "global_avgpool", "global_maxpool"):
            out = pair(layer["output"], axis) if "output" in layer else 1  # everything: one window of the whole input
            self.n_out = out
            self.weights = lambda o: uniform(
                list(range(math.floor(Fraction(o * n, out)), math.ceil(Fraction((o + 1) * n, out))))
            )
        elif kind == "crop":
            out = pair(layer["size"], axis)
            self.n_out = out if out <= n else 0
            self.weights = lambda o: {o + (n - out) // 2: Fraction(1)}
        else:  # element-wise
            self.n_out = n
            self.weights = lambda o: {o: Fraction(1)}

    def sliding(self, layer: Layer, axis: int, n: int, kind: str) -> None:
        k = pair(layer["kernel"], axis)
        s = pair(layer.get("stride", layer["kernel"] if kind != "conv" else 1), axis)
        d = pair(layer.get("dilation", 1), axis)
        padding = layer.get("padding", 0)
        if padding == "same":
            total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0) if s > 1 else d * (k - 1)
            before, after = total // 2, total - total // 2
        else:
            before = after = pair(padding, axis)
        span = d * (k - 1) + 1
        length = before + n + after
        outputs = 0
        while True:
            start = outputs * s
            if fits(start, span, length):
                outputs += 1
            elif layer.get("ceil_mode") and start + span - length < s and start < before + n:
                outputs += 1  # overhangs the end by less than a stride, starts before the right padding
            else:
                break
        self.n_out = outputs
        self.taps = k
        self.weights = lambda o: uniform([o * s - before + j * d for j in range(k)])

    def transposed(self, layer: Layer, axis: int, n: int) -> None:
        k, s, d = pair(layer["kernel"], axis), pair(layer.get("stride", 1), axis), pair(layer.get("dilation", 1), axis)
        p, op = pair(layer.get("padding", 0), axis), pair(layer.get("output_padding", 0), axis)
        scattered = {i * s + j * d for i in range(n) for j in range(k)}
        self.n_out = max(scattered) + 1 - 2 * p + op
        self.taps = k
        reach = k * d // s + 2
        self.weights = lambda o: uniform(
            [
                i
                for i in range((o + p) // s - reach, (o + p) // s + reach + 1)
                if any(i * s + j * d - p == o for j in range(k))
            ]
        )

    def upsample(self, layer: Layer, axis: int, n: int) -> None:
        out = pair(layer["size"], axis) if layer.get("size") else n * pair(layer["scale"], axis)
        self.n_out = out
        if layer.get("mode") != "bilinear":
            self.weights = lambda o: {math.floor(Fraction(o * n, out)): Fraction(1)}
            return
        if layer.get("align_corners"):

            def source(o: int) -> Fraction:
                return Fraction(o * (n - 1), out - 1) if out > 1 else Fraction(o * n)  # one output: input 0

        else:

            def source(o: int) -> Fraction:
                return (o + Fraction(1, 2)) * Fraction(n, out) - Fraction(1, 2)

        def weights(o: int) -> Weights:
            low = math.floor(source(o))
            return {low: 1 - (source(o) - low), low + 1: source(o) - low}

        self.weights = weights


class Oracle:
    """A chain of layers on one axis: output length, and the input positions each final output reads."""

    def __init__(self, layers: list[Layer], axis: int, n: int) -> None:
        self.axes: list[Axis] = []
        for layer in layers:
            step = Axis(layer, axis, n)
            self.axes.append(step)
            n = step.n_out
            if n < 1:
                break
        self.valid = n >= 1

    def reads(self, o: int) -> tuple[frozenset[int], Fraction | None]:
        """The input positions output ``o`` reads, and their centre of mass (None when it reads nothing)."""

        @cache
        def through(depth: int, position: int) -> tuple[frozenset[int], Fraction]:
            weights = self.axes[depth].weights(position)
            if depth == 0:
                centre = sum((w * p for p, w in weights.items()), Fraction(0))
                return frozenset(weights), centre
            parts = [(w, through(depth - 1, p)) for p, w in weights.items()]
            parts = [(w, part) for w, part in parts if part[0]]
            total = sum((w for w, _ in parts), Fraction(0))
            centre = sum((w * part[1] for w, part in parts), Fraction(0)) / total if total else Fraction(0)
            return frozenset().union(*(part[0] for _, part in parts)), centre

        positions, centre = through(len(self.axes) - 1, o)
        return positions, centre if positions else None

    def field(self, period: int) -> tuple[Fraction, Fraction, Fraction, int]:
        """(mean extent, jump, start, largest extent) over one period of the outputs that read anything."""
        first = next(o for o in range(period) if self.reads(o)[0])
        sets = {o: self.reads(o) for o in range(first, first + period + 1)}
        sets = {o: value for o, value in sets.items() if value[0]}
        jump = (sets[first + period][1] - sets[first][1]) / period
        extents = [max(s) - min(s) + 1 for o, (s, _) in sets.items() if o < first + period]
        centres = [centre - o * jump for o, (_, centre) in sets.items() if o < first + period]
        return Fraction(sum(extents), len(extents)), jump, sum(centres, Fraction(0)) / len(centres), max(extents)


def as_json(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else round(float(value), 3)


def compare(
    input_shape: list[int], layers: list[Layer], period: tuple[int, int] = (1, 1), largest: bool = False
) -> None:
    """The analysis of ``layers`` against the oracle: shapes, errors, receptive field of the last layer, MACs."""
    oracles = [Oracle(layers, axis, input_shape[axis + 1]) for axis in (0, 1)]
    if not all(oracle.valid for oracle in oracles):
        with pytest.raises(AnalysisError):
            analyze_layers(input_shape, layers)
        return
    try:
        analysis = analyze_layers(input_shape, layers)
    except AnalysisError as error:
        raise AssertionError(f"convcalc refused a network the oracle accepts: {error}") from None
    for index, layer in enumerate(analysis.layers):
        lengths = [len(oracle.axes) > index and oracle.axes[index].n_out for oracle in oracles]
        if len(layer.output_shape) == 3:
            assert list(layer.output_shape[1:]) == lengths, (index, layers[index])
    last = analysis.layers[-1]
    fields = [oracle.field(period[axis]) for axis, oracle in enumerate(oracles)]
    rf = last.receptive_field.to_dict()
    assert rf["jump"] == [as_json(f[1]) for f in fields], layers
    assert rf["start"] == [as_json(f[2]) for f in fields], layers
    assert rf["size"] == [as_json(f[3] if largest else f[0]) for f in fields], layers
    # MACs: enumerate (output position, tap) pairs per axis; channels multiply them
    channels = input_shape[0]
    for index, layer in enumerate(layers):
        result = analysis.layers[index]
        if layer["type"] == "conv":
            per_axis = [sum(oracle.axes[index].taps for _ in range(oracle.axes[index].n_out)) for oracle in oracles]
            groups = layer.get("groups", 1)
            assert result.macs == per_axis[0] * per_axis[1] * layer["filters"] * (channels // groups)
        elif layer["type"] == "conv_transpose":
            per_axis = [sum(oracle.axes[index].taps for _ in range(oracle.axes[index].n_in)) for oracle in oracles]
            groups = layer.get("groups", 1)
            assert result.macs == per_axis[0] * per_axis[1] * channels * (layer["filters"] // groups)
        elif layer["type"] == "linear":
            features = math.prod(analysis.layers[index - 1].output_shape) if index else math.prod(input_shape)
            assert result.macs == features * layer["units"]
        else:
            assert result.macs == 0
        if result.output_shape and len(result.output_shape) == 3:
            channels = result.output_shape[0]


# --- hand-picked tiny networks ------------------------------------------------------------------------------------

INTEGER_STRIDES = [
    [{"type": "conv", "filters": 2, "kernel": 3, "stride": 2, "padding": 1}],
    [{"type": "conv", "filters": 2, "kernel": [3, 2], "stride": [1, 3], "dilation": [2, 1], "padding": [2, 0]}],
    [{"type": "conv", "filters": 2, "kernel": [4, 3], "stride": [2, 3], "padding": "same"}],
    [{"type": "conv", "filters": 2, "kernel": [2, 5], "stride": 1, "dilation": [3, 1], "padding": "same"}],
    [{"type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True}, {"type": "conv", "filters": 2, "kernel": 3}],
    [{"type": "maxpool", "kernel": [3, 2], "stride": [2, 2], "padding": [1, 1], "dilation": [2, 1], "ceil_mode": True}],
    [{"type": "avgpool", "kernel": [2, 3], "stride": [3, 2], "padding": [1, 0], "ceil_mode": True}],
    [
        {"type": "conv", "filters": 2, "kernel": 3, "padding": 1},
        {"type": "crop", "size": [5, 4]},
        {"type": "conv", "filters": 1, "kernel": 2},
    ],
    [{"type": "conv", "filters": 2, "kernel": 3, "stride": 2, "padding": 1}, {"type": "flatten"}],
    [{"type": "conv", "filters": 2, "kernel": [3, 1], "stride": [1, 2]}, {"type": "linear", "units": 3}],
    [{"type": "conv", "filters": 2, "kernel": 3, "stride": 2}, {"type": "global_avgpool"}],
    [{"type": "conv", "filters": 4, "kernel": 1, "groups": 2}, {"type": "relu"}, {"type": "maxpool", "kernel": 2}],
]


@pytest.mark.parametrize("layers", INTEGER_STRIDES)
def test_hand_picked_integer_stride_networks(layers: list[Layer]) -> None:
    compare([2, 9, 12], layers)


# Through layers with fractional strides: (layers, period of the last layer's pattern per axis, size is the largest)
FRACTIONAL = [
    pytest.param([{"type": "upsample", "scale": [2, 3]}], (2, 3), True, id="nearest"),
    pytest.param([{"type": "upsample", "scale": [2, 3], "mode": "bilinear"}], (2, 3), True, id="bilinear"),
    pytest.param([{"type": "upsample", "size": [18, 36], "mode": "bilinear"}], (2, 3), True, id="bilinear-size"),
    pytest.param(
        [{"type": "conv_transpose", "filters": 2, "kernel": 3, "stride": 2, "padding": 1}], (2, 2), True, id="ct-3-2-1"
    ),
    pytest.param(
        [{"type": "conv_transpose", "filters": 2, "kernel": 4, "stride": 2, "padding": 1}], (2, 2), True, id="ct-4-2-1"
    ),
    pytest.param(
        [
            {
                "type": "conv_transpose",
                "filters": 4,
                "kernel": [5, 2],
                "stride": [3, 2],
                "padding": [2, 0],
                "dilation": [1, 2],
                "output_padding": [1, 1],
                "groups": 2,
            }
        ],
        (3, 2),
        True,
        id="ct-asymmetric",
    ),
    pytest.param(
        [{"type": "conv", "filters": 2, "kernel": 3, "stride": 2}, {"type": "upsample", "scale": 2}],
        (2, 2),
        True,
        id="conv-then-nearest",
    ),
    pytest.param(
        [{"type": "upsample", "scale": 2}, {"type": "conv", "filters": 2, "kernel": 3, "padding": 1}],
        (2, 2),
        False,
        id="nearest-then-conv",
    ),
    pytest.param(
        [{"type": "upsample", "scale": [2, 3]}, {"type": "upsample", "scale": [3, 2]}], (6, 6), True, id="nearest-twice"
    ),
    pytest.param([{"type": "adaptive_avgpool", "output": [3, 4]}], (1, 1), True, id="adaptive-divides"),
    pytest.param([{"type": "upsample", "size": [12, 8]}], (4, 2), True, id="nearest-9-to-12-and-12-to-8"),
    pytest.param(
        [{"type": "upsample", "size": [1, 2], "mode": "bilinear", "align_corners": True}],
        (1, 1),
        True,
        id="aligned-1-2",
    ),
    pytest.param(
        [{"type": "conv_transpose", "filters": 2, "kernel": [4, 3], "stride": [3, 4], "padding": [1, 0]}],
        (3, 4),
        True,
        id="ct-stride-3-and-4",
    ),
    pytest.param([{"type": "upsample", "size": [15, 20], "mode": "bilinear"}], (5, 5), True, id="bilinear-size-ratio"),
    pytest.param(
        [{"type": "upsample", "scale": 2, "mode": "bilinear", "align_corners": True}], (17, 23), True, id="aligned"
    ),
    pytest.param(
        [{"type": "upsample", "size": [5, 7], "mode": "bilinear", "align_corners": True}],
        (1, 1),
        True,
        id="aligned-down",
    ),
    pytest.param([{"type": "adaptive_maxpool", "output": [2, 5]}], (2, 5), True, id="adaptive-9-to-2"),
    pytest.param(
        [{"type": "upsample", "scale": 2, "mode": "bilinear"}, {"type": "conv", "filters": 1, "kernel": [2, 3]}],
        (2, 2),
        False,
        id="bilinear-then-conv",
    ),
]


@pytest.mark.parametrize(("layers", "period", "largest"), FRACTIONAL)
def test_hand_picked_fractional_stride_networks(layers: list[Layer], period: tuple[int, int], largest: bool) -> None:
    compare([2, 9, 12], layers, period, largest)


# --- random tiny networks -------------------------------------------------------------------------------------------

SMALL = st.integers(min_value=1, max_value=3)
PAIRS = st.one_of(SMALL, st.lists(SMALL, min_size=2, max_size=2))


@st.composite
def sliding_layer(draw: st.DrawFn) -> Layer:
    kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool"]))
    kernel = draw(st.lists(st.integers(min_value=1, max_value=4), min_size=2, max_size=2))
    layer: Layer = {"type": kind, "kernel": kernel, "stride": draw(PAIRS)}
    if kind == "conv":
        layer |= {"filters": draw(SMALL), "dilation": draw(PAIRS)}
        layer["padding"] = draw(st.one_of(st.just("same"), st.lists(st.integers(0, 2), min_size=2, max_size=2)))
    else:
        layer["padding"] = [draw(st.integers(0, k // 2)) for k in kernel]
        layer["ceil_mode"] = draw(st.booleans())
        if kind == "maxpool":
            layer["dilation"] = draw(PAIRS)
    return layer


OTHER = st.sampled_from(
    [{"type": "relu"}, {"type": "crop", "size": [3, 4]}, {"type": "batchnorm"}, {"type": "crop", "size": [5, 2]}]
)
ENDS = st.sampled_from(
    [
        [],
        [{"type": "flatten"}],
        [{"type": "linear", "units": 2}],
        [{"type": "global_maxpool"}],
        [{"type": "adaptive_avgpool", "output": [1, 1]}],
    ]
)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    size=st.lists(st.integers(min_value=4, max_value=16), min_size=2, max_size=2),
    body=st.lists(st.one_of(sliding_layer(), sliding_layer(), OTHER), min_size=1, max_size=4),
    end=ENDS,
)
def test_random_integer_stride_networks(size: list[int], body: list[Layer], end: list[Layer]) -> None:
    compare([2, *size], body + end)
