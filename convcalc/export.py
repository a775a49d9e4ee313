"""PyTorch export: a spec -> the Python source of a self-contained ``torch.nn.Module`` that builds the network.

The generator walks the spec tree (blocks expanded, branches, residuals, named inputs) beside the engine's
results, which give every layer its input shapes (a conv's in_channels, a linear's in_features, the explicit
padding of ``same`` at stride > 1). Every result of the analysis, merges included, becomes one submodule,
called once in ``forward`` in the analysis's order; the module's ``CONVCALC_NAMES`` maps each submodule to the
layer's convcalc name, so that a test can hold torch's shapes against convcalc's layer by layer.

convcalc itself never imports torch: this module only writes text.
"""

from __future__ import annotations

import builtins
import json
import keyword
import math
import os
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence

from convcalc import __version__
from convcalc.api import analyze, load_spec
from convcalc.engine import Analysis, LayerResult
from convcalc.layers import Shape, format_shape, resolve_padding
from convcalc.spec import NETWORK_INPUT, Branches, Group, Layer, Node, Spec

MODULE_ATTRIBUTES = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
    dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu
    load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters
    register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
    register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to
    to_empty train training type xpu zero_grad""".split()  # noqa: SIM905 - a word list reads better
)
"""nn.Module's own attributes (torch 2.x): a layer of one of these names gets a trailing underscore."""
RESERVED = frozenset({"x", "self", "torch", "nn", "network_input", "CONVCALC_NAMES", "INPUT_SHAPE", *dir(builtins)})
"""Names a generated layer never takes: the generated code's own, and Python's builtins (``sum``, ``type``)."""

HELPERS = {
    "Concat": '''class Concat(nn.Module):
    """Concatenation on the channel axis."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=1)
''',
    "Add": '''class Add(nn.Module):
    """Element-wise sum of tensors of one shape (a residual connection's merge)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        total = inputs[0]
        for tensor in inputs[1:]:
            total = total + tensor
        return total
''',
    "Crop": '''class Crop(nn.Module):
    """Centre crop to (height, width): from row (H - height) // 2 and column (W - width) // 2."""

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        self.height, self.width = height, width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, left = (x.shape[2] - self.height) // 2, (x.shape[3] - self.width) // 2
        return x[:, :, top : top + self.height, left : left + self.width]
''',
}
"""Small modules for what torch has no module for; a generated file defines the ones it uses."""


def _docstring(text: str, indent: str, *, quotes: bool = True) -> str:
    """Text as docstring lines (opening quotes unless ``quotes`` is false), wrapped at 116 columns and escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    opening = '"""' if quotes else ""
    return textwrap.fill(escaped, 116, initial_indent=indent + opening, subsequent_indent=indent)


def _fit(line: str, indent: str, width: int = 120) -> str:
    """An indented line; a call too long for one line gets its arguments on a line of their own."""
    if len(indent) + len(line) <= width or not line.endswith(")"):
        return indent + line
    head, arguments = line.split("(", 1)
    return f"{indent}{head}(\n{indent}    {arguments[:-1]}\n{indent})"


def _value(value: object) -> str:
    """A Python literal: (3, 3) -> '3', (3, 1) -> '(3, 1)', same -> '"same"'."""
    if isinstance(value, tuple):
        return _value(value[0]) if len(set(value)) == 1 else f"({', '.join(_value(v) for v in value)})"
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _call(function: str, *positional: object, **keywords: tuple[object, object]) -> str:
    """``function(positional..., key=value...)``, leaving out keywords given as (value, torch's default) that match."""
    arguments = [_value(value) for value in positional]
    arguments += [f"{key}={_value(value)}" for key, (value, default) in keywords.items() if value != default]
    return f"{function}({', '.join(arguments)})"


def _conv(layer: LayerResult) -> str:
    """nn.Conv2d; 'same' at stride 1 is torch's own padding='same', elsewhere explicit (ZeroPad2d if asymmetric)."""
    config, (channels, height, width) = layer.config, layer.input_shapes[0]
    stride, dilation, padding = config["stride"], config["dilation"], config["padding"]
    pad_first = None
    if padding == "same" and stride != (1, 1):
        (top, bottom), (left, right) = resolve_padding("same", (height, width), config["kernel"], stride, dilation)
        if (top, left) == (bottom, right):
            padding = (top, left)
        else:
            padding, pad_first = (0, 0), _call("nn.ZeroPad2d", (left, right, top, bottom))
    conv = _call(
        "nn.Conv2d",
        channels,
        config["filters"],
        kernel_size=(config["kernel"], None),
        stride=(stride, (1, 1)),
        padding=(padding, (0, 0)),
        dilation=(dilation, (1, 1)),
        groups=(config["groups"], 1),
        bias=(config["bias"], True),
    )
    return f"nn.Sequential({pad_first}, {conv})" if pad_first else conv


def _conv_transpose(layer: LayerResult) -> str:
    config = layer.config
    return _call(
        "nn.ConvTranspose2d",
        layer.input_shapes[0][0],
        config["filters"],
        kernel_size=(config["kernel"], None),
        stride=(config["stride"], (1, 1)),
        padding=(config["padding"], (0, 0)),
        output_padding=(config["output_padding"], (0, 0)),
        groups=(config["groups"], 1),
        bias=(config["bias"], True),
        dilation=(config["dilation"], (1, 1)),
    )


def _linear(layer: LayerResult) -> str:
    """nn.Linear over the product of the input shape; a feature map is flattened first."""
    shape = layer.input_shapes[0]
    linear = _call("nn.Linear", math.prod(shape), layer.config["units"], bias=(layer.config["bias"], True))
    return f"nn.Sequential(nn.Flatten(), {linear})" if len(shape) == 3 else linear


def _batchnorm(layer: LayerResult) -> str:
    shape, config = layer.input_shapes[0], layer.config
    return _call(
        "nn.BatchNorm2d" if len(shape) == 3 else "nn.BatchNorm1d",
        shape[0],
        eps=(config["eps"], 1e-5),
        momentum=(config["momentum"], 0.1),
        affine=(config["affine"], True),
    )


def _pool(function: str) -> Callable[[LayerResult], str]:
    def write(layer: LayerResult) -> str:
        config = layer.config
        extra = {"dilation": (config["dilation"], (1, 1))} if "dilation" in config else {}
        return _call(
            function,
            config["kernel"],
            stride=(config["stride"] or config["kernel"], config["kernel"]),
            padding=(config["padding"], (0, 0)),
            **extra,
            ceil_mode=(config["ceil_mode"], False),
        )

    return write


def _upsample(layer: LayerResult) -> str:
    config = layer.config
    size = ("size", config["size"]) if config["size"] else ("scale_factor", tuple(float(s) for s in config["scale"]))
    bilinear = config["mode"] == "bilinear"
    return _call(
        "nn.Upsample",
        **{size[0]: (size[1], None)},
        mode=(config["mode"], "nearest"),
        align_corners=(config["align_corners"] if bilinear else None, None),
    )


def _fixed(text: str) -> Callable[[LayerResult], str]:
    return lambda layer: text


TORCH: dict[str, Callable[[LayerResult], str]] = {
    "conv": _conv,
    "conv_transpose": _conv_transpose,
    "linear": _linear,
    "batchnorm": _batchnorm,
    "maxpool": _pool("nn.MaxPool2d"),
    "avgpool": _pool("nn.AvgPool2d"),
    "adaptive_avgpool": lambda layer: _call("nn.AdaptiveAvgPool2d", layer.config["output"]),
    "adaptive_maxpool": lambda layer: _call("nn.AdaptiveMaxPool2d", layer.config["output"]),
    "global_avgpool": _fixed("nn.AdaptiveAvgPool2d(1)"),
    "global_maxpool": _fixed("nn.AdaptiveMaxPool2d(1)"),
    "flatten": _fixed("nn.Flatten()"),
    "dropout": lambda layer: _call("nn.Dropout", p=(layer.config["rate"], None)),
    "lrn": lambda layer: _call(
        "nn.LocalResponseNorm",
        layer.config["size"],
        alpha=(layer.config["alpha"], 1e-4),
        beta=(layer.config["beta"], 0.75),
        k=(layer.config["k"], 1.0),
    ),
    "crop": lambda layer: _call("Crop", *layer.config["size"]),
    "upsample": _upsample,
    "softmax": _fixed("nn.Softmax(dim=1)"),
    "concat": _fixed("Concat()"),
    "add": _fixed("Add()"),
    "relu": _fixed("nn.ReLU()"),
    "relu6": _fixed("nn.ReLU6()"),
    "leaky_relu": _fixed("nn.LeakyReLU()"),
    "sigmoid": _fixed("nn.Sigmoid()"),
    "tanh": _fixed("nn.Tanh()"),
    "silu": _fixed("nn.SiLU()"),
    "gelu": _fixed("nn.GELU()"),
    "hardsigmoid": _fixed("nn.Hardsigmoid()"),
    "hardswish": _fixed("nn.Hardswish()"),
}
"""Each catalogue kind's torch module, written from its analysed layer."""


def class_name(title: str) -> str:
    """'ResNet-50 (torchvision, v1.5)' -> 'ResNet50TorchvisionV15'."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(word[0].upper() + word[1:] for word in words) or "Network"
    return name if name[0].isalpha() else f"Net{name}"


class _Names:
    """Unique Python identifiers for layer names: 'layer2.0.conv1' -> 'layer2_0_conv1'."""

    def __init__(self) -> None:
        self.taken: set[str] = set(RESERVED)

    def make(self, text: str) -> str:
        base = re.sub(r"\W", "_", text, flags=re.ASCII) or "layer"
        if base[0].isdigit():
            base = f"_{base}"
        if keyword.iskeyword(base) or base in MODULE_ATTRIBUTES or base in RESERVED:
            base += "_"
        name, number = base, 1
        while name in self.taken:
            number += 1
            name = f"{base}_{number}"
        self.taken.add(name)
        return name


class _Writer:
    def __init__(self, analysis: Analysis) -> None:
        self.results = {layer.name: layer for layer in analysis.layers}
        self.names = _Names()
        self.modules: list[str] = []
        self.attributes: dict[str, str] = {}  # attribute -> convcalc name
        self.lines: list[str] = []
        self.variables: dict[str, str] = {NETWORK_INPUT: "network_input"}
        self.read: set[str] = set()
        self.working: dict[tuple[str, int], str] = {}

    def collect_reads(self, nodes: Iterable[Node]) -> None:
        """The names some layer reads by name: their outputs get a variable of their own."""
        for node in nodes:
            if isinstance(node, Layer):
                self.read.update(node.inputs)
                continue
            if node.input:
                self.read.add(node.input)
            if isinstance(node, Group):
                self.collect_reads(node.layers)
            elif isinstance(node, Branches):
                for branch in node.branches:
                    self.collect_reads(branch)
            else:
                self.collect_reads(node.body)
                self.collect_reads(node.shortcut or ())

    def sequence(self, nodes: Sequence[Node], current: str, work: str, depth: int) -> str:
        """Emit nodes in order from the variable ``current``, into ``work``; the variable holding the output."""
        for node in nodes:
            current = self.node(node, current, work, depth)
        return current

    def path(self, label: str, depth: int) -> str:
        """The working variable of a branch, body or shortcut ``depth`` structures deep.

        Structures at one depth are never alive at once (a path's nested structures merge into its own variable),
        so they share one: ``body``, ``shortcut``, ``branch0``, ... and ``body_2`` one level further in.
        """
        if (label, depth) not in self.working:
            self.working[label, depth] = self.names.make(label)
        return self.working[label, depth]

    def node(self, node: Node, current: str, work: str, depth: int) -> str:
        if isinstance(node, Layer):
            return self.call(node.name, [self.variables[name] for name in node.inputs] or [current], work)
        start = self.variables[node.input] if node.input else current
        if isinstance(node, Group):
            output = self.sequence(node.layers, start, work, depth)
            if node.name in self.read:
                self.variables[node.name] = self.names.make(node.name)
                self.lines.append(f"{self.variables[node.name]} = {output}")
                return self.variables[node.name]
            return output
        if isinstance(node, Branches):
            outputs = [
                self.sequence(branch, start, self.path(f"branch{index}", depth), depth + 1)
                for index, branch in enumerate(node.branches)
            ]
            return self.call(node.name, outputs, work)
        body = self.sequence(node.body, start, self.path("body", depth), depth + 1)
        shortcut = start
        if node.shortcut:
            shortcut = self.sequence(node.shortcut, start, self.path("shortcut", depth), depth + 1)
        return self.call(node.name, [body, shortcut], work)

    def call(self, name: str, sources: Sequence[str], work: str) -> str:
        """``target = self.attribute(sources)`` for the result ``name``; the module goes into __init__."""
        layer = self.results[name]
        attribute = self.names.make(name)
        self.attributes[attribute] = name
        self.modules.append(f"self.{attribute} = {TORCH[layer.type](layer)}")
        target = work
        if name in self.read:
            target = self.variables[name] = attribute
        self.lines.append(f"{target} = self.{attribute}({', '.join(sources)})")
        return target


def write_pytorch(spec: Spec, analysis: Analysis) -> str:
    """The source of a module building ``spec``, with the shapes and counts of its ``analysis``."""
    writer = _Writer(analysis)
    writer.collect_reads(spec.layers)
    if NETWORK_INPUT in writer.read:
        writer.lines.append("network_input = x")
    output = writer.sequence(spec.layers, "x", "x", 0)
    writer.lines.append(f"return {output}")
    name = class_name(spec.name)
    helpers = [source for helper, source in HELPERS.items() if any(f"= {helper}(" in text for text in writer.modules)]
    entries = [f"{json.dumps(attribute)}: {json.dumps(layer)}," for attribute, layer in writer.attributes.items()]
    names = "".join(
        f"\n    {entry}" if len(entry) <= 116 else "\n    " + entry.replace(": ", ":\n        ", 1) for entry in entries
    )
    total = analysis.total
    summary = (
        f"Generated by convcalc {__version__} (`convcalc export --to pytorch`). Input "
        f"{format_shape(analysis.input_shape)} -> output {format_shape(analysis.output_shape)}; convcalc counts "
        f"{total.params:,} parameters and {total.macs // analysis.batch:,} MACs per sample."
    )
    head = f"""\
{_docstring(f"{spec.name}: a PyTorch module.", "")}

{_docstring(summary, "", quotes=False)}
\"\"\"

import torch
from torch import nn

INPUT_SHAPE = {tuple(analysis.input_shape)!r}

# each submodule's convcalc layer name, in the order forward() calls them
CONVCALC_NAMES = {{{names}\n}}"""
    network = "\n".join(
        [
            f"class {name}(nn.Module):",
            _docstring(spec.description or spec.name, "    ") + '"""',
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()",
            *(_fit(line, "        ") for line in writer.modules),
            "",
            "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
            *(_fit(line, "        ") for line in writer.lines),
        ]
    )
    main = f"""\
if __name__ == "__main__":
    model = {name}().eval()
    with torch.no_grad():
        output = model(torch.zeros(1, *INPUT_SHAPE))
    print(tuple(output.shape), sum(p.numel() for p in model.parameters()), "parameters")"""
    return "\n\n\n".join([head, *(helper.rstrip() for helper in helpers), network, main]) + "\n"


def to_pytorch(spec: Spec | str | os.PathLike[str], *, input_shape: Shape | None = None) -> str:
    """Load and analyse a spec (at ``input_shape`` if given) and write its PyTorch module."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    return write_pytorch(spec, analyze(spec, input_shape=input_shape))
