"""The micro-benchmarks of `convcalc calibrate` (:mod:`convcalc.calibrate`): single-node ONNX graphs, each with the
work the latency pass counts for it, and how onnxruntime runs and times them.

Needs onnx, onnxruntime and numpy (the ``latency`` extra), imported when a graph is built or run.
"""

from __future__ import annotations

import importlib
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from convcalc.passes.latency import Work

F32 = 4
OPSET = 20


class Case(NamedTuple):
    """A micro-benchmark: its family, ONNX op and sizes. conv: (c_in, c_out, hw, kernel, stride, groups); Gemm:
    (in, out); MaxPool, AveragePool: (channels, hw, kernel, stride); GlobalAveragePool: (channels, hw); others:
    (C, H, W)."""

    family: str
    op: str
    sizes: tuple[int, ...]


def _convs(family: str, sizes: tuple[tuple[int, ...], ...]) -> tuple[Case, ...]:
    return tuple(Case(family, "conv", size) for size in sizes)


CASES: tuple[Case, ...] = (
    *_convs(
        "dense",
        (
            (3, 64, 224, 7, 2, 1),
            (3, 32, 224, 3, 2, 1),
            (64, 64, 56, 3, 1, 1),
            (128, 128, 28, 3, 1, 1),
            (256, 256, 14, 3, 1, 1),
            (512, 512, 7, 3, 1, 1),
            (32, 32, 112, 3, 1, 1),
        ),
    ),
    *_convs(
        "pointwise",
        (
            (16, 96, 112, 1, 1, 1),
            (64, 256, 56, 1, 1, 1),
            (256, 64, 56, 1, 1, 1),
            (144, 24, 56, 1, 1, 1),
            (512, 128, 28, 1, 1, 1),
            (960, 160, 7, 1, 1, 1),
        ),
    ),
    *_convs(
        "depthwise",
        (
            (32, 32, 112, 3, 1, 32),
            (144, 144, 56, 3, 2, 144),
            (192, 192, 28, 3, 1, 192),
            (576, 576, 14, 3, 1, 576),
            (960, 960, 7, 3, 1, 960),
            (240, 240, 28, 5, 1, 240),
        ),
    ),
    *_convs(
        "grouped",
        (
            (48, 48, 56, 3, 1, 6),
            (128, 128, 56, 3, 1, 32),
            (256, 256, 28, 3, 1, 32),
            (208, 208, 28, 3, 1, 26),
            (512, 512, 14, 3, 1, 32),
            (1024, 1024, 7, 3, 1, 32),
            (120, 120, 28, 3, 1, 5),
            (336, 336, 14, 3, 1, 14),
            (1344, 1344, 7, 3, 1, 28),
        ),
    ),
    Case("elementwise", "Add", (64, 56, 56)),
    Case("elementwise", "Add", (256, 14, 14)),
    Case("elementwise", "Mul", (96, 112, 112)),
    Case("elementwise", "Concat", (128, 28, 28)),
    Case("elementwise", "Concat", (58, 56, 56)),
    Case("activation", "Sigmoid", (144, 56, 56)),
    Case("activation", "SiLU", (96, 112, 112)),
    Case("activation", "SiLU", (480, 14, 14)),
    Case("activation", "Gelu", (384, 56, 56)),
    Case("activation", "HardSwish", (240, 28, 28)),
    Case("activation", "LayerNormalization", (96, 56, 56)),
    Case("pooling", "MaxPool", (64, 112, 3, 2)),
    Case("pooling", "AveragePool", (256, 28, 2, 2)),
    Case("pooling", "GlobalAveragePool", (256, 56)),
    Case("pooling", "GlobalAveragePool", (1280, 7)),
    *(Case("linear", "Gemm", size) for size in ((144, 576), (1024, 256), (512, 1000), (1280, 1000), (4096, 4096))),
    Case("linear", "Gemm", (25088, 4096)),
)
"""Sizes drawn from ResNet, MobileNet, EfficientNet, ResNeXt/RegNet and VGG layers at 224 x 224."""


def _module(name: str) -> Any:
    return importlib.import_module(name)


def timed(function: Callable[[], object]) -> float:
    begin = time.perf_counter()
    function()
    return time.perf_counter() - begin


def best(function: Callable[[], object], times: int) -> float:
    """The best of ``times`` timed calls, after one untimed."""
    function()
    return min(timed(function) for _ in range(times))


def repeats(floats: int) -> int:
    """Best-of repeats of a bandwidth run on ``floats`` per operand: 5 for the largest, up to 200 for small ones."""
    return max(5, min(200, 2**26 // floats))


# ---------------------------------------------------------------- graphs


class Graph(NamedTuple):
    """A single-node model, its inputs' shapes (fed as x and z), and the work the latency pass counts for it."""

    model: bytes
    shapes: list[list[int]]
    work: Work


def _model(nodes: list[Any], inputs: dict[str, list[int]], output: list[int], weights: dict[str, list[int]]) -> bytes:
    """An opset-20 model of ``nodes`` reading ``inputs`` (name: shape) and ``weights`` (random, name: shape), with
    one output y of shape ``output``."""
    onnx, np = _module("onnx"), _module("numpy")
    helper = onnx.helper
    rng = np.random.default_rng(0)

    def value(name: str, shape: list[int]) -> Any:
        return helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape)

    initializers = [
        onnx.numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.01, name)
        for name, shape in weights.items()
    ]
    graph = helper.make_graph(
        nodes, "calibrate", [value(n, s) for n, s in inputs.items()], [value("y", output)], initializers
    )
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    made.ir_version = 10
    return bytes(made.SerializeToString())


def _node(op: str, inputs: list[str], output: str = "y", attributes: dict[str, Any] | None = None) -> Any:
    return _module("onnx.helper").make_node(op, inputs, [output], **(attributes or {}))


def conv_graph(family: str, sizes: tuple[int, ...]) -> Graph:
    """A conv with a bias and 'same' padding: FLOPs = 2 * MACs; weights + bias, input + output at fp32."""
    c_in, c_out, hw, kernel, stride, groups = sizes
    out = (hw + 2 * (kernel // 2) - kernel) // stride + 1
    attributes = {"kernel_shape": [kernel] * 2, "strides": [stride] * 2, "pads": [kernel // 2] * 4, "group": groups}
    per_filter = c_in // groups * kernel * kernel
    shape = [1, c_in, hw, hw]
    graph = _model(
        [_node("Conv", ["x", "w", "b"], attributes=attributes)],
        {"x": shape},
        [1, c_out, out, out],
        {"w": [c_out, c_in // groups, kernel, kernel], "b": [c_out]},
    )
    work = Work(
        family,
        2 * c_out * out * out * per_filter,
        F32 * (c_out * per_filter + c_out),
        F32 * (c_in * hw * hw + c_out * out * out),
        (c_in, c_out, groups),
    )
    return Graph(graph, [shape], work)


def gemm_graph(family: str, sizes: tuple[int, ...]) -> Graph:
    """One vector through a fully connected layer: 2 * in * out FLOPs; weights + bias, input + output."""
    n_in, n_out = sizes
    graph = _model(
        [_node("Gemm", ["x", "w", "b"], attributes={"transB": 1})],
        {"x": [1, n_in]},
        [1, n_out],
        {"w": [n_out, n_in], "b": [n_out]},
    )
    work = Work(family, 2 * n_in * n_out, F32 * (n_in * n_out + n_out), F32 * (n_in + n_out), (n_in, n_out, 1))
    return Graph(graph, [[1, n_in]], work)


def pool_graph(family: str, op: str, sizes: tuple[int, ...]) -> Graph:
    """A pooling: one FLOP per window element of each output (global: per input element); input + output."""
    if op == "GlobalAveragePool":
        channels, hw = sizes
        kernel, out, attributes = hw, 1, {}
    else:
        channels, hw, kernel, stride = sizes
        pad = kernel // 2 if op == "MaxPool" else 0
        out = (hw + 2 * pad - kernel) // stride + 1
        attributes = {"kernel_shape": [kernel] * 2, "strides": [stride] * 2, "pads": [pad] * 4}
    shape = [1, channels, hw, hw]
    graph = _model([_node(op, ["x"], attributes=attributes)], {"x": shape}, [1, channels, out, out], {})
    outputs = channels * out * out
    return Graph(graph, [shape], Work(family, outputs * kernel * kernel, 0, F32 * (channels * hw * hw + outputs)))


def elementwise_graph(family: str, op: str, sizes: tuple[int, ...]) -> Graph:
    """Add, Mul (1 FLOP per element, 3 tensors), Concat of two (no FLOPs, 4 halves moved), SiLU as exporters write it
    (Sigmoid and Mul, which onnxruntime fuses: 2 FLOPs), LayerNormalization over the channels of a channels-last map
    (5 FLOPs), other activations (1 FLOP); input + output."""
    channels, height, width = sizes
    shape = [1, channels, height, width]
    elements = channels * height * width
    if op in ("Add", "Mul", "Concat"):
        out = [1, 2 * channels, height, width] if op == "Concat" else shape
        attributes = {"axis": 1} if op == "Concat" else {}
        graph = _model([_node(op, ["x", "z"], attributes=attributes)], {"x": shape, "z": shape}, out, {})
        flops, moved = (0, 4) if op == "Concat" else (elements, 3)
        return Graph(graph, [shape, shape], Work(family, flops, 0, moved * F32 * elements))
    if op == "SiLU":
        nodes, flops = [_node("Sigmoid", ["x"], "s"), _node("Mul", ["x", "s"])], 2 * elements
        graph = _model(nodes, {"x": shape}, shape, {})
    elif op == "LayerNormalization":
        shape = [1, height, width, channels]
        nodes, flops = [_node(op, ["x", "g", "b"], attributes={"axis": -1, "epsilon": 1e-6})], 5 * elements
        graph = _model(nodes, {"x": shape}, shape, {"g": [channels], "b": [channels]})
    else:
        graph, flops = _model([_node(op, ["x"])], {"x": shape}, shape, {}), elements
    return Graph(graph, [shape], Work(family, flops, 0, 2 * F32 * elements))


def case_graph(case: Case) -> Graph:
    """A micro-benchmark's graph and work."""
    if case.op == "conv":
        return conv_graph(case.family, case.sizes)
    if case.op == "Gemm":
        return gemm_graph(case.family, case.sizes)
    if case.family == "pooling":
        return pool_graph(case.family, case.op, case.sizes)
    return elementwise_graph(case.family, case.op, case.sizes)


def add_chain(floats: int, count: int) -> Graph:
    """``count`` Adds in a chain, each adding z to the one before, on vectors of ``floats``."""
    nodes = [
        _node("Add", ["x" if i == 0 else f"t{i}", "z"], "y" if i == count - 1 else f"t{i + 1}") for i in range(count)
    ]
    shape = [floats]
    graph = _model(nodes, {"x": shape, "z": shape}, shape, {})
    return Graph(graph, [shape, shape], Work("elementwise", count * floats, 0, 3 * F32 * floats * count))


# ---------------------------------------------------------------- runs


class Runner:
    """onnxruntime sessions on ``threads`` intra-op threads, one inter-op thread, sequential, CPU provider."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.ort = _module("onnxruntime")
        self.np = _module("numpy")

    def session(self, graph: bytes, profile_prefix: str | None = None) -> Any:
        options = self.ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = self.ort.ExecutionMode.ORT_SEQUENTIAL
        if profile_prefix is not None:
            options.enable_profiling = True
            options.profile_file_prefix = profile_prefix
        return self.ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def feeds(self, shapes: list[list[int]]) -> dict[str, Any]:
        rng = self.np.random.default_rng(1)
        return {
            name: rng.standard_normal(shape).astype(self.np.float32) for name, shape in zip("xz", shapes, strict=False)
        }

    def best(self, graph: Graph, times: int) -> float:
        """The best wall time of a run of ``graph``."""
        session, feeds = self.session(graph.model), self.feeds(graph.shapes)
        return best(lambda: session.run(None, feeds), times)

    def matmul(self, n: int) -> float:
        """Best seconds of an n x n by n x n MatMul (2 * n^3 FLOPs)."""
        graph = _model([_node("MatMul", ["x", "w"])], {"x": [n, n]}, [n, n], {"w": [n, n]})
        return self.best(Graph(graph, [[n, n]], Work("dense", 2 * n**3, 0, 0)), 5)

    def one_node_run(self, runs: int = 201) -> float:
        """Median wall seconds of a run of one Add on 256 floats: what a runtime spends on a node besides its
        kernel."""
        graph = add_chain(256, 1)
        session, feeds = self.session(graph.model), self.feeds(graph.shapes)
        session.run(None, feeds)
        return statistics.median(timed(lambda: session.run(None, feeds)) for _ in range(runs))

    def add_bandwidth(self, floats: int) -> float:
        """Bytes/s of an Add on ``floats`` per operand: 4 more Adds' bytes (3 * 4 * floats each) over their time,
        (best of a chain of 5 - best of 1)."""
        times = repeats(floats)
        more = self.best(add_chain(floats, 5), times) - self.best(add_chain(floats, 1), times)
        return 4 * 3 * F32 * floats / max(more, 1e-9)

    def kernel_time(self, graph: Graph, folder: str, runs: int = 7) -> float:
        """Median over ``runs`` of the kernel seconds of the graph's own nodes (onnxruntime's profiler; its layout
        Reorder nodes left out)."""
        session = self.session(graph.model, str(Path(folder) / "calibrate"))
        feeds = self.feeds(graph.shapes)
        for _ in range(runs + 1):
            session.run(None, feeds)
        events = json.loads(Path(session.end_profiling()).read_text())
        per_run: list[float] = []
        for event in events:
            if event.get("cat") == "Session" and event.get("name") == "model_run":
                per_run.append(0.0)
            elif _own_kernel(event) and per_run:
                per_run[-1] += event["dur"] * 1e-6
        return statistics.median(per_run[-runs:])


def _own_kernel(event: dict[str, Any]) -> bool:
    """A profiler event of a node's kernel, not of a layout Reorder onnxruntime added."""
    return (
        event.get("cat") == "Node"
        and event["name"].endswith("_kernel_time")
        and event["args"].get("op_name") not in ("ReorderInput", "ReorderOutput")
    )
