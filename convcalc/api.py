"""The library API: ``load_spec``, ``analyze`` and ``compare``, usable without the CLI.

Each takes a spec (a path, '-', a bundled spec's name, a loaded Graph), a model file (:data:`convcalc.formats.FORMATS`),
a ``package.module:factory`` import path or a ``torch.nn.Module`` itself (traced on fake tensors: no arithmetic,
no memory for activations; torch is needed only then)."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
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
    from torch.nn import Module

    from convcalc.passes.comparison import Comparison
    from convcalc.spec.rewrite import Bottleneck

Source = Graph | str | os.PathLike[str]
"""What names a network: a loaded graph, a spec or model file, a bundled spec's name, an import path."""


def is_module(value: object) -> bool:
    """Whether ``value`` is a torch.nn.Module (without importing torch: a module exists only if torch is loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


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


def load_spec(source: Source | Module, *, text: str | None = None, input_shape: Shape | None = None) -> Graph:
    """Read and check a spec: a file path, '-' for standard input, or a bundled spec's name; a path ending in
    model file's suffix (.onnx, .pt2) is read into the same graph by its front end (:data:`convcalc.formats.FORMATS`).
    A ``torch.nn.Module``, or a ``package.module:factory`` import path naming one (this imports and runs that code),
    is traced at ``input_shape`` (per sample: (C, H, W), which a module needs); another source is read, then set to
    ``input_shape`` if given.

    With ``text``, ``source`` is only the name used in error messages. TypeError for a source that is not a
    str or path, or text that is not a str (decode bytes first: ``data.decode("utf-8")``).
    """
    if input_shape is not None:
        input_shape = checked_shape(input_shape)
    if is_module(source):
        from convcalc.importers.torch.read import graph_of_module

        if input_shape is None:
            raise TypeError("a torch.nn.Module has no input size of its own: give input_shape=(C, H, W)")
        return graph_of_module(source, input_shape)
    if not isinstance(source, (str, os.PathLike, Graph)):
        raise TypeError(
            f"a spec source is a path, '-', a bundled spec's name or a torch.nn.Module, not {type(source).__name__}"
        )
    if isinstance(source, Graph):
        return source.at_input(input_shape) if input_shape is not None else source
    if text is not None and not isinstance(text, str):
        raise TypeError(f"text must be the spec's YAML as str, not {type(text).__name__} (decode bytes first)")
    with gc_paused():
        if text is not None:
            graph = build_spec(read_text(text, str(source)), str(source))
        elif (model := format_of(str(source))) is not None:
            if model.sized:
                return model.read(str(source), None, input_shape)
            graph = model.read(str(source), None, input_shape)
        else:
            text, name = load_text(source)
            graph = build_spec(read_text(text, name), name)
    return graph.at_input(input_shape) if input_shape is not None else graph


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
    spec: Source | Module,
    *,
    batch: int = 1,
    dtype: str = "float32",
    input_shape: Shape | None = None,
    convention: str | None = None,
    expect: Iterable[str] = (),
) -> Analysis:
    """Shapes, parameters, MACs, FLOPs and memory of every layer of a network, with totals.

    ``input_shape`` costs the same network at another input size than its spec's (a torch module has none of its
    own: there it is needed). ``convention`` counts MACs and FLOPs as a tool does (``"flop_counter"``, ``"fvcore"``:
    `convcalc conventions` lists them), as ``--convention`` does. ``expect`` acknowledges warnings by code on every
    layer (``["unread"]``), as ``--expect`` does. A wrong type of argument raises TypeError (``batch="8"``,
    ``batch=2.5``, ``input_shape=5``), a value out of range, an unknown convention or warning code ValueError.
    """
    check_options(batch, dtype)
    codes = warning_codes(expect)
    shape = checked_shape(input_shape) if input_shape is not None else None
    if not isinstance(spec, Graph) or shape is not None:
        spec = load_spec(spec, input_shape=shape)
    spec = spec.acknowledging(codes)
    with gc_paused():
        analysis = analyze_spec(spec, batch=batch, dtype=dtype)
    return counted_as(analysis, convention)


def warning_codes(expect: object) -> frozenset[str]:
    """The warning codes of ``expect`` (a list of them, or one comma-separated str: ``"unread,layout"``); ValueError
    naming the codes for an unknown one."""
    from convcalc.core.findings import WARNINGS

    if isinstance(expect, str):
        expect = [code.strip() for code in expect.split(",") if code.strip()]
    if not isinstance(expect, Iterable) or not all(isinstance(code, str) for code in expect):
        raise TypeError(f"expect must be a list of warning codes such as ['unread'], not {_shown(expect)}")
    codes = frozenset(expect)
    unknown = sorted(codes - WARNINGS.keys())
    if unknown:
        raise ValueError(f"unknown warning code {unknown[0]!r}; the codes are {', '.join(WARNINGS)}")
    return codes


def checked_shape(input_shape: object) -> Shape:
    """``input_shape`` as a tuple of ints; TypeError for another type, ValueError for sizes out of range."""
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"input_shape must be a tuple of ints, (C, H, W) or (N,), not {_shown(input_shape)}")
    if not 1 <= len(input_shape) <= 1 + MAX_AXES or not all(is_int(n) and n >= 1 for n in input_shape):
        forms = "(C, H, W), (C, L), (C, D, H, W) or (N,)"
        raise ValueError(f"input_shape must be {forms} of positive ints, got {_shown(input_shape)}")
    return tuple(input_shape)


def counted_as(analysis: Analysis, convention: str | None) -> Analysis:
    """The analysis with its MACs and FLOPs as the tool ``convention`` counts them (None: convcalc's own)."""
    if convention is None:
        return analysis
    from convcalc.passes.conventions.counting import recount, recounted

    if not isinstance(convention, str):
        raise TypeError(f"convention must be a name such as 'flop_counter', not {type(convention).__name__}")
    return recounted(analysis, recount(analysis, convention)[0])


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
    first: Source | Module,
    second: Source | Module | None = None,
    *,
    bottlenecks: Sequence[Bottleneck | str] = (),
    batch: int = 1,
    dtype: str = "float32",
    input_shape: Shape | None = None,
    convention: str | None = None,
    expect: Iterable[str] = (),
) -> Comparison:
    """Two networks side by side, or one network before and after inserting 1x1 bottleneck convs.

    ``bottlenecks`` are ``--bottleneck`` values such as ``"conv5x5=16"`` or ``"all=0.25"``; with them,
    ``first`` must be a spec source (its text is rewritten) and ``second`` is not given. ``input_shape`` sets both
    networks' input (torch modules need it); ``convention`` counts both as that tool does and ``expect``
    acknowledges warnings in both (see :func:`analyze`). A wrong type of argument raises TypeError
    (``bottlenecks=None``, or a str where a list of them is meant), a wrong combination ValueError.
    """
    from convcalc.notebook import comparison_html
    from convcalc.passes.comparison import Comparison
    from convcalc.passes.comparison import compare as compare_analyses
    from convcalc.spec.rewrite import Bottleneck, insert_bottlenecks, parse_bottleneck

    Comparison._repr_html_ = comparison_html  # its notebook view (convcalc/notebook.py)

    check_options(batch, dtype)
    check_bottlenecks(bottlenecks)
    if second is None and not bottlenecks:
        raise ValueError("compare needs a second spec or bottlenecks")
    if second is not None and bottlenecks:
        raise ValueError("compare needs either a second spec or bottlenecks, not both")
    if isinstance(first, str) and first == "-" and second == "-":
        raise SpecError("standard input can be read once: give at most one of the two specs as '-'")
    if second is not None:
        sides = [
            analyze(side, batch=batch, dtype=dtype, input_shape=input_shape, convention=convention, expect=expect)
            for side in (first, second)
        ]
        return compare_analyses(sides[0], sides[1])
    if isinstance(first, Graph) or is_module(first):
        raise ValueError("a bottleneck rewrite edits a spec's text: pass its path, not a loaded spec or a module")
    model = format_of(str(first))
    if model is not None:
        raise SpecError(
            f"{first}: the bottleneck rewrite edits a spec's YAML text, and this is an {model.name}",
            hint=f"write it as a spec first: convcalc import {first} -o model.yaml",
        )
    text, name = load_text(first)
    parsed = [b if isinstance(b, Bottleneck) else parse_bottleneck(b) for b in bottlenecks]
    rewrite = insert_bottlenecks(text, name, parsed)
    graphs = [rewrite.original, rewrite.spec]
    if input_shape is not None:
        graphs = [graph.at_input(checked_shape(input_shape)) for graph in graphs]
    codes = warning_codes(expect)
    graphs = [graph.acknowledging(codes) for graph in graphs]
    before, after = (counted_as(analyze_spec(graph, batch=batch, dtype=dtype), convention) for graph in graphs)
    return compare_analyses(before, after, rewrite=rewrite)
