"""The library API: ``load_spec`` and ``analyze``, usable without the CLI."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from convcalc.bundled import find_bundled
from convcalc.comparison import Comparison
from convcalc.comparison import compare as compare_analyses
from convcalc.engine import Analysis, analyze_spec
from convcalc.reader import read_source, read_text
from convcalc.rewrite import Bottleneck, insert_bottlenecks, parse_bottleneck
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


def compare(
    first: Spec | str | os.PathLike[str],
    second: Spec | str | os.PathLike[str] | None = None,
    *,
    bottlenecks: Sequence[Bottleneck | str] = (),
    batch: int = 1,
    dtype: str = "float32",
) -> Comparison:
    """Two networks side by side, or one network before and after inserting 1x1 bottleneck convs.

    ``bottlenecks`` are ``--bottleneck`` values such as ``"conv5x5=16"`` or ``"all=0.25"``; with them,
    ``first`` must be a spec source (its text is rewritten) and ``second`` is not given.
    """
    if (second is None) == (not bottlenecks):
        raise ValueError("compare needs either a second spec or bottlenecks, not both")
    if second is not None:
        return compare_analyses(analyze(first, batch=batch, dtype=dtype), analyze(second, batch=batch, dtype=dtype))
    if isinstance(first, Spec):
        raise ValueError("a bottleneck rewrite edits a spec's text: pass its path, not a Spec")
    text, name = load_text(first)
    parsed = [b if isinstance(b, Bottleneck) else parse_bottleneck(b) for b in bottlenecks]
    rewrite = insert_bottlenecks(text, name, parsed)
    return compare_analyses(
        analyze_spec(rewrite.original, batch=batch, dtype=dtype),
        analyze_spec(rewrite.spec, batch=batch, dtype=dtype),
        rewrite=rewrite,
    )
