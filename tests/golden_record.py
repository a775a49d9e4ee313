"""Record the golden JSON of every bundled spec: `python -m tests.golden_record`.

The golden files pin convcalc's output before a refactoring (names, order, shapes, counts, receptive fields,
warnings), so that a change in structure that changes a number fails tests/test_golden.py. They are a regression
guard, not a source of truth: the figures themselves are checked against outside references elsewhere. Re-record
only when a change of numbers is intended, and say why in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from convcalc import analyze
from convcalc.spec.bundled import bundled_names

GOLDEN = Path(__file__).parent / "data" / "golden"
EXTRA = {"every_kind": Path(__file__).parent / "data" / "every_kind.yaml"}


def golden_sources() -> dict[str, str]:
    """Golden file stem -> the spec it pins: every bundled spec, and the spec with every layer kind."""
    return {**{name: name for name in bundled_names()}, **{k: str(v) for k, v in EXTRA.items()}}


def golden_json(source: str) -> dict[str, Any]:
    """The analysis as JSON, without the source path (which depends on where the checkout is)."""
    document = analyze(source).to_dict()
    document.pop("source")
    return document


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for stem, source in golden_sources().items():
        (GOLDEN / f"{stem}.json").write_text(json.dumps(golden_json(source), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
