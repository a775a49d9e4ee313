"""`convcalc sweep`: totals at several input sizes, from the library's `sweep()` (hand arithmetic below)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from convcalc.sweep import Sweep, SweepRow, parse_sizes, sweep
from tests.conftest import SPECS, run_cli
from tests.docs import page

INCEPTION = str(SPECS / "inception-5x5.yaml")  # 192 channels in, 32 same-padded 5x5 filters, no bias


def expected_row(channels: int, height: int, width: int) -> list[str]:
    """inception-5x5 at CxHxW: weights C*32*5*5; MACs H*W*32*5*5*C; FLOPs 2 x MACs (no bias);
    peak float32 bytes: the input and the conv's output are alive together, (C + 32) * H * W * 4."""
    return [
        f"{channels}x{height}x{width}",
        f"32x{height}x{width}",
        str(channels * 32 * 5 * 5),
        str(height * width * 32 * 5 * 5 * channels),
        str(2 * height * width * 32 * 5 * 5 * channels),
        str((channels + 32) * height * width * 4),
    ]


def test_sweep_csv_rows_scale_with_the_input_area():
    result = run_cli("sweep", INCEPTION, "--input", "224,320,512,1024", "--format", "csv")
    assert result.code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["input", "output", "params", "macs", "flops", "peak_activation_bytes"]
    assert rows[1:] == [expected_row(192, size, size) for size in (224, 320, 512, 1024)]
    assert rows[3][3] == str(512 * 512 * 32 * 25 * 192)


def test_sweep_size_forms_keep_or_set_the_channels():
    result = run_cli("sweep", INCEPTION, "--input", "512x1024, 3x512x1024", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[1:] == [expected_row(192, 512, 1024), expected_row(3, 512, 1024)]


def test_sweep_library_and_json_are_one_code_path():
    result = sweep(INCEPTION, [(192, 28, 28), (192, 56, 56)], batch=2)
    assert isinstance(result, Sweep) and all(isinstance(row, SweepRow) for row in result.rows)
    assert [row.macs for row in result.rows] == [2 * 28 * 28 * 32 * 25 * 192, 2 * 56 * 56 * 32 * 25 * 192]
    assert result.rows[0].params == 192 * 32 * 25  # weights do not scale with the batch
    cli = run_cli("sweep", INCEPTION, "--input", "28,56", "--batch", "2", "--format", "json")
    data = json.loads(cli.stdout)
    assert data == result.to_dict()
    assert data["schema_version"] == 1
    assert data["rows"][1] == {
        "input": [192, 56, 56],
        "output": [32, 56, 56],
        "outputs": [[32, 56, 56]],
        "params": 192 * 32 * 25,
        "macs": 2 * 56 * 56 * 32 * 25 * 192,
        "flops": 2 * 2 * 56 * 56 * 32 * 25 * 192,
        "peak_activation_bytes": 2 * (192 + 32) * 56 * 56 * 4,
    }


def test_sweep_table():
    result = run_cli("sweep", INCEPTION, "--input", "28,56", "--exact")
    assert result.code == 0
    assert f"{28 * 28 * 32 * 25 * 192:,}" in result.stdout and f"{56 * 56 * 32 * 25 * 192:,}" in result.stdout
    assert "peak activations" in result.stdout


def test_parse_sizes():
    assert parse_sizes("224, 3x64x32,64x32", (3, 1, 1)) == ((3, 224, 224), (3, 64, 32), (3, 64, 32))
    with pytest.raises(ValueError, match="no input sizes"):
        parse_sizes(" , ", (3, 1, 1))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--input", "224,abc"), "input size 'abc'"),
        (("--input", ","), "no input sizes"),
        (("--input", "224", "--format", "markdown"), "'markdown' is not one of 'table', 'json', 'csv'"),
    ],
)
def test_sweep_usage_errors(args, message):
    result = run_cli("sweep", INCEPTION, *args)
    assert result.code == 2
    assert message in result.stderr


def test_a_size_the_network_cannot_take_is_named():
    # AlexNet at 32x32: conv1 (32 - 11) // 4 + 1 = 6, pool1 (6 - 3) // 2 + 1 = 2, and pool2's 3x3 window exceeds 2x2
    result = run_cli("sweep", str(SPECS / "alexnet.yaml"), "--input", "227,32")
    assert result.code == 2
    assert "layer 'pool2' (maxpool): at input 3x32x32:" in result.stderr


def test_readme_shows_the_real_output_of_its_sweep_example():
    sweeps = page("how-to/sweeps.md")
    command = "$ convcalc sweep inception-5x5 --input 224,320,512,1024 --exact"
    shown = sweeps.split(command + "\n", 1)[1].split("```", 1)[0].splitlines()
    real = run_cli(*command.split()[2:]).stdout.splitlines()
    assert shown == [line.rstrip() for line in real[: len(shown)]]
    assert f"{512 * 512 * 32 * 5 * 5 * 192:,}" in sweeps
