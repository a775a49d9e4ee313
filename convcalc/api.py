"""The library API: ``load_spec`` and ``analyze``, usable without the CLI."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from convcalc.core.errors import SpecError, nearest
from convcalc.core.keys import MAX_AXES, MAX_MAGNITUDE, is_int
from convcalc.core.tensor import Shape, format_shape
from convcalc.core.text import clip
from convcalc.engine.graph import Graph
from convcalc.engine.results import Analysis
from convcalc.engine.run import analyze_spec
from convcalc.formats import format_of
from convcalc.spec.bundled import bundled_names, find_bundled
from convcalc.spec.lower import build_spec
from convcalc.spec.reader import read_source, read_text

if TYPE_CHECKING:  # compare's modules load only when comparing (cold start of `convcalc analyze`)
    from convcalc.passes.comparison import Comparison
    from convcalc.spec.rewrite import Bottleneck


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: loading makes many small objects and no cycles, and its scans
    would make loading a 100,000-layer spec several times slower (see benchmarks/)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_spec(source: str | os.PathLike[str], *, text: str | None = None) -> Graph:
    """Read and check a spec: a file path, '-' for standard input, or a bundled spec's name; a path ending in
    model file's suffix (.onnx) is read into the same graph by its front end (:data:`convcalc.formats.FORMATS`).

    With ``text``, ``source`` is only the name used in error messages. TypeError for a source that is not a
    str or path, or text that is not a str (decode bytes first: ``data.decode("utf-8")``).
    """
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"a spec source is a path, '-' or a bundled spec's name, not {type(source).__name__}")
    if text is not None and not isinstance(text, str):
        raise TypeError(f"text must be the spec's YAML as str, not {type(text).__name__} (decode bytes first)")
    with gc_paused():
        if text is not None:
            return build_spec(read_text(text, str(source)), str(source))
        model = format_of(str(source))
        if model is not None:
            return model.read(str(source))
        text, name = load_text(source)
        return build_spec(read_text(text, name), name)


def resolve_path(source: str | os.PathLike[str]) -> str:
    """The file a spec source names: the path itself, '-', or the bundled spec of that name."""
    path = str(source)
    try:
        exists = path == "-" or Path(path).exists()
    except OSError as error:  # a name too long, a symlink loop
        raise SpecError(f"{path}: cannot read: {error.strerror}") from None
    if not exists:
        bundled = find_bundled(path)
        if bundled is None:
            names = bundled_names()
            with_suffix = next(
                (f"{path}{suffix}" for suffix in (".yaml", ".yml") if Path(path + suffix).is_file()), None
            )
            listed = f"bundled specs: {', '.join(names)} (`convcalc zoo` lists them)"
            raise SpecError(
                f"{path}: no such file, and no bundled spec has that name",
                hint=f"did you mean {with_suffix}?" if with_suffix else nearest(path, names) or listed,
            )
        return str(bundled)
    return path


def load_text(source: str | os.PathLike[str]) -> tuple[str, str]:
    """The text of a spec source and the name errors will use for it."""
    return read_source(resolve_path(source))


def parse_shape(text: str, like: Shape) -> Shape:
    """An input size like ``like``: the whole shape ('CxHxW'), its spatial sizes ('HxW', keeping the channels) or one
    size for every spatial axis ('S': square, a cube in 3-D); 'L' or 'CxL' for a 1-D map, 'DxHxW' in 3-D."""
    try:
        numbers = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"input size '{text}' is not of the form 3x224x224, 224x224 or 224") from None
    if any(n < 1 for n in numbers) or not 1 <= len(numbers) <= 1 + MAX_AXES:
        raise ValueError(f"input size '{text}' must be 1 to 4 positive whole numbers, as in 3x224x224")
    if len(numbers) == len(like):  # the whole shape (a flat input's one size)
        return numbers
    if len(numbers) == len(like) - 1:
        return (like[0], *numbers)
    if len(numbers) == 1 and len(like) > 1:
        return (like[0], *numbers * (len(like) - 1))
    axes = "x".join(["N"] * (len(like) - 1)) + " or one size" if len(like) > 1 else "one size"
    raise ValueError(f"input size '{text}' does not fit the input {format_shape(like)}: give {axes}")


def analyze(
    spec: Graph | str | os.PathLike[str],
    *,
    batch: int = 1,
    dtype: str = "float32",
    input_shape: Shape | None = None,
) -> Analysis:
    """Shapes, parameters, MACs, FLOPs and memory of every layer of a network, with totals.

    ``input_shape`` costs the same network at another input size than its spec's. A wrong type of argument
    raises TypeError (``batch="8"``, ``batch=2.5``, ``input_shape=5``), a value out of range ValueError.
    """
    check_options(batch, dtype)
    if input_shape is not None:
        if not isinstance(input_shape, (tuple, list)):
            raise TypeError(f"input_shape must be a tuple of ints, (C, H, W) or (N,), not {_shown(input_shape)}")
        if not 1 <= len(input_shape) <= 1 + MAX_AXES or not all(is_int(n) and n >= 1 for n in input_shape):
            forms = "(C, H, W), (C, L), (C, D, H, W) or (N,)"
            raise ValueError(f"input_shape must be {forms} of positive ints, got {_shown(input_shape)}")
    if not isinstance(spec, Graph):
        spec = load_spec(spec)
    if input_shape is not None:
        spec = spec.at_input(tuple(input_shape))
    with gc_paused():
        return analyze_spec(spec, batch=batch, dtype=dtype)


def _shown(value: object) -> str:
    return clip(repr(value))


def check_options(batch: object, dtype: object) -> None:
    """TypeError for a batch that is not an int or a dtype that is not a str; ValueError when out of range."""
    if not is_int(batch):
        raise TypeError(f"batch must be an int, not {type(batch).__name__} {_shown(batch)}")
    if not isinstance(dtype, str):
        raise TypeError(f"dtype must be a str such as 'float32', not {type(dtype).__name__}")
    if not 1 <= batch <= MAX_MAGNITUDE:
        raise ValueError(f"batch must be at least 1 and at most 10^100, got {_shown(batch)}")


def check_bottlenecks(bottlenecks: object) -> None:
    """TypeError unless ``bottlenecks`` is a list (or tuple) of ``--bottleneck`` texts or Bottlenecks."""
    from convcalc.spec.rewrite import Bottleneck

    if isinstance(bottlenecks, str):
        raise TypeError(f"bottlenecks must be a list, not a str (write [{bottlenecks!r:.60}])")
    if not isinstance(bottlenecks, (list, tuple)):
        raise TypeError(f"bottlenecks must be a list such as ['conv5x5=16'], not {_shown(bottlenecks)}")
    for each in bottlenecks:
        if not isinstance(each, (str, Bottleneck)):
            raise TypeError(f"a bottleneck is a str such as 'conv5x5=16' or a Bottleneck, not {type(each).__name__}")


def compare(
    first: Graph | str | os.PathLike[str],
    second: Graph | str | os.PathLike[str] | None = None,
    *,
    bottlenecks: Sequence[Bottleneck | str] = (),
    batch: int = 1,
    dtype: str = "float32",
) -> Comparison:
    """Two networks side by side, or one network before and after inserting 1x1 bottleneck convs.

    ``bottlenecks`` are ``--bottleneck`` values such as ``"conv5x5=16"`` or ``"all=0.25"``; with them,
    ``first`` must be a spec source (its text is rewritten) and ``second`` is not given. A wrong type of argument
    raises TypeError (``bottlenecks=None``, or a str where a list of them is meant), a wrong combination ValueError.
    """
    from convcalc.passes.comparison import compare as compare_analyses
    from convcalc.spec.rewrite import Bottleneck, insert_bottlenecks, parse_bottleneck

    check_options(batch, dtype)
    check_bottlenecks(bottlenecks)
    if second is None and not bottlenecks:
        raise ValueError("compare needs a second spec or bottlenecks")
    if second is not None and bottlenecks:
        raise ValueError("compare needs either a second spec or bottlenecks, not both")
    if first == "-" and second == "-":
        raise SpecError("standard input can be read once: give at most one of the two specs as '-'")
    if second is not None:
        return compare_analyses(analyze(first, batch=batch, dtype=dtype), analyze(second, batch=batch, dtype=dtype))
    if isinstance(first, Graph):
        raise ValueError("a bottleneck rewrite edits a spec's text: pass its path, not a loaded spec")
    model = format_of(str(first))
    if model is not None:
        raise SpecError(
            f"{first}: the bottleneck rewrite edits a spec's YAML text, and this is an {model.name}",
            hint=f"write it as a spec first: convcalc import {first} -o model.yaml",
        )
    text, name = load_text(first)
    parsed = [b if isinstance(b, Bottleneck) else parse_bottleneck(b) for b in bottlenecks]
    rewrite = insert_bottlenecks(text, name, parsed)
    return compare_analyses(
        analyze_spec(rewrite.original, batch=batch, dtype=dtype),
        analyze_spec(rewrite.spec, batch=batch, dtype=dtype),
        rewrite=rewrite,
    )
