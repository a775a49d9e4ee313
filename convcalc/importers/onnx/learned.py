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
        self.counted: set[str] = set()  # the weights a layer has counted: another that reads one shares it

    def derive(self, node: OnnxNode, given: Sequence[str]) -> None:
        """A node computing constants from ``given``: its outputs are computed from their parameters; an Identity
        of a parameter is one of its own (torch's exporter writes a parameter equal to another as a copy)."""
        learned = frozenset[str]().union(*(self.source(tensor) for tensor in given))
        if node.op_type == "Identity" and learned:
            learned = frozenset(node.outputs)
        self.feeds.update((output, learned) for output in node.outputs if learned)

    def source(self, tensor: str) -> frozenset[str]:
        """The parameters a constant is or is computed from: initializers of real numbers (not an index table) named
        by a module path, as PyTorch's exporters name parameters (``layers.0.attn.relative_position_bias_table``;
        the constants they fold are ``onnx::Mul_12``, ``val_7``, ``unsqueeze_1``), and their Identity copies."""
        initializer = self.initializers.get(tensor)
        if initializer is not None:
            return frozenset({tensor}) if initializer.real and MODULE_PATH.fullmatch(tensor) else frozenset()
        return self.feeds.get(tensor, frozenset())

    def take(self, tensor: str) -> int:
        """How many learned values a constant is computed from that no layer has counted yet (Swin's relative
        position bias table, gathered into a [heads, 49, 49] bias); they count here, once."""
        taken = self.source(tensor) - self.counted
        self.counted |= taken
        return sum(math.prod(self.constants[name].dims) for name in taken)
