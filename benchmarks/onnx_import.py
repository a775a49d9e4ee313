"""Time ONNX import: 500 MB of weights against the same graph with 5 MB (`python benchmarks/onnx_import.py`).

Both files are made here (tests/onnxbuild.py writes the protobuf): 50 convs of 64 -> 64 channels, 3x3, whose
weights are stored as raw_data of the size that gives the total. convcalc maps the file and skips the weights by
their length, so both should take the same time: interpreter start-up and imports, then the graph. Prints the median
of 7 whole processes (`convcalc analyze FILE --format json`) for each, and the in-process import alone.

Then what `convcalc import` adds to reading the graph: writing it as a spec, folded (convcalc/spec/fold/) and flat
(`--flat`), in process, for the 50-conv chain and the ONNX fixtures of ResNet-50, DenseNet-121 and Inception v3,
with their line counts: the median of 21 in CPU time (process_time), which a machine shared with other jobs
disturbs far less than the wall clock at a few milliseconds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import onnxbuild as ob

LAYERS = 50


def model(total_bytes: int) -> bytes:
    """LAYERS convs 64 -> 64, 3x3, padding 1, on 64x56x56, with total_bytes of weights in all."""
    per_layer = total_bytes // LAYERS
    nodes, weights = [], []
    previous = "x"
    for index in range(LAYERS):
        nodes.append(
            ob.node(
                "Conv",
                [previous, f"w{index}"],
                [f"c{index}"],
                f"/conv{index}/Conv",
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
            )
        )
        weights.append(ob.tensor(f"w{index}", [64, 64, 3, 3]) + ob.field(9, bytes(per_layer)))
        previous = f"c{index}"
    return ob.model(nodes, [("x", [1, 64, 56, 56])], [(previous, [1, 64, 56, 56])], weights)


def median_run(path: Path, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "convcalc", "analyze", str(path), "--format", "json"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from convcalc import load_spec

    with tempfile.TemporaryDirectory() as folder:
        for label, size in (("5 MB", 5 * 2**20), ("500 MB", 500 * 2**20)):
            path = Path(folder) / f"model-{label.replace(' ', '')}.onnx"
            path.write_bytes(model(size))
            start = time.perf_counter()
            load_spec(str(path))
            in_process = time.perf_counter() - start
            print(
                f"{label:>7} file ({path.stat().st_size:,} bytes): whole process {median_run(path) * 1000:.0f} ms, "
                f"import in process {in_process * 1000:.1f} ms"
            )
            path.unlink()
        chain = Path(folder) / "chain.onnx"
        chain.write_bytes(model(5 * 2**20))
        fixtures = Path(__file__).resolve().parents[1] / "tests" / "data" / "onnx"
        for path in (chain, *(fixtures / f"{name}.onnx" for name in WRITTEN)):
            writing(path)


WRITTEN = ("resnet50.torchvision", "densenet121", "inception_v3")


def writing(path: Path, runs: int = 21) -> None:
    """The in-process CPU time of writing a model's graph as a spec, flat and folded, and the lines each takes."""
    from convcalc.importers.onnx.read import read_onnx_file
    from convcalc.spec.writer import write_spec

    origins: dict[str, str] = {}
    graph = read_onnx_file(str(path), origins)
    times, lines = {}, {}
    for flat in (True, False):
        samples = []
        for _ in range(runs):
            start = time.process_time()
            text = write_spec(graph, origins, flat=flat)
            samples.append(time.process_time() - start)
        times[flat], lines[flat] = statistics.median(samples) * 1000, text.count("\n")
    print(
        f"{path.stem:>20} ({len(graph.nodes)} layers): CPU time written flat {times[True]:.1f} ms "
        f"({lines[True]} lines), folded {times[False]:.1f} ms ({lines[False]} lines): "
        f"folding adds {times[False] - times[True]:.1f} ms"
    )


if __name__ == "__main__":
    main()
