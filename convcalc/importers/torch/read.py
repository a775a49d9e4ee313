"""PyTorch import: a module (traced), a saved ExportedProgram (.pt2) or a ``package.module:factory`` import path ->
the same :class:`~convcalc.engine.graph.Graph` a spec lowers to.

Each traced aten op goes through its handler in :data:`convcalc.importers.torch.ops.HANDLERS`; an op with none, or
whose arguments its handler does not follow, becomes an ``opaque`` layer of the shape torch gave, named in one
``uncounted`` warning: a model is never refused for one unusual op. Layers are named by module path
(:mod:`convcalc.importers.torch.importer`). torch is imported only here, when such an input is read; without it, a
SpecError says what to install.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from convcalc.core.errors import Location, SpecError
from convcalc.engine.graph import Graph
from convcalc.engine.results import AnalysisError
from convcalc.importers.torch.events import Trace
from convcalc.importers.torch.importer import NotFollowed, TorchImporter
from convcalc.importers.torch.ops import HANDLERS, opaque

if TYPE_CHECKING:
    from torch.nn import Module

INSTALL = "pip install 'convcalc[torch]'"


def require_torch(what: str) -> Any:
    """The torch package; a SpecError saying what to install when it is missing."""
    try:
        import torch
    except ImportError:
        raise SpecError(f"{what} needs PyTorch, which is not installed", hint=INSTALL) from None
    return torch


def imported(trace: Trace, source: str) -> TorchImporter:
    """The importer after every event of a trace went through its handler, in the order the ops ran."""
    importer = TorchImporter(trace, source)
    for index, event in enumerate(trace.events):
        importer.index = index
        if not event.outputs or importer.skipped(event):
            continue
        op = event.op[:-1] if event.op.endswith("_") else event.op
        try:
            HANDLERS.get(op, opaque)(importer, event)
        except (NotFollowed, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
            try:
                importer.opaque(event)
            except ValueError as error:  # a tensor convcalc cannot hold (a size of 0): one message, no traceback
                where = f"module '{event.module}'" if event.module else "the module's own forward"
                raise SpecError(f"{source}: aten.{op} in {where}: {error}") from None
    return importer


def graph_of(trace: Trace, source: str, origins: dict[str, str] | None = None) -> Graph:
    """The graph of a trace; ``origins``, if given, is filled with each layer's module (path and class)."""
    importer = imported(trace, source)
    try:
        graph = importer.graph()
    except ValueError as error:
        raise SpecError(f"{source}: {error}") from None
    if origins is not None:
        origins.update(importer.origins)
    return graph


def graph_of_module(
    module: Module, input_shape: Sequence[int], source: str | None = None, origins: dict[str, str] | None = None
) -> Graph:
    """A module's graph at ``input_shape`` (per sample: (C, H, W), (C, L), (C, D, H, W), (features,)); another
    input shape traces it again. AnalysisError naming the module whose forward raised, and what it said."""
    torch = require_torch("analysing a PyTorch module")
    from convcalc.importers.torch.trace import TraceError, trace_module

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"expected a torch.nn.Module, not {type(module).__name__}")
    name = source or type(module).__name__
    try:
        trace = trace_module(module, tuple(input_shape))
    except TraceError as error:
        raise AnalysisError(
            f"its forward raised at input {'x'.join(map(str, input_shape))}: {error.message}",
            Location(name, 1, 1),
            layer=error.path or name,
            kind=error.cls,
            partial=(),
        ) from None
    return replace(graph_of(trace, name, origins), relower=lambda shape: graph_of_module(module, shape, source))


def load_factory(path: str) -> Module:
    """The module an import path names: ``package.module:attribute``, an nn.Module or a callable taking no
    arguments that returns one. This imports and runs the user's code (the current directory is searched first,
    as ``python -m`` does)."""
    torch = require_torch(f"'{path}'")
    module_name, _, attribute = path.partition(":")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise SpecError(f"'{path}': cannot import {module_name}: {error}", hint="give package.module:factory") from None
    except Exception as error:  # the user's module failed while being imported
        raise SpecError(f"'{path}': importing {module_name} raised {type(error).__name__}: {error}") from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise SpecError(f"'{path}': {module_name} has no attribute '{attribute}'")
        found = getattr(found, part)
    if isinstance(found, torch.nn.Module):
        return found
    if not callable(found):
        raise SpecError(f"'{path}' is a {type(found).__name__}, not a torch.nn.Module or a function returning one")
    try:
        made = found()
    except Exception as error:  # the user's factory
        raise SpecError(f"'{path}': calling {attribute}() raised {type(error).__name__}: {error}") from None
    if not isinstance(made, torch.nn.Module):
        raise SpecError(f"'{path}': {attribute}() returned a {type(made).__name__}, not a torch.nn.Module")
    return made


def read_factory(path: str, origins: dict[str, str] | None, input_shape: Sequence[int] | None) -> Graph:
    """The graph of the module an import path names, at ``input_shape`` (which it needs: a module states none)."""
    if input_shape is None:
        raise SpecError(
            f"'{path}': a PyTorch module has no input size of its own",
            hint="give the whole input size: --input 3x224x224 (input_shape=(3, 224, 224))",
        )
    graph = graph_of_module(load_factory(path), input_shape, path, origins)
    return graph


def read_exported(path: str, origins: dict[str, str] | None = None) -> Graph:
    """The graph of a saved torch.export ExportedProgram (a .pt2 file), at the input shape it was exported for."""
    torch = require_torch(f"reading {path}")
    from convcalc.importers.torch.trace import trace_exported

    try:
        program = torch.export.load(path)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except Exception as error:  # a file torch cannot read: not a zip, another version's format
        raise SpecError(f"{path} is not a readable ExportedProgram ({type(error).__name__}: {error})") from None
    try:
        trace = trace_exported(program, os.path.basename(path).rsplit(".", 1)[0])
    except ValueError as error:
        raise SpecError(f"{path}: {error}") from None
    return graph_of(trace, path, origins)
