"""One handler per aten op: a traced op -> convcalc nodes (see :mod:`convcalc.importers.torch.read`).

:data:`HANDLERS` is the one table, by op name (an in-place op, ``relu_``, is its op's: ``relu``). Ops CompositeImplicit
in ATen reach a dispatch trace decomposed (``F.linear`` as ``t`` and ``addmm``, ``AdaptiveAvgPool2d(1)`` as
``mean``), and a saved ExportedProgram keeps them whole (``linear``, ``adaptive_avg_pool2d``): both are listed.
Arguments follow ATen's native_functions.yaml: a conv's weight is (C_out, C_in / groups, k...), a transposed
conv's (C_in, C_out / groups, k...), ``pad`` lists the last axis first. An op with no entry, or whose arguments
a handler does not follow, becomes an ``opaque`` layer of the shape torch gave (an ``uncounted`` warning).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from convcalc.importers.torch.events import Event, Ref
from convcalc.importers.torch.importer import NotFollowed, TorchImporter, Value
from convcalc.importers.torch.tensors import (
    SDPA_MASK,
    arithmetic,
    cat,
    dot_product_attention,
    matmul,
    multi_head_attention,
    permute,
    reduce,
    select,
    slice_,
    softmax,
    split,
    unbind,
    ungroup,
)

Handler = Callable[[TorchImporter, Event], None]


def _axes(value: Any, count: int, default: int) -> tuple[int, ...]:
    """A size per spatial axis from aten's int list (one value for all axes, or empty for the default)."""
    values = tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else (value,) if value is not None else ()
    if not values:
        return (default,) * count
    return values * count if len(values) == 1 else values


def _weight(importer: TorchImporter, ref: Any) -> tuple[int, ...]:
    if not isinstance(ref, Ref) or ref.role == "a":
        raise NotFollowed  # a weight computed from the input: not a layer convcalc counts
    return ref.shape


def _shared(importer: TorchImporter, ref: Ref) -> dict[str, bool]:
    """``shared: true`` where the weight is one a layer already counted (a module run twice, RetinaNet's head on
    five levels): its parameters count once, as sum(p.numel()) counts them."""
    key = ref.name or ref.id
    if key in importer.weights_read:
        return {"shared": True}
    importer.weights_read.add(key)
    return {}


def convolution(importer: TorchImporter, event: Event) -> None:
    """convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups), and the
    conv1d/2d/3d(input, weight, bias, stride, padding, dilation, groups) and conv_transpose1d/2d/3d(input, weight,
    bias, stride, padding, output_padding, groups, dilation) an ExportedProgram keeps."""
    op, arg = event.op, importer.arg
    weight = _weight(importer, arg(event, 1, "weight"))
    count = len(weight) - 2
    transposed = op.startswith("conv_transpose") or (
        op in ("convolution", "_convolution") and arg(event, 6, "transposed")
    )
    if op.startswith("conv_transpose"):
        groups, output_padding, dilation = (
            arg(event, 6, "groups", 1),
            arg(event, 5, "output_padding"),
            arg(event, 7, "dilation"),
        )
    elif op.startswith("conv") and op != "convolution":
        groups, output_padding, dilation = arg(event, 6, "groups", 1), None, arg(event, 5, "dilation")
    else:
        groups, output_padding, dilation = (
            arg(event, 8, "groups", 1),
            arg(event, 7, "output_padding"),
            arg(event, 5, "dilation"),
        )
    padding = arg(event, 4, "padding")
    config: dict[str, Any] = {
        "kernel": tuple(weight[2:]),
        "stride": _axes(arg(event, 3, "stride"), count, 1),
        "padding": padding if padding in ("same", "valid") else _axes(padding, count, 0),
        "dilation": _axes(dilation, count, 1),
        "groups": int(groups),
        "bias": arg(event, 2, "bias") is not None,
        **_shared(importer, arg(event, 1, "weight")),
    }
    if config["padding"] == "valid":
        config["padding"] = (0,) * count
    source = importer.read(arg(event, 0, "input"))
    if transposed:
        config["filters"] = weight[1] * config["groups"]
        config["output_padding"] = _axes(output_padding, count, 0)
        importer.emit(event, "conv_transpose", config, [source])
    else:
        config["filters"] = weight[0]
        importer.emit(event, "conv", config, [source])


def _linear(importer: TorchImporter, event: Event, source: Ref, units: int, bias: bool) -> None:
    """A linear layer: on a flat input [N, features] (over all its features), or per position on rows, a
    channels-last map or tokens [N, T, D] (over D)."""
    layout = importer.layout(source)
    if layout == "first" and len(source.shape) > 2:  # tokens [N, T, D]: per position, over D
        read, layout = importer.read_as(event, source, "last"), "last"
    elif layout == "first" and source.shape[0] != importer.batch:
        raise NotFollowed
    else:
        read = importer.read(source, layout)
    config = {"units": units, "bias": bias, "per_position": layout != "first"}
    importer.emit(event, "linear", config, [read], layout=layout)


def addmm(importer: TorchImporter, event: Event) -> None:
    """addmm(bias, input, weight.t()) and mm(input, weight.t()): nn.Linear as a dispatch trace sees it."""
    bias, (source, weight) = (event.args[0], event.args[1:3]) if event.op == "addmm" else (None, event.args[:2])
    if importer.value(weight) is not None:
        raise NotFollowed  # a product of two activations (attention): a tensor op of its own
    _linear(importer, event, source, _weight(importer, weight)[-1], bias is not None)


def linear(importer: TorchImporter, event: Event) -> None:
    """linear(input, weight, bias): nn.Linear in an ExportedProgram (weight (units, features))."""
    weight = _weight(importer, importer.arg(event, 1, "weight"))
    _linear(importer, event, event.args[0], weight[0], importer.arg(event, 2, "bias") is not None)


def batch_norm(importer: TorchImporter, event: Event) -> None:
    """(input, weight, bias, running_mean, running_var, ...): every batch-norm op; affine when it has a weight."""
    eps = next((float(a) for a in reversed(event.args) if isinstance(a, float)), 1e-5)
    momentum = [a for a in event.args[5:] if isinstance(a, float)]
    config = {"affine": event.args[1] is not None, "eps": eps, "momentum": momentum[0] if len(momentum) > 1 else 0.1}
    importer.emit(event, "batchnorm", config, [importer.read(event.args[0])])


INPLACE_KINDS = frozenset({"relu", "relu6", "leaky_relu", "silu", "hardsigmoid", "hardswish"})
"""Activations whose kind records ``inplace`` (what autograd keeps differs)."""


def _activation(importer: TorchImporter, event: Event, kind: str) -> None:
    layout = importer.layout(event.args[0])
    config = {"inplace": True} if event.op.endswith("_") and kind in INPLACE_KINDS else {}
    importer.emit(event, kind, config, [importer.read(event.args[0], layout)], layout=layout)


def activation(importer: TorchImporter, event: Event) -> None:
    """relu, silu, gelu, sigmoid, tanh, hardswish, hardsigmoid, leaky_relu: one kind each, on any layout."""
    _activation(importer, event, event.op.rstrip("_"))


def hardtanh(importer: TorchImporter, event: Event) -> None:
    """hardtanh(x, 0, 6) is ReLU6 (F.relu6); clamp(x, 0, 6) and clamp(x, 0) alike; other bounds are opaque."""
    low, high = importer.arg(event, 1, "min_val", -1.0), importer.arg(event, 2, "max_val", 1.0)
    if event.op.rstrip("_") in ("clamp", "clamp_min"):
        low, high = importer.arg(event, 1, "min"), importer.arg(event, 2, "max")
    if low == 0 and high == 6:
        _activation(importer, event, "relu6")
    elif low == 0 and high is None:
        _activation(importer, event, "relu")
    else:
        raise NotFollowed


NEUTRAL = {"kernel": 1, "stride": 1, "padding": 0, "dilation": 1, "output": 1}
"""Each pool size's value on an axis the pool leaves alone."""


def _pool(importer: TorchImporter, event: Event, kind: str, config: dict[str, Any], count: int) -> None:
    """A pool on its input: a map of 1 to 3 spatial axes, or a lifted 1-D map (the 2-D pool's first axis the
    added one, of size 1, which every size leaves alone)."""
    source = event.args[0]
    layout = importer.layout(source)
    if layout == "lifted":
        for key, value in config.items():
            if isinstance(value, tuple):
                if value[0] != NEUTRAL[key]:
                    raise NotFollowed
                config[key] = value[1:]
    elif not 1 <= count <= 3:
        raise NotFollowed
    importer.emit(event, kind, config, [importer.read(source, layout)], layout=layout)


def max_pool(importer: TorchImporter, event: Event) -> None:
    """max_pool{1,2,3}d[_with_indices](input, kernel, stride, padding, dilation, ceil_mode); stride [] is the
    kernel."""
    count = len(event.args[0].shape) - 2
    kernel = _axes(event.args[1], count, 1)
    stride = importer.arg(event, 2, "stride")
    config = {
        "kernel": kernel,
        "stride": _axes(stride, count, 1) if stride else kernel,
        "padding": _axes(importer.arg(event, 3, "padding"), count, 0),
        "dilation": _axes(importer.arg(event, 4, "dilation"), count, 1),
        "ceil_mode": bool(importer.arg(event, 5, "ceil_mode", False)),
    }
    _pool(importer, event, "maxpool", config, count)


def avg_pool(importer: TorchImporter, event: Event) -> None:
    """avg_pool{1,2,3}d(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)."""
    count = len(event.args[0].shape) - 2
    kernel = _axes(event.args[1], count, 1)
    stride = importer.arg(event, 2, "stride")
    if importer.arg(event, 6, "divisor_override") is not None:
        raise NotFollowed
    config = {
        "kernel": kernel,
        "stride": _axes(stride, count, 1) if stride else kernel,
        "padding": _axes(importer.arg(event, 3, "padding"), count, 0),
        "ceil_mode": bool(importer.arg(event, 4, "ceil_mode", False)),
        "count_include_pad": bool(importer.arg(event, 5, "count_include_pad", True)),
    }
    _pool(importer, event, "avgpool", config, count)


def adaptive_pool(importer: TorchImporter, event: Event) -> None:
    """adaptive_{avg,max}_pool{1,2,3}d(input, output_size); to 1 on every axis, a global pool (as the dispatch trace
    sees AdaptiveAvgPool2d(1): a mean)."""
    count = len(event.args[0].shape) - 2
    output = _axes(event.args[1], count, 1)
    pool = "max" if "max" in event.op else "avg"
    if set(output) == {1}:
        _pool(importer, event, f"global_{pool}pool", {}, count)
    else:
        _pool(importer, event, f"adaptive_{pool}pool", {"output": output}, count)


def mean(importer: TorchImporter, event: Event) -> None:
    """mean(x, dims, keepdim) over every spatial axis of a map is a global average pool (AdaptiveAvgPool2d(1),
    x.mean([2, 3])); without keepdim, flattened."""
    source = event.args[0]
    rank, layout = len(source.shape), importer.layout(source)
    dims = sorted(int(d) % rank for d in importer.arg(event, 1, "dim", ()) or ())
    if rank < 3 or dims != list(range(2, rank)) or layout not in ("first", "lifted"):
        reduce(importer, event)  # over other axes: a reduce
        return
    read = importer.read(source, layout)
    if importer.arg(event, 2, "keepdim", False):
        importer.emit(event, "global_avgpool", {}, [read], layout=layout, label="mean")
    else:
        pooled = importer.emit(event, "global_avgpool", {}, [read], output=None, label="mean")
        importer.emit(event, "flatten", {}, [pooled])


def add(importer: TorchImporter, event: Event) -> None:
    """add(a, b) of two activations of one shape (a residual); of an activation and a learned tensor of its shape, a
    ``position_embedding``; a number, a constant or a broadcast sum: ``arithmetic``."""
    first, second = event.args[0], event.args[1]
    if importer.value(first) is None:
        first, second = second, first
    if importer.arg(event, 2, "alpha", 1) != 1 or not isinstance(second, Ref):
        arithmetic(importer, event)
        return
    if second.role == "p" and second.shape == (1, *first.shape[1:]):
        layout = importer.layout(first)
        importer.emit(event, "position_embedding", {}, [importer.read(first, layout)], layout=layout)
        return
    if importer.value(second) is None or first.shape != second.shape:
        arithmetic(importer, event)  # a bias, or sizes of 1 broadcast
        return
    layout = importer.layout(first)
    sources = [importer.read(first, layout), importer.read(second, layout)]
    importer.emit(event, "add", {}, sources, layout=layout)


def mul(importer: TorchImporter, event: Event) -> None:
    """mul(a, b) of two activations (a gate, broadcasting sizes of 1); by a learned weight of one value per
    channel, a ``scale`` (ConvNeXt's layer scale: C x 1 x 1, or C on a channels-last map); by a number or another
    constant, ``arithmetic``."""
    first, second = event.args[0], event.args[1]
    ungroup(importer, event, first, second)
    if importer.value(first) is None:
        first, second = second, first
    layout = importer.layout(first)
    if importer.value(second) is not None:
        importer.emit(
            event, "multiply", {}, [importer.read(first, layout), importer.read(second, layout)], layout=layout
        )
        return
    if not isinstance(second, Ref) or second.role != "p":
        arithmetic(importer, event)
        return
    channels = first.shape[1] if layout == "first" else first.shape[-1]
    ones = (1,) * (len(first.shape) - 2)
    per_channel = (
        {(channels, *ones), (1, channels, *ones)} if layout == "first" else {(channels,), (1, *ones, channels)}
    )
    if len(first.shape) < 3 or second.shape not in per_channel:
        arithmetic(importer, event)
        return
    importer.emit(event, "scale", {}, [importer.read(first, layout)], layout=layout)


def identity(importer: TorchImporter, event: Event) -> None:
    """Ops that move no value: dropout at inference, clone, contiguous, detach, a dtype cast, an alias; an expand or
    as_strided to the shape it has (torch.matmul expands its operands to their broadcast shape)."""
    if event.op in ("as_strided", "expand") and event.outputs[0].shape != event.args[0].shape:
        raise NotFollowed
    importer.alias(event, event.args[0])


def view(importer: TorchImporter, event: Event) -> None:
    """A view or reshape (squeeze, unsqueeze, flatten alike) that moves no value: to the same shape; a channels-last
    map to [N * H * W, C] and back (a Linear reads the rows); a 1-D map lifted to [N, C, 1, L] and back (for a 2-D
    pool); a map's channels in groups [N, g, C / g, ...] and, transposed, back: a channel shuffle; one value per
    sample [N, 1] to [N] (a score's squeeze), held as before (convcalc's tensors have at least one axis after the
    batch). A map to [N, C * H * W] is a flatten; any other view that keeps the batch first, a ``reshape``."""
    source, made = event.args[0], event.outputs[0]
    layout = importer.layout(source)
    shape, out, batch = source.shape, made.shape, importer.batch
    if out == shape or out == (batch,) == shape[:1]:  # [N, 1, ...] to [N]: held as one value each
        importer.alias(event, source)
    elif layout == "first" and len(shape) > 2 and out == (batch, math.prod(shape[1:])):
        importer.emit(event, "flatten", {}, [importer.read(source)])
    elif layout == "last" and out == (math.prod(shape[:-1]), shape[-1]):
        importer.alias(event, source, "rows")
    elif layout == "first" and len(shape) > 2 and out == (math.prod(shape[:-1]), shape[-1]):  # tokens' rows
        importer.bind(event, Value(importer.read_as(event, source, "last"), "rows"))
    elif layout == "rows" and len(out) > 2 and out[-1] == shape[-1] and math.prod(out[:-1]) == shape[0]:
        importer.alias(event, source, "last")
    elif layout == "first" and len(shape) == 3 and out == (*shape[:2], 1, shape[2]):
        importer.alias(event, source, "lifted")
    elif layout == "lifted" and out == (*shape[:2], *shape[3:]):
        importer.alias(event, source, "first")
    elif layout == "first" and len(shape) >= 4 and len(out) == len(shape) + 1 and out[3:] == shape[2:]:
        if out[1] * out[2] != shape[1] or 1 in out[1:3]:
            raise NotFollowed
        importer.alias(event, source, "grouped")
    elif layout == "shuffled" and out == (shape[0], shape[1] * shape[2], *shape[3:]):
        importer.emit(event, "channel_shuffle", {"groups": shape[2]}, [importer.read(source, "shuffled")])
    elif layout in ("first", "last") and len(out) >= 2 and out[0] == batch:
        read = importer.read_as(event, source, "first") if len(shape) > 2 else importer.read(source)
        importer.emit(event, "reshape", {"shape": out[1:]}, [read])
    else:
        raise NotFollowed  # the batch moved or merged (heads folded into it)


def upsample(importer: TorchImporter, event: Event) -> None:
    """upsample_{nearest,linear,bilinear,trilinear}Nd(input, output_size, ...): by an integer scale when the output
    is a multiple of the input on every axis, else to the size; align_corners where the op takes it."""
    source, made = event.args[0], event.outputs[0]
    count = len(source.shape) - 2
    before, after = source.shape[2:], made.shape[2:]
    linear = {1: "linear", 2: "bilinear", 3: "trilinear"}[count] if 1 <= count <= 3 else ""
    mode = "nearest" if "nearest" in event.op else linear
    if not mode or ("linear" in event.op and not event.op.startswith(f"upsample_{mode}")) or "exact" in event.op:
        raise NotFollowed
    scale = tuple(o // i for o, i in zip(after, before, strict=True))
    exact = all(o == i * s for o, i, s in zip(after, before, scale, strict=True))
    config: dict[str, Any] = {"scale": scale if exact else None, "size": None if exact else tuple(after), "mode": mode}
    aligned = importer.arg(event, 2, "align_corners") if mode != "nearest" else False
    config["align_corners"] = bool(aligned) if isinstance(aligned, bool) else False
    importer.emit(event, "upsample", config, [importer.read(source)])


def pad(importer: TorchImporter, event: Event) -> None:
    """constant_pad_nd(x, pad, value), pad(x, pad, mode, value), reflection/replication pads: pad lists (before,
    after) of the last axis first; only the spatial axes, none negative. A pad moves values, no arithmetic, whatever
    it pads with."""
    source = event.args[0]
    count = len(source.shape) - 2
    pads = [int(p) for p in event.args[1]]
    if len(pads) % 2 or not 1 <= count <= 3 or len(pads) > 2 * count or any(p < 0 for p in pads):
        raise NotFollowed
    pads += [0] * (2 * count - len(pads))
    sides = tuple(side for axis in reversed(range(count)) for side in pads[2 * axis : 2 * axis + 2])
    importer.emit(event, "pad", {"padding": sides}, [importer.read(source)])


def layer_norm(importer: TorchImporter, event: Event) -> None:
    """native_layer_norm / layer_norm(input, normalized_shape, weight, bias, eps): over the channels of a
    channels-last map or a flat input, or over C x H x W of a map."""
    source, over = event.args[0], tuple(int(n) for n in event.args[1])
    layout = importer.layout(source)
    config = {
        "affine": importer.arg(event, 2, "weight") is not None,
        "bias": importer.arg(event, 3, "bias") is not None,
        "eps": float(importer.arg(event, 4, "eps", 1e-5)),
    }
    over_channels = layout in ("last", "rows") or len(source.shape) == 2
    if over_channels and over == source.shape[-1:]:
        importer.emit(
            event, "layernorm", {"over": "channels", **config}, [importer.read(source, layout)], layout=layout
        )
    elif layout == "first" and over == source.shape[1:]:
        importer.emit(event, "layernorm", {"over": "all", **config}, [importer.read(source)])
    elif layout == "first" and over == source.shape[-1:]:  # tokens [N, T, D] over D
        read = importer.read_as(event, source, "last")
        importer.emit(event, "layernorm", {"over": "channels", **config}, [read], layout="last")
    else:
        raise NotFollowed


def group_norm(importer: TorchImporter, event: Event) -> None:
    """native_group_norm(input, weight, bias, N, C, HxW, group, eps) and group_norm(input, groups, weight, bias,
    eps)."""
    if event.op == "native_group_norm":
        groups, weight, eps = event.args[6], event.args[1], event.args[7]
    else:
        groups, weight, eps = event.args[1], importer.arg(event, 2, "weight"), importer.arg(event, 4, "eps", 1e-5)
    config = {"groups": int(groups), "affine": weight is not None, "eps": float(eps)}
    importer.emit(event, "groupnorm", config, [importer.read(event.args[0])])


def channel_shuffle(importer: TorchImporter, event: Event) -> None:
    """channel_shuffle(x, groups) (nn.ChannelShuffle, or torchvision's view/transpose/view: see patterns)."""
    importer.emit(event, "channel_shuffle", {"groups": int(event.args[1])}, [importer.read(event.args[0])])


def pixel_shuffle(importer: TorchImporter, event: Event) -> None:
    kind = "pixel_unshuffle" if "unshuffle" in event.op else "pixel_shuffle"
    importer.emit(event, kind, {"factor": int(event.args[1])}, [importer.read(event.args[0])])


def opaque(importer: TorchImporter, event: Event) -> None:
    """An op convcalc has no kind for: its shape, no cost, named in an ``uncounted`` warning."""
    importer.opaque(event)


def _named(names: str, handler: Handler) -> dict[str, Handler]:
    return dict.fromkeys(names.split(), handler)


HANDLERS: dict[str, Handler] = {
    **_named(
        "convolution _convolution conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d", convolution
    ),
    **_named("addmm mm", addmm),
    "linear": linear,
    **_named(
        "native_batch_norm _native_batch_norm_legit_no_training _native_batch_norm_legit "
        "_native_batch_norm_legit_functional batch_norm",
        batch_norm,
    ),
    **_named("relu silu gelu sigmoid tanh hardswish hardsigmoid leaky_relu", activation),
    **_named("hardtanh clamp clamp_min", hardtanh),
    **_named("max_pool1d max_pool2d max_pool3d max_pool2d_with_indices max_pool3d_with_indices", max_pool),
    **_named("avg_pool1d avg_pool2d avg_pool3d", avg_pool),
    **_named(
        "adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d _adaptive_avg_pool2d _adaptive_avg_pool3d "
        "adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d",
        adaptive_pool,
    ),
    "mean": mean,
    **_named("sum amax amin", reduce),
    "add": add,
    "mul": mul,
    **_named("sub rsub div pow", arithmetic),
    "cat": cat,
    **_named(
        "dropout native_dropout feature_dropout alpha_dropout feature_alpha_dropout clone contiguous detach alias "
        "_to_copy to lift_fresh_copy as_strided expand",
        identity,
    ),
    **_named("view _unsafe_view reshape _reshape_alias flatten squeeze unsqueeze", view),
    **_named("permute transpose", permute),
    **_named(
        "upsample_nearest1d upsample_nearest2d upsample_nearest3d upsample_linear1d upsample_bilinear2d "
        "upsample_trilinear3d",
        upsample,
    ),
    **_named(
        "constant_pad_nd pad reflection_pad1d reflection_pad2d reflection_pad3d replication_pad1d replication_pad2d "
        "replication_pad3d",
        pad,
    ),
    **_named("native_layer_norm layer_norm", layer_norm),
    **_named("native_group_norm group_norm", group_norm),
    **_named("_softmax softmax", softmax),
    **_named("channel_shuffle native_channel_shuffle", channel_shuffle),
    **_named("pixel_shuffle pixel_unshuffle", pixel_shuffle),
    "slice": slice_,
    "select": select,
    "unbind": unbind,
    **_named("split split_with_sizes", split),
    **_named("bmm matmul", matmul),
    **_named(" ".join(SDPA_MASK), dot_product_attention),
    "_native_multi_head_attention": multi_head_attention,
    # No kind yet: named here rather than by omission.
    **_named("baddbmm repeat roll index", opaque),
}
"""Each aten op convcalc reads (in-place ones by their op's name), with its handler; any other op is opaque."""
