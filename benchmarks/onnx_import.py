"""Time ONNX import and its peak memory: 500 MB of weights against the same graph with 5 MB
(`python benchmarks/onnx_import.py [MODEL.onnx ...]`).

Both files are made here (tests/onnxbuild.py writes the protobuf): 50 convs of 64 -> 64 channels, 3x3, whose
weights are stored as raw_data of the size that gives the total. convcalc reads the file's structure in blocks and
skips the weights by their length (convcalc/importers/onnx/source.py), so both should take the same time and memory:
interpreter start-up and imports, then the graph. Prints the median of 7 whole processes (`convcalc analyze FILE
--format json`) for each, their peak resident memory (Linux: the child's VmHWM), and the in-process import alone.
Each MODEL.onnx given is measured the same way: a real export with its weights, such as ResNet-152 (241 MB), made
with torch and torchvision (not part of the repository; write it anywhere outside it):

    python -c "import torch, torchvision; torch.onnx.export(torchvision.models.resnet152().eval(),
               torch.zeros(1, 3, 224, 224), 'resnet152.onnx', dynamo=False)"

Then what `convcalc import` adds to reading the graph: writing it as a spec, folded (convcalc/spec/fold/) and flat
(`--flat`), in process, for the 50-conv chain and the ONNX fixtures of ResNet-50, DenseNet-121 and Inception v3,
with their line counts: the median of 21 in CPU time (process_time), which a machine shared with other jobs
disturbs far less than the wall clock at a few milliseconds.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import onnxbuild as ob
from tests.processes import peak_run

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


def median_run(path: Path, runs: int = 7) -> tuple[float, float]:
    """The median wall time of `convcalc analyze PATH --format json` as a whole process, and its largest peak
    resident memory in MiB."""
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        peak, result = peak_run("analyze", str(path), "--format", "json")
        times.append(time.perf_counter() - start)
        peaks.append(peak)
        if result.returncode:
            raise SystemExit(f"{path}: {result.stderr}")
    return statistics.median(times), max(peaks)


def measure(label: str, path: Path) -> None:
    from convcalc import load_spec

    start = time.perf_counter()
    load_spec(str(path))
    in_process = time.perf_counter() - start
    seconds, peak = median_run(path)
    print(
        f"{label:>7} file ({path.stat().st_size:,} bytes): whole process {seconds * 1000:.0f} ms, "
        f"peak memory {peak:.0f} MiB, import in process {in_process * 1000:.1f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for label, size in (("5 MB", 5 * 2**20), ("500 MB", 500 * 2**20)):
            path = Path(folder) / f"model-{label.replace(' ', '')}.onnx"
            path.write_bytes(model(size))
            measure(label, path)
            path.unlink()
        for given in sys.argv[1:]:
            measure(Path(given).name, Path(given))
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
