"""How an ONNX tensor's values are held in its convcalc node (:class:`~convcalc.importers.onnx.importer.Importer`
keeps the sets): as the file's tensor without its first axis, the batch (most tensors); channels-last, the channels
first in the node (ConvNeXt's block, tokens [N, T, D] read as D x T by per-position layers:
:mod:`convcalc.importers.onnx.patterns`); or with every axis, where an op moves or merges the batch (the files
convcalc reads have a batch of 1). Permutes and reshapes of no cost move a tensor between them.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.tensor import Config, Shape
from convcalc.importers.onnx.importer import Importer
from convcalc.importers.onnx.model import OnnxNode


def in_file_layout(importer: Importer, node: OnnxNode, tensors: Sequence[str] | None = None) -> None:
    """Each channels-last tensor ``node`` reads (or of ``tensors``) is in the file's own layout (N x H x W x C)
    from here on: a ``permute`` of its node, for an op that reads its axes (a Pad, a Reshape, a Conv); an op that
    reads its inputs so writes its outputs so (not channels-last)."""
    if tensors is None:
        importer.channels_last.difference_update(node.outputs)
    for tensor in dict.fromkeys(node.inputs if tensors is None else tensors):
        if tensor in importer.channels_last:
            source = importer.producer[tensor]
            rank = len(importer.shapes[source])
            importer.channels_last.discard(tensor)
            importer.produce(
                tensor, importer.step(node, "permute", {"dims": (*range(1, rank), 0)}, [source], "permute")
            )


def channels_last_source(importer: Importer, node: OnnxNode, position: int = 0) -> str:
    """The node holding input ``position`` channels-last, its last axis first as convcalc's per-position layers
    read it (tokens [N, T, D] are D x T): the tensor's own node, or once a ``permute`` of it."""
    tensor = node.inputs[position]
    source = importer.source_of(node, position)
    if tensor in importer.channels_last:
        return source
    if tensor not in importer.laid_last:
        rank = len(importer.shapes[source])
        importer.laid_last[tensor] = importer.step(
            node, "permute", {"dims": (rank - 1, *range(rank - 1))}, [source], "permute"
        )
    return importer.laid_last[tensor]


def file_shape(importer: Importer, node: OnnxNode, position: int = 0) -> Shape:
    """Input ``position``'s shape as the file holds it, its first axis (the batch of 1) included, a channels-last
    one's channels last."""
    tensor, shape = node.inputs[position], importer.shape_of(node, position)
    if tensor in importer.channels_last:
        shape = (*shape[1:], shape[0])
    return shape if tensor in importer.all_axes else (importer.batch, *shape)


def all_axes_source(importer: Importer, node: OnnxNode, position: int = 0) -> str:
    """The node holding input ``position`` with every axis of the file's tensor. A tensor is held without its
    first axis, the batch, wherever that is 1 (the files convcalc reads have a batch of 1); where an op moves
    the batch or merges it with another axis (attention as PyTorch exports nn.MultiheadAttention: [T, N, D],
    [N * heads, T, d]) its tensors are held whole, and a reshape of no cost lifts a tensor to that."""
    tensor = node.inputs[position]
    source = importer.source_of(node, position)
    if tensor in importer.all_axes:
        return source
    held_whole(importer, node)
    if tensor not in importer.lifted:
        importer.lifted[tensor] = importer.step(
            node, "reshape", {"shape": (1, *importer.shapes[source])}, [source], "reshape"
        )
    return importer.lifted[tensor]


def emit_all_axes(
    importer: Importer,
    node: OnnxNode,
    kind: str,
    config: Config,
    sources: Sequence[str],
    suffix: str = "",
    output: str | None = None,
) -> str:
    """A node of tensors held whole (:func:`all_axes_source`) making the node's first output (or ``output``); where
    its first axis is 1, held without it again (a reshape of no cost)."""
    held_whole(importer, node)
    made = output or node.outputs[0]
    name = importer.step(node, kind, config, sources, suffix)
    shape = importer.shapes[name]
    if shape[0] == 1 and len(shape) > 1:
        return importer.emit(
            node, "reshape", {"shape": shape[1:]}, [name], suffix=f"{suffix}.view".lstrip("."), output=made
        )
    importer.produce(made, name)
    importer.all_axes.add(made)
    return name


def reads_all_axes(importer: Importer, node: OnnxNode) -> bool:
    return any(tensor in importer.all_axes for tensor in node.inputs)


def held_whole(importer: Importer, node: OnnxNode) -> None:
    """Tensors are held with every axis only in a file of a batch of 1, where the batch's axis is an axis of 1: in
    another, an op that moves or merges the batch is an error saying so."""
    if importer.batch != 1:
        raise importer.fail(
            node,
            f"{node.op_type} moves or merges the batch, which convcalc follows in a file exported with a batch of 1; "
            f"this one has a batch of {importer.batch}: export the model with a batch of 1",
        )
