"""The model zoo: every bundled spec with its description and totals (what `convcalc zoo` lists)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from convcalc.api import analyze, load_spec
from convcalc.core.tensor import Shape
from convcalc.spec.bundled import bundled_names, find_bundled


@dataclass(frozen=True, slots=True)
class ZooEntry:
    """One bundled spec: ``name`` is what `convcalc analyze NAME` takes, ``title`` the spec's own name."""

    name: str
    title: str
    description: str
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    flops: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "input": list(self.input_shape),
            "output": list(self.output_shape),
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
        }


def zoo_entry(name: str) -> ZooEntry:
    """Analyse the bundled spec ``name`` (batch 1) for its line in the zoo."""
    path = find_bundled(name)
    if path is None:
        raise ValueError(f"no bundled spec is named {name!r}")
    spec = load_spec(path)
    analysis = analyze(spec)
    total = analysis.total
    return ZooEntry(
        name,
        spec.name,
        spec.description,
        spec.input_shape,
        analysis.output_shape,
        total.params,
        total.macs,
        total.flops,
    )


def zoo_entries() -> list[ZooEntry]:
    """Every bundled spec, sorted by name."""
    return [zoo_entry(name) for name in bundled_names()]
