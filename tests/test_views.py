"""--depth: rows for the blocks, repeats and structures at a depth, their sums, and the nested JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from convcalc import analyze
from convcalc.passes.views import grouped, rows
from tests.conftest import SPECS, run_cli
from tests.tiny_spec import ADD_FLOPS, CONV_MACS, CONV_PARAMS, POOL_FLOPS, STEM_MACS, STEM_PARAMS, TINY, UNIT_FLOPS


@pytest.fixture
def tiny(write_spec) -> Path:
    return write_spec(TINY)


def test_depth_one_rows_by_hand(tiny: Path):
    result = run_cli("analyze", str(tiny), "--depth", "1", "-f", "csv", "--columns", "name,type,params,macs,flops")
    assert result.code == 0, result.stderr
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table == [
        ["name", "type", "params", "macs", "flops"],
        ["stem", "conv", str(STEM_PARAMS), str(STEM_MACS), str(2 * STEM_MACS)],
        ["stage", "unit x2", str(2 * CONV_PARAMS), str(2 * CONV_MACS), str(2 * UNIT_FLOPS)],
        ["res", "add", str(CONV_PARAMS), str(CONV_MACS), str(2 * CONV_MACS + ADD_FLOPS)],
        ["unit1..unit2", "unit x2", str(2 * CONV_PARAMS), str(2 * CONV_MACS), str(2 * UNIT_FLOPS)],
        ["pool", "global_avgpool", "0", "0", str(POOL_FLOPS)],
    ]


def test_deeper_levels_follow_the_names(tiny: Path):
    analysis = analyze(str(tiny))
    assert [row.name for row in rows(analysis.layers, 2)] == [
        "stem",
        "stage.0",
        "stage.1",
        "res.body",
        "res",
        "unit1.conv",
        "unit1.relu1",
        "unit2.conv",
        "unit2.relu1",
        "pool",
    ]
    assert [row.type for row in rows(analysis.layers, 2)][1:5] == ["unit", "unit", "path", "add"]
    deepest = rows(analysis.layers, 10)
    assert [row.name for row in deepest] == [layer.name for layer in analysis.layers]


def test_rows_sum_to_the_totals_at_every_depth():
    for name in ("resnet50", "googlenet", "mobilenet_v1", "mobilenet_v2", "unet"):
        analysis = analyze(name)
        for depth in range(1, 8):
            shown = rows(analysis.layers, depth)
            for measure in ("params", "buffers", "macs", "flops", "activation_bytes", "weight_bytes"):
                assert sum(getattr(row, measure) for row in shown) == getattr(analysis.total, measure), (name, depth)


def test_resnet50_depth_one_is_the_stages():
    result = run_cli("analyze", "resnet50", "--depth", "1", "-f", "csv", "--columns", "name,type,params,macs,memory")
    table = list(csv.reader(io.StringIO(result.stdout)))
    header, body = table[0], table[1:]
    names = [row[0] for row in body]
    assert names == ["conv1", "bn1", "relu1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    assert [row[1] for row in body[4:8]] == ["bottleneck x3", "bottleneck x4", "bottleneck x6", "bottleneck x3"]
    # layer1 by hand: the first bottleneck reads 64 channels and projects its shortcut, the other two read 256
    first = 64 * 64 + 3 * 3 * 64 * 64 + 64 * 256 + 64 * 256 + 2 * (64 + 64 + 256 + 256)  # convs + BN gamma/beta
    later = 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256)
    assert int(body[4][2]) == first + 2 * later
    full = list(csv.reader(io.StringIO(run_cli("analyze", "resnet50", "-f", "csv").stdout)))
    column = full[0].index
    for key in ("params", "macs", "memory"):
        grouped_sum = sum(int(row[header.index(key)]) for row in body)
        assert grouped_sum == sum(int(row[column(key)]) for row in full[1:]), key
    assert sum(int(row[2]) for row in body) == 25_557_032  # torchvision's published parameter count


def test_table_and_markdown_totals_unchanged():
    full = run_cli("analyze", "resnet50", "--exact", "-f", "markdown").stdout.splitlines()
    grouped_lines = run_cli("analyze", "resnet50", "--exact", "-f", "markdown", "--depth", "1").stdout.splitlines()
    assert grouped_lines[-1] == full[-1] and len(grouped_lines) == 2 + 10 + 1
    table = [line for line in run_cli("analyze", "resnet50", "--depth", "1").stdout.splitlines() if "│" in line]
    assert len(table) == 10 + 1 and any("layer3" in line and "bottleneck x6" in line for line in table)
    assert not any("layer3.0" in line for line in table)


def test_json_groups_nest_with_their_members(tiny: Path):
    data = json.loads(run_cli("analyze", str(tiny), "--depth", "1", "-f", "json").stdout)
    assert data["depth"] == 1 and len(data["layers"]) == 1 + 4 + 2 + 4 + 1
    groups = {group["name"]: group for group in data["groups"]}
    stage = groups["stage"]
    assert (stage["group"], stage["label"], stage["block"], stage["repeat"]) == ("repeat", "unit x2", "unit", 2)
    assert [member["name"] for member in stage["members"]] == ["stage.0", "stage.1"]
    copy = stage["members"][1]
    assert copy["group"] == "block" and [leaf["name"] for leaf in copy["members"]] == ["stage.1.conv", "stage.1.relu1"]
    leaf = copy["members"][0]
    assert leaf["params"] == CONV_PARAMS and leaf["instances"] == [
        {"name": "stage.1", "block": "unit", "line": 13, "copy": 1}
    ]

    def leaves(item: dict) -> list[dict]:
        return [x for m in item["members"] for x in leaves(m)] if "members" in item else [item]

    walked = [leaf for group in data["groups"] for leaf in leaves(group)]
    assert [leaf["name"] for leaf in walked] == [layer["name"] for layer in data["layers"]]
    assert sum(group["macs"] for group in data["groups"]) == data["total"]["macs"]


def test_json_without_depth_has_no_groups(tiny: Path):
    data = json.loads(run_cli("analyze", str(tiny), "-f", "json").stdout)
    assert "groups" not in data and all("instances" not in layer for layer in data["layers"])


def test_compare_at_depth_matches_groups():
    result = run_cli(
        "compare", "googlenet", "-b", "inception3a.concat.5x5.conv_relu2.conv=8", "--depth", "1", "-f", "json"
    )
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    changed = [row["name"] for row in data["layers"] if row["status"] != "same"]
    assert changed == ["inception3a"] and data["depth"] == 1
    before, after = ({g["name"]: g for g in data[side]["groups"]} for side in ("before", "after"))
    # the 5x5 conv read 16 channels (5*5*16*32 weights + 32 biases); now a 1x1 to 8 (16*8 + 8) and 5*5*8*32 + 32
    assert after["inception3a"]["params"] - before["inception3a"]["params"] == (16 * 8 + 8 + 5 * 5 * 8 * 32 + 32) - (
        5 * 5 * 16 * 32 + 32
    )
    table = run_cli("compare", "googlenet", "-b", "inception3a.concat.5x5.conv_relu2.conv=8", "--depth", "1").stdout
    lines = [line for line in table.splitlines() if "│" in line]
    assert any("inception3a" in line for line in lines) and not any("inception3a.concat" in line for line in lines)


def test_depth_must_be_positive(tiny: Path):
    result = run_cli("analyze", str(tiny), "--depth", "0")
    assert result.code == 2
    with pytest.raises(ValueError):
        grouped((), 0)


def test_a_spec_without_structure_is_its_layers():
    analysis = analyze(str(SPECS / "alexnet-lecture.yaml"))
    assert rows(analysis.layers, 1) == analysis.layers
