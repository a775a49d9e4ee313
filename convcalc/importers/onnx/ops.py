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
import re
from collections.abc import Callable
from typing import Any

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
from convcalc.importers.onnx.model import OnnxNode
from convcalc.importers.onnx.patterns import mark_channels_last
from convcalc.importers.onnx.protobuf import shortest_float32
from convcalc.importers.onnx.tensors import (
    cast,
    concat,
    constant,
    einsum,
    expand,
    gather_index,
    identity,
    pad,
    reshape,
    shape,
    slice_,
    softmax,
    split,
    squeeze,
    transpose,
)
from convcalc.importers.onnx.uncounted import opaque
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
        **shared(importer, node),
        **gain(importer, node, weight),
    }
    config["padding"], source = _padding(importer, node, count, allow_same=True)
    importer.emit(node, "conv", config, [source])


def gain(importer: Importer, node: OnnxNode, weight: tuple[int, ...]) -> dict[str, bool]:
    """``gain: true`` where the conv's weight is computed from its parameters and one learned value per filter
    besides (NFNet's weight standardisation, scaled by a gain per filter)."""
    if node.inputs[1] in importer.model.initializers:
        return {}
    learned = importer.learned.take(node.inputs[1])
    return {"gain": True} if learned == math.prod(weight) + weight[0] else {}


def shared(importer: Importer, node: OnnxNode) -> dict[str, bool]:
    """``shared: true`` where the node's weight is one an earlier layer read (RetinaNet's head runs one conv on
    five levels): its parameters count once."""
    weight = node.inputs[1]
    if weight in importer.learned.counted:
        return {"shared": True}
    importer.learned.counted.add(weight)
    return {}


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
        **shared(importer, node),
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
        source, per_position = channels_last_source(importer, node), True
        mark_channels_last(importer, node)
    features = importer.shapes[source][0] if per_position else math.prod(shape)
    if weight[0] != features:
        what = f"{features} channels at each position" if per_position else f"{features} input features"
        raise importer.fail(node, f"a weight of {weight[0]} x {weight[1]} does not fit {what}")
    has_bias = bias is not None and importer.per_channel(node, bias, weight[1], "bias", "units")
    config = {"units": weight[1], "bias": has_bias, "per_position": per_position, **shared(importer, node)}
    importer.emit(node, "linear", config, [source])


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
        if reads_all_axes(importer, node):
            sources = [all_axes_source(importer, node, 0), all_axes_source(importer, node, 1)]
            emit_all_axes(importer, node, "matmul", {}, sources)
        else:
            importer.emit(node, "matmul", {}, [importer.source_of(node, 0), importer.source_of(node, 1)])
    else:
        _linear(importer, node, importer.weight(node, 1, "second operand"), None)


def add(importer: Importer, node: OnnxNode) -> None:
    """A residual's sum of two activations; a linear layer's bias (MatMul + Add, as PyTorch exports nn.Linear
    without Gemm); a learned tensor of each sample's shape, a ``position_embedding`` (ViT's)."""
    bias = importer.constant(node, 1) or importer.constant(node, 0)
    position = 0 if importer.constant(node, 1) is not None else 1
    if bias is not None and importer.pending.get(node.inputs[position], ("",))[0] == "affine":
        importer.pending.pop(node.inputs[position])  # the shift of a norm whose affine parameters it counts
        importer.alias(node, position)
        return
    if bias is None:
        same = not reads_all_axes(importer, node) and importer.shape_of(node, 0) == importer.shape_of(node, 1)
        if same:  # a residual's sum
            importer.emit(node, "add", {}, [importer.source_of(node, 0), importer.source_of(node, 1)])
        else:  # sizes of 1 broadcast
            arithmetic(importer, node)
        return
    # MatMul + Add(bias): one linear layer with a bias, as PyTorch's nn.Linear exports without Gemm
    last = importer.nodes[-1] if importer.nodes else None
    source = importer.source_of(node, position)
    if last is not None and last.kind.type == "linear" and source == last.name and importer.read_once(source):
        units = last.config["units"]
        if not last.config["bias"] and bias.dims[-1:] == (units,) and math.prod(bias.dims) == units:
            importer.nodes[-1] = last._replace(config={**last.config, "bias": True})
            importer.alias(node, position)
            return
    held = file_shape(importer, node, position)
    if bias.name in importer.parameters and bias.dims[:1] == (1,) and bias.dims[1:] == held[1:]:  # one sample's
        importer.emit(node, "position_embedding", {}, [source])
        return
    arithmetic(importer, node)


OPERATIONS = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow"}
"""The element-wise ONNX ops an ``arithmetic`` layer is, by op type."""


def arithmetic(importer: Importer, node: OnnxNode) -> None:
    """An element-wise Add, Sub, Mul, Div or Pow of two activations (sizes of 1 broadcast, aligned from the last
    axis), or of an activation and a constant (EfficientViT's + 1e-5, attention's scale, YOLO's strides): an
    ``arithmetic`` layer, one FLOP per output element; the constant's shape is kept, not its values, and the
    parameters of the tables it was gathered from count as the layer's (``learned``)."""
    op = OPERATIONS[node.op_type]
    constants = [importer.constant(node, position) for position in (0, 1)]
    if constants[0] is None and constants[1] is None:
        if reads_all_axes(importer, node):
            sources = [all_axes_source(importer, node, 0), all_axes_source(importer, node, 1)]
            emit_all_axes(importer, node, "arithmetic", {"op": op}, sources)
        else:
            importer.emit(node, "arithmetic", {"op": op}, [importer.source_of(node, 0), importer.source_of(node, 1)])
        return
    position = 0 if constants[1] is not None else 1
    dims = tuple(constants[1 - position].dims) or (1,)  # type: ignore[union-attr]
    if math.prod(dims) > 1:  # a constant of the file's layout reads the tensor in it
        in_file_layout(importer, node)
    held = file_shape(importer, node, position)
    over_batch = len(dims) > len(held) or (len(dims) == len(held) and dims[0] not in (1, held[0]))
    whole = node.inputs[position] in importer.all_axes or over_batch  # [1, 5] + [5, 1] is [5, 5]: held whole
    if len(dims) == len(held) and not whole:  # its first size stands beside the batch (held: 2 axes or more)
        dims = dims[1:]
    config = {"op": op, "constant": dims, "learned": importer.learned.take_gathered(node.inputs[1 - position])}
    if whole:
        emit_all_axes(importer, node, "arithmetic", config, [all_axes_source(importer, node, position)])
    else:
        importer.emit(node, "arithmetic", config, [importer.source_of(node, position)])


FOLDED = re.compile(r"val_\d+")
"""The name torch.export's exporter gives a constant it computed (``val_7``), a norm's ones and zeros without affine
parameters among them; it names parameters and buffers by their module path (``layer1.0.bn1.weight``)."""
STATISTICS = (".running_mean", ".running_var")
"""A batch norm's buffers, as torch names them."""


def learned(importer: Importer, tensor: str) -> bool:
    """Whether a norm's own scale or shift (an input of its node, as PyTorch's parameter is) is a parameter: an
    initializer or a copy of one (torch's exporter writes a parameter whose values equal another's, untrained ones and
    zeros, as an Identity of it), but not a constant the exporter computed (:data:`FOLDED`: a parameter as the node
    reads it needs no computing), nor a running statistic in its place (torch.export writes equal tensors once: an
    untrained BatchNorm2d(affine=False) reads its running variance, ones, as its scale)."""
    return tensor in importer.parameters and not FOLDED.fullmatch(tensor) and not tensor.endswith(STATISTICS)


def batchnorm(importer: Importer, node: OnnxNode) -> None:
    """Batch norm; without a learned scale and shift (affine=False) where torch exports them as Constant nodes or
    constants it computed, not as parameters (:func:`learned`). Each of its four tensors holds one value per
    channel."""
    channels = importer.shape_of(node)[0]
    for position, role in enumerate(("scale", "bias", "mean", "variance"), start=1):
        importer.per_channel(node, position, channels, role, "channels")
    config = {
        "affine": learned(importer, node.inputs[1]),
        "eps": node.attributes.get("epsilon", 1e-5),
        "momentum": shortest_float32(1 - float(node.attributes.get("momentum", 0.9))),  # ONNX's is the old share
    }
    importer.emit(node, "batchnorm", config)


def activation(importer: Importer, node: OnnxNode) -> None:
    per_element(importer, node, ELEMENTWISE[node.op_type])


def per_element(importer: Importer, node: OnnxNode, kind: str) -> None:
    """A function of each value of a tensor: its output held as its input is (with every axis, where that is)."""
    if reads_all_axes(importer, node):
        emit_all_axes(importer, node, kind, {}, [importer.source_of(node)])
    else:
        importer.emit(node, kind, {})


def clip(importer: Importer, node: OnnxNode) -> None:
    def bound(position: int, attribute: str) -> float | None:
        tensor = importer.constant(node, position)
        if tensor is not None and tensor.values:
            return float(tensor.values[0])
        value = node.attributes.get(attribute)
        return None if value is None else float(value)

    low, high = bound(1, "min"), bound(2, "max")
    if low == 0 and high == 6:
        per_element(importer, node, "relu6")
    elif low == 0 and high is None:
        per_element(importer, node, "relu")
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
        learned = weight.values is None or weight.name in importer.parameters
        if len(shape) > 1 and learned and weight.dims in per_channel:
            if not norm_affine(importer, node, position):
                importer.emit(node, "scale", {}, [importer.source_of(node, position)])
        else:
            arithmetic(importer, node)
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


def norm_affine(importer: Importer, node: OnnxNode, position: int) -> bool:
    """A norm without its own scale and shift, times a weight per channel, plus a bias per channel (GroupNorm as the
    TorchScript exporter writes it: InstanceNormalization between Reshapes, then Mul and Add): the norm's affine
    parameters, no layer of their own. True when ``node`` is that Mul (the Add it leads to is held in ``pending``)."""
    last = importer.nodes[-1] if importer.nodes else None
    source = importer.source_of(node, position)
    if last is None or last.name != source or last.kind.type != "groupnorm" or last.config["affine"]:
        return False
    readers = importer.reading.get(node.outputs[0], [])
    if len(readers) != 1 or readers[0].op_type != "Add" or len(readers[0].inputs) != 2:
        return False
    other = readers[0].inputs[1 - readers[0].inputs.index(node.outputs[0])]
    if learned_size(importer, other) != importer.shapes[source][0]:
        return False
    importer.nodes[-1] = last._replace(config={**last.config, "affine": True})
    importer.alias(node, position)
    importer.pending[node.outputs[0]] = ("affine", None)
    return True


def learned_size(importer: Importer, tensor: str) -> int:
    """How many values the parameter a tensor is is, through ops on it and constants alone (the Unsqueeze of a bias,
    which the file may hold after the node that meets it), however many (the nodes are in an order they can run in:
    no cycle); 0 for any other tensor."""
    while tensor not in importer.model.initializers:
        maker = importer.maker.get(tensor)
        if maker is None or not maker.inputs or tensor in importer.producer:
            return 0
        if not all(each in importer.constants or each not in importer.producer for each in maker.inputs):
            return 0  # an input an activation: a node made it (the bias and the axes: constants, or made later)
        tensor = maker.inputs[0]
    return math.prod(importer.model.initializers[tensor].dims)


def instance_norm(importer: Importer, node: OnnxNode) -> None:
    """Normalisation of each channel over its positions: a ``groupnorm`` of one channel a group; after a Reshape to
    [N, G, -1] (GroupNorm as the TorchScript exporter writes it), of G groups of the tensor before the Reshape,
    which then is no layer. Its scale and shift are then ones and zeros, one per group (constants, or initializers
    the default exporter names ``val_8``), where the Mul and Add after it hold the learned ones (see
    :func:`norm_affine`)."""
    source = importer.source_of(node)
    last = importer.nodes[-1] if importer.nodes else None
    grouped = last is not None and last.name == source and last.kind.type == "reshape" and importer.read_once(source)
    grouped = grouped and last is not None and len(last.config["shape"]) == 2
    if grouped and last is not None:
        groups, source = last.config["shape"][0], last.inputs[0]
        importer.nodes.pop()
        importer.taken.discard(last.name)
    else:
        groups = importer.shape_of(node)[0]
    # grouped, its scale and shift are one per group, GroupNorm's are one per channel: never the norm's own
    affine = not grouped and len(node.inputs) > 1 and learned(importer, node.inputs[1])
    config = {"groups": groups, "affine": affine, "eps": node.attributes.get("epsilon", 1e-5)}
    importer.produce(node.outputs[0], importer.step(node, "groupnorm", config, [source], ""))


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


def reduce(importer: Importer, node: OnnxNode) -> None:
    """ReduceMean, ReduceSum, ReduceMax, ReduceMin over axes after the batch: a ``reduce`` layer; a mean over every
    spatial axis of a map is a global average pool (and a flatten without keepdims)."""
    given = importer.constant(node, 1)
    axes = node.attributes.get("axes") or (given.values if given is not None else None)
    held = file_shape(importer, node)
    keep = bool(node.attributes.get("keepdims", 1))
    if not axes or reads_all_axes(importer, node):
        opaque(importer, node)  # every axis (no axes given), or of a tensor held whole
        return
    chosen = sorted({whole(a) % len(held) for a in axes})
    if node.op_type == "ReduceMean" and len(held) >= 3 and chosen == list(range(2, len(held))):
        pooled = importer.emit(node, "global_avgpool", {})
        if not keep:
            importer.emit(node, "flatten", {}, [pooled])
    elif 0 in chosen:
        opaque(importer, node)
    else:
        op = node.op_type.removeprefix("Reduce").lower()
        importer.emit(node, "reduce", {"op": op, "axes": tuple(a - 1 for a in chosen), "keep": keep})


def flatten(importer: Importer, node: OnnxNode) -> None:
    if importer.integer(node, "axis", 1) != 1:
        opaque(importer, node)
    elif len(importer.shape_of(node)) == 1:
        importer.alias(node)
    else:
        importer.emit(node, "flatten", {})


def lrn(importer: Importer, node: OnnxNode) -> None:
    config = {
        "size": node.attributes.get("size"),
        "alpha": node.attributes.get("alpha", 1e-4),
        "beta": node.attributes.get("beta", 0.75),
        "k": node.attributes.get("bias", 1.0),
    }
    importer.emit(node, "lrn", config)


def resize(importer: Importer, node: OnnxNode) -> None:
    """An ``upsample`` of a map's 1 to 3 spatial axes, nearest or linear (in as many axes), by whole scales or to
    sizes that keep its batch and channels; any other Resize (of the channels, by a fraction) is opaque."""
    mode = str(node.attributes.get("mode", "nearest"))
    scales = importer.constant(node, 2 if node.op_type == "Resize" else 1)
    sizes = importer.constant(node, 3) if node.op_type == "Resize" else None
    count = len(importer.shape_of(node)) - 1
    linear = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(count, "linear")
    config: dict[str, Any] = {"scale": None, "size": None, "mode": linear if mode == "linear" else mode}
    config["align_corners"] = node.attributes.get("coordinate_transformation_mode") == "align_corners"
    if sizes is not None and sizes.values:
        target = tuple(whole(n) for n in sizes.values)
        config["size"] = target[2:] if target[:2] == file_shape(importer, node)[:2] else None
    elif scales is not None and scales.values and all(float(v).is_integer() for v in scales.values):
        factors = tuple(int(v) for v in scales.values)
        config["scale"] = factors[2:] if factors[:2] == (1, 1) else None
    given = config["scale"] is not None or config["size"] is not None
    if not 1 <= count <= 3 or config["mode"] not in ("nearest", linear) or not given:
        opaque(importer, node)
        return
    importer.emit(node, "upsample", config)


def layer_norm(importer: Importer, node: OnnxNode) -> None:
    """Over the last axis: over the channels at each position (ConvNeXt's on a channels-last map, a transformer's on
    tokens [N, T, D], read as D x T); over every axis after the batch (axis 1) of a feature map, ``all``."""
    held = file_shape(importer, node)
    axis = importer.integer(node, "axis", -1) % len(held)
    if axis == len(held) - 1 and len(held) > 2:
        source = channels_last_source(importer, node)
        mark_channels_last(importer, node)
        over, normalised = "channels", held[-1]
    elif axis == 1 and not importer.reads_channels_last(node) and not reads_all_axes(importer, node):
        source, over, normalised = importer.source_of(node), "all" if len(held) > 2 else "channels", math.prod(held)
    else:
        opaque(importer, node)
        return
    affine = importer.per_channel(node, 1, normalised, "scale", "values normalised") and learned(
        importer, node.inputs[1]
    )
    bias = importer.per_channel(node, 2, normalised, "bias", "values normalised") and learned(importer, node.inputs[2])
    config = {"over": over, "affine": affine, "bias": bias, "eps": node.attributes.get("epsilon", 1e-5)}
    importer.emit(node, "layernorm", config, [source])


def group_norm(importer: Importer, node: OnnxNode) -> None:
    config = {"groups": node.attributes.get("num_groups"), "affine": True}
    importer.emit(node, "groupnorm", {**config, "eps": node.attributes.get("epsilon", 1e-5)})


Handler = Callable[[Importer, OnnxNode], None]
HANDLERS: dict[str, Handler] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "Gemm": gemm,
    "MatMul": matmul,
    "Add": add,
    **dict.fromkeys(("Sub", "Div", "Pow"), arithmetic),
    "BatchNormalization": batchnorm,
    **dict.fromkeys(ELEMENTWISE, activation),
    "Clip": clip,
    "Mul": mul,
    "MaxPool": pool,
    "AveragePool": pool,
    "GlobalAveragePool": global_pool,
    "GlobalMaxPool": global_pool,
    **dict.fromkeys(("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"), reduce),
    "Flatten": flatten,
    "Reshape": reshape,
    "Transpose": transpose,
    "Concat": concat,
    "Einsum": einsum,
    "Expand": expand,
    "Dropout": identity,
    "Identity": identity,
    "Softmax": softmax,
    "LRN": lrn,
    "Resize": resize,
    "Upsample": resize,
    "Constant": constant,
    "Shape": shape,
    "Gather": gather_index,
    "Unsqueeze": squeeze,
    "Squeeze": squeeze,
    "Cast": cast,
    "Split": split,
    "Slice": slice_,
    "Pad": pad,
    "LayerNormalization": layer_norm,
    "GroupNormalization": group_norm,
    "InstanceNormalization": instance_norm,
}
"""Each ONNX op type convcalc reads, with its handler; any other op is ``opaque``."""
CHANNELS_LAST_OPS = frozenset(
    {"Gemm", "MatMul", "Add", *ELEMENTWISE, "Clip", "Mul", "Transpose", "Dropout", "Identity", "LayerNormalization"}
)
"""Op types whose handlers also read a channels-last tensor (see :mod:`convcalc.importers.onnx.patterns`)."""
