"""The recorded PyTorch reference (tools/record_torch_reference.py: tests/data/torch, tests/data/onnx/real) holds
together, so that later tests of convcalc can take its numbers as torch's. No convcalc and no torch here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

TORCH = REPO / "tests" / "data" / "torch"
REAL = REPO / "tests" / "data" / "onnx" / "real"
RECORDS = sorted(TORCH.glob("*.json"))


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", RECORDS, ids=lambda path: path.stem)
def test_record_adds_up(path: Path) -> None:
    record = load(path)
    modules = {row["path"]: row for row in record["modules"]}
    root = record["modules"][0]
    assert record["name"] == path.stem and record["input"][0] == 1
    assert root["path"] == "" and root["calls"] == 1 and root["output"] == record["output"]
    # every parameter belongs to one module (none of these networks shares one between modules)
    assert sum(row["params"] for row in modules.values()) == record["params"]
    # the network's FLOPs are its root module's, each module's the sum over its operators
    assert root["flops"] == record["flops"] == sum(record["by_operator"].values())
    assert record["flops_cpu_default"] <= record["flops"]
    for row in modules.values():
        assert row["flops"] == sum(row.get("by_operator", {}).values()), row["path"]
        assert (row["output"] is None) == (row["calls"] == 0), row["path"]
        parent = modules[row["path"].rpartition(".")[0]] if row["path"] else None
        if parent is not None and parent["calls"]:  # a module that ran counts what ran inside it
            assert parent["flops"] >= row["flops"], row["path"]


def test_every_record_has_its_exports() -> None:
    manifest = load(REAL / "exports.json")
    assert sorted(manifest) == [path.stem for path in RECORDS]
    listed = set()
    for name, exports in manifest.items():
        assert sorted(exports) == ["dynamo", "torchscript"], name
        for exporter, entry in exports.items():
            if "error" in entry:
                continue
            assert entry["file"] == f"{name}.{exporter}.onnx"
            assert (REAL / entry["file"]).stat().st_size == entry["bytes"]
            listed.add(entry["file"])
    assert {path.name for path in REAL.glob("*.onnx")} == listed
