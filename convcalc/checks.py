"""Warnings about a finished analysis: things worth a second look, never fatal.

Per-layer findings come from the layer catalogue (a window that does not tile its input, asymmetric
'same' padding); the network-level ones are here: a 1x1 "bottleneck" that widens, and layers that
leave the shape unchanged but take a large share of the cost.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.layers import format_shape
from convcalc.results import AnalysisWarning, LayerResult

COSTLY_SHARE = 20
"""Percent of the network's MACs (or FLOPs, for layers without MACs) that counts as costly."""


def network_warnings(
    layers: Sequence[LayerResult], total_macs: int, total_flops: int, output: str | None = None
) -> tuple[AnalysisWarning, ...]:
    """The catalogue's per-layer warnings, then the network-level ones, in layer order; with the network's
    ``output`` named, the layers whose output is never read."""
    found = [AnalysisWarning(layer.name, layer.location, message) for layer in layers for message in layer.warnings]
    if output is not None:
        found += unread_outputs(layers, output)
    by_name = {layer.name: layer for layer in layers}
    for layer in layers:
        feeder = widening_bottleneck(layer, by_name)
        if feeder is not None:
            found.append(
                AnalysisWarning(
                    feeder.name,
                    feeder.location,
                    (
                        f"1x1 conv before '{layer.name}' has {feeder.output_shape[0]} filters for "
                        f"{feeder.input_shapes[0][0]} input channels: it widens instead of reducing "
                        "(a bottleneck has fewer filters than input channels)"
                    ),
                )
            )
        costly = costly_share(layer, total_macs, total_flops)
        if costly:
            found.append(AnalysisWarning(layer.name, layer.location, costly))
    return tuple(found)


def widening_bottleneck(layer: LayerResult, by_name: dict[str, LayerResult]) -> LayerResult | None:
    """The 1x1 conv feeding a larger conv (through activations/BN) when it has more filters than inputs."""
    if layer.type != "conv" or tuple(layer.config["kernel"]) == (1, 1):
        return None
    feeder = by_name.get(layer.inputs[0])
    while feeder is not None and feeder.kind.passes_through:
        feeder = by_name.get(feeder.inputs[0])
    if feeder is None or feeder.type != "conv" or tuple(feeder.config["kernel"]) != (1, 1):
        return None
    return feeder if feeder.output_shape[0] > feeder.input_shapes[0][0] else None


def costly_share(layer: LayerResult, total_macs: int, total_flops: int) -> str | None:
    """A message when a layer keeps its input's shape yet takes >= COSTLY_SHARE percent of the cost."""
    if len(layer.input_shapes) != 1 or layer.output_shape != layer.input_shapes[0]:
        return None
    cost, total, unit = (layer.macs, total_macs, "MACs") if layer.macs else (layer.flops, total_flops, "FLOPs")
    if not total or cost * 100 < COSTLY_SHARE * total or cost == total:  # a lone costly layer says nothing
        return None
    shape = format_shape(layer.output_shape)
    return f"output shape unchanged ({shape}) but this layer takes {100 * cost / total:.1f}% of all {unit}"


def unread_outputs(layers: Sequence[LayerResult], output: str) -> list[AnalysisWarning]:
    """A warning for each layer that no layer reads and that is not the network's output (a dangling branch's
    end, or a wiring mistake): its cost is counted, its result is thrown away."""
    read = {name for layer in layers for name in layer.inputs}
    return [
        AnalysisWarning(
            layer.name,
            layer.location,
            f"the output of this layer is never read: no layer takes it as input and the network's output is "
            f"'{output}' (its cost and the layers feeding only it are counted all the same)",
        )
        for layer in layers
        if layer.name not in read and layer.name != output
    ]
