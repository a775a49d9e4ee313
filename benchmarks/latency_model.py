"""Prototype latency estimators for issue 24, scored against benchmarks/data/latency_measured.json.

The record of the study's variants and ablations (benchmarks/latency_study.md). The recommended one ('calibrated,
run overhead') is convcalc's latency pass now, convcalc/passes/latency.py; benchmarks/latency_validate.py scores
that. This script reads the prototype calibration's format (benchmarks/data/latency_calibration.json).

Per layer, from convcalc's own counts (``convcalc.analyze`` of the ONNX export that onnxruntime ran, or of the
bundled spec of the same network with ``--spec``):

- fusion as onnxruntime's CPU provider does at its default level: a conv or linear absorbs a batch norm, an activation
  (relu, relu6, hardswish, hardsigmoid, sigmoid, tanh, leaky_relu) and a residual add (+ activation) that follow it
  and are its output's only reader; every other layer is a node of its own;
- FLOPs = 2 * MACs for conv and linear, convcalc's FLOPs otherwise;
  bytes = weights + inputs + outputs at fp32 (a fused add adds the read of its other input);
- its family: dense, pointwise (1x1), depthwise, grouped (by channels per group) convs; linear on one vector
  (and 1x1 convs on a 1x1 map); pointwise also for a linear applied at every position; element-wise arithmetic and
  copies (add, multiply, scale, concat, slice, shuffles, a lone batch norm); activation (a lone transcendental
  activation, layer norm); pooling.

Estimators (t: seconds of one run; o: the calibrated per-node overhead):

- ``macs``: t = k * MACs, k the single scale minimising MAPE over all networks (in-sample: flatters the baseline);
- ``roofline``: t = sum over nodes of max(FLOPs / peak, bytes / bandwidth) + o, peak and DRAM bandwidth calibrated;
- ``roofline+family``: each node's roofline divided by its family's efficiency from the micro-benchmark;
- ``cache+family``: the bandwidth of a node is the calibrated bandwidth at its working set (bytes), interpolated
  log-log on the curve from cache to DRAM; efficiencies recomputed from the micro-benchmark on the same roofline;
  grouped convs' efficiency interpolated by channels per group;
- ``cache+fit``: the same, but each family's (efficiency, overhead) fitted on the micro-benchmark's sizes
  (time = roofline / e + o_family, least squares in relative error), not on the networks;
- ``loo``: per-family efficiencies fitted on the other networks' profiled per-family times, one network left out.

Run from the repository root (plain Python: convcalc from the checkout, no numpy; the ONNX exports from
benchmarks/latency_measure.py's cache, $CONVCALC_LATENCY_CACHE)::

    python benchmarks/latency_model.py            # tables to stdout, figures to benchmarks/data/latency_study.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from latency_measure import cache_dir  # noqa: E402

DATA = REPO / "benchmarks" / "data"
F32 = 4
FUSED_ACTIVATIONS = {"relu", "relu6", "hardswish", "hardsigmoid", "sigmoid", "tanh", "leaky_relu"}
ACTIVATIONS = {
    "silu",
    "gelu",
    "sigmoid",
    "tanh",
    "hardswish",
    "hardsigmoid",
    "softmax",
    "layernorm",
    "groupnorm",
    "mish",
    "elu",
    "lrn",
}
POOLING = {"maxpool", "avgpool", "global_avgpool", "global_maxpool", "adaptive_avgpool", "adaptive_maxpool"}
FREE = {"flatten", "dropout", "identity", "reshape"}
FAMILIES = ("dense", "pointwise", "depthwise", "grouped", "linear", "elementwise", "activation", "pooling")


@dataclass
class Node:
    """One onnxruntime node as the estimator sees it: a convcalc layer and what was fused into it."""

    name: str
    family: str
    flops: int
    weight_bytes: int
    activation_bytes: int  # inputs + outputs
    channels: tuple[int, int, int] = (0, 0, 1)  # convs and linears: (c_in, c_out, groups)
    fused: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return self.weight_bytes + self.activation_bytes


def _elements(shape: Iterable[int]) -> int:
    return math.prod(shape)


def family_of(layer: Any) -> str | None:
    """The layer family of a convcalc layer (None: a view that costs nothing)."""
    kind = layer.type
    if kind == "conv":
        cfg = layer.config
        c_in = layer.input_shapes[0][0]
        groups = cfg.get("groups", 1)
        if layer.output_shape[1:] == (1, 1) and layer.input_shapes[0][1:] == (1, 1):
            return "linear"
        if groups == 1:
            kernel = cfg["kernel"]
            return "pointwise" if kernel in (1, (1, 1), [1, 1]) else "dense"
        return "depthwise" if groups == c_in else "grouped"
    if kind == "linear":
        return "pointwise" if layer.config.get("per_position") else "linear"
    if kind in FREE:
        return None
    if kind in POOLING:
        return "pooling"
    if kind in ACTIVATIONS:
        return "activation"
    return "elementwise"


def nodes_of(layers: list[Any]) -> list[Node]:
    """convcalc's layers as onnxruntime's nodes: fusions applied, FLOPs and bytes per node."""
    readers: dict[str, int] = {}
    for layer in layers:
        for name in layer.inputs:
            readers[name] = readers.get(name, 0) + 1
    nodes: list[Node] = []
    open_node: dict[str, Node] = {}  # a conv/linear node whose output may still absorb the next layer
    for layer in layers:
        family = family_of(layer)
        head = open_node.get(layer.inputs[0]) if len(layer.inputs) == 1 else None
        if layer.type in ("batchnorm", *FUSED_ACTIVATIONS) and head is not None:
            head.fused.append(layer.name)
            _reopen(open_node, readers, layer.inputs[0], layer.name)
            continue
        if layer.type == "add" and len(layer.inputs) == 2:
            heads = [name for name in layer.inputs if name in open_node]
            if heads:
                head = open_node[heads[0]]
                other = layer.input_shapes[1 - list(layer.inputs).index(heads[0])]
                head.fused.append(layer.name)
                head.activation_bytes += F32 * _elements(other)
                _reopen(open_node, readers, heads[0], layer.name)
                continue
        if family is None:
            continue
        weighted = layer.type in ("conv", "linear")
        flops = 2 * layer.macs if weighted else layer.flops
        activations = sum(F32 * _elements(shape) for shape in layer.input_shapes) + F32 * _elements(layer.output_shape)
        channels = (
            (layer.input_shapes[0][0], layer.output_shape[0], layer.config.get("groups", 1)) if weighted else (0, 0, 1)
        )
        node = Node(layer.name, family, flops, layer.weight_bytes if weighted else 0, activations, channels)
        nodes.append(node)
        if (weighted or layer.type == "batchnorm") and readers.get(layer.name, 0) == 1:
            open_node[layer.name] = node
    return nodes


def _reopen(open_node: dict[str, Node], readers: dict[str, int], old: str, new: str) -> None:
    node = open_node.pop(old)
    if readers.get(new, 0) == 1:
        open_node[new] = node


# ---------------------------------------------------------------- device: calibration and the rooflines


@dataclass(frozen=True)
class Model:
    """Which refinements of the plain roofline an estimator uses."""

    family: bool = False  # divide by the family's efficiency from the micro-benchmark
    cached: bool = False  # activations at the bandwidth of their size, weights at that of all the network's weights
    lanes: bool = False  # channels rounded up to the CPU's fp32 vector lanes
    fixed: bool = False  # each node costs its family's fixed time (tiny-node chains) instead of one overhead
    run_overhead: bool = False  # each node costs the calibrated overhead of a whole one-node run


@dataclass
class Device:
    """What an estimate needs of a machine: peak, DRAM bandwidth, its curve over working sets, overheads."""

    peak: float
    bandwidth: float
    curve: list[tuple[float, float]]
    overhead: dict[str, float]
    run: float
    lanes: int
    cases: list[dict[str, Any]]

    def bandwidth_at(self, nbytes: float) -> float:
        """Bandwidth at a working set of ``nbytes``: log-log interpolation on the curve, clamped at its ends."""
        return math.exp(_interpolate([(x, math.log(y)) for x, y in self.curve], nbytes))

    def node_overhead(self, family: str, model: Model) -> float:
        """A node's fixed seconds: a one-node run's overhead, its family's tiny-node cost, or the element-wise one."""
        if model.run_overhead:
            return self.run
        return self.overhead[family] if model.fixed else self.overhead["elementwise"]

    def padded(self, flops: float, family: str, channels: tuple[int, int, int], model: Model) -> float:
        """FLOPs with the channels rounded up to the vector lanes (NCHWc blocks): c_out always, c_in from one block
        on (a stem's 3 channels are read as they are); depthwise: the channels; grouped and linear: as they are."""
        if not model.lanes or family not in ("dense", "pointwise", "depthwise"):
            return flops
        c_in, c_out, _ = channels

        def up(c: int) -> float:
            return math.ceil(c / self.lanes) * self.lanes / c

        factor = up(c_out) if family == "depthwise" else up(c_out) * (up(c_in) if c_in >= self.lanes else 1.0)
        return flops * factor

    def roofline(self, node: Node, model: Model, weights_working_set: float) -> float:
        """max(FLOPs / peak, memory time): (weights + activations) / DRAM bandwidth, or (cached) weights at the
        bandwidth of the network's weights and activations at the bandwidth of their own size."""
        compute = self.padded(node.flops, node.family, node.channels, model) / self.peak
        if not model.cached:
            return max(compute, node.bytes / self.bandwidth)
        memory = node.weight_bytes / self.bandwidth_at(weights_working_set)
        return max(compute, memory + node.activation_bytes / self.bandwidth_at(node.activation_bytes))

    def case_roofline(self, case: dict[str, Any], model: Model) -> float:
        """A micro-benchmark case's roofline: all its bytes hot, at the bandwidth of its working set (cached)."""
        channels = (case["sizes"][0], case["sizes"][1], case["sizes"][5]) if case["op"] == "conv" else (0, 0, 1)
        compute = self.padded(case["flops"], case["family"], channels, model) / self.peak
        bandwidth = self.bandwidth_at(case["bytes"]) if model.cached else self.bandwidth
        return max(compute, case["bytes"] / bandwidth)


def device(calibration: dict[str, Any]) -> Device:
    curve = [(point["working_set_bytes"], point["bytes_per_s"]) for point in calibration["bandwidth_curve"]]
    return Device(
        calibration["peak_flops"],
        calibration["bandwidth_bytes_per_s"],
        sorted(curve),
        calibration["overhead_s_per_node"],
        calibration["overhead_s_per_run"],
        calibration["vector_lanes_fp32"],
        calibration["cases"],
    )


@dataclass
class Efficiency:
    """Per family: efficiency e (time = roofline / e). Grouped convs (with ``Model.lanes``): those whose channels per
    group are a multiple of the vector lanes (onnxruntime's NCHWc kernels) at their mean, the others interpolated
    by channels per group; without ``lanes``, all interpolated by channels per group."""

    e: dict[str, float]
    grouped: list[tuple[float, float]]
    aligned: float | None = None
    lanes: int = 0

    def of(self, node: Node) -> float:
        if node.family == "grouped" and self.grouped:
            per_group = node.channels[0] // node.channels[2]
            if self.aligned is not None and per_group % self.lanes == 0:
                return self.aligned
            return _interpolate(self.grouped, per_group)
        return self.e.get(node.family, 1.0)


def _interpolate(points: list[tuple[float, float]], x: float) -> float:
    """Piecewise linear in log(x), clamped at the ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            w = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return y0 + w * (y1 - y0)
    return points[-1][1]


def efficiencies(dev: Device, model: Model) -> Efficiency:
    """Per family, the geometric mean over the micro-benchmark's sizes of roofline / time (the time less the family's
    fixed node cost when the model adds it); grouped convs: the mean per channels-per-group, interpolated."""
    ratios: dict[str, list[float]] = {}
    by_group: dict[float, list[float]] = {}
    for case in dev.cases:
        seconds = case["kernel_s"]
        if model.fixed:
            seconds = max(seconds - dev.overhead[case["family"]], 0.1 * seconds)
        ratio = dev.case_roofline(case, model) / seconds
        ratios.setdefault(case["family"], []).append(ratio)
        if case["family"] == "grouped":
            per_group = case["sizes"][0] // case["sizes"][5]
            key = -1 if model.lanes and per_group % dev.lanes == 0 else per_group
            by_group.setdefault(key, []).append(ratio)
    e = {family: math.exp(sum(map(math.log, values)) / len(values)) for family, values in ratios.items()}
    aligned = by_group.pop(-1, None)
    grouped = sorted((group, sum(values) / len(values)) for group, values in by_group.items())
    if aligned is None:
        return Efficiency(e, grouped)
    return Efficiency(e, grouped, sum(aligned) / len(aligned), dev.lanes)


def estimate(nodes: list[Node], dev: Device, model: Model, eff: Efficiency | None) -> dict[str, float]:
    """Seconds per family (and ``total``): roofline / efficiency + the node's overhead."""
    weights = sum(node.weight_bytes for node in nodes)
    out: dict[str, float] = {family: 0.0 for family in FAMILIES}
    for node in nodes:
        seconds = dev.roofline(node, model, weights)
        if eff is not None:
            seconds /= eff.of(node)
        out[node.family] += seconds + dev.node_overhead(node.family, model)
    out["total"] = sum(out[family] for family in FAMILIES)
    return out


# ---------------------------------------------------------------- measured per family (onnxruntime's profile)


def measured_family(node: dict[str, Any]) -> str:
    """The family of a profiled onnxruntime node (its op and its weight's shape), or ``layout`` for reorders."""
    op = node["op"]
    weight = node.get("weight") or []
    if op in ("Conv", "FusedConv") and len(weight) == 4:
        _c_out, per_group, kh, kw = weight
        c_in = (node.get("input") or [0, 0])[1]
        spatial = (node.get("input") or [0, 0, 0, 0])[2:]
        if list(spatial) == [1, 1] and (kh, kw) == (1, 1):
            return "linear"
        if per_group == 1:
            return "elementwise" if (kh, kw) == (1, 1) else "depthwise"  # a batch norm made a 1x1 depthwise conv
        if per_group * 2 <= c_in:
            return "grouped"
        return "pointwise" if (kh, kw) == (1, 1) else "dense"
    if op in ("Gemm", "FusedGemm", "MatMul", "FusedMatMul"):
        rows = (node.get("input") or [1])[0]
        return "pointwise" if rows > 1 else "linear"
    if op in ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean"):
        return "pooling"
    if op in ("ReorderInput", "ReorderOutput"):
        return "layout"
    if op in (
        "Sigmoid",
        "QuickGelu",
        "Gelu",
        "FastGelu",
        "LayerNormalization",
        "HardSwish",
        "HardSigmoid",
        "Tanh",
        "Softmax",
        "Erf",
    ):
        return "activation"
    return "elementwise"


def profiled(network: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for node in network["profile"]["per_node"]:
        family = measured_family(node)
        out[family] = out.get(family, 0.0) + node["us"] * 1e-6
    return out


# ---------------------------------------------------------------- scores


def kendall_tau(xs: list[float], ys: list[float]) -> float:
    """Kendall's tau-b."""
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            dx, dy = xs[i] - xs[j], ys[i] - ys[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    return (concordant - discordant) / math.sqrt(
        (concordant + discordant + ties_x) * (concordant + discordant + ties_y)
    )


def mape(estimates: list[float], measured: list[float]) -> float:
    return sum(abs(e - m) / m for e, m in zip(estimates, measured, strict=True)) / len(measured)


def best_scale(xs: list[float], ys: list[float]) -> float:
    """The k minimising mean |k x - y| / y: a weighted median of y / x with weights x / y."""
    ratios = sorted((y / x, x / y) for x, y in zip(xs, ys, strict=True))
    half = sum(weight for _, weight in ratios) / 2
    running = 0.0
    for ratio, weight in ratios:
        running += weight
        if running >= half:
            return ratio
    return ratios[-1][0]


# ---------------------------------------------------------------- the study


def analyse(network: dict[str, Any], use_spec: bool) -> tuple[list[Node], int]:
    from convcalc import analyze

    source = network["convcalc"]["spec"] if use_spec and network["convcalc"]["spec"] else None
    result = analyze(source or str(cache_dir() / network["convcalc"]["onnx"]))
    return nodes_of(list(result.layers)), result.total.macs


MODELS: dict[str, Model] = {
    "roofline": Model(),
    "roofline+family": Model(family=True),
    "cache+family": Model(family=True, cached=True),
    "cache+family+lanes": Model(family=True, cached=True, lanes=True),
    "calibrated": Model(family=True, cached=True, lanes=True, fixed=True),
    "calibrated, no cache": Model(family=True, lanes=True, fixed=True),
    "calibrated, no family": Model(cached=True, lanes=True, fixed=True),
    "calibrated, run overhead": Model(family=True, cached=True, lanes=True, run_overhead=True),
}
"""The estimators scored: the issue's (b) and (c), then the refinements one by one, and ablations of the last."""


def study(measured: dict[str, Any], calibration: dict[str, Any], use_spec: bool) -> dict[str, Any]:
    dev = device(calibration)
    networks = measured["networks"]
    names = [network["name"] for network in networks]
    times = [network["median_s"] for network in networks]
    analysed = [analyse(network, use_spec) for network in networks]
    nodes = [node_list for node_list, _ in analysed]
    macs = [float(total) for _, total in analysed]
    per_estimator: dict[str, list[dict[str, float]]] = {}
    effs: dict[str, Efficiency | None] = {}
    for label, model in MODELS.items():
        effs[label] = efficiencies(dev, model) if model.family else None
        per_estimator[label] = [estimate(node_list, dev, model, effs[label]) for node_list in nodes]
    estimates: dict[str, list[float]] = {"macs": [best_scale(macs, times) * m for m in macs]}
    loo_macs = []
    for i in range(len(names)):
        rest = [j for j in range(len(names)) if j != i]
        loo_macs.append(best_scale([macs[j] for j in rest], [times[j] for j in rest]) * macs[i])
    estimates["macs, leave one out"] = loo_macs
    for label, rows in per_estimator.items():
        estimates[label] = [row["total"] for row in rows]
    measured_families = [profiled(network) for network in networks]
    loo_model = MODELS["calibrated"]
    per_estimator["leave one out"] = _leave_one_out(nodes, measured_families, dev, loo_model)
    estimates["leave one out"] = [row["total"] for row in per_estimator["leave one out"]]
    scores = {
        label: {"kendall_tau": kendall_tau(values, times), "mape": mape(values, times)}
        for label, values in estimates.items()
    }
    return {
        "networks": names,
        "measured_s": times,
        "macs": macs,
        "nodes": [len(node_list) for node_list in nodes],
        "estimates_s": estimates,
        "scores": scores,
        "family_errors": _family_errors(per_estimator, measured_families),
        "efficiencies": {
            label: None if eff is None else {"e": eff.e, "grouped": eff.grouped} for label, eff in effs.items()
        },
        "unmodelled_layout_share": {
            name: fam.get("layout", 0.0) / sum(fam.values()) for name, fam in zip(names, measured_families, strict=True)
        },
    }


def _leave_one_out(
    nodes: list[list[Node]], measured: list[dict[str, float]], dev: Device, model: Model
) -> list[dict[str, float]]:
    """Per family, e = sum of rooflines / sum of (profiled time - fixed node costs) over the other networks (the
    onnxruntime layout reorders spread over their nodes); the left-out network's estimate with them."""
    rooflines: list[dict[str, float]] = []
    fixed: list[dict[str, float]] = []
    for node_list in nodes:
        weights = sum(node.weight_bytes for node in node_list)
        per: dict[str, float] = {}
        cost: dict[str, float] = {}
        for node in node_list:
            per[node.family] = per.get(node.family, 0.0) + dev.roofline(node, model, weights)
            cost[node.family] = cost.get(node.family, 0.0) + dev.node_overhead(node.family, model)
        rooflines.append(per)
        fixed.append(cost)
    out = []
    for i in range(len(nodes)):
        rest = [j for j in range(len(nodes)) if j != i]
        row: dict[str, float] = {}
        for family in FAMILIES:
            top = sum(rooflines[j].get(family, 0.0) for j in rest)
            bottom = sum(measured[j].get(family, 0.0) - fixed[j].get(family, 0.0) for j in rest)
            e = top / bottom if bottom > 0 else 1.0
            row[family] = rooflines[i].get(family, 0.0) / e + fixed[i].get(family, 0.0)
        layout = sum(measured[j].get("layout", 0.0) for j in rest) / sum(len(nodes[j]) for j in rest)
        row["total"] = sum(row[family] for family in FAMILIES) + layout * len(nodes[i])
        out.append(row)
    return out


def _family_errors(
    per_estimator: dict[str, list[dict[str, float]]], measured: list[dict[str, float]]
) -> dict[str, dict[str, dict[str, float]]]:
    """Per estimator and family: sum of estimates / sum of profiled times, and MAPE over the networks where the
    family is at least 5% of the profiled time."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for label, rows in per_estimator.items():
        out[label] = {}
        for family in FAMILIES:
            pairs = [(row[family], fam.get(family, 0.0)) for row, fam in zip(rows, measured, strict=True)]
            total_measured = sum(m for _, m in pairs)
            if not total_measured:
                continue
            big = [(e, m) for (e, m), fam in zip(pairs, measured, strict=True) if m >= 0.05 * sum(fam.values())]
            out[label][family] = {
                "ratio": sum(e for e, _ in pairs) / total_measured,
                "mape_where_5pct": mape([e for e, _ in big], [m for _, m in big]) if big else float("nan"),
                "networks_where_5pct": len(big),
                "share_of_measured": total_measured / sum(sum(fam.values()) for fam in measured),
            }
    return out


def report(result: dict[str, Any], write: Callable[[str], None]) -> None:
    write("estimator                 Kendall tau    MAPE")
    for label, score in result["scores"].items():
        write(f"{label:24s} {score['kendall_tau']:8.3f} {score['mape'] * 100:8.1f}%")
    write("")
    labels = list(result["estimates_s"])
    write(f"{'network':20s} {'measured':>9s} " + " ".join(f"{label[:12]:>12s}" for label in labels))
    for i, name in enumerate(result["networks"]):
        row = " ".join(f"{result['estimates_s'][label][i] * 1e3:12.2f}" for label in labels)
        write(f"{name:20s} {result['measured_s'][i] * 1e3:9.2f} {row}")
    write("")
    for label, families in result["family_errors"].items():
        write(f"{label}: per family, estimate / measured (MAPE where >= 5% of a network's time, networks)")
        for family, figures in families.items():
            write(
                f"  {family:12s} share {figures['share_of_measured'] * 100:5.1f}%  ratio {figures['ratio']:6.2f}"
                f"  MAPE {figures['mape_where_5pct'] * 100:6.1f}% ({figures['networks_where_5pct']})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measured", type=Path, default=DATA / "latency_measured.json")
    parser.add_argument("--calibration", type=Path, default=DATA / "latency_calibration.json")
    parser.add_argument("--spec", action="store_true", help="analyse the bundled spec where a network has one")
    parser.add_argument("-o", "--output", type=Path, default=DATA / "latency_study.json")
    arguments = parser.parse_args()
    result = study(
        json.loads(arguments.measured.read_text()), json.loads(arguments.calibration.read_text()), arguments.spec
    )
    report(result, print)
    arguments.output.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
