"""Each peer FLOP counter's whole-process time and peak memory on ResNet-50 and MobileNetV2 at 224 and 1024 (issue 15).

Needs the ``peers`` extra (torch and the tools; see tools/record_peers.py for the set-up, TVSRC for torchvision's
model definitions: without it the networks are convcalc's PyTorch exports). Run with that environment's Python
(at .venv-peers/ in the checkout unless PEERS_VENV names another), TVSRC and PEERS_TVMODELS set:

    "${PEERS_VENV:-.venv-peers}"/bin/python benchmarks/peers_bench.py [--runs 3] [--networks resnet50] [--sizes 224]

On a shared 2-core machine a full run (2 networks x 2 sizes x 7 rows, runs + 1 processes each) takes 10-20 minutes.

For every tool, network and size it starts a new process that does what a user's script does: import torch and the
tool, build the network (random weights) and count it once, batch 1. Time is the median wall time of ``--runs``
processes; memory is the largest peak resident set size (``ru_maxrss`` from ``os.wait4`` on that child alone).
Baselines in the same run: ``torch forward`` (import torch, build, one forward pass with no tool) and
``convcalc analyze`` and ``convcalc conventions`` (this checkout's CLI, JSON output; ``conventions`` answers for
every tool at once). Prints a table
and writes benchmarks/results-peers.json (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOOLS_DIR = HERE.parent / "tools"
NETWORKS = ("resnet50", "mobilenet_v2")
SIZES = (224, 1024)

PRELUDE = """
import sys
sys.path.insert(0, {tools!r})
{imports}
import torch
import peer_models  # after the tool: ptflops probes for torchvision at import, before tvmodels stands in for it
model = peer_models.build({spec!r}, {source!r}, [3, {size}, {size}])[0]
x = torch.randn(1, 3, {size}, {size})
"""

COUNTS = {
    "fvcore": (
        "from fvcore.nn import FlopCountAnalysis",
        "a = FlopCountAnalysis(model, x)\n"
        "a.unsupported_ops_warnings(False).uncalled_modules_warnings(False)\n"
        "print(a.total())",
    ),
    "ptflops": (
        "from ptflops import get_model_complexity_info",
        "print(get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False))",
    ),
    "thop": ("from thop import profile", "print(profile(model, inputs=(x,), verbose=False))"),
    "torchinfo": ("from torchinfo import summary", "print(summary(model, input_size=tuple(x.shape), verbose=0))"),
    "flop_counter": (
        "from torch.utils.flop_counter import FlopCounterMode",
        "with torch.no_grad(), FlopCounterMode(display=False) as c:\n    model(x)\nprint(c.get_total_flops())",
    ),
    "torch forward": ("", "with torch.no_grad():\n    print(model(x).shape)"),
}


def child(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one process."""
    start = time.perf_counter()
    environment = {**os.environ, "PYTHONPATH": str(HERE.parent)}  # this checkout's convcalc, whatever is installed
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    error = process.stderr.read().decode() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {error.strip().splitlines()[-1:]}")
    return seconds, usage.ru_maxrss * 1024


def measure(command: list[str], runs: int) -> dict[str, Any]:
    child(command)  # warm the OS file cache
    samples = [child(command) for _ in range(runs)]
    return {
        "seconds": round(statistics.median(s for s, _ in samples), 3),
        "peak_rss_bytes": max(m for _, m in samples),
    }


def parent_rss() -> int:
    """This process's own peak RSS: a floor under every child's number (see main)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


CONVCALC = {"convcalc analyze": "analyze", "convcalc conventions": "conventions"}
"""convcalc's rows: ``analyze`` (its own count) and ``conventions`` (every tool's count, one process)."""


def convcalc_command(command: str, spec: str, size: int) -> list[str]:
    """This checkout's convcalc (``python -m convcalc`` with the repository first on the path), JSON output."""
    return [sys.executable, "-m", "convcalc", command, spec, "--input", f"3x{size}x{size}", "--format", "json"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results-peers.json")
    parser.add_argument("--networks", nargs="*", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--tools", nargs="*", default=list(COUNTS), choices=list(COUNTS))
    args = parser.parse_args(argv)

    # This process stays small, torch-free: Linux carries a parent's peak RSS at fork into a child's ru_maxrss.
    sys.path.insert(0, str(TOOLS_DIR))
    import peer_models

    torch_version = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()

    source = "torchvision" if peer_models.torchvision_available() else "export"
    rows = []
    for spec in args.networks:
        for size in args.sizes:
            for tool in args.tools:
                imports, count = COUNTS[tool]
                code = PRELUDE.format(tools=str(TOOLS_DIR), imports=imports, spec=spec, source=source, size=size)
                try:
                    result = measure([sys.executable, "-c", code + count], args.runs)
                except RuntimeError as exc:
                    result = {"error": str(exc)}
                rows.append({"tool": tool, "network": spec, "size": size, **result})
                print(f"{tool:16} {spec:14} {size:5} {result}", flush=True)
            for name, command in CONVCALC.items():
                result = measure(convcalc_command(command, spec, size), args.runs)
                rows.append({"tool": name, "network": spec, "size": size, **result})
                print(f"{name:20} {spec:14} {size:5} {result}", flush=True)
    document = {
        "python": platform.python_version(),
        "torch": torch_version,
        "parent_rss_bytes": parent_rss(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "model_source": source,
        "runs": args.runs,
        "rows": rows,
    }
    args.out.write_text(json.dumps(document, indent=1) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
