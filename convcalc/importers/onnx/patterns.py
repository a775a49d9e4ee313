"""Patterns that span ONNX nodes, followed while importing: PyTorch's elementary LocalResponseNorm (follows_lrn) and a
channels-last tensor from a Transpose to the Transpose back (ConvNeXt's block).

ConvNeXt's block as PyTorch exports it (torchvision's Permute, LayerNorm2d): a Transpose [0, 2, 3, 1] of a feature map
makes its tensor channels-last (N x H x W x C), which stays the same convcalc node (C x H x W): the Transposes move
values, they compute nothing. While a tensor is channels-last, the ops of ``ops.CHANNELS_LAST_OPS`` read it as the
same kinds (a MatMul is a ``linear`` per position) and their outputs stay channels-last; the Transpose [0, 3, 1, 2]
back ends it (``ops.transpose``). Any other op reads it in the file's own layout, after a ``permute`` of no cost
(``layouts.in_file_layout``). ``Importer.channels_last`` holds the channels-last tensors.
"""

from __future__ import annotations

from typing import Any

from convcalc.importers.onnx.importer import Importer
from convcalc.importers.onnx.layouts import reads_all_axes
from convcalc.importers.onnx.model import OnnxNode


def follows_lrn(importer: Importer, node: OnnxNode) -> bool:
    """PyTorch's LocalResponseNorm, exported as elementary ops: x * x, a Reshape to 5-D, a Pad of the channels, a
    3-D AveragePool of (size, 1, 1), shape steps, then * alpha + k, ^ beta, and x / that. Followed from the square
    to the division, it is one ``lrn`` layer; the steps between are not counted on their own. True when ``node`` is
    one of those steps. A square of a tensor that no Div divides is a product, no LRN; a division by a constant
    ends none."""
    first = node.inputs[0] if node.inputs else ""
    square = node.op_type == "Mul" and node.inputs == [first, first]
    if square and first in importer.producer and first in importer.divided:
        importer.lrn[node.outputs[0]] = first
        importer.lrn_size[first] = 0
        return True
    source = first if node.op_type == "Div" else ""
    divisor = node.inputs[1] if len(node.inputs) == 2 else ""
    if source in importer.lrn_size and divisor in importer.lrn:
        size = importer.lrn_size.pop(source)
        if not size:
            raise importer.fail(node, "x / (...) of x * x without the AveragePool of PyTorch's LocalResponseNorm")
        scope = node.name.rsplit("/", 1)[0] + "/"
        values = {
            each.op_type: importer.constants[each.inputs[1]].values
            for each in importer.model.nodes
            if each.name.startswith(scope)
            and each.op_type in ("Mul", "Add", "Pow")
            and len(each.inputs) == 2
            and each.inputs[1] in importer.constants
            and importer.constants[each.inputs[1]].values
        }
        config: dict[str, Any] = {"size": size}
        for op, key in (("Mul", "alpha"), ("Pow", "beta"), ("Add", "k")):
            found = values.get(op)
            if found:
                config[key] = float(found[0])
        importer.emit(node, "lrn", config, [importer.producer[source]])
        return True
    chained = [importer.lrn[tensor] for tensor in node.inputs if tensor in importer.lrn]
    if chained:
        for output in node.outputs:
            importer.lrn[output] = chained[0]
        kernel = importer.integers(node, "kernel_shape", None, 0) if node.op_type == "AveragePool" else ()
        if kernel:
            importer.lrn_size[chained[0]] = kernel[0]
        return True
    return False


def mark_channels_last(importer: Importer, node: OnnxNode) -> None:
    """The outputs of ``node`` are channels-last (and held with every axis, as its input)."""
    importer.channels_last.update(node.outputs)
    if reads_all_axes(importer, node):
        importer.all_axes.update(node.outputs)


def unshuffled(importer: Importer, node: OnnxNode) -> None:
    """A channel shuffle's steps held back (Reshape to [N, g, C / g, H, W], Transpose [0, 2, 1, 3, 4]) that
    ``node`` reads as something else (ResNeSt's radix split reads the 5-D view with a Mul): the steps as the layers
    they are, a ``reshape`` (and the ``permute``), so that it reads their tensor."""
    follows = {"shuffle-split": "Transpose", "shuffle-transposed": "Reshape"}
    for tensor in node.inputs:
        if follows.get(importer.pending.get(tensor, ("",))[0], node.op_type) == node.op_type:
            continue
        step, (source, groups) = importer.pending.pop(tensor)
        channels, *rest = importer.shapes[source]
        split = importer.step(node, "reshape", {"shape": (groups, channels // groups, *rest)}, [source], "reshape")
        if step == "shuffle-transposed":
            split = importer.step(node, "permute", {"dims": (1, 0, *range(2, len(rest) + 2))}, [split], "permute")
        importer.produce(tensor, split)
