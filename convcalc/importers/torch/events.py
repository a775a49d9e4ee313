"""What a trace of a PyTorch module records, as plain data (no torch): the aten ops that read the network's input or a
tensor computed from it, in the order they ran, each with the module it ran in.

The tracer (:mod:`convcalc.importers.torch.trace`) makes a :class:`Trace` from a module or a saved ExportedProgram;
the importer (:mod:`convcalc.importers.torch.read`) maps it to a graph. A trace is also JSON (:func:`to_dict`,
:func:`from_dict`): the tests keep traces of real networks as fixtures and check the mapping without torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

Role = Literal["a", "p", "c"]
"""What a tensor is: ``a`` an activation (the input or computed from it), ``p`` a parameter or buffer (or computed
from them alone: a transposed weight), ``c`` any other constant."""


class Ref(NamedTuple):
    """A tensor an op read or made: its number in the trace, its shape (with the batch), its role and, for a
    parameter, its name (``layer1.0.conv1.weight``)."""

    id: int
    shape: tuple[int, ...]
    role: Role = "a"
    name: str = ""


class Event(NamedTuple):
    """One aten op that read an activation: ``op`` is its name (``convolution``, ``relu_``; in-place ones end in
    ``_``), ``overload`` its overload (``Tensor``, ``Scalar``), ``args`` and ``kwargs`` its arguments with
    :class:`Ref` for tensors, ``outputs`` the tensors it made; ``module`` the path of the innermost module that ran
    it (``""``: the root's own forward) and ``call`` which call of that module it was (0 the first)."""

    op: str
    overload: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    outputs: tuple[Ref, ...]
    module: str
    call: int


class Module(NamedTuple):
    """A submodule: its path (as ``named_modules()`` names it), its class' name, whether it has no submodules."""

    path: str
    cls: str
    leaf: bool


class Call(NamedTuple):
    """A module's call as a forward hook saw it: which call, and the tensor it returned (None: not a tensor)."""

    path: str
    call: int
    output: Ref | None


class Trace(NamedTuple):
    """A traced network: its name, the input tensor, the ops in order, the tensor(s) it returned, its modules and
    their calls (in the order they ended), how many parameters it holds (sum(p.numel()), each once), and each
    parameter's size by name (not a buffer's)."""

    name: str
    input: Ref
    events: tuple[Event, ...]
    outputs: tuple[Ref, ...]
    modules: tuple[Module, ...]
    calls: tuple[Call, ...] = ()
    parameters: int = 0
    sizes: tuple[tuple[str, int], ...] = ()


def tensors(values: Sequence[Any] | dict[str, Any]) -> list[Ref]:
    """Every tensor among arguments (nested in lists and tuples)."""
    found: list[Ref] = []
    for value in values.values() if isinstance(values, dict) else values:
        if isinstance(value, Ref):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(tensors(value))
    return found


# --- JSON ------------------------------------------------------------------------------------------------------


def _value_to_json(value: Any) -> Any:
    if isinstance(value, Ref):
        return {
            "t": value.id,
            "shape": list(value.shape),
            "role": value.role,
            **({"name": value.name} if value.name else {}),
        }
    if isinstance(value, (list, tuple)):
        return [_value_to_json(item) for item in value]
    return value


def _value_from_json(value: Any) -> Any:
    if isinstance(value, dict):
        return Ref(value["t"], tuple(value["shape"]), value.get("role", "a"), value.get("name", ""))
    if isinstance(value, list):
        return tuple(_value_from_json(item) for item in value)
    return value


def to_dict(trace: Trace) -> dict[str, Any]:
    """The trace as JSON-ready data (lists for tuples)."""
    return {
        "name": trace.name,
        "input": _value_to_json(trace.input),
        "events": [
            {
                "op": event.op,
                "overload": event.overload,
                "args": _value_to_json(event.args),
                **({"kwargs": {key: _value_to_json(v) for key, v in event.kwargs.items()}} if event.kwargs else {}),
                "outputs": _value_to_json(event.outputs),
                "module": event.module,
                "call": event.call,
            }
            for event in trace.events
        ],
        "outputs": _value_to_json(trace.outputs),
        "modules": [[module.path, module.cls, module.leaf] for module in trace.modules],
        "calls": [[call.path, call.call, _value_to_json(call.output)] for call in trace.calls],
        "parameters": trace.parameters,
        **({"sizes": dict(trace.sizes)} if trace.sizes else {}),
    }


def from_dict(data: dict[str, Any]) -> Trace:
    """A trace from :func:`to_dict`'s data."""
    return Trace(
        data["name"],
        _value_from_json(data["input"]),
        tuple(
            Event(
                event["op"],
                event["overload"],
                _value_from_json(event["args"]),
                {key: _value_from_json(v) for key, v in event.get("kwargs", {}).items()},
                _value_from_json(event["outputs"]),
                event["module"],
                event["call"],
            )
            for event in data["events"]
        ),
        _value_from_json(data["outputs"]),
        tuple(Module(path, cls, leaf) for path, cls, leaf in data["modules"]),
        tuple(Call(path, call, _value_from_json(output)) for path, call, output in data.get("calls", ())),
        data.get("parameters", 0),
        tuple((name, int(size)) for name, size in data.get("sizes", {}).items()),
    )
