"""The library API: ``load_spec`` and ``analyze``, usable without the CLI."""

from __future__ import annotations

import os
from pathlib import Path

from convcalc.bundled import find_bundled
from convcalc.engine import Analysis, analyze_spec
from convcalc.reader import read_source, read_text
from convcalc.spec import Spec, build_spec


def load_spec(source: str | os.PathLike[str], *, text: str | None = None) -> Spec:
    """Read and check a spec: a file path, '-' for standard input, or a bundled spec's name.

    With ``text``, ``source`` is only the name used in error messages.
    """
    if text is not None:
        return build_spec(read_text(text, str(source)), str(source))
    text, name = load_text(source)
    return build_spec(read_text(text, name), name)


def resolve_path(source: str | os.PathLike[str]) -> str:
    """The file a spec source names: the path itself, '-', or the bundled spec of that name."""
    path = str(source)
    if path != "-" and not Path(path).exists():
        bundled = find_bundled(path)
        if bundled is not None:
            return str(bundled)
    return path


def load_text(source: str | os.PathLike[str]) -> tuple[str, str]:
    """The text of a spec source and the name errors will use for it."""
    return read_source(resolve_path(source))


def analyze(spec: Spec | str | os.PathLike[str], *, batch: int = 1, dtype: str = "float32") -> Analysis:
    """Shapes, parameters, MACs, FLOPs and memory of every layer of a network, with totals."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    return analyze_spec(spec, batch=batch, dtype=dtype)
