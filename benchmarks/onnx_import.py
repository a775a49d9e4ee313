"""Time ONNX import: 500 MB of weights against the same graph with 5 MB (`python benchmarks/onnx_import.py`).

Both files are made here (tests/onnxbuild.py writes the protobuf): 50 convs of 64 -> 64 channels, 3x3, whose
weights are stored as raw_data of the size that gives the total. convcalc maps the file and skips the weights by
their length, so both should take the same time: interpreter start-up and imports, then the graph. Prints the median
of 7 whole processes (`convcalc analyze FILE --format json`) for each, and the in-process import alone.
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


if __name__ == "__main__":
    main()
