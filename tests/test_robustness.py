"""Huge inputs stay exact and cheap, the spec file is only ever read, and the docs state the limits."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from convcalc.core.keys import MAX_MAGNITUDE
from convcalc.spec.expr import MAX_PARENTHESES
from convcalc.spec.lower import MAX_DEPTH, MAX_LAYERS
from convcalc.spec.reader import MAX_BYTES, MAX_NESTING, MAX_NODES
from tests.conftest import SPECS, run_cli
from tests.docs import page

HUGE = """\
name: huge
input: [10000, 100000, 100000]
layers:
  - {type: conv, name: conv, filters: 10000, kernel: 3, padding: 1}
  - {type: maxpool, name: pool, kernel: 2}
  - {type: global_avgpool, name: gap}
  - {type: linear, name: fc, units: 1000}
"""


def test_a_100000_by_100000_input_with_10000_channels_gives_exact_integers(write_spec) -> None:
    result = run_cli("analyze", str(write_spec(HUGE)), "--format", "json")
    assert result.code == 0, result.stderr
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["layers"]}
    total = json.loads(result.stdout)["total"]

    c, hw = 10_000, 100_000  # channels, height = width
    conv_macs = hw * hw * c * 3 * 3 * c  # 3x3 'same' by padding 1: the output is 10000x100000x100000
    assert layers["conv"]["output_shape"] == [c, hw, hw]
    assert layers["conv"]["params"] == 3 * 3 * c * c + c
    assert layers["conv"]["macs"] == 9_000_000_000_000_000_000  # 9 * 10^18, beyond float64's exact 2^53
    assert layers["conv"]["macs"] == conv_macs
    assert layers["conv"]["flops"] == 2 * conv_macs + c * hw * hw
    assert layers["conv"]["activation_bytes"] == c * hw * hw * 4  # float32
    assert layers["pool"]["output_shape"] == [c, hw // 2, hw // 2]
    assert layers["pool"]["flops"] == 3 * c * (hw // 2) * (hw // 2)  # 2x2 max: 3 comparisons per output
    assert layers["gap"]["flops"] == c * (hw // 2) * (hw // 2)  # every input element added once
    assert layers["fc"]["params"] == c * 1000 + 1000
    assert total["params"] == 3 * 3 * c * c + c + c * 1000 + 1000
    assert total["macs"] == conv_macs + c * 1000
    assert conv_macs > 2**53 and float(conv_macs + 1) == float(conv_macs)  # a float would have lost the +1

    table = run_cli("analyze", str(write_spec(HUGE)), "--exact")
    assert f"{conv_macs + c * 1000:,}" in table.stdout


def test_huge_output_sizes_cost_nothing_and_stay_exact(write_spec) -> None:
    # 8 divides 10^9, so each of the 10^9 output rows (and columns) averages exactly one input row (column).
    path = write_spec("input: [3, 8, 8]\nlayers:\n  - {type: adaptive_avgpool, output: [1000000000, 1000000000]}\n")
    result = run_cli("analyze", str(path), "--format", "json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["layers"][0]["flops"] == 3 * 10**9 * 10**9


def test_adaptive_pool_windows_as_pytorch_lays_them_out(write_spec) -> None:
    # 13 -> 6: windows [floor(13i/6), ceil(13(i+1)/6)) = [0,3) [2,5) [4,7) [6,9) [8,11) [10,13): 6 * 3 = 18 per axis
    path = write_spec("input: [256, 13, 13]\nlayers:\n  - {type: adaptive_avgpool, output: [6, 6]}\n")
    result = run_cli("analyze", str(path), "--format", "json")
    assert json.loads(result.stdout)["layers"][0]["flops"] == 256 * 18 * 18


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(None, id="bundled"),
        pytest.param("input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 4, kernel: 9}\n", id="shape-error"),
        pytest.param("input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 4\n", id="yaml-error"),
    ],
)
def test_the_spec_file_is_never_modified(tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "net.yaml"
    if text is None:
        shutil.copy(SPECS / "alexnet.yaml", path)
    else:
        path.write_text(text, encoding="utf-8")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for output in ("table", "json"):
        run_cli("analyze", str(path), "--format", output)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.yaml"]


def test_readme_documents_the_limits() -> None:
    errors = page("reference/errors.md")
    limits = (f"{MAX_LAYERS:,}", f"{MAX_NODES:,}", f"{MAX_DEPTH}", f"{MAX_NESTING}", f"{MAX_PARENTHESES}")
    for limit in (*limits, f"{MAX_BYTES // 2**20} MiB"):
        assert limit in errors, limit
    assert MAX_MAGNITUDE == 10**100 and "10^100" in errors


HUGE_JUMP = f"""
input: [1, 8, 8]
layers:
  - {{type: conv, filters: 1, kernel: 1, stride: {10**60}, repeat: 6}}
  - {{type: upsample, scale: 3}}
"""


def test_receptive_field_jumps_beyond_float_range_stay_printable(write_spec) -> None:
    """Jumps multiply the strides: (10^60)^6 = 10^360 is beyond a float; the upsample makes it a fraction."""
    path = write_spec(HUGE_JUMP)
    data = json.loads(run_cli("analyze", str(path), "--format", "json").stdout)
    assert data["layers"][-1]["receptive_field"]["jump"] == [10**360 // 3, 10**360 // 3]  # nearest int of 10^360 / 3
    table = run_cli("analyze", str(path), "--columns", "name,jump")
    assert table.code == 0, table.stderr
    compared = run_cli("compare", str(path), str(path), "--format", "json")
    assert compared.code == 0, compared.stderr
    assert json.loads(compared.stdout)["ratio"]["macs"] == 1
