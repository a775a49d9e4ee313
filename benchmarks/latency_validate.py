"""Validation of convcalc's latency estimates (issue 24) against onnxruntime's measured times.

For each network of benchmarks/data/latency_measured.json (30 CNNs timed by benchmarks/latency_measure.py: one
thread, batch 1, fp32, median of 9), convcalc analyses the ONNX export that onnxruntime ran (or, with ``--spec``,
the bundled spec where the network has one) and its latency pass (convcalc.passes.latency.estimate, the same code
as `convcalc analyze --device`) estimates the time with a device profile written by `convcalc calibrate`. Printed
side by side: Kendall's tau-b and MAPE of the estimates, and of MACs alone times the single scale that fits the
measured times best (in-sample, which flatters MACs; and leaving each network out of its own scale), on all the
networks and on those under 15 ms; then per network.

Run from the repository root (convcalc from the checkout; no numpy or onnxruntime needed here)::

    convcalc calibrate -o benchmarks/data/latency_profile.json          # on the machine that measured, same load
    python benchmarks/latency_validate.py [--profile FILE] [--measured FILE] [--spec]

The ONNX exports are read from $CONVCALC_LATENCY_CACHE (default benchmarks/.cache/latency), where
benchmarks/latency_measure.py leaves them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from latency_measure import cache_dir  # noqa: E402
from latency_model import best_scale, kendall_tau, mape  # noqa: E402

from convcalc import analyze  # noqa: E402
from convcalc.core.errors import SpecError  # noqa: E402
from convcalc.engine.results import Analysis  # noqa: E402
from convcalc.passes.latency import estimate  # noqa: E402
from convcalc.passes.profile import DeviceProfile, profile_from  # noqa: E402

DATA = REPO / "benchmarks" / "data"
SMALL_S = 0.015
"""Networks measured under this many seconds: the mobile ones, where MACs rank worst."""


def analysed(network: dict[str, Any], use_spec: bool) -> Analysis:
    """convcalc's analysis of what onnxruntime ran (its export), or of the bundled spec of the same network."""
    spec = network["convcalc"]["spec"]
    return analyze(spec if use_spec and spec else str(cache_dir() / network["convcalc"]["onnx"]))


def scores(estimates: Sequence[float], measured: Sequence[float]) -> tuple[float, float]:
    return kendall_tau(list(estimates), list(measured)), mape(estimates, measured)


def macs_leave_one_out(macs: Sequence[float], measured: Sequence[float]) -> list[float]:
    """Each network's MACs times the best scale of the other networks."""
    out = []
    for i, value in enumerate(macs):
        rest = [j for j in range(len(macs)) if j != i]
        out.append(best_scale([macs[j] for j in rest], [measured[j] for j in rest]) * value)
    return out


def validate(measured: dict[str, Any], device: DeviceProfile, use_spec: bool) -> dict[str, Any]:
    """Per network: measured seconds, MACs and convcalc's estimate; the estimators' scores (over the networks
    convcalc reads: the others are listed under ``unread`` with the error)."""
    networks, analyses, unread = [], [], {}
    for network in measured["networks"]:
        try:
            analyses.append(analysed(network, use_spec))
        except SpecError as error:
            unread[network["name"]] = str(error)
            continue
        networks.append(network)
    names = [network["name"] for network in networks]
    times = [network["median_s"] for network in networks]
    macs = [float(analysis.total.macs) for analysis in analyses]
    estimators = {
        "MACs x best scale (in-sample)": [best_scale(macs, times) * value for value in macs],
        "MACs x scale, leave one out": macs_leave_one_out(macs, times),
        f"convcalc --device {device.name}": [estimate(analysis, device).estimate_s for analysis in analyses],
    }
    small = [i for i, seconds in enumerate(times) if seconds < SMALL_S]
    table = {}
    for label, values in estimators.items():
        tau, error = scores(values, times)
        small_tau, small_error = scores([values[i] for i in small], [times[i] for i in small])
        table[label] = {"tau": tau, "mape": error, "small_tau": small_tau, "small_mape": small_error}
    return {
        "networks": names,
        "measured_s": times,
        "estimates_s": estimators,
        "scores": table,
        "small": len(small),
        "unread": unread,
    }


def report(result: dict[str, Any], write: Callable[[str], None]) -> None:
    count, small = len(result["networks"]), result["small"]
    write(f"{'estimator':34s} {'tau':>6s} {'MAPE':>7s}   under {SMALL_S * 1e3:.0f} ms ({small}): tau, MAPE")
    for label, score in result["scores"].items():
        write(
            f"{label:34s} {score['tau']:6.3f} {score['mape'] * 100:6.1f}%   "
            f"{score['small_tau']:6.3f} {score['small_mape'] * 100:6.1f}%"
        )
    write(f"({count} networks; estimates are a model's, the measured times onnxruntime's)")
    for name, error in result["unread"].items():
        write(f"left out, convcalc does not read it: {name}: {error}")
    write("")
    labels = list(result["estimates_s"])
    write(f"{'network':20s} {'measured ms':>11s} " + " ".join(f"{label[:22]:>22s}" for label in labels))
    for i, name in enumerate(result["networks"]):
        measured = result["measured_s"][i]
        cells = []
        for label in labels:
            value = result["estimates_s"][label][i]
            cells.append(f"{value * 1e3:12.2f} ({(value / measured - 1) * 100:+4.0f}%)")
        write(f"{name:20s} {measured * 1e3:11.2f} " + " ".join(f"{cell:>22s}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measured", type=Path, default=DATA / "latency_measured.json")
    parser.add_argument("--profile", type=Path, default=DATA / "latency_profile.json")
    parser.add_argument("--spec", action="store_true", help="analyse the bundled spec where a network has one")
    arguments = parser.parse_args()
    device = profile_from(json.loads(arguments.profile.read_text()))
    report(validate(json.loads(arguments.measured.read_text()), device, arguments.spec), print)


if __name__ == "__main__":
    main()
