"""The library API: ``load_spec`` and ``analyze``, usable without the CLI."""

from __future__ import annotations

import os
from pathlib import Path

from convcalc.bundled import bundled_names, find_bundled
from convcalc.engine import Analysis, analyze_spec
from convcalc.errors import SpecError
from convcalc.reader import read_file, read_text
from convcalc.spec import Spec, build_spec, nearest


def load_spec(source: str | os.PathLike[str], *, text: str | None = None) -> Spec:
    """Read and check a spec: a file path, '-' for standard input, or a bundled spec's name.

    With ``text``, ``source`` is only the name used in error messages.
    """
    if text is not None:
        return build_spec(read_text(text, str(source)), str(source))
    path = str(source)
    if path != "-" and not Path(path).exists():
        bundled = find_bundled(path)
        if bundled is None:
            names = bundled_names()
            raise SpecError(
                f"{path}: no such file, and no bundled spec has that name",
                hint=nearest(path, names) or f"bundled specs: {', '.join(names)} (`convcalc zoo` lists them)",
            )
        path = str(bundled)
    document, name = read_file(path)
    return build_spec(document, name)


def analyze(spec: Spec | str | os.PathLike[str], *, batch: int = 1, dtype: str = "float32") -> Analysis:
    """Shapes, parameters, MACs, FLOPs and memory of every layer of a network, with totals."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    return analyze_spec(spec, batch=batch, dtype=dtype)
