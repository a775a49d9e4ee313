"""Prototype of `convcalc calibrate`: this machine's peak, bandwidth, per-family efficiency and per-node overhead.

What it measures, with onnxruntime on one thread (the settings of benchmarks/latency_measure.py), in about a minute:

- peak compute: a 1024 x 1024 x 1024 MatMul (2 * 1024**3 FLOPs) and the best dense 3x3 conv below, in FLOP/s;
- memory bandwidth: an Add of two tensors of N floats (bytes = 3 * 4 * N) for working sets from 96 KiB to 384 MiB
  (the largest is DRAM's; the small ones are the caches', where batch-1 activations live), and numpy's copy of
  256 MiB (bytes = 2 * 4 * N);
- per layer family (dense, pointwise 1x1, depthwise and grouped convs, linear on one vector, element-wise
  arithmetic and copies, activations with a transcendental or a reduction, pooling), at a few sizes typical of
  ImageNet CNNs: the kernel time from onnxruntime's profiler, and the
  efficiency ``e = roofline / time`` with ``roofline = max(FLOPs / peak, bytes / bandwidth_DRAM)``, FLOPs = 2 * MACs
  (conv, linear) or one per output element (element-wise, pooling: one per window element), bytes = weights + inputs
  + outputs at fp32;
- per family, the fixed cost of a node: (wall time of a chain of 33 tiny nodes of the family - that of one) / 32, and
  the per-run overhead: the wall time of one tiny Add (subtracted from the bandwidth runs);
- the CPU's fp32 vector lanes (16 with AVX-512, 8 with AVX2): channels are computed in blocks of that many.

Run from the repository root with numpy, onnx and onnxruntime installed::

    python benchmarks/latency_calibrate_proto.py [-o benchmarks/data/latency_calibration.json]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # numpy's BLAS on one thread, as onnxruntime below
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "data" / "latency_calibration.json"
F32 = 4

# (family, op, parameters): conv (c_in, c_out, hw, kernel, stride, groups); others as named below
CASES: list[tuple[str, str, tuple[int, ...]]] = [
    ("dense", "conv", (3, 64, 224, 7, 2, 1)),
    ("dense", "conv", (3, 32, 224, 3, 2, 1)),
    ("dense", "conv", (64, 64, 56, 3, 1, 1)),
    ("dense", "conv", (128, 128, 28, 3, 1, 1)),
    ("dense", "conv", (256, 256, 14, 3, 1, 1)),
    ("dense", "conv", (512, 512, 7, 3, 1, 1)),
    ("dense", "conv", (32, 32, 112, 3, 1, 1)),
    ("pointwise", "conv", (16, 96, 112, 1, 1, 1)),
    ("pointwise", "conv", (64, 256, 56, 1, 1, 1)),
    ("pointwise", "conv", (256, 64, 56, 1, 1, 1)),
    ("pointwise", "conv", (144, 24, 56, 1, 1, 1)),
    ("pointwise", "conv", (512, 128, 28, 1, 1, 1)),
    ("pointwise", "conv", (960, 160, 7, 1, 1, 1)),
    ("depthwise", "conv", (32, 32, 112, 3, 1, 32)),
    ("depthwise", "conv", (144, 144, 56, 3, 2, 144)),
    ("depthwise", "conv", (192, 192, 28, 3, 1, 192)),
    ("depthwise", "conv", (576, 576, 14, 3, 1, 576)),
    ("depthwise", "conv", (960, 960, 7, 3, 1, 960)),
    ("depthwise", "conv", (240, 240, 28, 5, 1, 240)),
    ("grouped", "conv", (48, 48, 56, 3, 1, 6)),
    ("grouped", "conv", (128, 128, 56, 3, 1, 32)),
    ("grouped", "conv", (256, 256, 28, 3, 1, 32)),
    ("grouped", "conv", (208, 208, 28, 3, 1, 26)),
    ("grouped", "conv", (512, 512, 14, 3, 1, 32)),
    ("grouped", "conv", (1024, 1024, 7, 3, 1, 32)),
    ("grouped", "conv", (120, 120, 28, 3, 1, 5)),
    ("grouped", "conv", (336, 336, 14, 3, 1, 14)),
    ("grouped", "conv", (1344, 1344, 7, 3, 1, 28)),
    ("elementwise", "Add", (64, 56, 56)),
    ("elementwise", "Add", (256, 14, 14)),
    ("elementwise", "Mul", (96, 112, 112)),
    ("elementwise", "Concat", (128, 28, 28)),
    ("elementwise", "Concat", (58, 56, 56)),
    ("activation", "Sigmoid", (144, 56, 56)),
    ("activation", "SiLU", (96, 112, 112)),
    ("activation", "SiLU", (480, 14, 14)),
    ("activation", "Gelu", (384, 56, 56)),
    ("activation", "HardSwish", (240, 28, 28)),
    ("activation", "LayerNormalization", (96, 56, 56)),
    ("pooling", "MaxPool", (64, 112, 3, 2)),
    ("pooling", "AveragePool", (256, 28, 2, 2)),
    ("pooling", "GlobalAveragePool", (256, 56)),
    ("pooling", "GlobalAveragePool", (1280, 7)),
    ("linear", "Gemm", (144, 576)),
    ("linear", "Gemm", (1024, 256)),
    ("linear", "Gemm", (512, 1000)),
    ("linear", "Gemm", (1280, 1000)),
    ("linear", "Gemm", (4096, 4096)),
    ("linear", "Gemm", (25088, 4096)),
]
"""Sizes drawn from ResNet, MobileNet, EfficientNet, ResNeXt/RegNet and VGG layers at 224 x 224."""

BANDWIDTH_FLOATS = (8 * 1024, 32 * 1024, 128 * 1024, 512 * 1024, 2 * 1024 * 1024, 8 * 1024 * 1024, 32 * 1024 * 1024)
"""Floats per Add operand: working sets (3 tensors) of 96 KiB to 384 MiB, by fours."""


def _model(nodes: list[Any], inputs: list[Any], outputs: list[Any], initializers: list[Any]) -> bytes:
    from onnx import helper

    graph = helper.make_graph(nodes, "calibrate", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 10
    return bytes(model.SerializeToString())


def _tensor(name: str, shape: list[int]) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _weight(name: str, shape: list[int]) -> Any:
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 0.01, name)


def case_graph(op: str, sizes: tuple[int, ...]) -> tuple[bytes, list[list[int]], int, int]:
    """One node's model, its input shapes, FLOPs and bytes (weights + inputs + outputs, fp32)."""
    from onnx import helper

    if op == "conv":
        c_in, c_out, hw, kernel, stride, groups = sizes
        out = (hw + 2 * (kernel // 2) - kernel) // stride + 1
        weight = [c_out, c_in // groups, kernel, kernel]
        node = helper.make_node(
            "Conv",
            ["x", "w", "b"],
            ["y"],
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[kernel // 2] * 4,
            group=groups,
        )
        inits = [_weight("w", weight), _weight("b", [c_out])]
        macs = c_out * out * out * (c_in // groups) * kernel * kernel
        nbytes = F32 * (c_out * (c_in // groups) * kernel * kernel + c_out + c_in * hw * hw + c_out * out * out)
        model = _model([node], [_tensor("x", [1, c_in, hw, hw])], [_tensor("y", [1, c_out, out, out])], inits)
        return model, [[1, c_in, hw, hw]], 2 * macs, nbytes
    if op == "Gemm":
        n_in, n_out = sizes
        node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
        inits = [_weight("w", [n_out, n_in]), _weight("b", [n_out])]
        model = _model([node], [_tensor("x", [1, n_in])], [_tensor("y", [1, n_out])], inits)
        return model, [[1, n_in]], 2 * n_in * n_out, F32 * (n_in * n_out + n_out + n_in + n_out)
    if op in ("MaxPool", "AveragePool"):
        channels, hw, kernel, stride = sizes
        out = (hw + 2 * (kernel // 2) - kernel) // stride + 1 if op == "MaxPool" else hw // stride
        pads = [kernel // 2] * 4 if op == "MaxPool" else [0] * 4
        node = helper.make_node(op, ["x"], ["y"], kernel_shape=[kernel, kernel], strides=[stride, stride], pads=pads)
        shape, out_shape = [1, channels, hw, hw], [1, channels, out, out]
        model = _model([node], [_tensor("x", shape)], [_tensor("y", out_shape)], [])
        outputs = channels * out * out
        return model, [shape], outputs * kernel * kernel, F32 * (channels * hw * hw + outputs)
    if op == "GlobalAveragePool":
        channels, hw = sizes
        node = helper.make_node(op, ["x"], ["y"])
        shape = [1, channels, hw, hw]
        model = _model([node], [_tensor("x", shape)], [_tensor("y", [1, channels, 1, 1])], [])
        return model, [shape], channels * hw * hw, F32 * (channels * hw * hw + channels)
    channels, height, width = sizes
    shape = [1, channels, height, width]
    elements = channels * height * width
    if op in ("Add", "Mul"):
        node = helper.make_node(op, ["x", "z"], ["y"])
        model = _model([node], [_tensor("x", shape), _tensor("z", shape)], [_tensor("y", shape)], [])
        return model, [shape, shape], elements, 3 * F32 * elements
    if op == "Concat":
        node = helper.make_node(op, ["x", "z"], ["y"], axis=1)
        out_shape = [1, 2 * channels, height, width]
        model = _model([node], [_tensor("x", shape), _tensor("z", shape)], [_tensor("y", out_shape)], [])
        return model, [shape, shape], 0, 4 * F32 * elements
    if op == "SiLU":  # x * sigmoid(x), as exporters write it; onnxruntime fuses the pair
        nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["y"])]
        model = _model(nodes, [_tensor("x", shape)], [_tensor("y", shape)], [])
        return model, [shape], 2 * elements, 2 * F32 * elements
    if op == "LayerNormalization":  # over the channels of a channels-last map, as ConvNeXt's
        last = [1, height, width, channels]
        node = helper.make_node(op, ["x", "g", "b"], ["y"], axis=-1, epsilon=1e-6)
        inits = [_weight("g", [channels]), _weight("b", [channels])]
        model = _model([node], [_tensor("x", last)], [_tensor("y", last)], inits)
        return model, [last], 5 * elements, 2 * F32 * elements
    node = helper.make_node(op, ["x"], ["y"])
    model = _model([node], [_tensor("x", shape)], [_tensor("y", shape)], [])
    return model, [shape], elements, 2 * F32 * elements


def _session(model: bytes, profile_prefix: str | None = None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _feeds(shapes: list[list[int]]) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(1)
    return {
        name: rng.standard_normal(shape).astype(np.float32)
        for name, shape in zip(("x", "z")[: len(shapes)], shapes, strict=True)
    }


def kernel_time(model: bytes, shapes: list[list[int]], runs: int, folder: str) -> tuple[float, float, dict[str, float]]:
    """(median kernel seconds of the graph's own nodes, median wall seconds of a run, median seconds per node op)."""
    sess = _session(model, str(Path(folder) / "calibrate"))
    feeds = _feeds(shapes)
    sess.run(None, feeds)
    walls = []
    for _ in range(runs):
        begin = time.perf_counter()
        sess.run(None, feeds)
        walls.append(time.perf_counter() - begin)
    events = json.loads(Path(sess.end_profiling()).read_text())
    per_run: list[dict[str, float]] = []
    for event in events:
        if event.get("cat") == "Session" and event.get("name") == "model_run":
            per_run.append({})
        elif event.get("cat") == "Node" and event["name"].endswith("_kernel_time") and per_run:
            op = event["args"].get("op_name", "?")
            per_run[-1][op] = per_run[-1].get(op, 0.0) + event["dur"] * 1e-6
    per_run = per_run[-runs:]
    reorders = ("ReorderInput", "ReorderOutput")
    own = statistics.median(sum(t for op, t in run.items() if op not in reorders) for run in per_run)
    ops = {op: statistics.median(run.get(op, 0.0) for run in per_run) for op in per_run[-1]}
    return own, statistics.median(walls), ops


def _best(function: Any, repeats: int) -> float:
    function()
    return min(_timed(function) for _ in range(repeats))


def _timed(function: Any) -> float:
    begin = time.perf_counter()
    function()
    return time.perf_counter() - begin


def bandwidth() -> tuple[list[dict[str, float]], float]:
    """Per working-set size, onnxruntime's Add bandwidth in bytes/s: (best time of a chain of 5 Adds - of 1) / 4 per
    Add of 3 * 4 * N bytes; and numpy's copy of 256 MiB (2 * 4 * N bytes)."""
    import numpy as np
    from onnx import helper

    curve = []
    for floats in BANDWIDTH_FLOATS:
        shape = [floats]
        seconds = []
        for count in (1, 5):
            nodes = [helper.make_node("Add", [f"t{i}", "z"], [f"t{i + 1}"]) for i in range(count)]
            nodes[0].input[0] = "x"
            nodes[-1].output[0] = "y"
            model = _model(nodes, [_tensor("x", shape), _tensor("z", shape)], [_tensor("y", shape)], [])
            sess = _session(model)
            feeds = _feeds([shape, shape])
            run = functools.partial(sess.run, None, feeds)
            seconds.append(_best(run, max(5, min(200, (64 * 1024 * 1024) // floats))))
        curve.append(
            {"working_set_bytes": 3 * F32 * floats, "bytes_per_s": 3 * F32 * floats * 4 / (seconds[1] - seconds[0])}
        )
    source = np.ones(64 * 1024 * 1024, np.float32)
    target = np.empty_like(source)
    copy = _best(lambda: np.copyto(target, source), 5)
    return curve, 2 * source.nbytes / copy


def peak_matmul() -> tuple[float, float]:
    """onnxruntime's and numpy's 1024^3 MatMul, FLOP/s (best of 5)."""
    import numpy as np
    from onnx import helper

    n = 1024
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    model = _model([node], [_tensor("x", [n, n])], [_tensor("y", [n, n])], [_weight("w", [n, n])])
    sess = _session(model)
    feeds = _feeds([[n, n]])
    ort_seconds = _best(lambda: sess.run(None, feeds), 5)
    a = np.random.default_rng(2).standard_normal((n, n)).astype(np.float32)
    numpy_seconds = _best(lambda: a @ a, 5)
    return 2 * n**3 / ort_seconds, 2 * n**3 / numpy_seconds


TINY: dict[str, tuple[str, dict[str, Any], list[int], list[int]]] = {
    "dense": ("Conv", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, [1, 16, 4, 4], [16, 16, 3, 3]),
    "pointwise": ("Conv", {"kernel_shape": [1, 1]}, [1, 16, 4, 4], [16, 16, 1, 1]),
    "depthwise": ("Conv", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 16}, [1, 16, 4, 4], [16, 1, 3, 3]),
    "grouped": ("Conv", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 2}, [1, 16, 4, 4], [16, 8, 3, 3]),
    "linear": ("Conv", {"kernel_shape": [1, 1]}, [1, 16, 1, 1], [16, 16, 1, 1]),
    "elementwise": ("Add", {}, [1, 16, 4, 4], [1, 16, 4, 4]),
    "activation": ("Sigmoid", {}, [1, 16, 4, 4], []),
    "pooling": ("MaxPool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, [1, 16, 4, 4], []),
}
"""Per family, a node on a tiny tensor: (op, attributes, input shape, second operand's shape: a constant)."""


def _chain(family: str, nodes: int) -> tuple[bytes, list[int]]:
    """``nodes`` tiny nodes of a family, each reading the one before (shapes kept)."""
    from onnx import helper

    op, attributes, shape, operand = TINY[family]
    chain = []
    for i in range(nodes):
        inputs = [f"t{i}"] + (["w"] if operand else [])
        chain.append(helper.make_node(op, inputs, [f"t{i + 1}"], **attributes))
    chain[0].input[0] = "x"
    chain[-1].output[0] = "y"
    inits = [_weight("w", operand)] if operand else []
    return _model(chain, [_tensor("x", shape)], [_tensor("y", shape)], inits), shape


def _wall(model: bytes, shape: list[int], runs: int = 201) -> float:
    sess = _session(model)
    feeds = _feeds([shape])
    sess.run(None, feeds)
    return statistics.median(_timed(lambda: sess.run(None, feeds)) for _ in range(runs))


def overhead(nodes: int = 33) -> tuple[dict[str, float], float]:
    """Per family, the seconds of one more tiny node in a chain ((wall of ``nodes`` - wall of 1) / (nodes - 1)); and
    the seconds of a run of one tiny node (the run's own overhead)."""
    per_node = {}
    single = 0.0
    for family in TINY:
        one = _wall(*_chain(family, 1))
        many = _wall(*_chain(family, nodes))
        per_node[family] = max(many - one, 0.0) / (nodes - 1)
        if family == "elementwise":
            single = one
    return per_node, single


def lanes() -> int:
    """fp32 lanes of the widest vector unit the CPU states (/proc/cpuinfo flags): 16 (AVX-512), 8 (AVX), 4."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text().split() if cpuinfo.is_file() else []
    return 16 if "avx512f" in flags else 8 if "avx" in flags else 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    import onnxruntime as ort

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        ort_peak, numpy_peak = peak_matmul()
        per_node, per_run = overhead()
        curve, numpy_copy = bandwidth()
        dram = curve[-1]["bytes_per_s"]
        cases = []
        for family, op, sizes in CASES:
            model, shapes, flops, nbytes = case_graph(op, sizes)
            seconds, wall, ops = kernel_time(model, shapes, arguments.runs, folder)
            cases.append(
                {
                    "family": family,
                    "op": op,
                    "sizes": list(sizes),
                    "flops": flops,
                    "bytes": nbytes,
                    "kernel_s": seconds,
                    "wall_s": wall,
                    "ops_s": ops,
                }
            )
    peak = max(ort_peak, *(case["flops"] / case["kernel_s"] for case in cases if case["family"] == "dense"))
    for case in cases:
        roofline = max(case["flops"] / peak, case["bytes"] / dram)
        case["efficiency"] = roofline / case["kernel_s"]
    families: dict[str, float] = {}
    for family in dict.fromkeys(case["family"] for case in cases):
        values = [case["efficiency"] for case in cases if case["family"] == family]
        families[family] = statistics.geometric_mean(values)
    document = {
        "about": "prototype of `convcalc calibrate`: benchmarks/latency_calibrate_proto.py (see its docstring)",
        "onnxruntime": ort.__version__,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_flops": peak,
        "peak_matmul_onnxruntime_flops": ort_peak,
        "peak_matmul_numpy_flops": numpy_peak,
        "bandwidth_bytes_per_s": dram,
        "bandwidth_numpy_copy_bytes_per_s": numpy_copy,
        "bandwidth_curve": curve,
        "overhead_s_per_node": per_node,
        "vector_lanes_fp32": lanes(),
        "overhead_s_per_run": per_run,
        "efficiency": families,
        "cases": cases,
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(document, indent=1) + "\n")
    print(f"peak {peak / 1e9:.1f} GFLOP/s (MatMul: onnxruntime {ort_peak / 1e9:.1f}, numpy {numpy_peak / 1e9:.1f})")
    print(
        "bandwidth "
        + ", ".join(f"{p['working_set_bytes'] / 2**20:.2f} MiB: {p['bytes_per_s'] / 1e9:.1f}" for p in curve)
        + f" GB/s; numpy copy {numpy_copy / 1e9:.1f} GB/s"
    )
    print(
        "overhead per node "
        + ", ".join(f"{family} {value * 1e6:.2f}" for family, value in per_node.items())
        + f" us; {per_run * 1e6:.2f} us per run"
    )
    for case in cases:
        print(
            f"  {case['family']:11s} {case['op']:17s} {case['sizes']!s:28s} {case['kernel_s'] * 1e6:9.1f} us"
            f"  e={case['efficiency']:.3f}"
        )
    print("efficiency " + ", ".join(f"{family} {value:.3f}" for family, value in families.items()))
    print(f"{document['seconds']} s; wrote {arguments.output}")


if __name__ == "__main__":
    main()
