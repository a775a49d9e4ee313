"""The ONNX handlers of tensor ops (see :mod:`convcalc.importers.onnx.ops`, whose table lists them): reshapes and
permutes of any rank, concatenation, splits and slices along any axis, a Gather of one index, softmax over any axis,
padding, a class token, and the shape arithmetic on constants that feeds them.

Where an op moves or merges the batch (attention as PyTorch exports nn.MultiheadAttention), its tensors are held
with every axis (:mod:`convcalc.importers.onnx.layouts`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from convcalc.core.tensor import Shape, format_shape
from convcalc.importers.onnx.constants import whole
from convcalc.importers.onnx.importer import Importer
from convcalc.importers.onnx.layouts import (
    all_axes_source,
    channels_last_source,
    emit_all_axes,
    file_shape,
    in_file_layout,
    reads_all_axes,
)
from convcalc.importers.onnx.model import OnnxNode, Tensor
from convcalc.importers.onnx.patterns import mark_channels_last
from convcalc.importers.onnx.uncounted import opaque
from convcalc.kinds.catalogue import CATALOGUE


def reshape(importer: Importer, node: OnnxNode) -> None:
    """The steps of a channel shuffle; else each sample to the target's shape after its batch: the same shape is no
    layer, one axis a ``flatten``, any other a ``reshape`` (0 copies the input's size, -1 stands for the rest). A
    target whose first size is not the batch's (heads merged into it) is opaque."""
    target = importer.constant(node, 1)
    if target is None or target.values is None:
        opaque(importer, node)
        return
    wanted = [whole(v) for v in target.values]
    if node.inputs[0] in importer.pending:  # Reshape -> Transpose -> here: the shuffle ends
        step, (source, groups) = importer.pending.pop(node.inputs[0])
        if step != "shuffle-transposed" or len(wanted) != 4 or "channel_shuffle" not in CATALOGUE:
            raise importer.fail(node, "a Reshape/Transpose sequence that is not a channel shuffle")
        importer.emit(node, "channel_shuffle", {"groups": groups}, [source])
        return
    shape = importer.shape_of(node)
    if len(wanted) == 5 and len(shape) == 3 and wanted[1] > 1 and wanted[2] > 1 and wanted[1] * wanted[2] == shape[0]:
        importer.pending[node.outputs[0]] = ("shuffle-split", (importer.source_of(node), wanted[1]))
        return
    held = file_shape(importer, node)
    copied = not node.attributes.get("allowzero", 0)
    sizes = [held[axis] if size == 0 and copied and axis < len(held) else size for axis, size in enumerate(wanted)]
    known = math.prod(size for size in sizes if size != -1)
    if not sizes or any(size == 0 or size < -1 for size in sizes) or sizes.count(-1) > 1 or not known:
        opaque(importer, node)
        return
    reshaped(importer, node, tuple(math.prod(held) // known if size == -1 else size for size in sizes))


def reshaped(importer: Importer, node: OnnxNode, target: Shape, source: str | None = None) -> None:
    """The node's output: the values of its input (or of ``source``, held with every axis) as the file's tensor of
    ``target``, the batch first. Held without the batch where that is 1: each sample's same shape is no layer, one
    axis a ``flatten``, another a ``reshape``; a target whose first size is not 1 (the batch merged or moved) is
    held whole (:func:`~convcalc.importers.onnx.layouts.all_axes_source`)."""
    normal = source is None and node.inputs[0] not in importer.all_axes
    source = source or importer.source_of(node)
    held = file_shape(importer, node) if normal else importer.shapes[source]
    if math.prod(target) != math.prod(held):
        raise importer.fail(node, f"cannot reshape {format_shape(held)} to {format_shape(target)}")
    if target[0] != importer.batch or len(target) == 1:
        emit_all_axes(importer, node, "reshape", {"shape": target}, [source])
    elif normal and target[1:] == held[1:]:  # a flat input to one axis too
        importer.alias(node)
    elif normal and len(target) == 2:
        importer.emit(node, "flatten", {})
    else:
        importer.emit(node, "reshape", {"shape": target[1:]}, [source])


def squeeze(importer: Importer, node: OnnxNode) -> None:
    """Unsqueeze and Squeeze of an activation: the same values with axes of 1 put in or taken out. (Of constants
    alone they are shape arithmetic, folded before any handler: :meth:`Importer.computes_constants`; of a tensor
    that is neither, an output no layer makes, opaque.)"""
    if node.inputs[0] not in importer.producer:
        opaque(importer, node)
        return
    held = file_shape(importer, node)
    given = importer.constant(node, 1)
    axes = tuple(whole(a) for a in (given.values or ()) if given) if given else node.attributes.get("axes", ())
    if node.op_type == "Unsqueeze":
        rank = len(held) + len(axes)
        target = list(held)
        for axis in sorted(whole(a) % rank for a in axes):
            target.insert(axis, 1)
    else:
        dropped = {whole(a) % len(held) for a in axes} if axes else {a for a, size in enumerate(held) if size == 1}
        target = [size for axis, size in enumerate(held) if axis not in dropped]
    reshaped(importer, node, tuple(target) or (1,))


def gather_index(importer: Importer, node: OnnxNode) -> None:
    """A Gather of one index along an axis of an activation (attention's q, k, v = qkv[0], qkv[1], qkv[2]): a
    ``slice`` of that index, then the axis taken out (of a tensor no layer makes, opaque: see :func:`squeeze`)."""
    if node.inputs[0] not in importer.producer:
        opaque(importer, node)
        return
    index = importer.constant(node, 1)
    if index is None or index.values is None or len(index.values) != 1:
        opaque(importer, node)
        return
    held = file_shape(importer, node)
    axis = importer.integer(node, "axis", 0) % len(held)
    at = whole(index.values[0]) % held[axis]
    source = all_axes_source(importer, node)
    picked = importer.step(node, "slice", {"start": at, "end": at + 1, "axis": axis}, [source], "slice")
    kept = (*held[:axis], 1, *held[axis + 1 :]) if index.dims else (*held[:axis], *held[axis + 1 :])
    reshaped(importer, node, kept or (1,), picked)


def transpose(importer: Importer, node: OnnxNode) -> None:
    """A step of a channel shuffle (after a Reshape to 5-D); a map to channels-last [0, 2, .., 1] and back
    [0, n, 1, ..], which move no value: the layers between work per position (ConvNeXt's LayerNorm and Linears, see
    read.keep_channels_last); any other order of the axes, a ``permute`` (one that moves the batch, of the tensor
    held with every axis: :func:`~convcalc.importers.onnx.layouts.all_axes_source`)."""
    pending = importer.pending.pop(node.inputs[0], None)
    perm = tuple(whole(p) for p in node.attributes.get("perm") or ())
    if pending and pending[0] == "shuffle-split" and perm == (0, 2, 1, 3, 4):
        importer.pending[node.outputs[0]] = ("shuffle-transposed", pending[1])
        return
    if pending:
        raise importer.fail(node, f"a Transpose {list(perm)} that ends no pattern convcalc knows")
    rank = len(perm)
    if importer.reads_channels_last(node):
        if perm == (0, rank - 1, *range(1, rank - 1)):
            importer.alias(node)
            return
        in_file_layout(importer, node)
    held = file_shape(importer, node)
    normal = node.inputs[0] not in importer.all_axes
    if not perm:  # ONNX's default: the axes reversed
        perm, rank = tuple(reversed(range(len(held)))), len(held)
    if rank != len(held) or sorted(perm) != list(range(rank)):
        opaque(importer, node)
    elif perm == tuple(range(rank)):
        importer.alias(node)
    elif normal and perm == (0, *range(2, rank), 1):
        mark_channels_last(importer, node)
        importer.alias(node)
    elif normal and perm[0] == 0:
        importer.emit(node, "permute", {"dims": tuple(p - 1 for p in perm[1:])})
    else:  # the batch moves, or is already held as an axis
        emit_all_axes(importer, node, "permute", {"dims": perm}, [all_axes_source(importer, node)])


def concat(importer: Importer, node: OnnxNode) -> None:
    """Activations joined along an axis after the batch, a ``concat``; a learned token before tokens, a
    ``class_token``; a constant joined to an activation, tensors held with every axis, or the batch's axis: opaque.
    (Of constants alone, shape arithmetic, folded before any handler: :meth:`Importer.computes_constants`.)"""
    parts = [importer.constant(node, i) for i in range(len(node.inputs))]
    axis = importer.integer(node, "axis", 1)
    learned = [part for part in parts if part is not None and part.name in importer.parameters]
    if len(parts) == 2 and learned == parts[:1] and parts[1] is None:
        class_token(importer, node, learned[0], axis)
        return
    if any(part is not None for part in parts) or reads_all_axes(importer, node):
        opaque(importer, node)
        return
    rank = len(importer.shape_of(node)) + 1
    where = axis % rank
    if where == 0:
        opaque(importer, node)
    else:
        importer.emit(
            node, "concat", {"axis": where - 1}, [importer.source_of(node, i) for i in range(len(node.inputs))]
        )


def class_token(importer: Importer, node: OnnxNode, token: Tensor, axis: int) -> None:
    """A learned token put before tokens (ViT's class token, expanded to the batch): [1, count, D] before [N, T, D]
    (read as D x T), or [1, D, count] before [N, D, T]; a ``class_token``."""
    shape = file_shape(importer, node, 1)
    axis %= 3
    if len(shape) != 3 or len(token.dims) != 3 or axis == 0 or token.dims[0] != 1:
        opaque(importer, node)
        return
    count, width = token.dims[axis], token.dims[3 - axis]
    if width != shape[3 - axis]:
        opaque(importer, node)
    elif axis == 1:  # [N, T, D]: per-position layers read it as D x T
        source = channels_last_source(importer, node, 1)
        mark_channels_last(importer, node)
        importer.emit(node, "class_token", {"count": count}, [source])
    else:
        importer.emit(node, "class_token", {"count": count}, [importer.source_of(node, 1)])


def keeps_parameter(dims: Shape, wanted: Sequence[int], batch: int) -> bool:
    """Whether Expand(parameter of ``dims``, ``wanted``) is the parameter: the shape wanted, aligned from the last
    axis (it may have fewer), asks each axis for its own size or 1 (or -1, as PyTorch means it), and the first for
    the batch at most."""
    offset = len(dims) - len(wanted)
    if offset < 0:  # more axes than the parameter's: copies of it
        return False
    aligned = enumerate(zip(wanted, dims[offset:], strict=True), start=offset)
    return all(w in (1, -1, d) or (axis == 0 and w == batch) for axis, (w, d) in aligned)


def expand(importer: Importer, node: OnnxNode) -> None:
    """An Expand of a parameter to the batch (ViT's class token) is the parameter; of an activation to the shape it
    has, no layer."""
    target = importer.constant(node, 1)
    wanted = tuple(whole(v) for v in target.values) if target is not None and target.values is not None else None
    if node.inputs[0] in importer.parameters:  # each is a constant too
        learned = importer.constants[node.inputs[0]]
        if wanted is None or keeps_parameter(learned.dims, wanted, importer.batch):
            importer.constants[node.outputs[0]] = Tensor(node.outputs[0], learned.dims, learned.values)
            importer.parameters.add(node.outputs[0])
            return
    if node.inputs[0] in importer.producer and wanted is not None and wanted == file_shape(importer, node):
        importer.alias(node)
    else:
        opaque(importer, node)


def identity(importer: Importer, node: OnnxNode) -> None:
    importer.alias(node)


def cast(importer: Importer, node: OnnxNode) -> None:
    """A Cast of an activation moves no value convcalc counts (of a tensor no layer makes, opaque: see
    :func:`squeeze`)."""
    if node.inputs[0] in importer.producer:
        importer.alias(node)
    else:
        opaque(importer, node)


def softmax(importer: Importer, node: OnnxNode) -> None:
    """Over one axis after the batch (the channels, or any other); before opset 13, ``axis`` means the flattened
    axes from it on, the same only where those after it are all 1."""
    held = file_shape(importer, node)
    axis = importer.integer(node, "axis", -1 if importer.model.opset >= 13 else 1) % len(held)
    if importer.model.opset < 13 and any(size != 1 for size in held[axis + 1 :]):
        opaque(importer, node)
    elif node.inputs[0] in importer.all_axes or axis == 0:
        emit_all_axes(importer, node, "softmax", {"axis": axis}, [all_axes_source(importer, node)])
    else:
        importer.emit(node, "softmax", {"axis": axis - 1})


def constant(importer: Importer, node: OnnxNode) -> None:
    value = node.attributes.get("value")
    if isinstance(value, Tensor):
        importer.constants[node.outputs[0]] = Tensor(node.outputs[0], value.dims, value.values)


def shape(importer: Importer, node: OnnxNode) -> None:
    """The shape of a tensor as the file holds it (its batch, a channels-last one's channels last), as a constant for
    the Reshape it usually feeds; ``start`` and ``end`` keep a part of it."""
    dims = file_shape(importer, node)
    start, end = node.attributes.get("start", 0), node.attributes.get("end", len(dims))
    part = dims[slice(start, end)]
    importer.constants[node.outputs[0]] = Tensor(node.outputs[0], (len(part),), part)


def split(importer: Importer, node: OnnxNode) -> None:
    """A split along any axis: one ``slice`` layer per output; without sizes, equal parts (the last one smaller where
    they do not divide, as ONNX splits). Along the batch's axis, or of a tensor held with every axis, slices of the
    tensor held whole (MobileViT's q, k, v = qkv.unbind(0), which PyTorch exports as a Split of axis 0)."""
    held = file_shape(importer, node)
    axis = importer.integer(node, "axis", 0) % len(held)
    length = held[axis]
    sizes_tensor = importer.constant(node, 1)
    sizes = node.attributes.get("split") or (sizes_tensor.values if sizes_tensor else None)
    if not sizes:
        count = importer.integer(node, "num_outputs", len(node.outputs))
        part = -(-length // count)
        sizes = (*[part] * (count - 1), length - part * (count - 1))
    every_axis = axis == 0 or node.inputs[0] in importer.all_axes
    source = all_axes_source(importer, node) if every_axis else importer.source_of(node)
    start = 0
    for index, (size, output) in enumerate(zip(sizes, node.outputs, strict=False)):
        end = start + whole(size)
        config = {"start": start, "end": end, "axis": axis if every_axis else axis - 1}
        if every_axis:
            emit_all_axes(importer, node, "slice", config, [source], str(index), output)
        else:
            importer.emit(node, "slice", config, [source], suffix=str(index), output=output)
        start = end


def slice_(importer: Importer, node: OnnxNode) -> None:
    """A Slice with positive steps: of the channels (as a channel split exports), a ``slice`` layer; of the spatial
    axes, a centred window is a ``crop``, any other one a ``slice`` along each axis it cuts (a TCN's chomp, Swin's
    patch merging x[:, 0::2]); of a tensor held with every axis, slices of it."""
    starts, ends, axes, steps = (importer.constant(node, i) for i in (1, 2, 3, 4))
    dims = file_shape(importer, node)
    if not (starts and ends and starts.values and ends.values) or len(dims) < 3:
        opaque(importer, node)
        return
    rank = len(dims)
    axis_list = [whole(a) % rank for a in axes.values] if axes and axes.values else list(range(len(starts.values)))
    strides = [whole(step) for step in steps.values] if steps and steps.values else [1] * len(axis_list)
    if any(step < 1 for step in strides):
        opaque(importer, node)
        return
    bounds = {
        axis: (_clamp(whole(start), dims[axis]), _clamp(whole(end), dims[axis]), step)
        for axis, start, end, step in zip(axis_list, starts.values, ends.values, strides, strict=True)
    }
    spans = {axis: span for axis, span in bounds.items() if span != (0, dims[axis], 1)}
    whole_held = 0 in spans or node.inputs[0] in importer.all_axes  # of a tensor held with every axis (qkv)
    offset = 0 if whole_held else 1
    configs = [
        {"start": start, "end": end, "axis": axis - offset, "step": step}
        for axis, (start, end, step) in sorted(spans.items())
    ]
    if not spans:  # every index kept (GhostNet's out[:, :out_chs] of exactly out_chs channels): the same tensor
        importer.alias(node)
    elif whole_held:
        source = all_axes_source(importer, node)
        for config in configs[:-1]:
            source = importer.step(node, "slice", config, [source], f"axis{config['axis']}")
        emit_all_axes(importer, node, "slice", configs[-1], [source])
    elif (
        1 not in spans
        and len(spans) > 1
        and all(step == 1 and start == (dims[a] - (end - start)) // 2 for a, (start, end, step) in spans.items())
    ):
        size = tuple(spans[axis][1] - spans[axis][0] if axis in spans else dims[axis] for axis in range(2, rank))
        importer.emit(node, "crop", {"size": size})
    else:
        source = importer.source_of(node)
        for count, config in enumerate(configs, 1):
            last = count == len(configs)
            source = importer.emit(node, "slice", config, [source], suffix="" if last else f"axis{config['axis']}")


def _clamp(index: int, size: int) -> int:
    """A Slice bound as ONNX reads it: negative counts from the end; clamped to [0, size]."""
    return max(0, min(index + size if index < 0 else index, size))


def pad(importer: Importer, node: OnnxNode) -> None:
    """Zero padding of the spatial axes: pads are [N, C, H, W begins, then N, C, H, W ends] (one to three spatial
    axes)."""
    tensor = importer.constant(node, 1)
    pads = tuple(tensor.values) if tensor and tensor.values else node.attributes.get("pads")
    mode = node.attributes.get("mode", "constant")
    rank = len(importer.shape_of(node)) + 1
    if not pads or len(pads) != 2 * rank or any(pads[i] for i in (0, 1, rank, rank + 1)) or mode != "constant":
        opaque(importer, node)
        return
    if not 3 <= rank <= 5:
        opaque(importer, node)
        return
    sides = tuple(whole(pads[offset + axis]) for axis in range(2, rank) for offset in (0, rank))
    importer.emit(node, "pad", {"padding": sides})


def einsum(importer: Importer, node: OnnxNode) -> None:
    """An Einsum that is a batched product of two activations (MaxViT's attention: 'BGHID,BGHJD->BGHIJ' is q k^T,
    'BGHIJ,BGHJD->BGHID' is a v): a ``matmul``, its second operand's last two axes swapped where the equation
    reads them so (a ``permute`` of no cost); any other equation is uncounted."""
    equation = str(node.attributes.get("equation", "")).replace(" ", "")
    found = re.fullmatch(r"([A-Za-z]+),([A-Za-z]+)->([A-Za-z]+)", equation)
    if found is None or len(node.inputs) != 2 or any(importer.constant(node, i) is not None for i in (0, 1)):
        opaque(importer, node)
        return
    first, second, out = found.groups()
    lead, i, j = out[:-2], out[-2], out[-1]
    if not (len(first) == len(second) == len(out) >= 3 and first[:-2] == second[:-2] == lead and first[-2] == i):
        opaque(importer, node)
        return
    k = first[-1]
    if second[-2:] not in (k + j, j + k) or len({i, j, k}) != 3:
        opaque(importer, node)
        return
    held = reads_all_axes(importer, node)
    sources = [all_axes_source(importer, node, p) if held else importer.source_of(node, p) for p in (0, 1)]
    if second[-2:] == j + k:  # b is [.., J, K]: read as [.., K, J]
        rank = len(importer.shapes[sources[1]])
        swap = (*range(rank - 2), rank - 1, rank - 2)
        sources[1] = importer.step(node, "permute", {"dims": swap}, [sources[1]], "permute")
    if held:
        emit_all_axes(importer, node, "matmul", {}, sources)
    else:
        importer.emit(node, "matmul", {}, sources)
