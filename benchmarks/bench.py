"""convcalc's speed and memory, measured: cold start, engine scaling, resolution independence.

Run after `pip install .` from the repository root:  python benchmarks/bench.py
Prints a table and writes benchmarks/results.json. Takes well under two minutes on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from convcalc import load_spec
from convcalc.api import analyze

HERE = Path(__file__).resolve().parent
RUNS = 7
SIZES = (1_000, 10_000)  # spec.MAX_LAYERS is 10,000


def median_seconds(action: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold(command: list[str]) -> float:
    """Median wall time of a whole new process."""

    def run() -> None:  # outside the checkout: `python -c` must import the installed convcalc, not ./convcalc
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=HERE.anchor)

    run()  # warm the OS file cache, not the interpreter
    return median_seconds(run)


def generated_spec(layers: int) -> str:
    """A plain chain of conv / relu pairs: ``layers`` entries, no blocks, so parsing sees every one."""
    lines = ["name: generated", "input: [8, 32, 32]", "layers:"]
    for index in range(layers // 2):
        lines.append(f"  - {{type: conv, name: c{index}, filters: 8, kernel: 3, padding: 1}}")
        lines.append("  - {type: relu}")
    return "\n".join(lines) + "\n"


def peak_memory(action: Callable[[], object]) -> int:
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    convcalc = shutil.which("convcalc") or sys.exit("convcalc is not on PATH: run `pip install .` first")
    python = sys.executable
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "bytecode_cached": not sys.flags.dont_write_bytecode,
        "runs": RUNS,
        "cold": {},
        "engine": {},
    }
    cold_commands = {
        "python -S -c pass": [python, "-S", "-c", "pass"],
        "python -c pass": [python, "-c", "pass"],
        # the floor of any run: the design card's packages alone (the command line always parses with typer)
        "python -c 'import yaml'": [python, "-c", "import yaml"],
        "python -c 'import typer'": [python, "-c", "import typer"],
        "python -c 'import yaml, typer'": [python, "-c", "import yaml, typer"],
        "python -c 'import convcalc'": [python, "-c", "import convcalc"],
        "convcalc --help": [convcalc, "--help"],
        "convcalc analyze resnet50 --format json": [convcalc, "analyze", "resnet50", "--format", "json"],
        "convcalc analyze resnet50 (table)": [convcalc, "analyze", "resnet50"],
    }
    for label, command in cold_commands.items():
        results["cold"][label] = cold(command)
    baseline = results["cold"]["python -S -c pass"]  # issue 26's yardstick: the goal was 9x it

    for size in SIZES:
        text = generated_spec(size)
        spec = load_spec("generated.yaml", text=text)
        results["engine"][size] = {
            "load_s": median_seconds(lambda text=text: load_spec("generated.yaml", text=text), runs=3),
            "engine_s": median_seconds(lambda spec=spec: analyze(spec), runs=3),
            "engine_peak_bytes": peak_memory(lambda spec=spec: analyze(spec)),
        }

    resnet = load_spec("resnet50")
    results["resolution"] = {
        f"{side}x{side}": median_seconds(lambda side=side: analyze(resnet, input_shape=(3, side, side)), runs=31)
        for side in (224, 8192)
    }

    print(f"convcalc benchmark ({results['machine']}, median of {RUNS} runs)")
    if sys.flags.dont_write_bytecode:
        print("note: PYTHONDONTWRITEBYTECODE is set, so modules not byte-compiled at install are compiled on every run")
    print()
    print(f"{'cold process':48} {'ms':>8} {'x python -S':>12}")
    for label, seconds in results["cold"].items():
        print(f"{label:48} {seconds * 1000:8.1f} {seconds / baseline:12.2f}")
    print(f"\n{'generated chain (in-process)':30} {'load ms':>9} {'engine ms':>10} {'engine peak MiB':>16}")
    for size, row in results["engine"].items():
        print(
            f"{size:>30,} {row['load_s'] * 1000:9.1f} {row['engine_s'] * 1000:10.1f} "
            f"{row['engine_peak_bytes'] / 2**20:16.1f}"
        )
    print("\nResNet-50 analysis (in-process) at two resolutions:")
    for label, seconds in results["resolution"].items():
        print(f"  {label:>10}: {seconds * 1000:.2f} ms")
    out = HERE / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
