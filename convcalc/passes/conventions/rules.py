"""What a convention's rule reads of a layer (its sizes per sample), what it returns, and the rules several tools
share."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from convcalc.core.formula import symbol
from convcalc.core.tensor import Config, Shape
from convcalc.engine.results import LayerResult
from convcalc.kinds.windows import per_axis


class Skipped(NamedTuple):
    """Ops the tool reports as not counted (fvcore's unsupported aten ops), and what it did count of the layer."""

    ops: tuple[str, ...]
    counted: int = 0


class Crashes(NamedTuple):
    """The tool cannot count a network with this layer: what it raises (onnx-tool on an op it has no shape
    inference for), and why."""

    error: str


@dataclass(frozen=True, slots=True)
class Sizes:
    """What a rule reads of one layer, per sample. A flat (N,) shape reads as C = N, H = W = 1; a 1-D map (C, L) as
    H = 1, W = L, and a 3-D one (C, D, H, W) as H = D * H: the tools' rules are products over the spatial axes
    (the kernel alike). ``shape_in`` is the first input's shape as it is, ``shape_out`` the output's."""

    type: str
    config: Config
    c_in: int
    h_in: int
    w_in: int
    c_out: int
    h_out: int
    w_out: int
    inputs: int
    params: int
    macs: int
    """convcalc's own MACs of the layer (conv, transposed conv and linear weights)."""
    k_h: int
    k_w: int
    groups: int
    shape_in: Shape
    shape_out: Shape

    @property
    def axes(self) -> int:
        """The input's spatial axes: 2 on an image (1 and 3 on 1-D and 3-D maps, 0 on a flat vector)."""
        return len(self.shape_in) - 1

    @property
    def elements_in(self) -> int:
        return self.c_in * self.h_in * self.w_in

    @property
    def elements_out(self) -> int:
        return self.c_out * self.h_out * self.w_out

    @property
    def affine(self) -> bool:
        return bool(self.config["affine"])  # read by the norms' rules only: each kind has the key

    @property
    def bias(self) -> bool:
        return bool(self.config["bias"])  # read by conv and linear rules only: each kind has the key


Count = int | Skipped | Crashes
Rule = Callable[[Sizes], Count]
Registry = Mapping[str, Rule]


def _dims(shape: Shape) -> tuple[int, int, int]:
    """(C, H, W) of a shape: the spatial axes but the last multiplied into H (1 for a flat vector)."""
    if len(shape) == 1:
        return shape[0], 1, 1
    return shape[0], math.prod(shape[1:-1]), shape[-1]


def _kernel(layer: LayerResult) -> tuple[int, int]:
    """(k_h, k_w) of a windowed layer (k_d * k_h in 3-D, 1 and k on a 1-D map); (1, 1) for any other."""
    kernel = layer.config.get("kernel")
    if kernel is None:
        return 1, 1
    axes = per_axis(kernel, layer.input_shapes[0][1:], "kernel")
    return math.prod(axes[:-1]), axes[-1]


def sizes(layer: LayerResult, batch: int = 1) -> Sizes:
    """A layer's sizes as plain ints, per sample (``batch``: the batch its MACs are for)."""
    kernel = _kernel(layer)
    return Sizes(
        layer.type,
        layer.config,
        *_dims(layer.input_shapes[0]),
        *_dims(layer.output_shape),
        inputs=len(layer.input_shapes),
        params=layer.params,
        macs=layer.macs // batch,
        k_h=kernel[0],
        k_w=kernel[1],
        groups=layer.config["groups"] if layer.type in ("conv", "conv_transpose") else 1,
        shape_in=layer.input_shapes[0],
        shape_out=layer.output_shape,
    )


def symbolic_sizes(layer: LayerResult) -> Sizes:
    """The same sizes, of a sample's layer, as named symbols (C_in, H_out, k_h, params, MACs), so that a rule explains
    its arithmetic."""
    plain = sizes(layer)

    def named(letter: str, suffix: str, shape: Shape) -> tuple[int, int, int]:
        if len(shape) == 1:
            return symbol(f"N_{suffix}", shape[0]), 1, 1
        channels, height, width = _dims(shape)
        return (symbol(f"C_{suffix}", channels), symbol(f"H_{suffix}", height), symbol(f"W_{suffix}", width))

    return Sizes(
        plain.type,
        plain.config,
        *named("C", "in", layer.input_shapes[0]),
        *named("C", "out", layer.output_shape),
        inputs=plain.inputs,
        params=symbol("params", plain.params),
        macs=symbol("MACs", plain.macs),
        k_h=symbol("k_h", plain.k_h),
        k_w=symbol("k_w", plain.k_w),
        groups=plain.groups if plain.groups == 1 else symbol("groups", plain.groups),
        shape_in=plain.shape_in,
        shape_out=plain.shape_out,
    )


# --- rules shared by several tools ---------------------------------------------------------------------------


def zero(s: Sizes) -> int:
    """0: not counted."""
    return 0


def conv_macs(s: Sizes) -> int:
    """C_out x H_out x W_out x C_in / groups x k_h x k_w: one multiply-add per weight and output position, no bias."""
    return s.c_out * s.h_out * s.w_out * (s.c_in // s.groups) * s.k_h * s.k_w


def transposed_macs(s: Sizes) -> int:
    """C_in x H_in x W_in x C_out / groups x k_h x k_w: every input pixel through the kernel, no bias."""
    return s.c_in * s.h_in * s.w_in * (s.c_out // s.groups) * s.k_h * s.k_w


def linear_macs(s: Sizes) -> int:
    """in_features x out_features, no bias."""
    return s.elements_in * s.c_out


def input_elements(s: Sizes) -> int:
    """1 per input element."""
    return s.elements_in


def output_elements(s: Sizes) -> int:
    """1 per output element."""
    return s.elements_out


def bias_elements(s: Sizes) -> int:
    """1 per output element with a bias (its add), else 0."""
    return s.elements_out if s.bias else 0


def attention_projections(s: Sizes) -> int:
    """sequences x T x D x (3D + D): the multiply-adds of the Q, K, V Linear and the output Linear of an attention
    layer on D x [P x] T tokens (D: C_in, T: W_in, sequences: H_in), without Q K^T and A V."""
    output = s.c_in * s.c_in if s.config["projection"] else 0
    return s.h_in * s.w_in * (s.c_in * 3 * s.c_in + output)


def own_macs(s: Sizes) -> int:
    """convcalc's MACs: multiply-accumulates of conv, transposed conv and linear weights."""
    return s.macs


def table(rules: Mapping[str, Rule], not_counted: Iterable[str]) -> dict[str, Rule]:
    """A tool's registry: its rules, and the kinds it counts 0 for, named one by one (tests/test_conventions.py
    checks that every catalogue kind is in exactly one of the two: no kind counts 0 by omission)."""
    zeros = dict.fromkeys(not_counted, zero)
    both = sorted(set(zeros) & set(rules))
    if both:
        raise ValueError(f"kinds both counted and not counted: {', '.join(both)}")
    return {**zeros, **rules}
