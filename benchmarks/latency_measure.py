"""Measured CPU latency of >= 20 CNNs with onnxruntime: the ground truth for issue 24's latency estimates.

Each network (torchvision's or timm's builder, random weights, eval mode) is exported to ONNX (opset 20, weights kept,
batch norm folded into the convs by the exporter as in deployment) and run by onnxruntime on this machine's CPU:
CPUExecutionProvider, one intra-op and one inter-op thread, sequential execution, batch 1, fp32, and onnxruntime's
default graph optimisation level (ORT_ENABLE_ALL: constant folding, conv + activation fusion, the NCHWc layout
transformer). Each session is warmed up (``--warmup`` runs), then ``--runs`` rounds time every network once per round
(interleaved, so that a burst of load from another process spreads over all networks rather than one); the median
of a network's runs is its latency. A second session per network with ``enable_profiling`` gives each node's kernel
time (median over ``--profile-runs`` runs), kept per node and summed per ONNX op type, so that per-layer estimates
can be checked per layer family.

Run from the repository root, in an environment with torch, onnx, onnxruntime and timm (the ``peers`` setup of
tools/peer_models.py: TVSRC names the unpacked torchvision wheel's ``torchvision/`` folder, PEERS_TVMODELS the folder
of tvmodels.py and timmmodels.py)::

    TVSRC=... PEERS_TVMODELS=... python benchmarks/latency_measure.py            # all networks, ~10 minutes
    TVSRC=... PEERS_TVMODELS=... python benchmarks/latency_measure.py --only resnet18 mobilenet_v2 -o some.json

ONNX exports go to $CONVCALC_LATENCY_CACHE (default: benchmarks/.cache/latency, ignored by git); an export already
there is reused. Writes benchmarks/data/latency_measured.json (``-o`` for another file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "data" / "latency_measured.json"
OPSET = 20


def cache_dir() -> Path:
    """$CONVCALC_LATENCY_CACHE, or benchmarks/.cache/latency (gitignored)."""
    return Path(os.environ.get("CONVCALC_LATENCY_CACHE", REPO / "benchmarks" / ".cache" / "latency"))


@dataclass(frozen=True)
class Network:
    """One measured network: where its module comes from, its input (C, H, W) and the bundled spec it is, if any."""

    name: str
    source: str  # "torchvision" or "timm"
    builder: tuple[str, ...]  # torchvision: (module, builder); timm: (model name,)
    input_shape: tuple[int, int, int] = (3, 224, 224)
    spec: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def onnx_name(self) -> str:
        return f"{self.name}.onnx"


NETWORKS: tuple[Network, ...] = (
    # torchvision's networks that are bundled specs (tools/peer_models.py's TORCHVISION)
    Network("alexnet", "torchvision", ("alexnet", "alexnet"), spec="alexnet-torchvision"),
    Network("convnext_tiny", "torchvision", ("convnext", "convnext_tiny"), spec="convnext_tiny"),
    Network("densenet121", "torchvision", ("densenet", "densenet121"), spec="densenet121"),
    Network("efficientnet_b0", "torchvision", ("efficientnet", "efficientnet_b0"), spec="efficientnet_b0"),
    Network(
        "inception_v3",
        "torchvision",
        ("inception", "inception_v3"),
        (3, 299, 299),
        "inception_v3",
        {"init_weights": False},
    ),
    Network("mobilenet_v2", "torchvision", ("mobilenetv2", "mobilenet_v2"), spec="mobilenet_v2"),
    Network("mobilenet_v3_large", "torchvision", ("mobilenetv3", "mobilenet_v3_large"), spec="mobilenet_v3_large"),
    Network("regnet_y_400mf", "torchvision", ("regnet", "regnet_y_400mf"), spec="regnet_y_400mf"),
    Network("resnet18", "torchvision", ("resnet", "resnet18"), spec="resnet18"),
    Network("resnet50", "torchvision", ("resnet", "resnet50"), spec="resnet50"),
    Network("resnext50_32x4d", "torchvision", ("resnet", "resnext50_32x4d"), spec="resnext50_32x4d"),
    Network("shufflenet_v2_x1_0", "torchvision", ("shufflenetv2", "shufflenet_v2_x1_0"), spec="shufflenet_v2_x1_0"),
    Network("squeezenet1_0", "torchvision", ("squeezenet", "squeezenet1_0"), spec="squeezenet1_0"),
    Network("vgg16", "torchvision", ("vgg", "vgg16"), spec="vgg16"),
    # more of torchvision's, for spread
    Network(
        "googlenet",
        "torchvision",
        ("googlenet", "googlenet"),
        kwargs={"aux_logits": False, "init_weights": False},
    ),
    Network("resnet34", "torchvision", ("resnet", "resnet34")),
    Network("resnet101", "torchvision", ("resnet", "resnet101")),
    Network("mobilenet_v3_small", "torchvision", ("mobilenetv3", "mobilenet_v3_small")),
    Network("mnasnet1_0", "torchvision", ("mnasnet", "mnasnet1_0")),
    Network("shufflenet_v2_x0_5", "torchvision", ("shufflenetv2", "shufflenet_v2_x0_5")),
    Network("squeezenet1_1", "torchvision", ("squeezenet", "squeezenet1_1")),
    Network("regnet_x_400mf", "torchvision", ("regnet", "regnet_x_400mf")),
    Network("regnet_y_1_6gf", "torchvision", ("regnet", "regnet_y_1_6gf")),
    Network("efficientnet_b1", "torchvision", ("efficientnet", "efficientnet_b1"), (3, 240, 240)),
    Network("vgg11", "torchvision", ("vgg", "vgg11")),
    # timm's
    Network("ghostnet_100", "timm", ("ghostnet_100",)),
    Network("mobilenetv1_100", "timm", ("mobilenetv1_100",)),
    Network("efficientnet_lite0", "timm", ("efficientnet_lite0",)),
    Network("mixnet_s", "timm", ("mixnet_s",)),
    Network("lcnet_100", "timm", ("lcnet_100",)),
)


def _peer_tools() -> None:
    folder = os.environ.get("PEERS_TVMODELS", "")
    if not folder or not (Path(folder) / "tvmodels.py").is_file():
        sys.exit("set PEERS_TVMODELS to the folder of tvmodels.py and timmmodels.py (and TVSRC, see their docstrings)")
    if folder not in sys.path:
        sys.path.append(folder)


def build(network: Network) -> Any:
    """The network's torch module in eval mode, random weights (never downloaded)."""
    import importlib

    _peer_tools()
    if network.source == "torchvision":
        module, builder = network.builder
        return importlib.import_module("tvmodels").model(module, builder, **network.kwargs).eval()
    return importlib.import_module("timmmodels").model(network.builder[0], **network.kwargs).eval()


def export(network: Network) -> Path:
    """The network's ONNX file in the cache, exported once (eval mode, opset 20, weights kept, batch 1)."""
    import torch

    path = cache_dir() / network.onnx_name
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    model = build(network)
    partial = path.with_suffix(".onnx.part")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, *network.input_shape),),
            str(partial),
            dynamo=False,
            opset_version=OPSET,
            input_names=["x"],
            output_names=["y"],
        )
    partial.replace(path)
    return path


def session(path: Path, profile_prefix: str | None = None) -> Any:
    """An onnxruntime CPU session: 1 intra-op and 1 inter-op thread, sequential, default optimisation level."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feed(network: Network) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    return {"x": rng.standard_normal((1, *network.input_shape)).astype(np.float32)}


def _weight_shape(inputs: list[dict[str, list[int]]]) -> list[int] | None:
    shapes = [next(iter(entry.values())) for entry in inputs]
    return shapes[1] if len(shapes) > 1 else None


def profile(network: Network, path: Path, warmup: int, runs: int) -> dict[str, Any]:
    """Per node kernel time (median over runs, microseconds) and its sum per op type, from onnxruntime's profiler."""
    with tempfile.TemporaryDirectory() as folder:
        sess = session(path, str(Path(folder) / network.name))
        feed = _feed(network)
        for _ in range(warmup):
            sess.run(None, feed)
        for _ in range(runs):
            sess.run(None, feed)
        events = json.loads(Path(sess.end_profiling()).read_text())
    durations: dict[str, list[float]] = {}
    nodes: dict[str, dict[str, Any]] = {}
    run_totals: list[float] = []
    for event in events:
        if event.get("cat") == "Session" and event.get("name") == "model_run":
            run_totals.append(float(event["dur"]))
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        name = event["name"][: -len("_kernel_time")]
        args = event["args"]
        durations.setdefault(name, []).append(float(event["dur"]))
        nodes.setdefault(
            name,
            {
                "name": name,
                "op": args.get("op_name", "?"),
                "weight": _weight_shape(args.get("input_type_shape", [])),
                "input": next(iter(args["input_type_shape"][0].values())) if args.get("input_type_shape") else None,
                "output": next(iter(args["output_type_shape"][0].values())) if args.get("output_type_shape") else None,
            },
        )
    kept = runs  # the warm-up runs' events come first: keep each node's last `runs` durations
    per_node = []
    per_op: dict[str, dict[str, float]] = {}
    for name, node in nodes.items():
        median_us = statistics.median(durations[name][-kept:])
        per_node.append({**node, "us": round(median_us, 1)})
        entry = per_op.setdefault(node["op"], {"nodes": 0, "us": 0.0})
        entry["nodes"] += 1
        entry["us"] = round(entry["us"] + median_us, 1)
    return {
        "runs": runs,
        "model_run_us_median": round(statistics.median(run_totals[-kept:]), 1) if run_totals else None,
        "kernel_us_total": round(sum(node["us"] for node in per_node), 1),
        "per_op_type": dict(sorted(per_op.items(), key=lambda item: -item[1]["us"])),
        "per_node": per_node,
    }


def machine() -> dict[str, Any]:
    import onnxruntime as ort
    import torch

    info: dict[str, str] = {}
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []:
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    flags = [flag for flag in info.get("flags", "").split() if flag.startswith(("avx", "fma", "f16c", "amx"))]
    return {
        "cpu": info.get("model name", "unknown"),
        "cpu_family_model_stepping": [info.get(key) for key in ("cpu family", "model", "stepping")],
        "cpu_mhz": info.get("cpu MHz"),
        "cache_size": info.get("cache size"),
        "cpu_flags": flags,
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "torch": torch.__version__,
        "numpy": __import__("numpy").__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="network names (default: all)")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per network (default 9)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--profile-runs", type=int, default=5, help="profiled runs per network (default 5)")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    arguments = parser.parse_args()
    chosen = [network for network in NETWORKS if not arguments.only or network.name in arguments.only]
    started = time.perf_counter()
    failed: dict[str, str] = {}
    paths: dict[str, Path] = {}
    for network in chosen:
        try:
            paths[network.name] = export(network)
        except Exception as error:
            failed[network.name] = f"export: {type(error).__name__}: {error}"
            print(f"{network.name}: {failed[network.name]}", file=sys.stderr)
    exported = time.perf_counter()
    measured = [network for network in chosen if network.name in paths]
    sessions = {network.name: session(paths[network.name]) for network in measured}
    feeds = {network.name: _feed(network) for network in measured}
    times: dict[str, list[float]] = {network.name: [] for network in measured}
    loads = [os.getloadavg()[0]]
    for network in measured:
        for _ in range(arguments.warmup):
            sessions[network.name].run(None, feeds[network.name])
    for _ in range(arguments.runs):
        for network in measured:
            begin = time.perf_counter()
            sessions[network.name].run(None, feeds[network.name])
            times[network.name].append(time.perf_counter() - begin)
        loads.append(os.getloadavg()[0])
    del sessions
    timed = time.perf_counter()
    results = []
    for network in measured:
        runs = times[network.name]
        print(f"{network.name:22s} {statistics.median(runs) * 1e3:9.2f} ms", flush=True)
        results.append(
            {
                "name": network.name,
                "source": network.source,
                "builder": ".".join(network.builder),
                "builder_kwargs": network.kwargs,
                "convcalc": {"spec": network.spec, "onnx": network.onnx_name},
                "input_shape": [1, *network.input_shape],
                "onnx_bytes": paths[network.name].stat().st_size,
                "median_s": statistics.median(runs),
                "runs_s": runs,
                "profile": profile(network, paths[network.name], 1, arguments.profile_runs),
            }
        )
    finished = time.perf_counter()
    document = {
        "about": "onnxruntime CPU latency, batch 1, fp32; written by benchmarks/latency_measure.py (see its docstring)",
        "machine": machine(),
        "settings": {
            "provider": "CPUExecutionProvider",
            "intra_op_num_threads": 1,
            "inter_op_num_threads": 1,
            "execution_mode": "ORT_SEQUENTIAL",
            "graph_optimization_level": "ORT_ENABLE_ALL (onnxruntime's default)",
            "opset": OPSET,
            "export": "torch.onnx.export(dynamo=False), eval mode: batch norm folded into the convs",
            "warmup_runs": arguments.warmup,
            "timed_runs": arguments.runs,
            "profile_runs": arguments.profile_runs,
            "load_average_1min": [round(load, 2) for load in loads],
        },
        "seconds": {
            "export": round(exported - started, 1),
            "timing": round(timed - exported, 1),
            "profiling": round(finished - timed, 1),
        },
        "failed": failed,
        "networks": results,
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {arguments.output} ({finished - started:.0f} s; failed: {sorted(failed) or 'none'})")


if __name__ == "__main__":
    main()
