"""Tracing a PyTorch module without computing anything: its forward runs on fake tensors (shapes, no storage) under a
dispatch mode that records every aten op reading an activation, with the module that ran it (forward pre-hooks and
hooks keep the module stack, as torch.utils.flop_counter's ModuleTracker does).

Fake tensors (``torch._subclasses.fake_tensor.FakeTensorMode``) rather than the meta device: the module runs as it is,
on its own parameters (none is swapped or copied, no device changes), and tensors its forward makes itself
(``torch.tensor(...)`` constants, buffers made on the fly) take part, where a meta trace fails on them ("Tensor on
device cpu is not on the expected device meta"). The cost is a fraction of a second whatever the input size
(benchmarks/torch_import.py). torch.export was the alternative: it needs no hooks but takes seconds (Dynamo) and
fails on Python code it cannot capture; a saved ExportedProgram (.pt2) is read by :func:`trace_exported` into the
same events.

Needs torch; imported only when a module or a .pt2 file is read.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from convcalc.importers.torch.events import Call, Event, Module, Ref, Role, Trace


class TraceError(Exception):
    """The module's forward raised: in which module (its path, "" the root, and class) and what it said."""

    def __init__(self, path: str, cls: str, message: str) -> None:
        super().__init__(message)
        self.path, self.cls, self.message = path, cls, message


def _scalar(value: Any) -> Any:
    """A non-tensor argument as JSON-ready data: numbers, words, lists; dtypes, devices and the like as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


class Recorder(TorchDispatchMode):  # type: ignore[misc]  # torch is untyped here (pyproject: mypy)
    """Records each aten op that reads an activation; tells activations, parameters and constants apart by the
    tensors' identities (every tensor seen is kept alive, so an identity is never reused)."""

    def __init__(self, stack: list[tuple[str, int]], parameters: dict[int, str]) -> None:
        super().__init__()
        self.stack = stack
        self.events: list[Event] = []
        self.refs: dict[int, Ref] = {}
        self.kept: list[torch.Tensor] = []
        self.parameters = parameters

    def ref(self, tensor: torch.Tensor, role: Role | None = None, name: str = "") -> Ref:
        """The tensor's reference: known, or new with ``role`` (a parameter by its identity, else a constant)."""
        known = self.refs.get(id(tensor))
        shape = tuple(int(n) for n in tensor.shape)
        if known is not None and (role is None or known.role == role):
            return known._replace(shape=shape) if known.shape != shape else known
        if role is None:
            name = self.parameters.get(id(tensor), "")
            role = "p" if name else "c"
        made = Ref(known.id if known else len(self.kept), shape, role, name)
        if known is None:
            self.kept.append(tensor)
        self.refs[id(tensor)] = made
        return made

    def convert(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return self.ref(value)
        if isinstance(value, (list, tuple)):
            return tuple(self.convert(item) for item in value)
        return _scalar(value)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func.namespace != "aten":  # prim.device and the like
            return out
        inputs = [self.ref(t) for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        made = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        if any(ref.role == "a" for ref in inputs):
            arguments = self.convert(args)  # before the outputs: an in-place op's input is its output
            named = {key: self.convert(value) for key, value in kwargs.items()}
            outputs = tuple(self.ref(t, "a") for t in made)
            path, call = self.stack[-1] if self.stack else ("", 0)
            self.events.append(
                Event(func.overloadpacket.__name__, func._overloadname, arguments, named, outputs, path, call)
            )
        elif any(ref.role == "p" for ref in inputs):  # a view or transpose of a weight is that weight
            name = next(ref.name for ref in inputs if ref.role == "p")
            for tensor in made:
                self.ref(tensor, "p", name)
        return out


@contextmanager
def _module_stack(module: torch.nn.Module, recorder: Recorder, calls: list[Call]) -> Iterator[None]:
    """Hooks on every submodule keeping the recorder's stack of (path, call) of the modules running, and each call's
    output; removed on leaving."""
    counts: dict[str, int] = {}
    handles = []

    def enter(path: str) -> Any:
        def hook(_module: Any, _args: Any) -> None:
            recorder.stack.append((path, counts.get(path, 0)))
            counts[path] = counts.get(path, 0) + 1

        return hook

    def leave(path: str) -> Any:
        def hook(_module: Any, _args: Any, output: Any) -> None:
            _, call = recorder.stack.pop()
            known = isinstance(output, torch.Tensor) and id(output) in recorder.refs
            calls.append(Call(path, call, recorder.ref(output) if known else None))

        return hook

    try:
        for path, submodule in module.named_modules():
            handles.append(submodule.register_forward_pre_hook(enter(path)))
            handles.append(submodule.register_forward_hook(leave(path)))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def _quiet() -> Iterator[None]:
    """The fake-tensor machinery's own log off: it logs a traceback before raising an op's error, which the trace
    reports as one message."""
    logger = logging.getLogger("torch._subclasses.fake_tensor")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _evaluating(module: torch.nn.Module) -> Iterator[None]:
    """The module in eval mode (inference: dropout is the identity, batch norm uses its running statistics), its
    submodules' modes restored after."""
    modes = [(submodule, submodule.training) for submodule in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for submodule, training in modes:
            submodule.training = training


def modules_of(module: torch.nn.Module) -> tuple[Module, ...]:
    return tuple(
        Module(path, type(submodule).__name__, not any(True for _ in submodule.children()))
        for path, submodule in module.named_modules()
    )


def trace_module(module: torch.nn.Module, input_shape: Sequence[int], batch: int = 1) -> Trace:
    """The module's forward on a fake input of ``(batch, *input_shape)``; a TraceError naming the module whose
    forward raised."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    parameters = {
        id(tensor): name
        for name, tensor in (
            *module.named_parameters(remove_duplicate=False),
            *module.named_buffers(remove_duplicate=False),
        )
    }
    calls: list[Call] = []
    recorder = Recorder([], parameters)
    with ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        stack.enter_context(_quiet())
        stack.enter_context(_evaluating(module))
        stack.enter_context(_module_stack(module, recorder, calls))
        stack.enter_context(FakeTensorMode(allow_non_fake_inputs=True))
        sample = torch.empty(batch, *input_shape)
        source = recorder.ref(sample, "a")
        stack.enter_context(recorder)
        try:
            returned = module(sample)
        except Exception as error:  # the user's code: any exception, reported with where it happened
            path = recorder.stack[-1][0] if recorder.stack else ""
            raise TraceError(path, type(module.get_submodule(path)).__name__, _said(error)) from None
    outputs = tuple(
        recorder.refs[id(t)]
        for t in tree_flatten(returned)[0]
        if isinstance(t, torch.Tensor) and id(t) in recorder.refs
    )
    held = sum(parameter.numel() for parameter in module.parameters())
    sizes = tuple((name, int(p.numel())) for name, p in module.named_parameters(remove_duplicate=False))
    return Trace(
        type(module).__name__, source, tuple(recorder.events), outputs, modules_of(module), tuple(calls), held, sizes
    )


def _said(error: Exception) -> str:
    """An exception's message on one line, with its type."""
    text = " ".join(str(error).split()) or "(no message)"
    name = type(error).__name__
    if name == "DataDependentOutputException" or "_local_scalar_dense" in text:
        text = "it reads a tensor's values (.item(), a Python if on a tensor): a shape-only trace cannot"
    return f"{name}: {text}"


class _Exported:
    """The tensors of an exported graph so far: each fx node's Ref (or tuple of them), numbered in order."""

    def __init__(self) -> None:
        self.refs: dict[str, Any] = {}
        self.count = 0

    def made(self, value: Any, role: Role, label: str = "") -> Any:
        """Refs for a node's value (a fake tensor, or a tuple of them)."""
        if isinstance(value, torch.Tensor):
            self.count += 1
            return Ref(self.count, tuple(int(n) for n in value.shape), role, label)
        if isinstance(value, (list, tuple)):
            return tuple(self.made(item, role, label) for item in value)
        return None

    def convert(self, value: Any) -> Any:
        """An argument with each fx node replaced by its Refs."""
        if isinstance(value, torch.fx.Node):
            return self.refs.get(value.name)
        if isinstance(value, (list, tuple)):
            return tuple(self.convert(item) for item in value)
        return _scalar(value)


def trace_exported(program: Any, name: str) -> Trace:
    """The events of a saved ExportedProgram's graph: its aten calls in order, each with the innermost module of its
    ``nn_module_stack`` (``path@1`` a second call); parameters, buffers and constants by their names."""
    from torch._ops import OpOverload

    roles = {
        spec.arg.name: ("p", spec.target or spec.arg.name)
        for spec in program.graph_signature.input_specs
        if spec.kind.name in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR") and hasattr(spec.arg, "name")
    }
    graph, events, user = _Exported(), [], []
    modules: dict[str, str] = {}
    returned: tuple[Ref, ...] = ()
    for node in program.graph.nodes:
        value = node.meta.get("val")
        if node.op == "placeholder":
            role, label = roles.get(node.name, ("a", ""))
            graph.refs[node.name] = graph.made(value, role, label)  # type: ignore[arg-type]
            if role == "a" and isinstance(value, torch.Tensor):
                user.append(graph.refs[node.name])
        elif node.op == "call_function" and isinstance(node.target, OpOverload):
            args, kwargs = graph.convert(node.args), {key: graph.convert(v) for key, v in node.kwargs.items()}
            read = [ref for ref in _refs((args, kwargs)) if isinstance(ref, Ref)]
            if any(ref.role == "a" for ref in read):
                graph.refs[node.name] = outputs = graph.made(value, "a")
                path, call = _innermost(node.meta.get("nn_module_stack") or {}, modules)
                made = tuple(ref for ref in _refs(outputs) if isinstance(ref, Ref))
                op = node.target.__name__.split(".")[0]
                events.append(Event(op, node.target._overloadname, args, kwargs, made, path, call))
            else:
                params = [ref for ref in read if ref.role == "p"]
                graph.refs[node.name] = graph.made(value, "p" if params else "c", params[0].name if params else "")
        elif node.op == "call_function" and getattr(node.target, "__name__", "") == "getitem":
            whole = graph.refs.get(node.args[0].name)
            graph.refs[node.name] = whole[node.args[1]] if isinstance(whole, tuple) else None
        elif node.op == "output":
            found = _refs(graph.convert(node.args[0]))
            returned = tuple(ref for ref in found if isinstance(ref, Ref) and ref.role == "a")
    if len(user) != 1:
        raise ValueError(f"the program takes {len(user)} tensor inputs; convcalc analyses one-input networks")
    paths = list(modules)
    leaf = {path: not any(other.startswith(path + ".") or (not path and other) for other in paths) for path in paths}
    parameters = program.graph_signature.inputs_to_parameters
    sizes = tuple(
        (parameters[node.name], int(node.meta["val"].numel()))
        for node in program.graph.nodes
        if node.op == "placeholder" and node.name in parameters
    )
    listed = tuple(Module(path, cls, leaf[path]) for path, cls in modules.items())
    return Trace(name, user[0], tuple(events), returned, listed, (), sum(size for _, size in sizes), sizes)


def _refs(value: Any) -> list[Any]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, dict):
        return [item for v in value.values() for item in _refs(v)]
    if isinstance(value, (list, tuple)):
        return [item for v in value for item in _refs(v)]
    return [value]


def _innermost(stack: dict[str, tuple[str, str]], modules: dict[str, str]) -> tuple[str, int]:
    """The innermost module of an ``nn_module_stack`` (its path and which call, from a key's ``@N``); every module in
    it recorded with its class."""
    for path, cls in stack.values():
        modules.setdefault(path, str(cls).rsplit(".", 1)[-1])
    if not stack:
        modules.setdefault("", "")
        return "", 0
    key, (path, _) = list(stack.items())[-1]
    _, _, call = key.rpartition("@")
    return path, int(call) if call.isdigit() else 0
