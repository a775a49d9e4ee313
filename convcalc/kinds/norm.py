"""Normalisation layers: batch, layer, group and local response norm."""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcalc.core.keys import Key, boolean, choice, number, positive_int
from convcalc.core.tensor import Config, Shape, elements
from convcalc.kinds.base import KEEPS_INPUT, Evaluation, LayerKind, Made, Reach, Saved
from convcalc.kinds.torchcode import call
from convcalc.kinds.windows import GROUPS, feature_map, groups_divide


class BatchNorm(LayerKind):
    type = "batchnorm"
    deploys_as = "folded"
    locality = "pixel"
    summary = "Batch normalisation over channels (PyTorch nn.BatchNorm1d, 2d, 3d), inference."
    passes_through = True
    keys = (Key("affine", boolean, True), Key("eps", number, 1e-5), Key("momentum", number, 0.1))
    flops_rule = "2 per element (scale and shift)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = 2 * C (gamma, beta) if affine; buffers = 2 * C (running mean and variance)."""
        channels = inputs[0][0]
        params = 2 * channels if config["affine"] else 0
        return Evaluation(inputs[0], params, buffers=2 * channels, flops=2 * elements(inputs[0]))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input and the batch mean and inverse standard deviation per channel (float32); the running
        statistics it also keeps are buffers, model state."""
        channels = inputs[0][0]
        return (KEEPS_INPUT, Made(channels, "float32"), Made(channels, "float32"))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(
            f"nn.BatchNorm{max(len(inputs[0]) - 1, 1)}d",  # a flat vector (N) and a 1-D map (C x L) are 1d
            inputs[0][0],
            eps=(config["eps"], 1e-5),
            momentum=(config["momentum"], 0.1),
            affine=(config["affine"], True),
        )


class LocalResponseNorm(LayerKind):
    type = "lrn"
    locality = "pixel"
    summary = "Local response normalisation across channels (AlexNet; PyTorch nn.LocalResponseNorm)."
    keys = (
        Key("size", positive_int, 5, symbol="size"),
        Key("alpha", number, 1e-4),
        Key("beta", number, 0.75),
        Key("k", number, 1),
    )
    flops_rule = "(2 * size + 3) per element: square and sum the window, scale, add k, power, divide"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; no parameters."""
        feature_map(inputs[0], self.type)
        return Evaluation(inputs[0], flops=(2 * config["size"] + 3) * elements(inputs[0]))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """F.local_response_norm's steps: x * x keeps x; the channel-padded squares (C + size - 1 channels) for
        the window average; scale + k before the power; the power's result for the divide."""
        channels, size = feature_map(inputs[0], self.type)
        padded = (channels + config["size"] - 1) * math.prod(size) * batch
        return (
            KEEPS_INPUT,
            Made(padded),
            Made(elements(output) * batch),
            Made(elements(output) * batch),
        )

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(
            "nn.LocalResponseNorm",
            config["size"],
            alpha=(config["alpha"], 1e-4),
            beta=(config["beta"], 0.75),
            k=(config["k"], 1.0),
        )


NORM_FLOPS = "5 per element (mean, variance, normalise, scale, shift; 4 without affine), as fvcore counts norms"


def norm_flops(affine: bool, shape: Shape) -> int:
    """Normalisation with per-sample statistics: mean, variance and normalise per element, then scale and shift."""
    return (5 if affine else 4) * elements(shape)


class LayerNorm(LayerKind):
    type = "layernorm"
    summary = (
        "Layer normalisation over the channels at each position (ConvNeXt's channels-first LayerNorm), or with "
        "over: all over the whole C x H x W (PyTorch nn.LayerNorm([C, H, W]))."
    )
    passes_through = True
    keys = (
        Key("over", choice("channels", "all"), "channels"),
        Key("affine", boolean, True),
        Key("bias", boolean, True),
        Key("eps", number, 1e-5),
    )
    flops_rule = NORM_FLOPS

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = 2 * C (gamma, beta) over channels, 2 * C * H * W over all; gamma alone with bias: false
        (nn.LayerNorm(bias=False)); 0 without affine."""
        normalised = inputs[0] if config["over"] == "all" else inputs[0][:1]
        learned = (1 + config["bias"]) if config["affine"] else 0
        params = learned * elements(normalised)
        return Evaluation(inputs[0], params, flops=norm_flops(config["affine"], inputs[0]))

    def reach(self, config: Config) -> Reach:
        """Over the channels, each pixel's own; over all, the whole input."""
        return "pixel" if config["over"] == "channels" else "all"

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input (over channels of a feature map: the contiguous channels-last copy LayerNorm2d makes), and a
        float32 mean and inverse standard deviation per normalised group (per position, or per sample)."""
        per_position = config["over"] == "channels" and len(inputs[0]) > 1
        groups = elements(inputs[0][1:]) * batch if per_position else batch
        kept = Made(elements(inputs[0]) * batch) if per_position else KEEPS_INPUT
        return (kept, Made(groups, "float32"), Made(groups, "float32"))

    torch_helper = '''class LayerNorm2d(nn.Module):
    """LayerNorm over the channels at each position of an N x C x H x W tensor (ConvNeXt's channels-first; any
    number of spatial axes)."""

    def __init__(self, channels: int, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps, elementwise_affine=elementwise_affine, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = x.dim() - 1  # permute (as torchvision's LayerNorm2d), which every counting tool reads as a view
        return self.norm(x.permute(0, *range(2, x.dim()), 1)).permute(0, last, *range(1, last))
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.LayerNorm over the normalised shape; over channels of a feature map, LayerNorm2d (channels last)."""
        per_position = config["over"] == "channels" and len(inputs[0]) > 1
        normalised: object = inputs[0][0] if config["over"] == "channels" else list(inputs[0])
        return call(
            "LayerNorm2d" if per_position else "nn.LayerNorm",
            normalised,
            eps=(config["eps"], 1e-5),
            elementwise_affine=(config["affine"], True),
            bias=(config["bias"], True),
        )


class GroupNorm(LayerKind):
    type = "groupnorm"
    summary = "Group normalisation: channels in groups, each normalised over its channels and positions (nn.GroupNorm)."
    passes_through = True
    keys = (GROUPS, Key("affine", boolean, True), Key("eps", number, 1e-5))
    flops_rule = NORM_FLOPS

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = 2 * C (gamma, beta per channel) if affine; groups must divide C."""
        channels = inputs[0][0]
        groups_divide(config["groups"], channels)
        params = 2 * channels if config["affine"] else 0
        return Evaluation(inputs[0], params, flops=norm_flops(config["affine"], inputs[0]))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, and a float32 mean and inverse standard deviation per sample and group."""
        groups = config["groups"] * batch
        return (KEEPS_INPUT, Made(groups, "float32"), Made(groups, "float32"))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(
            "nn.GroupNorm", config["groups"], inputs[0][0], eps=(config["eps"], 1e-5), affine=(config["affine"], True)
        )
