"""convcalc on a PyTorch module, in process, against torchinfo.summary on the same module (issue 23): time and peak
memory on torchvision's ResNet-50 at 224 and 1024, and convcalc alone on ResNet-34 at 8192 (a real forward pass
there would need tens of GB).

    TVSRC=.../tv/torchvision PEERS_TVMODELS=<tvmodels.py's folder> python benchmarks/torch_import.py

(with the ``peers`` extra's Python: torch, torchinfo; torchvision's model definitions as tools/peer_models.py finds
them.) Each measurement runs in a child process that imports torch and the tool and builds the network first; then
``--runs`` calls of ``convcalc.analyze(model, input_shape=...)`` or ``torchinfo.summary(model, input_size=...,
verbose=0)`` (batch 1; torchinfo's forward runs under torch.no_grad(), its default). Time: the first call and the
median of the calls after it. Memory: the child's peak resident set size (``ru_maxrss``) after the calls minus before
them: what counting the network added to a session that already holds torch and the model. Prints a table and writes
benchmarks/results-torch-import.json (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CHILD = """
import json, resource, statistics, sys, time
sys.path[:0] = [{repo!r}, {tools!r}]
import torch, peer_models
model = peer_models._tvmodels().model("resnet", {network!r}).eval()
shape = tuple({shape!r})
if {tool!r} == "convcalc":
    from convcalc import analyze
    def run():
        return analyze(model, input_shape=shape).total.macs
else:
    from torchinfo import summary
    def run():
        return summary(model, input_size=(1, *shape), verbose=0).total_mult_adds
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times, answers = [], []
for _ in range({runs}):
    start = time.perf_counter()
    answers.append(run())
    times.append(time.perf_counter() - start)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"first_s": times[0], "median_s": statistics.median(times[1:] or times), "peak_added_mib":
    (after - before) / 1024, "answer": answers[0]}}))
"""

CASES = (
    ("convcalc", "resnet50", (3, 224, 224)),
    ("torchinfo", "resnet50", (3, 224, 224)),
    ("convcalc", "resnet50", (3, 1024, 1024)),
    ("torchinfo", "resnet50", (3, 1024, 1024)),
    ("convcalc", "resnet34", (3, 8192, 8192)),
)


def measure(tool: str, network: str, shape: tuple[int, ...], runs: int) -> dict[str, Any]:
    code = CHILD.format(repo=str(REPO), tools=str(REPO / "tools"), network=network, shape=shape, tool=tool, runs=runs)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return {"tool": tool, "network": network, "input": "x".join(map(str, shape)), **measured}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    rows = [measure(tool, network, shape, runs) for tool, network, shape in CASES]
    print(f"{'tool':10} {'network':9} {'input':12} {'first s':>8} {'median s':>9} {'peak +MiB':>10}  answer (MACs)")
    for row in rows:
        print(
            f"{row['tool']:10} {row['network']:9} {row['input']:12} {row['first_s']:8.3f} {row['median_s']:9.3f} "
            f"{row['peak_added_mib']:10.1f}  {row['answer']:,}"
        )
    record = {"machine": platform.platform(), "python": platform.python_version(), "runs": runs, "rows": rows}
    (HERE / "results-torch-import.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
