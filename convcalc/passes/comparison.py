"""Two analyses side by side: layers aligned by name, totals, differences and ratios. Pure: no I/O.

* Rows: every layer of either network, matched by name. A layer only in the first is ``removed``, only
  in the second ``added``; a matched layer is ``same`` when its shape and every count agree, else
  ``changed``. Rows follow the second network's order; between two matched layers, the layers removed
  there come first, then those added (as in a diff).
* ``diff[k] = after[k] - before[k]`` and ``ratio[k] = before[k] / after[k]`` for every total
  (params, buffers, MACs, FLOPs, weight bytes, activation bytes); a ratio of 9.68 means the second
  network needs 9.68x less. No ratio (None) when the second total is 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from convcalc.core.numbers import json_number, ratio
from convcalc.engine.edits import Insertion, Rewrite, Skip
from convcalc.engine.results import Analysis, LayerResult


def _measures(layer: LayerResult) -> tuple[object, ...]:
    return layer.output_shape, layer.params, layer.buffers, layer.macs, layer.flops, layer.activation_bytes


@dataclass(frozen=True, slots=True)
class Row:
    """One layer name and its result in each network (None where the network does not have it)."""

    name: str
    before: LayerResult | None
    after: LayerResult | None

    @property
    def type(self) -> str:
        """The layer kind (the second network's, when both have the layer)."""
        present = self.after or self.before
        assert present is not None, "a row has a layer on at least one side"
        return present.type

    @property
    def status(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "same" if _measures(self.before) == _measures(self.after) else "changed"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "status": self.status}


@dataclass(frozen=True, slots=True)
class Comparison:
    """What `convcalc compare` reports: both analyses, aligned rows, and for a rewrite what changed."""

    before: Analysis
    after: Analysis
    rows: tuple[Row, ...]
    rewrite: Rewrite | None = None

    _repr_html_: ClassVar[Callable[[Comparison], str]]
    """The notebook view (Jupyter calls it): attached by the library (convcalc/notebook.py)."""

    @property
    def rewritten(self) -> tuple[Insertion, ...]:
        return self.rewrite.insertions if self.rewrite else ()

    @property
    def skipped(self) -> tuple[Skip, ...]:
        return self.rewrite.skipped if self.rewrite else ()

    @property
    def diff(self) -> dict[str, int]:
        """after - before, per total."""
        before, after = self.before.total.to_dict(), self.after.total.to_dict()
        return {key: after[key] - before[key] for key in before}

    @property
    def ratio(self) -> dict[str, float | None]:
        """before / after, per total, to 6 decimals from the exact fraction (None when the after total is 0)."""
        before, after = self.before.total.to_dict(), self.after.total.to_dict()
        return {key: json_number(ratio(before[key], after[key]), 6) if after[key] else None for key in before}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "diff": self.diff,
            "ratio": self.ratio,
            "rewritten": [insertion.to_dict() for insertion in self.rewritten],
            "skipped": [skip.to_dict() for skip in self.skipped],
            "layers": [row.to_dict() for row in self.rows],
        }


def align(before: Sequence[LayerResult], after: Sequence[LayerResult]) -> tuple[Row, ...]:
    """Rows for the layers of both networks, matched by name (see the module docstring for the order)."""
    after_names = {layer.name for layer in after}
    before_index = {layer.name: index for index, layer in enumerate(before)}
    rows: list[Row] = []
    added: list[Row] = []  # waiting for the next matched layer, after the removed ones before it
    placed = 0  # layers of `before` up to here are placed

    def flush(until: int) -> None:
        rows.extend(Row(layer.name, layer, None) for layer in before[placed:until] if layer.name not in after_names)
        rows.extend(added)
        added.clear()

    for layer in after:
        index = before_index.get(layer.name)
        if index is None:
            added.append(Row(layer.name, None, layer))
            continue
        flush(max(index, placed))
        placed = max(placed, index + 1)
        rows.append(Row(layer.name, before[index], layer))
    flush(len(before))
    return tuple(rows)


def compare(before: Analysis, after: Analysis, *, rewrite: Rewrite | None = None) -> Comparison:
    """Compare two analyses; ``rewrite`` is the bottleneck rewrite that made the second, if one did."""
    return Comparison(before, after, align(before.layers, after.layers), rewrite)
