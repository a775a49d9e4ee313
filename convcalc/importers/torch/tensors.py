"""The aten handlers of tensor ops on any axis (see :mod:`convcalc.importers.torch.ops`, whose table lists them): how
torch's dims map to convcalc's axes, and cat, permute, softmax, slices, products of two activations and attention.

Tokens [N, T, D] are convcalc's D x T, laid out ``last`` (channels last); a tensor whose batch a permute moved (an
attention's [3, N, heads, T, d]) is laid out ``first`` with its batch axis recorded, until an unbind or a select
drops the axis before it.
"""

from __future__ import annotations

from typing import Any

from convcalc.importers.torch.events import Event, Ref
from convcalc.importers.torch.importer import Layout, NotFollowed, TorchImporter, Value


def _axis(importer: TorchImporter, ref: Any, dim: int) -> int:
    """convcalc's axis for torch's ``dim`` of an activation: a channels-first one without its batch axis, a
    channels-last one [N, ..., C] with C as axis 0. The batch itself, or another layout: NotFollowed."""
    found, rank = importer.value(ref), len(ref.shape)
    dim %= rank
    if found is None or found.layout not in ("first", "last") or dim == found.batch_axis:
        raise NotFollowed
    if found.layout == "last":
        return 0 if dim == rank - 1 else dim
    return dim if dim < found.batch_axis else dim - 1


def cat(importer: TorchImporter, event: Event) -> None:
    """cat(tensors, dim) of activations laid out alike, along any axis but the batch; a learned [1, count, D] put
    before tokens [N, T, D] (ViT's class token, expanded to the batch) is a ``class_token``."""
    parts = event.args[0]
    dim = int(importer.arg(event, 1, "dim", 0)) % len(parts[-1].shape)
    tokens = parts[-1]
    if len(parts) == 2 and parts[0].role == "p" and len(tokens.shape) == 3 and dim == 1:
        count = parts[0].shape[1]
        if parts[0].shape != (1, count, tokens.shape[2]):
            raise NotFollowed
        read = importer.read_as(event, tokens, "last")
        importer.emit(event, "class_token", {"count": count}, [read], layout="last")
        return
    values = [importer.value(part) for part in parts]
    first = values[0]
    if first is None or any(v is None or (v.layout, v.batch_axis) != (first.layout, first.batch_axis) for v in values):
        raise NotFollowed
    axis = _axis(importer, parts[0], dim)
    sources = [value.node for value in values if value is not None]
    config = {"axis": axis} if axis else {}
    importer.emit(event, "concat", config, sources, layout=first.layout, batch_axis=first.batch_axis)


def permute(importer: TorchImporter, event: Event) -> None:
    """A map to channels-last, [0, 2, 3, 1] (any rank), and back [0, 3, 1, 2]: no layer, the layout changes;
    transpose(1, -1) on a 1-D map alike. Any other order of the axes is a ``permute`` (none where only the batch
    moves: attention's [N, T, 3, h, d] to [3, N, h, T, d] keeps the order of the rest)."""
    source = event.args[0]
    rank = len(source.shape)
    order = list(range(rank))
    if event.op == "transpose":
        first, second = (int(d) % rank for d in event.args[1:3])
        order[first], order[second] = order[second], order[first]
    else:
        order = [int(d) % rank for d in event.args[1]]
    perm = tuple(order)
    layout = importer.layout(source)
    found = importer.value(source)
    to_last = (0, *range(2, rank), 1)
    to_first = (0, rank - 1, *range(1, rank - 1))
    if layout == "grouped" and event.op == "transpose" and perm == (0, 2, 1, *range(3, rank)):
        importer.alias(event, source, "shuffled")
    elif perm == tuple(range(rank)):
        importer.alias(event, source)
    elif rank >= 3 and layout == "first" and found is not None and not found.batch_axis and perm == to_last:
        importer.alias(event, source, "last")
    elif rank >= 3 and layout == "last" and perm == to_first:
        importer.alias(event, source, "first")
    elif layout in ("first", "last") and found is not None:
        node, batch = (
            (importer.read_as(event, source, "first"), 0) if layout == "last" else (found.node, found.batch_axis)
        )
        dims = tuple(axis if axis < batch else axis - 1 for axis in perm if axis != batch)
        moved = perm.index(batch)
        if dims == tuple(range(rank - 1)):
            importer.bind(event, Value(node, "first", moved))
        else:
            importer.emit(event, "permute", {"dims": dims}, [node], batch_axis=moved)
    else:
        raise NotFollowed


def softmax(importer: TorchImporter, event: Event) -> None:
    """_softmax / softmax(x, dim, ...) over any axis but the batch (the channels: dim 1 of a channels-first tensor,
    the last of a channels-last one)."""
    source = event.args[0]
    found = importer.value(source)
    axis = _axis(importer, source, int(event.args[1]))
    if found is None:
        raise NotFollowed
    importer.emit(
        event,
        "softmax",
        {"axis": axis} if axis else {},
        [found.node],
        layout=found.layout,
        batch_axis=found.batch_axis,
    )


def _slice(importer: TorchImporter, event: Event, source: Ref, dim: int, start: int, end: int, output: int) -> None:
    """Positions start to end - 1 of dim: all of it is no layer; part of any other axis than the batch a
    ``slice``."""
    size = source.shape[dim]
    start, end = (
        max(0, min(start + size if start < 0 else start, size)),
        max(0, min(end + size if end < 0 else end, size)),
    )
    found = importer.value(source)
    if (start, end) == (0, size):
        importer.alias(event, source, output=output)
    elif found is not None and start < end:
        config = {"start": start, "end": end, "axis": _axis(importer, source, dim)}
        importer.emit(
            event, "slice", config, [found.node], output=output, layout=found.layout, batch_axis=found.batch_axis
        )
    else:
        raise NotFollowed


def slice_(importer: TorchImporter, event: Event) -> None:
    """slice(x, dim, start, end, step) with step 1 (x[:, :oup], narrow)."""
    source = event.args[0]
    dim = int(importer.arg(event, 1, "dim", 0)) % len(source.shape)
    start = importer.arg(event, 2, "start") or 0
    end = importer.arg(event, 3, "end")
    if importer.arg(event, 4, "step", 1) != 1:
        raise NotFollowed
    _slice(importer, event, source, dim, int(start), source.shape[dim] if end is None else int(end), 0)


def _pick(importer: TorchImporter, event: Event, source: Ref, dim: int, index: int, output: int) -> None:
    """Position ``index`` of ``dim``, the axis dropped: a ``slice`` of one position, then a ``reshape`` without it
    (x[:, 0], ViT's class token; unbind's parts)."""
    found, rank = importer.value(source), len(source.shape)
    dim %= rank
    axis = _axis(importer, source, dim)
    if found is None or not -source.shape[dim] <= index < source.shape[dim]:
        raise NotFollowed
    start = index % source.shape[dim]
    config = {"start": start, "end": start + 1, "axis": axis}
    picked = importer.emit(event, "slice", config, [found.node], output=None)
    shape = importer.shapes[picked]
    batch = found.batch_axis - (dim < found.batch_axis)
    layout: Layout = "last" if found.layout == "last" and rank > 3 else "first"
    importer.emit(
        event,
        "reshape",
        {"shape": shape[:axis] + shape[axis + 1 :]},
        [picked],
        output=output,
        layout=layout,
        batch_axis=batch,
    )


def select(importer: TorchImporter, event: Event) -> None:
    """select(x, dim, i): position i of dim, that axis dropped; of a 1-D map's positions (a TCN's last step,
    x[:, :, -1]), a ``slice`` flattened."""
    source, dim, index = event.args[0], int(event.args[1]), int(event.args[2])
    length = source.shape[-1]
    if len(source.shape) == 3 and dim % 3 == 2 and -length <= index < length and importer.layout(source) == "first":
        start = index % length
        config = {"start": start, "end": start + 1, "axis": 1}
        picked = importer.emit(event, "slice", config, [importer.read(source)], output=None)
        importer.emit(event, "flatten", {}, [picked])
    else:
        _pick(importer, event, source, dim, index, 0)


def unbind(importer: TorchImporter, event: Event) -> None:
    """unbind(x, dim): each position of dim, that axis dropped (attention's q, k, v = qkv.unbind(0))."""
    source, dim = event.args[0], int(importer.arg(event, 1, "dim", 0))
    for output in range(len(event.outputs)):
        _pick(importer, event, source, dim, output, output)


def split(importer: TorchImporter, event: Event) -> None:
    """split(x, size, dim) and split_with_sizes(x, sizes, dim) (chunk): a ``slice`` per part."""
    source = event.args[0]
    dim = int(importer.arg(event, 2, "dim", 0)) % len(source.shape)
    start = 0
    for output, made in enumerate(event.outputs):
        end = start + made.shape[dim]
        _slice(importer, event, source, dim, start, end, output)
        start = end


def matmul(importer: TorchImporter, event: Event) -> None:
    """bmm / matmul(a, b) of two activations (a weight is a Linear's: addmm), the batch first in both and at least two
    axes after it (a product of [N, K] mixes the samples): a ``matmul``."""
    first, second = event.args[0], event.args[1]
    if importer.value(first) is None or importer.value(second) is None:
        raise NotFollowed
    importer.emit(event, "matmul", {}, [importer.read_as(event, ref, "first") for ref in (first, second)])


SDPA_MASK = {
    "scaled_dot_product_attention": (3, "attn_mask"),
    "_scaled_dot_product_efficient_attention": (3, "attn_bias"),
    "_scaled_dot_product_flash_attention_for_cpu": (-1, "attn_mask"),
    "_scaled_dot_product_flash_attention": (-1, "attn_mask"),
}
"""Where each fused attention op takes a mask (position, keyword; -1: keyword only)."""


def dot_product_attention(importer: TorchImporter, event: Event) -> None:
    """scaled_dot_product_attention(q, k, v, ...) and the fused kernels it dispatches to, without a mask: a
    ``dot_product_attention`` of Q, K and V laid out [N, heads, T, d]."""
    position, keyword = SDPA_MASK[event.op]
    mask = importer.arg(event, position, keyword) if position >= 0 else event.kwargs.get(keyword)
    if mask is not None:
        raise NotFollowed
    sources = [importer.read_as(event, ref, "first") for ref in event.args[:3]]
    importer.emit(event, "dot_product_attention", {}, sources)


def multi_head_attention(importer: TorchImporter, event: Event) -> None:
    """_native_multi_head_attention(query, key, value, embed_dim, num_head, qkv_weight, qkv_bias, proj_weight,
    proj_bias, mask, ...): nn.MultiheadAttention's fused path (eval mode) as one ``attention``, when it attends to
    itself (query, key and value one tensor [N, T, D]) without a mask."""
    query, key, value = event.args[:3]
    if not query.id == key.id == value.id or importer.arg(event, 9, "mask") is not None:
        raise NotFollowed
    config = {"heads": int(event.args[4]), "qkv_bias": importer.arg(event, 6, "qkv_bias") is not None}
    importer.emit(event, "attention", config, [importer.read_as(event, query, "last")], layout="last")


def ungroup(importer: TorchImporter, event: Event, *refs: Any) -> None:
    """Grouped views ([N, g, C / g, ...]) that an op other than a channel shuffle reads (ResNeSt's radix sum and
    product): each its own shape from here on, laid out first (a ``reshape`` of no cost)."""
    for ref in refs:
        found = importer.value(ref)
        if found is not None and found.layout == "grouped":
            made = importer.emit(event, "reshape", {"shape": ref.shape[1:]}, [found.node], output=None)
            importer.values[ref.id] = Value(made)


ARITHMETIC = {"add": "add", "sub": "sub", "rsub": "sub", "mul": "mul", "div": "div", "pow": "pow"}
"""The element-wise aten ops an ``arithmetic`` layer is (``rsub``: a constant less the tensor), by op name."""


def arithmetic(importer: TorchImporter, event: Event) -> None:
    """An element-wise add, sub, mul, div or pow of two activations of one rank whose sizes broadcast (PoolFormer's
    pool(x) - x), or of an activation and a number or a constant tensor (attention's scale, NFNet's skip gain, a
    learned offset): an ``arithmetic`` layer, one FLOP per output element. A constant has the tensor's sizes without
    the batch (sizes of 1 broadcast); a parameter's values count as its parameters, once."""
    first, second = event.args[0], event.args[1]
    ungroup(importer, event, first, second)
    if importer.value(first) is None:
        first, second = second, first
    found = importer.value(first)
    if found is None or found.batch_axis or importer.arg(event, 2, "alpha", 1) != 1:
        raise NotFollowed
    config: dict[str, Any] = {"op": ARITHMETIC[event.op.rstrip("_")]}
    if isinstance(second, Ref) and importer.value(second) is not None:
        other = importer.value(second)
        if (
            len(second.shape) != len(first.shape)
            or other is None
            or (other.layout, other.batch_axis)
            != (
                found.layout,
                0,
            )
        ):
            raise NotFollowed
        importer.emit(event, "arithmetic", config, [found.node, other.node], layout=found.layout)
        return
    if isinstance(second, Ref):
        config.update(constant=_constant_sizes(first, second, found.layout), learned=_learned(importer, second))
    elif isinstance(second, (int, float)) and not isinstance(second, bool):
        config["constant"] = (1,)
    else:
        raise NotFollowed
    importer.emit(event, "arithmetic", config, [found.node], layout=found.layout)


def _constant_sizes(tensor: Ref, constant: Ref, layout: Layout) -> tuple[int, ...]:
    """A constant's sizes as the tensor's node holds them: without the batch's axis (where it has one, of size 1),
    channels first on a channels-last tensor; a constant that sizes the batch: NotFollowed."""
    sizes = constant.shape or (1,)
    if len(sizes) > len(tensor.shape) or (len(sizes) == len(tensor.shape) and sizes[0] != 1):
        raise NotFollowed
    sizes = sizes[1:] if len(sizes) == len(tensor.shape) else sizes
    if layout == "last" and len(sizes) > 1:
        sizes = (sizes[-1], *sizes[:-1])
    elif layout not in ("first", "last"):
        raise NotFollowed
    return sizes or (1,)


def _learned(importer: TorchImporter, constant: Ref) -> int:
    """The values of the parameter a constant is (or is a view or gather of: EfficientFormer's attention bias, 8 x
    49 x 49 gathered from 392), counted on the first layer that reads it; a buffer's or another constant's: none."""
    size = importer.sizes.get(constant.name, 0) if constant.role == "p" else 0
    if not size or constant.name in importer.weights_read:
        return 0
    importer.weights_read.add(constant.name)
    return size


REDUCTIONS = {"sum": "sum", "mean": "mean", "amax": "max", "amin": "min"}
"""The aten reductions a ``reduce`` layer is, by op name."""


def reduce(importer: TorchImporter, event: Event) -> None:
    """sum, mean, amax or amin over axes other than the batch (ResNeSt's radix sum), keeping them or not: a
    ``reduce``."""
    source = event.args[0]
    dims = importer.arg(event, 1, "dim")
    ungroup(importer, event, source)
    found = importer.value(source)
    if found is None or found.layout not in ("first", "last") or found.batch_axis or not dims:
        raise NotFollowed
    dims = [dims] if isinstance(dims, int) else list(dims)
    axes = tuple(sorted(_axis(importer, source, int(dim)) for dim in dims))
    keep = bool(importer.arg(event, 2, "keepdim", False))
    if found.layout == "last" and not keep:
        raise NotFollowed  # axes of a channels-last tensor dropped: the channels' place is torch's to say
    config = {"op": REDUCTIONS[event.op], "axes": axes, "keep": keep}
    importer.emit(event, "reduce", config, [found.node], layout=found.layout)
