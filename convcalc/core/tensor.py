"""Tensor shapes per sample, and a layer's configuration: the vocabulary every package shares."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

Shape = tuple[int, ...]


Config = Mapping[str, Any]


def format_shape(shape: Shape) -> str:
    """``(256, 13, 13)`` -> ``256x13x13``."""
    return "x".join(str(n) for n in shape)


def elements(shape: Shape) -> int:
    """Number of elements: C * H * W (or N)."""
    return math.prod(shape)
