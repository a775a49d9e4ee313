"""One handler per ONNX op type: the node's attributes and inputs -> convcalc nodes (see
:mod:`convcalc.importers.onnx.read`).

ONNX conventions read here: pads are [top, left, bottom, right] (the begins of every spatial axis, then the ends;
one, two or three axes); pooling strides default to 1 (convcalc's to the kernel, so they are written out); a Conv's
weight is (C_out, C_in / group, k_h, k_w) (one kernel size per spatial axis); Gemm's
B is (units, in) with transB=1, as PyTorch exports it, else (in, units). :data:`HANDLERS` lists every handler;
those in :data:`CHANNELS_LAST_OPS` also read a channels-last tensor (ConvNeXt's block: see read.keep_channels_last).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from convcalc.engine.graph import NETWORK_INPUT
from convcalc.importers.onnx.constants import gather, whole
from convcalc.importers.onnx.importer import Importer
from convcalc.importers.onnx.model import OnnxNode, Tensor
from convcalc.importers.onnx.patterns import mark_channels_last
from convcalc.importers.onnx.protobuf import shortest_float32
from convcalc.kinds.catalogue import CATALOGUE

ELEMENTWISE = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "HardSigmoid": "hardsigmoid",
    "HardSwish": "hardswish",
    "Gelu": "gelu",
    "LeakyRelu": "leaky_relu",
}


def _kernel(importer: Importer, node: OnnxNode, weight: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """The kernel_shape attribute, or else the weight's spatial dims."""
    return importer.integers(node, "kernel_shape", None, 0) or (weight[2:] if weight else ())


def _padding(importer: Importer, node: OnnxNode, count: int, *, allow_same: bool) -> tuple[Any, str]:
    """convcalc's padding for a node's auto_pad/pads ('same', or symmetric per axis) and the node the layer reads:
    its input, or a ``pad`` layer in front of it for asymmetric pads."""
    source = importer.source_of(node)
    auto = node.attributes.get("auto_pad", "NOTSET")
    if auto == "VALID":
        return (0,) * count, source
    if auto == "SAME_UPPER" and allow_same:
        return "same", source
    if auto not in ("NOTSET", ""):
        raise importer.fail(node, f"auto_pad {auto} is not supported (convcalc's 'same' puts the odd pixel after)")
    pads = importer.integers(node, "pads", 2 * count, 0)
    begins, ends = pads[:count], pads[count:]
    if begins == ends:
        return begins, source
    sides = tuple(side for axis in range(count) for side in (begins[axis], ends[axis]))
    padded = importer.step(node, "pad", {"padding": sides}, [source], "pad")
    return (0,) * count, padded


def spatial_axes(importer: Importer, node: OnnxNode, weight: tuple[int, ...] | None = None) -> int:
    """How many spatial axes a conv or pool slides over (1 to 3: those of its input, a feature map); 0 when its
    kernel does not fit its input, and the node becomes opaque."""
    kernel = _kernel(importer, node, weight)
    shape = importer.shape_of(node)
    if 1 <= len(kernel) <= 3 and len(kernel) == len(shape) - 1:
        return len(kernel)
    opaque(importer, node)
    return 0


def conv(importer: Importer, node: OnnxNode) -> None:
    weight = importer.weight(node, 1, "weight")
    count = spatial_axes(importer, node, weight)
    if not count:
        return
    kernel = _kernel(importer, node, weight)
    groups = importer.integer(node, "group", 1)
    channels = importer.shape_of(node)[0]
    if len(weight) != 2 + count or weight[1] * groups != channels or tuple(weight[2:]) != kernel:
        raise importer.fail(node, f"weight dims {list(weight)} do not fit {channels} input channels, group {groups}")
    config = {
        "filters": weight[0],
        "kernel": kernel,
        "stride": importer.integers(node, "strides", count, 1),
        "dilation": importer.integers(node, "dilations", count, 1),
        "groups": groups,
        "bias": importer.per_channel(node, 2, weight[0], "bias", "filters"),
    }
    config["padding"], source = _padding(importer, node, count, allow_same=True)
    importer.emit(node, "conv", config, [source])


def conv_transpose(importer: Importer, node: OnnxNode) -> None:
    weight = importer.weight(node, 1, "weight")  # (C_in, C_out / group, k_h, k_w)
    groups = importer.integer(node, "group", 1)
    if "output_shape" in node.attributes:
        raise importer.fail(node, "output_shape is not supported; export with explicit pads and output_padding")
    if node.attributes.get("auto_pad", "NOTSET") not in ("NOTSET", "", "VALID"):
        raise importer.fail(node, "auto_pad is not supported on ConvTranspose; export with explicit pads")
    count = len(weight) - 2
    config = {
        "filters": weight[1] * groups,
        "kernel": _kernel(importer, node, weight),
        "stride": importer.integers(node, "strides", count, 1),
        "padding": _padding(importer, node, count, allow_same=False)[0],
        "output_padding": importer.integers(node, "output_padding", count, 0),
        "dilation": importer.integers(node, "dilations", count, 1),
        "groups": groups,
        "bias": importer.per_channel(node, 2, weight[1] * groups, "bias", "filters"),
    }
    importer.emit(node, "conv_transpose", config)


def _linear(importer: Importer, node: OnnxNode, weight: tuple[int, ...], bias: int | None) -> None:
    """A linear layer by a (features, units) weight: over the flattened input, or on a channels-last map over the
    channels at every position (``per_position``). The weight must fit the input; ``bias``: the input that may be
    a bias (one value per unit)."""
    if len(weight) != 2:
        raise importer.fail(node, f"a {node.op_type} by a {len(weight)}-D weight is not supported")
    shape = importer.shape_of(node)
    per_position = importer.reads_channels_last(node)
    source = importer.source_of(node)
    if not per_position and len(shape) > 1 and weight[0] == shape[-1] != math.prod(shape):  # tokens [N, T, D]
        source, per_position = importer.channels_last_source(node), True
        mark_channels_last(importer, node)
    features = importer.shapes[source][0] if per_position else math.prod(shape)
    if weight[0] != features:
        what = f"{features} channels at each position" if per_position else f"{features} input features"
        raise importer.fail(node, f"a weight of {weight[0]} x {weight[1]} does not fit {what}")
    has_bias = bias is not None and importer.per_channel(node, bias, weight[1], "bias", "units")
    importer.emit(node, "linear", {"units": weight[1], "bias": has_bias, "per_position": per_position}, [source])


def gemm(importer: Importer, node: OnnxNode) -> None:
    weight = importer.weight(node, 1, "B")
    if node.attributes.get("transA", 0):
        raise importer.fail(node, "transA=1 is not supported")
    if node.attributes.get("transB", 0):
        weight = weight[::-1]
    _linear(importer, node, weight, 2)


def matmul(importer: Importer, node: OnnxNode) -> None:
    """By a weight: a linear layer; of two activations (attention's q k^T): a ``matmul``, batched over the axes
    before the last two."""
    if importer.constant(node, 0) is None and importer.constant(node, 1) is None:
        importer.emit(node, "matmul", {}, [importer.source_of(node, 0), importer.source_of(node, 1)])
    else:
        _linear(importer, node, importer.weight(node, 1, "second operand"), None)


def add(importer: Importer, node: OnnxNode) -> None:
    bias = importer.constant(node, 1) or importer.constant(node, 0)
    if bias is None:
        importer.emit(node, "add", {}, [importer.source_of(node, 0), importer.source_of(node, 1)])
        return
    # MatMul + Add(bias): one linear layer with a bias, as PyTorch's nn.Linear exports without Gemm
    position = 0 if importer.constant(node, 1) is not None else 1
    last = importer.nodes[-1] if importer.nodes else None
    source = importer.source_of(node, position)
    if last is not None and last.kind.type == "linear" and source == last.name and importer.read_once(source):
        units = last.config["units"]
        if not last.config["bias"] and bias.dims[-1:] == (units,) and math.prod(bias.dims) == units:
            importer.nodes[-1] = last._replace(config={**last.config, "bias": True})
            importer.alias(node, position)
            return
    opaque(importer, node)


def batchnorm(importer: Importer, node: OnnxNode) -> None:
    """Batch norm; without a learned scale and shift (affine=False) where torch exports them as Constant nodes, not
    as the graph's initializers (its parameters) or an Identity of one (torch's exporter writes a parameter whose
    values equal another's, untrained ones and zeros, as an Identity of it). Each of its four tensors holds one value
    per channel."""
    channels = importer.shape_of(node)[0]
    for position, role in enumerate(("scale", "bias", "mean", "variance"), start=1):
        importer.per_channel(node, position, channels, role, "channels")
    config = {
        "affine": len(node.inputs) > 1 and node.inputs[1] in importer.parameters,
        "eps": node.attributes.get("epsilon", 1e-5),
        "momentum": shortest_float32(1 - float(node.attributes.get("momentum", 0.9))),  # ONNX's is the old share
    }
    importer.emit(node, "batchnorm", config)


def activation(importer: Importer, node: OnnxNode) -> None:
    importer.emit(node, ELEMENTWISE[node.op_type], {})


def clip(importer: Importer, node: OnnxNode) -> None:
    def bound(position: int, attribute: str) -> float | None:
        tensor = importer.constant(node, position)
        if tensor is not None and tensor.values:
            return float(tensor.values[0])
        value = node.attributes.get(attribute)
        return None if value is None else float(value)

    low, high = bound(1, "min"), bound(2, "max")
    if low == 0 and high == 6:
        importer.emit(node, "relu6", {})
    elif low == 0 and high is None:
        importer.emit(node, "relu", {})
    else:
        opaque(importer, node)


def mul(importer: Importer, node: OnnxNode) -> None:
    """x * sigmoid(x) is SiLU; x times a learned per-channel weight is layer scale (C x 1 x 1, or C on a
    channels-last map); another product of two tensors is an element-wise multiply."""
    weight = importer.constant(node, 1) or importer.constant(node, 0)
    if weight is not None:
        position = 0 if importer.constant(node, 1) is not None else 1
        shape = importer.shape_of(node, position)
        channels = shape[0]
        ones = (1,) * (len(shape) - 1)
        per_channel: tuple[tuple[int, ...], ...] = ((channels, *ones), (1, channels, *ones))
        if importer.reads_channels_last(node):
            per_channel = ((channels,), (1, *ones, channels))
        if len(shape) > 1 and weight.values is None and weight.dims in per_channel:
            importer.emit(node, "scale", {}, [importer.source_of(node, position)])
        else:
            opaque(importer, node)
        return
    sources = [importer.source_of(node, position) for position in (0, 1)]
    last = importer.nodes[-1] if importer.nodes else None
    if last is not None and last.kind.type == "sigmoid" and last.name in sources and importer.read_once(last.name):
        other = sources[1 - sources.index(last.name)]
        if last.inputs == (other,):
            importer.nodes.pop()
            importer.taken.discard(last.name)
            importer.emit(node, "silu", {}, [other])
            return
    if "multiply" in CATALOGUE:
        importer.emit(node, "multiply", {}, sources)
    else:
        opaque(importer, node)


def pool(importer: Importer, node: OnnxNode) -> None:
    count = spatial_axes(importer, node)
    if not count:
        return
    padding, source = _padding(importer, node, count, allow_same=False)
    config: dict[str, Any] = {
        "kernel": importer.integers(node, "kernel_shape", count, 1),
        "stride": importer.integers(node, "strides", count, 1),
        "padding": padding,
        "ceil_mode": bool(node.attributes.get("ceil_mode", 0)),
    }
    kind = "maxpool" if node.op_type == "MaxPool" else "avgpool"
    if kind == "maxpool":
        config["dilation"] = importer.integers(node, "dilations", count, 1)
    else:  # ONNX's default leaves padding out of the average, as PyTorch's count_include_pad=False
        config["count_include_pad"] = bool(node.attributes.get("count_include_pad", 0))
    importer.emit(node, kind, config, [source])


def global_pool(importer: Importer, node: OnnxNode) -> None:
    importer.emit(node, "global_avgpool" if node.op_type == "GlobalAveragePool" else "global_maxpool", {})


def reduce_mean(importer: Importer, node: OnnxNode) -> None:
    axes = node.attributes.get("axes")
    tensor = importer.constant(node, 1)
    if axes is None and tensor is not None:
        axes = tensor.values
    rank = len(importer.shape_of(node)) + 1
    if axes is None or rank < 3 or sorted(whole(a) % rank for a in axes) != list(range(2, rank)):
        opaque(importer, node)  # a mean over every spatial axis is a global average pool
        return
    pooled = importer.emit(node, "global_avgpool", {})
    if not node.attributes.get("keepdims", 1):
        importer.emit(node, "flatten", {}, [pooled])


def flatten(importer: Importer, node: OnnxNode) -> None:
    if importer.integer(node, "axis", 1) != 1:
        opaque(importer, node)
    elif len(importer.shape_of(node)) == 1:
        importer.alias(node)
    else:
        importer.emit(node, "flatten", {})


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
    full = (1, *shape)  # the file's batch is 1 (read.per_sample)
    copied = not node.attributes.get("allowzero", 0)
    sizes = [full[axis] if size == 0 and copied and axis < len(full) else size for axis, size in enumerate(wanted)]
    rest = sizes[1:]
    count = math.prod(shape)
    known = math.prod(size for size in rest if size != -1)
    if sizes[:1] == [-1] and -1 not in rest and known:  # the batch inferred: the rest is given whole
        sizes[0] = 1 if known == count else 0
    if sizes[:1] != [1] or not rest or any(size == 0 or size < -1 for size in rest) or rest.count(-1) > 1:
        opaque(importer, node)  # the batch merged with another axis, or a target convcalc cannot read
        return
    per_sample = tuple(count // known if size == -1 else size for size in rest) if known else ()
    if per_sample == shape:  # a flat input to one axis too
        importer.alias(node)
    elif len(per_sample) == 1:
        importer.emit(node, "flatten", {})
    else:
        importer.emit(node, "reshape", {"shape": tuple(rest)})


def transpose(importer: Importer, node: OnnxNode) -> None:
    """A step of a channel shuffle (after a Reshape to 5-D); a map to channels-last [0, 2, .., 1] and back
    [0, n, 1, ..], which move no value: the layers between work per position (ConvNeXt's LayerNorm and Linears, see
    read.keep_channels_last); any other order of the axes after the batch, a ``permute``. One that moves the batch
    is uncounted."""
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
        importer.in_file_layout(node)
    if rank != len(importer.shape_of(node)) + 1 or sorted(perm) != list(range(rank)) or perm[:1] != (0,):
        opaque(importer, node)
    elif perm == tuple(range(rank)):
        importer.alias(node)
    elif rank >= 3 and perm == (0, *range(2, rank), 1):
        mark_channels_last(importer, node)
        importer.alias(node)
    else:
        importer.emit(node, "permute", {"dims": tuple(p - 1 for p in perm[1:])})


def concat(importer: Importer, node: OnnxNode) -> None:
    parts = [importer.constant(node, i) for i in range(len(node.inputs))]
    if all(part is not None and part.values is not None for part in parts):  # a shape being computed
        values = tuple(value for part in parts if part and part.values for value in part.values)
        importer.constants[node.outputs[0]] = Tensor(node.outputs[0], (len(values),), values)
        return
    if importer.integer(node, "axis", 1) != 1:
        opaque(importer, node)
        return
    importer.emit(node, "concat", {}, [importer.source_of(node, i) for i in range(len(node.inputs))])


def identity(importer: Importer, node: OnnxNode) -> None:
    importer.alias(node)


def softmax(importer: Importer, node: OnnxNode) -> None:
    """Over one axis after the batch (the channels, or any other); before opset 13, ``axis`` means the flattened
    axes from it on, the same only where those after it are all 1."""
    shape = importer.shape_of(node)
    axis = importer.integer(node, "axis", -1 if importer.model.opset >= 13 else 1) % (len(shape) + 1)
    if axis == 0 or (importer.model.opset < 13 and any(size != 1 for size in shape[axis:])):
        opaque(importer, node)
    else:
        importer.emit(node, "softmax", {"axis": axis - 1} if axis > 1 else {})


def lrn(importer: Importer, node: OnnxNode) -> None:
    config = {
        "size": node.attributes.get("size"),
        "alpha": node.attributes.get("alpha", 1e-4),
        "beta": node.attributes.get("beta", 0.75),
        "k": node.attributes.get("bias", 1.0),
    }
    importer.emit(node, "lrn", config)


def resize(importer: Importer, node: OnnxNode) -> None:
    mode = str(node.attributes.get("mode", "nearest"))
    scales = importer.constant(node, 2 if node.op_type == "Resize" else 1)
    sizes = importer.constant(node, 3) if node.op_type == "Resize" else None
    count = len(importer.shape_of(node)) - 1
    linear = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(count, "linear")
    config: dict[str, Any] = {"scale": None, "size": None, "mode": linear if mode == "linear" else mode}
    config["align_corners"] = node.attributes.get("coordinate_transformation_mode") == "align_corners"
    if sizes is not None and sizes.values:
        config["size"] = tuple(whole(n) for n in sizes.values[2:])
    elif scales is not None and scales.values and all(float(v).is_integer() for v in scales.values[2:]):
        config["scale"] = tuple(int(v) for v in scales.values[2:])
    given = config["scale"] is not None or config["size"] is not None
    if not 1 <= count <= 3 or config["mode"] not in ("nearest", linear) or not given:
        opaque(importer, node)
        return
    importer.emit(node, "upsample", config)


def constant(importer: Importer, node: OnnxNode) -> None:
    value = node.attributes.get("value")
    if isinstance(value, Tensor):
        importer.constants[node.outputs[0]] = Tensor(node.outputs[0], value.dims, value.values)


def shape(importer: Importer, node: OnnxNode) -> None:
    """The shape of a tensor as a constant (with a batch of 1), for the Reshape it usually feeds."""
    dims = (1, *importer.shape_of(node))
    importer.constants[node.outputs[0]] = Tensor(node.outputs[0], (len(dims),), dims)


def constant_step(importer: Importer, node: OnnxNode) -> None:  # on a layer's output: no shape step convcalc knows
    """Steps of a shape computation on constants (Shape -> Gather -> Unsqueeze -> Concat -> Reshape)."""
    value = importer.constant(node, 0)
    if value is None or value.values is None:
        opaque(importer, node)
        return
    values = value.values
    if node.op_type == "Gather":
        index = importer.constant(node, 1)
        if index is None or index.values is None:
            opaque(importer, node)
            return
        values = gather(values, index.values)
    importer.constants[node.outputs[0]] = Tensor(node.outputs[0], (len(values),), values)


def split(importer: Importer, node: OnnxNode) -> None:
    """A split along any axis after the batch: one ``slice`` layer per output; without sizes, equal parts (the last
    one smaller where they do not divide, as ONNX splits)."""
    shape = importer.shape_of(node)
    axis = importer.integer(node, "axis", 0) % (len(shape) + 1)
    if axis == 0:
        opaque(importer, node)
        return
    length = shape[axis - 1]
    sizes_tensor = importer.constant(node, 1)
    sizes = node.attributes.get("split") or (sizes_tensor.values if sizes_tensor else None)
    if not sizes:
        count = importer.integer(node, "num_outputs", len(node.outputs))
        sizes = tuple(-(-length // count) if i < count - 1 else 0 for i in range(count))
        sizes = (*sizes[:-1], length - sum(sizes[:-1]))
    start = 0
    source = importer.source_of(node)
    where = {"axis": axis - 1} if axis > 1 else {}
    for index, (size, output) in enumerate(zip(sizes, node.outputs, strict=False)):
        end = start + whole(size)
        config = {"start": start, "end": end, **where}
        importer.emit(node, "slice", config, [source], suffix=str(index), output=output)
        start = end


def slice_(importer: Importer, node: OnnxNode) -> None:
    """A Slice with step 1: of the channels (as a channel split exports), a ``slice`` layer; of the spatial axes, a
    centred window is a ``crop``, any other one a ``slice`` along each axis it cuts (a TCN's chomp)."""
    starts, ends, axes, steps = (importer.constant(node, i) for i in (1, 2, 3, 4))
    shape = importer.shape_of(node)
    if not (starts and ends and starts.values and ends.values) or len(shape) < 2:
        opaque(importer, node)
        return
    dims = (1, *shape)
    rank = len(dims)
    axis_list = [whole(a) % rank for a in axes.values] if axes and axes.values else list(range(len(starts.values)))
    if steps and steps.values and any(whole(step) != 1 for step in steps.values):
        opaque(importer, node)
        return
    bounds = {
        axis: (_clamp(whole(start), dims[axis]), _clamp(whole(end), dims[axis]))
        for axis, start, end in zip(axis_list, starts.values, ends.values, strict=True)
    }
    spans = {axis: span for axis, span in bounds.items() if span != (0, dims[axis])}
    if not spans:  # every index kept (GhostNet's out[:, :out_chs] of exactly out_chs channels): the same tensor
        importer.alias(node)
    elif 0 in spans:
        opaque(importer, node)
    elif list(spans) == [1]:
        importer.emit(node, "slice", {"start": spans[1][0], "end": spans[1][1]})
    elif (
        1 not in spans
        and len(spans) > 1
        and all(start == (dims[a] - (end - start)) // 2 for a, (start, end) in spans.items())
    ):
        size = tuple(
            spans.get(axis, (0, dims[axis]))[1] - spans.get(axis, (0, dims[axis]))[0] for axis in range(2, rank)
        )
        importer.emit(node, "crop", {"size": size})
    else:
        source = importer.source_of(node)
        for count, (axis, (start, end)) in enumerate(sorted(spans.items()), 1):
            last = count == len(spans)
            config = {"start": start, "end": end, "axis": axis - 1}
            source = importer.emit(node, "slice", config, [source], suffix="" if last else f"axis{axis - 1}")


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


def layer_norm(importer: Importer, node: OnnxNode) -> None:
    """Over the last axis of a flat input, over C, H and W (axis 1) of a feature map, or over the channels (the
    last axis) of a channels-last map (ConvNeXt's)."""
    shape = importer.shape_of(node)
    axis = importer.integer(node, "axis", -1) % (len(shape) + 1)
    if importer.reads_channels_last(node) and axis == len(shape):
        over, normalised = "channels", shape[0]
    elif axis == 1 and not importer.reads_channels_last(node):
        over, normalised = "all" if len(shape) > 1 else "channels", math.prod(shape)
    else:
        opaque(importer, node)
        return
    affine = importer.per_channel(node, 1, normalised, "scale", "values normalised")
    importer.per_channel(node, 2, normalised, "bias", "values normalised")
    importer.emit(node, "layernorm", {"over": over, "affine": affine, "eps": node.attributes.get("epsilon", 1e-5)})


def group_norm(importer: Importer, node: OnnxNode) -> None:
    config = {"groups": node.attributes.get("num_groups"), "affine": True}
    importer.emit(node, "groupnorm", {**config, "eps": node.attributes.get("epsilon", 1e-5)})


def opaque(importer: Importer, node: OnnxNode) -> None:
    """An op convcalc does not count: its shape as the file states it, no cost (a warning says so); a channels-last
    tensor it reads in the file's layout."""
    importer.in_file_layout(node)
    stated = importer.model.shapes.get(node.outputs[0]) if node.outputs else None
    if stated is None or len(stated) < 2 or not all(isinstance(d, int) and d > 0 for d in stated[1:]):
        raise importer.fail(
            node,
            f"convcalc does not know the ONNX op {node.op_type} and the file does not state its output's shape "
            "(run onnx's shape inference on the model first: python -c \"import onnx; "
            "onnx.shape_inference.infer_shapes_path('in.onnx', 'out.onnx', data_prop=True)\", then analyze out.onnx)",
        )
    sources = [importer.producer[t] for t in node.inputs if t in importer.producer] or [NETWORK_INPUT]
    config = {"op": node.op_type, "shape": tuple(int(d) for d in stated[1:])}  # type: ignore[arg-type]
    importer.emit(node, "opaque", config, sources[:1])


Handler = Callable[[Importer, OnnxNode], None]
HANDLERS: dict[str, Handler] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "Gemm": gemm,
    "MatMul": matmul,
    "Add": add,
    "BatchNormalization": batchnorm,
    **dict.fromkeys(ELEMENTWISE, activation),
    "Clip": clip,
    "Mul": mul,
    "MaxPool": pool,
    "AveragePool": pool,
    "GlobalAveragePool": global_pool,
    "GlobalMaxPool": global_pool,
    "ReduceMean": reduce_mean,
    "Flatten": flatten,
    "Reshape": reshape,
    "Transpose": transpose,
    "Concat": concat,
    "Dropout": identity,
    "Identity": identity,
    "Softmax": softmax,
    "LRN": lrn,
    "Resize": resize,
    "Upsample": resize,
    "Constant": constant,
    "Shape": shape,
    "Gather": constant_step,
    "Unsqueeze": constant_step,
    "Squeeze": constant_step,
    "Cast": constant_step,
    "Split": split,
    "Slice": slice_,
    "Pad": pad,
    "LayerNormalization": layer_norm,
    "GroupNormalization": group_norm,
}
"""Each ONNX op type convcalc reads, with its handler; any other op is ``opaque``."""
CHANNELS_LAST_OPS = frozenset(
    {"Gemm", "MatMul", "Add", *ELEMENTWISE, "Clip", "Mul", "Transpose", "Dropout", "Identity", "LayerNormalization"}
)
"""Op types whose handlers also read a channels-last tensor (see :mod:`convcalc.importers.onnx.patterns`)."""
