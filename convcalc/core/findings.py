"""Warnings about a layer: each has a code, which an entry's ``expect`` names to acknowledge it."""

from __future__ import annotations

from typing import NamedTuple


class Finding(NamedTuple):
    """A warning about one layer: its code (a key of WARNINGS) and its message."""

    code: str
    message: str


WARNINGS = {
    "unread": "a conv or pool whose windows do not reach the last rows or columns of its input",
    "asymmetric": "'same' padding with more pixels after than before (even kernels, or TensorFlow-style stride)",
    "widens": "a 1x1 conv meant as a bottleneck (named reduce, red, bottleneck or squeeze) with more filters than "
    "input channels, in front of a larger conv",
    "input": "a layer in a block that names 'input', which is the network's input, not the block's",
    "costly": "a layer that reads only its own pixel (element-wise, per position, a 1x1 conv) and keeps its input's "
    "shape yet takes at least 20% of the network's MACs (or FLOPs)",
    "uncounted": "operations of an imported model that convcalc does not count (opaque layers)",
    "unused": "a layer whose output no layer reads and that is no output of the network (a dangling branch)",
    "shape": "an imported model states another shape for a layer's output than convcalc computes",
    "layout": "the network's input looks channels-last (height x width x channels, as Keras writes it), where "
    "convcalc reads channels x height x width",
}
"""Every warning an analysis gives, by code: what an entry's ``expect`` names to acknowledge it on a layer."""
