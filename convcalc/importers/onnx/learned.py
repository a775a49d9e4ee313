"""The parameters of an ONNX file and what is computed from them: a weight a layer reads directly, or a constant the
graph computes from parameters (NFNet's standardised conv weights, Swin's position bias gathered from its table),
each counted once, by the first layer that reads it."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from convcalc.importers.onnx.model import OnnxNode, Tensor

MODULE_PATH = re.compile(r"[A-Za-z_]\w*(\.\w+)+")
"""A parameter's name as PyTorch's exporters write it: its module's path and its own name, joined by dots."""


class Learned:
    """Which parameters each computed constant is computed from, and which a layer has counted (``counted``)."""

    def __init__(self, initializers: Mapping[str, Tensor], constants: Mapping[str, Tensor]) -> None:
        self.initializers = initializers
        self.constants = constants  # every constant's dims: initializers and those computed
        self.feeds: dict[str, frozenset[str]] = {}  # a computed constant -> the parameters it is computed from
        self.gathered: set[str] = set()  # computed constants that a Gather of a parameter (a table lookup) made
        self.counted: set[str] = set()  # the weights a layer has counted: another that reads one shares it

    def derive(self, node: OnnxNode, given: Sequence[str]) -> None:
        """A node computing constants from ``given``: its outputs are computed from their parameters (a Gather's,
        or those of a computed one, are ``gathered``); an Identity of a parameter is one of its own (torch's
        exporter writes a parameter equal to another as a copy)."""
        learned = frozenset[str]().union(*(self.source(tensor) for tensor in given))
        if node.op_type == "Identity" and learned and given[0] in self.initializers:
            learned = frozenset(node.outputs)
        self.feeds.update((output, learned) for output in node.outputs if learned)
        if learned and (node.op_type == "Gather" or any(tensor in self.gathered for tensor in given)):
            self.gathered.update(node.outputs)

    def source(self, tensor: str) -> frozenset[str]:
        """The parameters a constant is or is computed from: initializers of real numbers (not an index table) named
        by a module path, as PyTorch's exporters name parameters (``layers.0.attn.relative_position_bias_table``;
        the constants they fold are ``onnx::Mul_12``, ``val_7``, ``unsqueeze_1``), and their Identity copies."""
        initializer = self.initializers.get(tensor)
        if initializer is not None:
            return frozenset({tensor}) if initializer.real and MODULE_PATH.fullmatch(tensor) else frozenset()
        return self.feeds.get(tensor, frozenset())

    def take_gathered(self, tensor: str) -> int:
        """The values of the tables a constant was gathered from (Swin's relative position bias, 169 x heads
        gathered into heads x 49 x 49), once; a parameter read whole cannot be told from a buffer (timm's Swin adds
        its attention mask, a buffer, so): none."""
        return self.take(tensor) if tensor in self.gathered else 0

    def take(self, tensor: str) -> int:
        """How many learned values a constant is computed from that no layer has counted yet (NFNet's standardised
        conv weight and its gain); they count here, once."""
        taken = self.source(tensor) - self.counted
        self.counted |= taken
        return sum(math.prod(self.constants[name].dims) for name in taken)
