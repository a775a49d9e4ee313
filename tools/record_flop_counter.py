"""Record what PyTorch's own FLOP counter says of every bundled spec: tests/data/flop_counter.json.

    pip install torch && python tools/record_flop_counter.py

Each spec is exported with `convcalc export --to pytorch`, built on torch's meta device (shapes only, no arithmetic,
so U-Net costs nothing) and run on one sample (two for the hand-worked network) under
``torch.utils.flop_counter.FlopCounterMode``. The counter counts matrix multiplications and convolutions only (2 per
multiply-accumulate: conv, transposed conv, the linear layers' addmm/mm), not bias adds, pooling or activations;
the file keeps its total and its count per operator as printed. tests/test_flop_counter.py compares convcalc with
this file and never needs torch; re-record only on a torch upgrade, and say so in the commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from convcalc import load_spec  # noqa: E402
from convcalc.export import class_name, to_pytorch  # noqa: E402

OUTPUT = REPO / "tests" / "data" / "flop_counter.json"
SOURCES = {
    **{path.stem: (path, 1) for path in sorted((REPO / "specs").glob("*.yaml"))},
    "every_kind": (REPO / "tests" / "data" / "every_kind.yaml", 1),
    "hand": (REPO / "tests" / "data" / "hand.yaml", 2),
}


def count(path: Path, batch: int) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(to_pytorch(str(path)), str(path), "exec"), namespace)
    with torch.device("meta"):
        model = namespace[class_name(load_spec(str(path)).name)]()  # type: ignore[operator]
        sample = torch.zeros(batch, *namespace["INPUT_SHAPE"])  # type: ignore[misc]
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(sample)
    by_operator = counter.get_flop_counts()["Global"]
    return {
        "batch": batch,
        "total": counter.get_total_flops(),
        "by_operator": {
            str(op).removeprefix("aten."): int(flops) for op, flops in sorted(by_operator.items(), key=str)
        },
    }


def main() -> None:
    record = {
        "torch": torch.__version__,
        "counter": "torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per multiply-accumulate of matmul/conv only",
        "specs": {name: count(path, batch) for name, (path, batch) in SOURCES.items()},
    }
    OUTPUT.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(REPO)} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
