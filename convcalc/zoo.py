"""The model zoo: every bundled spec with its description and totals (what `convcalc zoo` lists)."""

from __future__ import annotations

from convcalc.api import analyze, load_spec
from convcalc.passes.summaries import ZooEntry
from convcalc.spec.bundled import bundled_names, find_bundled


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
