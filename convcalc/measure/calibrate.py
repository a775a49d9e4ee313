"""`convcalc calibrate`: measure this machine into a device profile that `--device FILE` reads (issue 24).

Backends (the ``latency`` extra; convcalc needs neither otherwise):

- **onnxruntime** (with onnx and numpy), one single-node graph per measurement, run on ``threads`` threads as
  benchmarks/latency_measure.py runs networks (CPU provider, sequential, default optimisation level):
  peak FLOP/s: a 1024^3 MatMul (2 * 1024^3 FLOPs) or the best dense conv below; bandwidth: an Add of two tensors
  of N floats (3 * 4 * N bytes) for working sets from 96 KiB to 384 MiB, (best time of a chain of 5 - of 1) / 4 per
  Add; per layer family, the kernel times of convs, linears, element-wise ops, activations and poolings at sizes of
  ImageNet CNNs (onnxruntime's profiler), and the efficiency e = roofline / kernel time on the pass' own roofline
  (:func:`convcalc.passes.latency.roofline`, every byte hot); per node, the wall time of a run of one tiny Add
  (dispatch and allocation); the lanes of the widest fp32 vector unit the CPU states.
- **numpy**: peak (a 1024^3 matmul) and the bandwidth curve (np.add) only; efficiencies 1 and no overhead: the
  plain roofline of this machine.

About 15 seconds with onnxruntime on one thread here; the study of the model: benchmarks/latency_study.md.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import importlib.util
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from convcalc.measure.microbench import CASES, Case, Runner, best, case_graph, repeats
from convcalc.passes.latency import Work, roofline
from convcalc.passes.profile import DeviceProfile

F32 = 4
BACKENDS = {"onnxruntime": ("onnxruntime", "onnx", "numpy"), "numpy": ("numpy",)}
"""Each backend and the modules it needs, in the order `calibrate` prefers them."""
INSTALL = "pip install 'convcalc[latency]'"
BANDWIDTH_FLOATS = tuple(8 * 1024 * 4**step for step in range(7))
"""Floats per operand of the bandwidth Adds: working sets (3 tensors) of 96 KiB to 384 MiB, by fours."""
MATMUL = 1024
"""Rows, columns and inner size of the peak's matrix product."""


class Measured(NamedTuple):
    case: Case
    work: Work
    kernel_s: float


def missing(backend: str) -> list[str]:
    """The modules a backend needs that are not installed."""
    return [module for module in BACKENDS[backend] if importlib.util.find_spec(module) is None]


def choose_backend(requested: str | None) -> str:
    """The backend to use: the one requested, or the first installed; ValueError saying what to install."""
    for backend in [requested] if requested else BACKENDS:
        if not missing(backend):
            return backend
    if requested:
        return _refuse(f"the {requested} backend needs {', '.join(missing(requested))}")
    return _refuse("calibrate measures with onnxruntime (with onnx and numpy) or numpy, and neither is installed")


def _refuse(reason: str) -> str:
    raise ValueError(f"{reason}: {INSTALL}")


def _module(name: str) -> Any:
    return importlib.import_module(name)


# ---------------------------------------------------------------- profiles from measurements


def efficiencies(device: DeviceProfile, measured: list[Measured]) -> DeviceProfile:
    """``device`` with each family's efficiency: the geometric mean over its cases of roofline / kernel time; grouped
    convs also per channels per group (the mean where that is not a multiple of the lanes; those that are, apart)."""
    ratios: dict[str, list[float]] = {}
    by_group: dict[int, list[float]] = {}
    aligned: list[float] = []
    for case, work, seconds in measured:
        ratio = max(roofline(work, device, "float32", None)) / seconds
        ratios.setdefault(case.family, []).append(ratio)
        if case.family == "grouped":
            per_group = work.channels[0] // work.channels[2]
            if device.lanes and per_group % device.lanes == 0:
                aligned.append(ratio)
            else:
                by_group.setdefault(per_group, []).append(ratio)
    return replace(
        device,
        efficiency={family: statistics.geometric_mean(values) for family, values in ratios.items()},
        grouped_efficiency=tuple(
            (float(group), statistics.fmean(values)) for group, values in sorted(by_group.items())
        ),
        grouped_aligned=statistics.fmean(aligned) if aligned else None,
    )


def lanes() -> int:
    """fp32 lanes of the widest vector unit the CPU states (/proc/cpuinfo): 16 (AVX-512), 8 (AVX), else 4."""
    flags = _cpuinfo("flags").split()
    return 16 if "avx512f" in flags else 8 if "avx" in flags else 4


def _cpuinfo(field: str) -> str:
    """A field of /proc/cpuinfo's first processor ('' where there is none)."""
    path = Path("/proc/cpuinfo")
    for line in path.read_text(errors="replace").splitlines() if path.is_file() else ():
        key, _, value = line.partition(":")
        if key.strip() == field:
            return value.strip()
    return ""


def machine(backend: str, threads: int, seconds: float) -> dict[str, Any]:
    """How the profile was measured (its ``calibrated_with``)."""
    version = _module(backend).__version__
    return {
        "backend": backend,
        "version": version,
        "threads": threads,
        "cpu": _cpuinfo("model name") or platform.processor() or platform.machine(),
        "date": datetime.date.today().isoformat(),
        "seconds": round(seconds, 1),
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def calibrate(
    threads: int = 1, backend: str | None = None, name: str = "this-machine", log: Callable[[str], None] = print
) -> DeviceProfile:
    """This machine's profile, measured with ``backend`` (default: the first installed) on ``threads`` threads;
    ValueError when no backend is installed. ``log`` hears what is measured as it goes."""
    chosen = choose_backend(backend)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # numpy's BLAS, before it loads
        os.environ[variable] = str(threads)
    started = time.perf_counter()
    device = _numpy_profile(name, log) if chosen == "numpy" else _onnxruntime_profile(name, threads, log)
    details = machine(chosen, threads, time.perf_counter() - started)
    return replace(device, calibrated_with=details)


def _numpy_profile(name: str, log: Callable[[str], None]) -> DeviceProfile:
    np = _module("numpy")
    a = np.random.default_rng(2).standard_normal((MATMUL, MATMUL)).astype(np.float32)
    peak = 2 * MATMUL**3 / best(lambda: a @ a, 5)
    log(f"peak: numpy matmul {peak / 1e9:.1f} GFLOP/s")
    curve = []
    for floats in BANDWIDTH_FLOATS:
        operands = (np.ones(floats, np.float32), np.ones(floats, np.float32), np.empty(floats, np.float32))
        seconds = best(functools.partial(np.add, *operands[:2], out=operands[2]), repeats(floats))
        curve.append((3.0 * F32 * floats, 3 * F32 * floats / seconds))
    log("bandwidth: " + ", ".join(f"{size / 2**20:.2f} MiB {rate / 1e9:.1f} GB/s" for size, rate in curve))
    return DeviceProfile(
        name=name,
        peak_flops={"float32": peak},
        bandwidth=curve[-1][1],
        bandwidth_curve=tuple(curve),
        description="this machine, measured by `convcalc calibrate --backend numpy`",
        source="calibrated (numpy: peak and bandwidth only; efficiencies 1, no overhead)",
    )


def _onnxruntime_profile(name: str, threads: int, log: Callable[[str], None]) -> DeviceProfile:
    runner = Runner(threads)
    matmul = runner.matmul(MATMUL)
    overhead = runner.one_node_run()
    log(f"overhead of a one-node run: {overhead * 1e6:.2f} us")
    curve = [(3.0 * F32 * floats, runner.add_bandwidth(floats)) for floats in BANDWIDTH_FLOATS]
    log("bandwidth: " + ", ".join(f"{size / 2**20:.2f} MiB {rate / 1e9:.1f} GB/s" for size, rate in curve))
    measured = []
    with tempfile.TemporaryDirectory() as folder:
        for case in CASES:
            graph = case_graph(case)
            measured.append(Measured(case, graph.work, runner.kernel_time(graph, folder)))
    peak = max(2 * MATMUL**3 / matmul, *(m.work.flops / m.kernel_s for m in measured if m.case.family == "dense"))
    log(f"peak: {peak / 1e9:.1f} GFLOP/s (MatMul {2 * MATMUL**3 / matmul / 1e9:.1f})")
    device = DeviceProfile(
        name=name,
        peak_flops={"float32": peak},
        bandwidth=curve[-1][1],
        bandwidth_curve=tuple(curve),
        lanes=lanes(),
        overhead_s=overhead,
        description=f"this machine, measured by `convcalc calibrate` with onnxruntime on {threads} thread(s)",
        source="calibrated (onnxruntime CPU provider)",
    )
    profile = efficiencies(device, measured)
    log("efficiency: " + ", ".join(f"{family} {e:.2f}" for family, e in profile.efficiency.items()))
    return profile
