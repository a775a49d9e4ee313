"""Warnings about a finished analysis: things worth a second look, never fatal.

Per-layer findings come from the layer catalogue (a window that does not tile its input, asymmetric
'same' padding); the network-level ones are here: a 1x1 "bottleneck" that widens, and layers that
leave the shape unchanged but take a large share of the cost. Every warning has a code (a key of
:data:`~convcalc.layers.WARNINGS`); a layer's ``expect`` in the spec acknowledges the codes it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from convcalc.core.tensor import Shape, format_shape
from convcalc.engine.graph import NETWORK_INPUT
from convcalc.engine.results import AnalysisWarning, LayerResult
from convcalc.kinds.windows import all_ones

COSTLY_SHARE = 20
"""Percent of the network's MACs (or FLOPs, for layers without MACs) that counts as costly."""
BOTTLENECK_NAME = re.compile(r"reduc|bottleneck|squeeze|(?<![a-z])red(?![a-z])", re.IGNORECASE)
"""The last word of a layer's own name that says it is meant to reduce channels: `conv5x5_reduce` (what
`compare --bottleneck` inserts), `3x3red`, `bottleneck`, `squeeze1x1` (an imported `bottleneck1_expand_conv` is
an expansion: its last word is `conv`)."""


def network_warnings(
    layers: Sequence[LayerResult],
    total_macs: int,
    total_flops: int,
    expected: Mapping[str, frozenset[str]] | None = None,
    outputs: Sequence[str] = (),
    input_shape: Shape | None = None,
) -> tuple[AnalysisWarning, ...]:
    """The catalogue's per-layer warnings, then the network-level ones, in layer order; ``expected`` maps a layer
    to the codes its spec entry acknowledges, which are left out; with the network's ``outputs`` named, the layers
    whose output is never read; with its ``input_shape``, first, whether that looks channels-last."""
    found = [
        AnalysisWarning(layer.name, layer.location, finding.message, finding.code)
        for layer in layers
        for finding in layer.warnings
    ]
    found += uncounted(layers)
    if input_shape is not None:  # first: every number after it depends on it
        found[:0] = channels_last(input_shape, layers)
    if outputs:
        found += unread_outputs(layers, outputs)
    by_name = {layer.name: layer for layer in layers}
    for layer in layers:
        feeder = widening_bottleneck(layer, by_name)
        if feeder is not None:
            found.append(
                AnalysisWarning(
                    feeder.name,
                    feeder.location,
                    (
                        f"1x1 conv '{own_name(feeder.name)}' before '{layer.name}' is named as a bottleneck but has "
                        f"{feeder.output_shape[0]} filters for {feeder.input_shapes[0][0]} input channels: it widens "
                        "instead of reducing (a bottleneck has fewer filters than input channels)"
                    ),
                    "widens",
                )
            )
        costly = costly_share(layer, total_macs, total_flops) if reads_one_pixel(layer, by_name) else None
        if costly:
            found.append(AnalysisWarning(layer.name, layer.location, costly, "costly"))
    if expected:
        found = [warning for warning in found if warning.code not in expected.get(warning.layer, ())]
    return tuple(found)


def own_name(name: str) -> str:
    """A layer's own part of its full name, a repeat's copy number skipped: `a.b.conv_reduce.0` -> `conv_reduce`."""
    parts = name.split(".")
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    return parts[-1]


def widening_bottleneck(layer: LayerResult, by_name: dict[str, LayerResult]) -> LayerResult | None:
    """The 1x1 conv feeding a larger conv (through activations/BN), named as a bottleneck, with more filters than
    inputs. A 1x1 that widens on purpose (an inverted residual's expansion, DenseNet, ResNeXt, Inception) is not
    named so and says nothing."""
    if layer.type != "conv" or all_ones(layer.config["kernel"]):
        return None
    feeder = by_name.get(layer.inputs[0])
    while feeder is not None and feeder.kind.passes_through:
        feeder = by_name.get(feeder.inputs[0])
    if feeder is None or feeder.type != "conv" or not all_ones(feeder.config["kernel"]):
        return None
    last_word = re.split(r"[_\-]", own_name(feeder.name))[-1]  # 'conv5x5_reduce'; not 'bottleneck1_expand_conv'
    if feeder.output_shape[0] <= feeder.input_shapes[0][0] or not BOTTLENECK_NAME.search(last_word):
        return None
    return feeder


def reads_one_pixel(layer: LayerResult, by_name: Mapping[str, LayerResult]) -> bool:
    """Each output pixel reads only the same pixel of its inputs: a per-pixel kind, or windows of one pixel (a 1x1
    conv: its receptive field is its input's). A costly layer that mixes neighbours (a 3x3 conv keeping the shape,
    as in every residual block) is doing what it is for; one that only mixes channels or elements is worth a look."""
    reach = layer.kind.reach(layer.config)
    if reach != "window":
        return reach == "pixel"
    source = by_name.get(layer.inputs[0])  # None: the network's input, a field of one pixel
    own = layer.receptive_field.size
    return own == (source.receptive_field.size if source else (1,) * len(own))


def costly_share(layer: LayerResult, total_macs: int, total_flops: int) -> str | None:
    """A message when a layer keeps its input's shape yet takes >= COSTLY_SHARE percent of the cost."""
    if len(layer.input_shapes) != 1 or layer.output_shape != layer.input_shapes[0]:
        return None
    cost, total, unit = (layer.macs, total_macs, "MACs") if layer.macs else (layer.flops, total_flops, "FLOPs")
    if not total or cost * 100 < COSTLY_SHARE * total or cost == total:  # a lone costly layer says nothing
        return None
    shape = format_shape(layer.output_shape)
    return f"output shape unchanged ({shape}) but this layer takes {100 * cost / total:.1f}% of all {unit}"


IMAGE_CHANNELS = frozenset({1, 3, 4})
"""Channel counts of images (grey, RGB, RGBA): an input whose last size is one of them, under two sizes of 16 or more,
looks written height x width x channels (a grey one only when square: C x L x 1 is a signal written channels first)."""


def channels_last(input_shape: Shape, layers: Sequence[LayerResult]) -> list[AnalysisWarning]:
    """A warning on the first layer reading the network's input when the input looks channels-last."""
    advice = channels_first_advice(input_shape)
    first = next((layer for layer in layers if NETWORK_INPUT in layer.inputs), None)
    if advice is None or first is None:
        return []
    shape = format_shape(input_shape)
    message = (
        f"the network's input {shape} reads as {input_shape[0]} channels of {format_shape(input_shape[1:])}: {advice}"
    )
    return [AnalysisWarning(first.name, first.location, message, "layout")]


def channels_first_advice(input_shape: Shape) -> str | None:
    """What to write instead of an input that looks channels-last (None when it does not)."""
    if len(input_shape) != 3 or input_shape[2] not in IMAGE_CHANNELS or min(input_shape[:2]) < 16:
        return None
    if input_shape[2] == 1 and input_shape[0] != input_shape[1]:  # C x L x 1: a channels-first 1-D signal
        return None
    height, width, channels = input_shape
    return (
        f"convcalc takes channels first, so an image of {height}x{width} with {channels} channels is "
        f"[{channels}, {height}, {width}] (--input {channels}x{height}x{width})"
    )


def uncounted(layers: Sequence[LayerResult]) -> list[AnalysisWarning]:
    """One warning for the imported operations convcalc does not count, by op type."""
    opaque = [layer for layer in layers if layer.type == "opaque"]
    if not opaque:
        return []
    ops: dict[str, int] = {}
    for layer in opaque:
        ops[layer.config["op"]] = ops.get(layer.config["op"], 0) + 1
    listed = ", ".join(f"{op} x{count}" for op, count in ops.items())
    message = f"{len(opaque)} operation(s) not counted (no params, MACs or FLOPs): {listed}"
    return [AnalysisWarning(opaque[0].name, opaque[0].location, message, "uncounted")]


def unread_outputs(layers: Sequence[LayerResult], outputs: Sequence[str]) -> list[AnalysisWarning]:
    """A warning for each layer that no layer reads and that is not an output of the network (a dangling branch's
    end, or a wiring mistake): its cost is counted, its result is thrown away."""
    read = {name for layer in layers for name in layer.inputs} | set(outputs)
    handed = f"output is '{outputs[0]}'" if len(outputs) == 1 else "outputs are " + ", ".join(f"'{o}'" for o in outputs)
    return [
        AnalysisWarning(
            layer.name,
            layer.location,
            f"the output of this layer is never read: no layer takes it as input and the network's {handed} "
            "(its cost and the layers feeding only it are counted all the same)",
            "unused",
        )
        for layer in layers
        if layer.name not in read
    ]
