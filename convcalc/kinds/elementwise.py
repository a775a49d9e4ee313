"""Element-wise layers on one input: activations, softmax, a learned scale, dropout, the identity and stochastic
depth."""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.keys import Key, boolean, choice, rate
from convcalc.core.tensor import Config, Shape, elements
from convcalc.kinds.base import KEEPS_INPUT, KEEPS_OUTPUT, Evaluation, LayerKind, Made, Reach, Saved
from convcalc.kinds.torchcode import call
from convcalc.kinds.windows import AXIS, feature_map, resolve_axis

INPLACE = Key("inplace", boolean, False)
"""An activation that overwrites its input (PyTorch's inplace=True; torchvision's networks use it)."""


class Activation(LayerKind):
    """An element-wise activation; the shape is unchanged."""

    deploys_as = "fused"
    locality = "pixel"

    passes_through = True

    def __init__(
        self, type: str, formula: str, flops_per_element: int, module: str, keeps: str, in_place_keeps: str | None
    ) -> None:
        """``keeps``: what autograd saves, 'output' or 'input'; ``in_place_keeps``: in place, 'output' or 'copy'
        (None: the module takes no inplace=)."""
        self.type = type
        self.summary = f"{type}(x) = {formula}, element-wise."
        self.per_element = flops_per_element
        self.flops_rule = f"{flops_per_element} per element"
        self.module = module
        self.keeps = keeps
        self.in_place_keeps = in_place_keeps
        self.keys = (INPLACE,) if in_place_keeps else ()

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; FLOPs = (operations in the formula) * elements, exp/tanh/erf counting 1."""
        return Evaluation(inputs[0], flops=self.per_element * elements(inputs[0]))

    def in_place(self, config: Config) -> bool:
        return bool(config.get("inplace"))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its output (relu, sigmoid, tanh) or its input (the others); in place, its output (the overwritten
        storage) or a copy of its input made before it is overwritten."""
        keeps = self.keeps
        if self.in_place(config) and self.in_place_keeps:
            keeps = self.in_place_keeps
        if keeps == "copy":
            return (Made(elements(inputs[0]) * batch),)
        return (KEEPS_OUTPUT if keeps == "output" else KEEPS_INPUT,)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(self.module, inplace=(self.in_place(config), False))


ACTIVATIONS = (
    ("relu", "max(0, x)", 1, "nn.ReLU", "output", "output"),
    ("relu6", "min(max(0, x), 6)", 2, "nn.ReLU6", "input", "copy"),
    ("leaky_relu", "max(x, a * x)", 2, "nn.LeakyReLU", "input", "output"),
    ("sigmoid", "1 / (1 + exp(-x))", 3, "nn.Sigmoid", "output", None),
    ("tanh", "tanh(x)", 1, "nn.Tanh", "output", None),
    ("silu", "x * sigmoid(x)", 4, "nn.SiLU", "input", "copy"),
    ("gelu", "x / 2 * (1 + erf(x / sqrt(2)))", 5, "nn.GELU", "input", None),
    ("hardsigmoid", "relu6(x + 3) / 6", 4, "nn.Hardsigmoid", "input", "copy"),
    ("hardswish", "x * relu6(x + 3) / 6", 5, "nn.Hardswish", "input", "copy"),
)
"""Each activation: its name, formula, FLOPs per element, torch module, what autograd keeps for it ('input' or
'output'), and in place (None: the module cannot run in place) what it keeps instead: its 'output' (the
overwritten storage) or a 'copy' of its input made before it is overwritten (measured: tools/record_autograd.py)."""


class Dropout(LayerKind):
    type = "dropout"
    deploys_as = "free"
    locality = "pixel"
    summary = "Dropout: the identity at inference."
    passes_through = True
    keys = (Key("rate", rate, 0.5),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; no cost at inference."""
        return Evaluation(inputs[0])

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its mask, of the input's size and dtype (on CPU a scaled float noise tensor; rate 0: nothing)."""
        return (Made(elements(inputs[0]) * batch),) if config["rate"] else ()

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("nn.Dropout", p=(config["rate"], 0.5))


class Identity(LayerKind):
    type = "identity"
    deploys_as = "free"
    locality = "pixel"
    summary = "The identity (PyTorch nn.Identity, what timm passes for an activation or norm left out): no cost."
    passes_through = True
    view = True

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in, the same tensor; no params, MACs or FLOPs."""
        return Evaluation(inputs[0])

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("nn.Identity")


class StochasticDepth(LayerKind):
    type = "stochastic_depth"
    deploys_as = "free"
    locality = "pixel"
    summary = "Stochastic depth (drop path): drops a residual branch in training, the identity at inference."
    passes_through = True
    keys = (Key("rate", rate, 0.0), Key("mode", choice("row", "batch"), "row"))

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; no cost at inference."""
        return Evaluation(inputs[0])

    torch_helper = '''class StochasticDepth(nn.Module):
    """Drop path, as torchvision.ops.StochasticDepth: in training, zero each sample's input ("row") or the whole
    batch's ("batch") with probability p and scale what is kept by 1 / (1 - p); the identity at inference."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        kept = 1 - self.p
        mask = x.new_empty((x.shape[0] if self.mode == "row" else 1,) + (1,) * (x.dim() - 1)).bernoulli_(kept)
        return x * (mask / kept if kept > 0 else mask)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("StochasticDepth", config["rate"], mode=(config["mode"], "row"))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """input * noise keeps the noise: one value per sample (row) or one (batch); rate 0: nothing."""
        if not config["rate"]:
            return ()
        return (Made(batch if config["mode"] == "row" else 1),)


class Softmax(LayerKind):
    type = "softmax"
    locality = "pixel"
    summary = "Softmax over the channels at each position: exp(x_i) / sum_j exp(x_j) (over another axis with axis)."
    flops_rule = "3 * C - 1 per position: C exponentials, C - 1 adds, C divides"
    keys = (AXIS,)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; (3 * S - 1) per slice along the axis, S its size (C: the channels)."""
        axis = resolve_axis(config["axis"], inputs[0], self.type)
        shape = inputs[0]
        return Evaluation(shape, flops=(3 * shape[axis] - 1) * elements(shape[:axis] + shape[axis + 1 :]))

    def reach(self, config: Config) -> Reach:
        """Over the channels, each pixel's own; over a spatial axis, all of it."""
        return "pixel" if config["axis"] == 0 else "all"

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its output."""
        return (KEEPS_OUTPUT,)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return f"nn.Softmax(dim={resolve_axis(config['axis'], inputs[0], self.type) + 1})"


class Scale(LayerKind):
    type = "scale"
    locality = "pixel"
    summary = "A learned multiplier per channel (layer scale, as in ConvNeXt): x * gamma, gamma of shape C x 1 x 1."
    passes_through = True
    flops_rule = "1 per element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = C (one gamma per channel); FLOPs = one multiply per element."""
        channels, _ = feature_map(inputs[0], self.type)
        return Evaluation(inputs[0], params=channels, flops=elements(inputs[0]))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """x * gamma keeps x, for gamma's gradient."""
        return (KEEPS_INPUT,)

    torch_helper = '''class Scale(nn.Module):
    """A learned multiplier per channel (layer scale): x * gamma, gamma of shape (C, 1, 1) (one 1 per spatial axis)."""

    def __init__(self, channels: int, axes: int = 2) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels, *(1,) * axes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Scale", inputs[0][0], axes=(len(inputs[0]) - 1, 2))
