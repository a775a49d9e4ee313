"""What a rewrite of a network changed (the bottleneck rewrite of :mod:`convcalc.spec.rewrite`): the layers it
inserted, those it could not change and why, and both graphs. Plain data, read by the comparison and its renderers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from convcalc.core.errors import Location
from convcalc.engine.graph import Graph


@dataclass(frozen=True, slots=True)
class Insertion:
    """One rewritten conv: the 1x1 conv inserted before it, and the channels it reduces."""

    layer: str
    inserted: str
    filters: int
    input_channels: int
    location: Location
    block: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "inserted": self.inserted,
            "filters": self.filters,
            "input_channels": self.input_channels,
            "line": self.location.line,
            "block": self.block,
        }


@dataclass(frozen=True, slots=True)
class Skip:
    """A conv that ``all`` selects by its kernel but that could not take a bottleneck, and why."""

    layers: tuple[str, ...]
    reason: str
    location: Location

    def to_dict(self) -> dict[str, Any]:
        return {"layers": list(self.layers), "reason": self.reason, "line": self.location.line}


@dataclass(frozen=True, slots=True)
class Rewrite:
    """The original spec, the rewritten YAML text and its spec, and what was (not) rewritten."""

    original: Graph
    spec: Graph
    text: str
    insertions: tuple[Insertion, ...]
    skipped: tuple[Skip, ...]
