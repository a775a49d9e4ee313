"""PyTorch export: a graph and its analysis -> the Python source of a self-contained ``torch.nn.Module`` that builds
the network.

Every result of the analysis, merges included, becomes one submodule, written by its kind's ``torch_module``
from the layer's configuration and input shapes (a conv's in_channels, a linear's in_features, the explicit
padding of ``same`` at stride > 1), and called once in ``forward`` in the graph's order; the module's
``CONVCALC_NAMES`` maps each submodule to the layer's convcalc name, so that a test can hold torch's shapes
against convcalc's layer by layer.

convcalc itself never imports torch: this module only writes text.
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
import textwrap
from collections.abc import Sequence

from convcalc.core.errors import SpecError
from convcalc.core.tensor import format_shape
from convcalc.core.text import first_free
from convcalc.core.version import __version__
from convcalc.engine.graph import NETWORK_INPUT, Graph
from convcalc.engine.results import Analysis, LayerResult

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


def _docstring(text: str, indent: str, *, quotes: bool = True) -> str:
    """Text as docstring lines (opening quotes unless ``quotes`` is false), wrapped at 116 columns and escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    opening = '"""' if quotes else ""
    return textwrap.fill(escaped, 116, initial_indent=indent + opening, subsequent_indent=indent)


def _fit(line: str, indent: str, width: int = 120) -> str:
    """An indented line; a call too long for one line gets its arguments on a line of their own, or one a line."""
    if len(indent) + len(line) <= width or not line.endswith(")"):
        return indent + line
    head, arguments = line.split("(", 1)
    inner = f"{indent}    "
    if len(inner) + len(arguments) - 1 <= width:
        return f"{head if not indent else indent + head}(\n{inner}{arguments[:-1]}\n{indent})"
    one_a_line = "".join(f"\n{inner}{argument}," for argument in arguments[:-1].split(", "))
    return f"{indent}{head}({one_a_line}\n{indent})"


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
        name = first_free(base, self.taken.__contains__)
        self.taken.add(name)
        return name


class _Writer:
    """``forward`` in the graph's order: a result read only by the very next layer passes on in ``x``,
    any other gets a variable of its own (its attribute's name)."""

    def __init__(self, analysis: Analysis, outputs: Sequence[str]) -> None:
        self.names = _Names()
        self.modules: list[str] = []
        self.attributes: dict[str, str] = {}  # attribute -> convcalc name
        self.helpers: dict[str, None] = {}  # the helper classes' sources, in first use order
        self.lines: list[str] = []
        self.variables: dict[str, str] = {}
        layers = analysis.layers
        order = {NETWORK_INPUT: -1, **{layer.name: index for index, layer in enumerate(layers)}}
        readers: dict[str, list[int]] = {}
        for index, layer in enumerate(layers):
            for name in layer.inputs:
                readers.setdefault(name, []).append(index)
        self.passed_on = {  # results kept in ``x`` (no output: a later layer would overwrite it)
            name for name, indices in readers.items() if indices == [order[name] + 1] and name not in outputs
        }
        self.read = set(readers) | set(outputs)  # the network's outputs are returned
        if layers and list(outputs) == [layers[-1].name] and layers[-1].name not in readers:
            self.passed_on.add(layers[-1].name)  # the one output, the last layer: returned in x
        self.outputs = outputs

    def write(self, layers: Sequence[LayerResult]) -> str:
        """The ``forward`` lines for the layers; the variables holding the outputs (``a, b`` for several)."""
        if NETWORK_INPUT in self.passed_on:
            self.variables[NETWORK_INPUT] = "x"
        else:
            self.variables[NETWORK_INPUT] = "network_input"
            self.lines.append("network_input = x")
        for layer in layers:
            self.call(layer)
        return ", ".join(self.variables[name] for name in self.outputs)

    def call(self, layer: LayerResult) -> None:
        """``target = self.attribute(sources)`` for one result; its module goes into __init__."""
        module = layer.kind.torch_module(layer.config, layer.input_shapes)
        if module is None:
            raise SpecError(
                "this layer kind has no torch module to export", layer.location, layer=layer.name, kind=layer.type
            )
        for helper in layer.kind.torch_helpers(layer.config):
            self.helpers[helper] = None
        attribute = self.names.make(layer.name)
        self.attributes[attribute] = layer.name
        self.modules.append(f"self.{attribute} = {module}")
        sources = ", ".join(self.variables[name] for name in layer.inputs)
        if layer.name not in self.read:  # an output nobody reads: the call alone
            self.lines.append(f"self.{attribute}({sources})")
            return
        target = self.variables[layer.name] = "x" if layer.name in self.passed_on else attribute
        self.lines.append(f"{target} = self.{attribute}({sources})")


def write_pytorch(spec: Graph, analysis: Analysis) -> str:
    """The source of a module building ``spec``, with the shapes and counts of its ``analysis``."""
    writer = _Writer(analysis, spec.outputs)
    output = writer.write(analysis.layers)
    writer.lines.append(f"return {output}")
    helpers = list(writer.helpers)
    name = class_name(spec.name)
    if any(re.match(f"class {name}\\b", helper) for helper in helpers):  # a network called 'Crop' or 'Add'
        name += "Network"
    entries = [f"{json.dumps(attribute)}: {json.dumps(layer)}," for attribute, layer in writer.attributes.items()]
    names = "".join(
        f"\n    {entry}" if len(entry) <= 116 else "\n    " + entry.replace(": ", ":\n        ", 1) for entry in entries
    )
    total = analysis.total
    summary = (
        f"Generated by convcalc {__version__} (`convcalc export --to pytorch`). Input "
        f"{format_shape(analysis.input_shape)} -> output{'s' * (len(analysis.outputs) > 1)} "
        f"{analysis.outputs_text}; convcalc counts "
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
    several = len(spec.outputs) > 1
    returned = "tuple[torch.Tensor, ...]" if several else "torch.Tensor"
    network = "\n".join(
        [
            f"class {name}(nn.Module):",
            _docstring(spec.description or spec.name, "    ") + '"""',
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()",
            *(_fit(line, "        ") for line in writer.modules),
            "",
            f"    def forward(self, x: torch.Tensor) -> {returned}:",
            *(_fit(line, "        ") for line in writer.lines),
        ]
    )
    shapes = "[tuple(each.shape) for each in output]" if several else "tuple(output.shape)"
    main = f"""\
if __name__ == "__main__":
    model = {name}().eval()
    with torch.no_grad():
        output = model(torch.zeros(1, *INPUT_SHAPE))
    print({shapes}, sum(p.numel() for p in model.parameters()), "parameters")"""
    return "\n\n\n".join([head, *(helper.rstrip() for helper in helpers), network, main]) + "\n"
