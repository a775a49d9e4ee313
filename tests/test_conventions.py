"""Issue 15: other tools' counts, exactly. Every number asserted comes from the real tools' recordings
(tests/data/peers/TOOL.json, tools/record_peers.py) or from arithmetic written out here."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from convcalc import analyze
from convcalc.conventions import CONVENTIONS, count_layers, explain_rules
from convcalc.layers import CATALOGUE
from convcalc.results import Analysis
from tests.conftest import REPO, run_cli

PEERS = REPO / "tests" / "data" / "peers"
TOOLS = ("fvcore", "ptflops", "thop", "torchinfo", "flop_counter")
TORCHVISION_MODULES = {"alexnet-torchvision", "mobilenet_v2", "resnet18", "resnet50", "squeezenet1_0", "vgg16"}
"""Specs whose plain entry ran torchvision's own module (keyed by torchvision's names); their /export entry ran
convcalc's export, keyed by convcalc layer names."""


@cache
def recorded(tool: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PEERS / f"{tool}.json").read_text(encoding="utf-8"))
    return document


@cache
def network(key: str) -> Analysis:
    """The analysis of a fixture entry's network: ``SPEC@HxW`` or ``SPEC@HxW/export``."""
    spec, size = key.split("/")[0].split("@")
    height, width = (int(n) for n in size.split("x"))
    path = PEERS / f"{spec}.yaml"
    analysis = analyze(str(path) if path.exists() else spec)
    return analysis if analysis.input_shape[1:] == (height, width) else analyze(spec, input_shape=(3, height, width))


def entries(tool: str) -> list[str]:
    return sorted(recorded(tool)["networks"])


def by_layer(entry: dict[str, Any], names: set[str]) -> dict[str, int]:
    """The fixture's modules (ptflops: and its functional counts) per convcalc layer: a layer exported as several
    modules (nn.Sequential(nn.Flatten(), nn.Linear) for a linear on a feature map) is keyed NAME.0, NAME.1."""
    result: dict[str, int] = {}
    for section in ("modules", "functional"):
        for module, count in entry.get(section, {}).items():
            name = module if module in names else module.rsplit(".", 1)[0]
            assert name in names, f"fixture module {module!r} is no convcalc layer"
            result[name] = result.get(name, 0) + count
    return result


@pytest.mark.parametrize("tool", TOOLS)
def test_the_convention_names_the_recorded_version(tool: str):
    assert CONVENTIONS[tool].version == recorded(tool)["version"]


@pytest.mark.parametrize(("tool", "key"), [(tool, key) for tool in TOOLS for key in entries(tool)])
def test_totals_equal_what_the_tool_printed(tool: str, key: str):
    entry = recorded(tool)["networks"][key]
    assert "error" not in entry, f"{tool} could not count {key}: {entry}"  # none did; convcalc models no crash
    counting = count_layers(network(key).layers, CONVENTIONS[tool])
    spec = key.split("@")[0]
    if spec == "mobilenet_v2" and "/" not in key and tool in ("ptflops", "thop"):
        # torchvision pools with F.adaptive_avg_pool2d in forward(), where the spec (and its export) has a module:
        # ptflops' hook (1 x input, 1,280 x 7 x 7) and thop's ((7 x 7 + 1) x 1,280) see no module there
        side = int(key.split("@")[1].split("x")[0]) // 32
        missing = 1280 * side * side if tool == "ptflops" else (side * side + 1) * 1280
        assert counting.count - entry["total"] == missing
        return
    assert counting.count == entry["total"]


EXPORTS = [
    (tool, key)
    for tool in TOOLS
    for key in entries(tool)
    if key.endswith("/export") or key.split("@")[0] not in TORCHVISION_MODULES
]


@pytest.mark.parametrize(("tool", "key"), EXPORTS)
def test_every_layer_equals_the_tool(tool: str, key: str):
    entry = recorded(tool)["networks"][key]
    analysis = network(key)
    counting = count_layers(analysis.layers, CONVENTIONS[tool])
    expected = by_layer(entry, {layer.name for layer in analysis.layers})
    flops = CONVENTIONS[tool].unit == "FLOPs"
    mine = {t.layer.name: (t.flops if flops else t.macs) for t in counting.layers}
    assert {name: count for name, count in mine.items() if count != expected.get(name, 0)} == {}


@pytest.mark.parametrize("key", [key for key in entries("ptflops") if ("ptflops", key) in EXPORTS])
def test_ptflops_hooks_are_its_per_layer_table(key: str):
    entry = recorded("ptflops")["networks"][key]
    counting = count_layers(network(key).layers, CONVENTIONS["ptflops-hooks"])
    assert counting.count == sum(entry["modules"].values())


@pytest.mark.parametrize("key", entries("fvcore"))
def test_fvcore_lists_the_ops_it_skipped(key: str):
    """fvcore's unsupported ops, by name and count; torchvision's modules add in place (add_, hardtanh_)."""
    counting = count_layers(network(key).layers, CONVENTIONS["fvcore"])
    recorded_ops: dict[str, int] = {}
    for op, times in recorded("fvcore")["networks"][key]["unsupported_ops"].items():
        plain = op.removesuffix("_") if "/" not in key and key.split("@")[0] in TORCHVISION_MODULES else op
        recorded_ops[plain] = recorded_ops.get(plain, 0) + times
    assert counting.skipped() == recorded_ops


def test_torchvision_is_flop_counter_halved_and_its_published_ops():
    for key in entries("flop_counter"):
        counting = count_layers(network(key).layers, CONVENTIONS["torchvision"])
        assert 2 * counting.count == recorded("flop_counter")["networks"][key]["total"]
    # torchvision's published GFLOPS (weights.meta["_ops"], 3 decimals): ResNet-50 4.089, MobileNetV2 0.301
    assert round(count_layers(network("resnet50@224x224").layers, CONVENTIONS["torchvision"]).count / 1e9, 3) == 4.089
    assert round(count_layers(network("mobilenet_v2@224x224").layers, CONVENTIONS["torchvision"]).count / 1e9, 3) == (
        0.301
    )


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_every_layer_kind_has_a_rule(name: str):
    for _, registry in CONVENTIONS[name].parts:
        assert sorted(set(CATALOGUE) - set(registry)) == []


# --- one layer per rule, by hand -----------------------------------------------------------------------------


def one_layer(tmp_path: Any, input_shape: str, layer: str, tool: str) -> tuple[int, tuple[str, ...]]:
    spec = tmp_path / "one.yaml"
    spec.write_text(f"input: {input_shape}\nlayers:\n  - {layer}\n", encoding="utf-8")
    counting = count_layers(analyze(str(spec)).layers, CONVENTIONS[tool])
    return counting.count, counting.layers[0].skipped


HAND = [
    # conv 3 -> 8, 3x3, pad 1, bias, on 3x10x10: 8 x 10 x 10 x 3 x 3 x 3 = 21,600 multiply-adds; bias 800
    ("fvcore", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 21_600, ()),
    ("fvcore", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: same}", 0, ("aten::_convolution_mode",)),
    ("ptflops", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 21_600 + 800, ()),
    ("thop", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 21_600, ()),
    ("torchinfo", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", (216 + 8) * 100, ()),
    ("flop_counter", "[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 2 * 21_600, ()),
    # transposed 4 -> 2, 2x2 stride 2 on 4x5x5 (output 2x10x10): input-based 5 x 5 x 4 x 2 x 4 = 800
    ("fvcore", "[4, 5, 5]", "{type: conv_transpose, filters: 2, kernel: 2, stride: 2, bias: false}", 800, ()),
    ("thop", "[4, 5, 5]", "{type: conv_transpose, filters: 2, kernel: 2, stride: 2, bias: false}", 2 * 100 * 4 * 4, ()),
    # batch norm on 4x5x5 (100 elements, 8 parameters)
    ("fvcore", "[4, 5, 5]", "{type: batchnorm}", 2 * 100, ()),
    ("ptflops", "[4, 5, 5]", "{type: batchnorm}", 2 * 100, ()),
    ("thop", "[4, 5, 5]", "{type: batchnorm}", 4 * 100, ()),
    ("torchinfo", "[4, 5, 5]", "{type: batchnorm}", 8, ()),
    # ReLU on 100 elements: ptflops' hook and its F.relu wrapper; ReLU6: the hook only
    ("ptflops", "[4, 5, 5]", "{type: relu}", 100 + 100, ()),
    ("ptflops", "[4, 5, 5]", "{type: relu6}", 100, ()),
    ("fvcore", "[4, 5, 5]", "{type: relu6}", 0, ("aten::hardtanh",)),
    # max pool 2x2 on 4x6x6 -> 4x3x3: ptflops 2 x input (144); fvcore unsupported
    ("ptflops", "[4, 6, 6]", "{type: maxpool, kernel: 2}", 2 * 144, ()),
    ("fvcore", "[4, 6, 6]", "{type: maxpool, kernel: 2}", 0, ("aten::max_pool2d",)),
    # global average pool on 4x6x6: fvcore 1 x input; thop (36 + 1) x 4; adaptive 6x6 -> 4x4: int((1.5 * 1.5 + 1) x 64)
    ("fvcore", "[4, 6, 6]", "{type: global_avgpool}", 144, ()),
    ("thop", "[4, 6, 6]", "{type: global_avgpool}", 37 * 4, ()),
    ("thop", "[4, 6, 6]", "{type: adaptive_avgpool, output: 4}", 208, ()),
    # linear 12 -> 5 with bias: ptflops and torchinfo count the bias
    ("fvcore", "[12]", "{type: linear, units: 5}", 60, ()),
    ("ptflops", "[12]", "{type: linear, units: 5}", 65, ()),
    ("torchinfo", "[12]", "{type: linear, units: 5}", 65, ()),
    # softmax over 10: thop 3 x 10 - 1; ptflops' F.softmax wrapper 10
    ("thop", "[10]", "{type: softmax}", 29, ()),
    ("ptflops", "[10]", "{type: softmax}", 10, ()),
    # LRN size 5 on 8x3x3: ptflops 3 x 72 + (8 + 4) x 3 x 3
    ("ptflops", "[8, 3, 3]", "{type: lrn}", 216 + 108, ()),
    # layer norm over channels on 4x5x5: fvcore 5 x 100; ptflops 1 x 100 (no 'affine' attribute); thop 4 x 100
    ("fvcore", "[4, 5, 5]", "{type: layernorm}", 500, ()),
    ("ptflops", "[4, 5, 5]", "{type: layernorm}", 100, ()),
    ("thop", "[4, 5, 5]", "{type: layernorm}", 400, ()),
    ("thop", "[4, 5, 5]", "{type: groupnorm, groups: 2}", 0, ()),
    # bilinear upsampling x2 on 4x5x5 -> 400 outputs: fvcore x 4, thop x 11, ptflops hook + F.interpolate
    ("fvcore", "[4, 5, 5]", "{type: upsample, scale: 2, mode: bilinear}", 1600, ()),
    ("thop", "[4, 5, 5]", "{type: upsample, scale: 2, mode: bilinear}", 4400, ()),
    ("ptflops", "[4, 5, 5]", "{type: upsample, scale: 2, mode: bilinear}", 800, ()),
    # layer scale: torchinfo's parameter is named gamma, not weight: 0
    ("torchinfo", "[4, 5, 5]", "{type: scale}", 0, ()),
]


@pytest.mark.parametrize(("tool", "shape", "layer", "count", "skipped"), HAND)
def test_one_layer_by_hand(tmp_path: Any, tool: str, shape: str, layer: str, count: int, skipped: tuple[str, ...]):
    assert one_layer(tmp_path, shape, layer, tool) == (count, skipped)


def test_fvcore_drops_what_never_reaches_the_output(tmp_path: Any):
    """A branch nobody reads is not in fvcore's trace; the other tools run it (a 1x1 conv 2 -> 3 on 2x4x4: 96)."""
    spec = tmp_path / "dangling.yaml"
    spec.write_text(
        "input: [2, 4, 4]\nlayers:\n  - {type: conv, name: dangling, filters: 3, kernel: 1, bias: false}\n"
        "  - {type: relu, input: input}\n",
        encoding="utf-8",
    )
    layers = analyze(str(spec)).layers
    assert count_layers(layers, CONVENTIONS["fvcore"]).count == 0
    assert count_layers(layers, CONVENTIONS["thop"]).count == 3 * 16 * 2


def test_a_batch_multiplies_every_count():
    single = count_layers(network("resnet18@224x224").layers, CONVENTIONS["thop"]).count
    batch = analyze("resnet18", batch=4)
    assert count_layers(batch.layers, CONVENTIONS["thop"], batch=4).count == 4 * single


def test_explain_substitutes_the_rule():
    """ResNet-50's bn1 under thop: 2 x 64 x 112 x 112 x 2 = 3,211,264 (docs/peer-rules.md)."""
    bn1 = next(layer for layer in network("resnet50@224x224").layers if layer.name == "bn1")
    (step,) = explain_rules(bn1, CONVENTIONS["thop"])
    assert (step.substituted, step.value) == ("2 * 64 * 112 * 112 * 2", 3_211_264)


# --- the command line ------------------------------------------------------------------------------------------


def test_analyze_convention_json():
    result = run_cli("analyze", "resnet50", "--convention", "ptflops", "--format", "json")
    data = json.loads(result.stdout)
    assert data["total"]["macs"] == recorded("ptflops")["networks"]["resnet50@224x224"]["total"]
    assert "flops" not in data["total"] and data["convention"]["version"] == "0.7.5"
    assert data["convention"]["name"] == "ptflops"


def test_analyze_convention_flops_and_table():
    data = json.loads(run_cli("analyze", "resnet50", "--convention", "flop_counter", "--format", "json").stdout)
    assert data["total"]["flops"] == 8_178_368_512 and data["total"]["macs"] == 4_089_184_256
    table = run_cli("analyze", "resnet50", "--convention", "fvcore", "--exact").stdout
    assert "4,111,512,576" in table and "aten::max_pool2d" in table


def test_unknown_convention_and_missing_flops_are_usage_errors():
    unknown = run_cli("analyze", "resnet50", "--convention", "onnx")
    assert unknown.code == 2 and "fvcore" in unknown.stderr
    flops = run_cli("analyze", "resnet50", "--convention", "thop", "--columns", "name,flops")
    assert flops.code == 2 and "no FLOPs" in flops.stderr


def test_conventions_command():
    data = json.loads(run_cli("conventions", "resnet50", "--format", "json").stdout)
    rows = {row["name"]: row for row in data["conventions"]}
    assert rows["fvcore"]["count"] == 4_111_512_576
    # fvcore - convcalc: batch norm 2 x 11,113,984 elements, the global pool 2,048 x 7 x 7
    assert rows["fvcore"]["by_kind"] == {"batchnorm": 22_227_968, "global_avgpool": 100_352}
    assert rows["torchinfo"]["by_kind"] == {"batchnorm": 53_120, "linear": 1_000}
    text = run_cli("conventions", "resnet50").stdout
    assert "+22.23M batchnorm" in text and "flop_counter" in text


def test_explain_convention_text():
    text = run_cli("explain", "resnet50", "maxpool", "--convention", "fvcore").stdout
    assert "aten::max_pool2d" in text and "fvcore" in text


def test_readme_table_holds_the_recorded_totals():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Conventions: whose number is right?")[1].split("\n## ")[0]
    for tool in TOOLS:
        total = recorded(tool)["networks"]["resnet50@224x224"]["total"]
        assert f"| `{tool}` |" in section and f"| {total:,} |" in section, tool
    assert f"| `onnx-tool` | 1.0.1 | MACs | {recorded('onnx_tool')['networks']['resnet50']['total']:,} |" in section


# --- onnx-tool: the ONNX fixtures (tests/data/peers/onnx_tool.json, tools/record_onnx_tool.py) -------------------

ONNX_FILES = REPO / "tests" / "data" / "onnx"


def onnx_entries(counted: bool) -> list[str]:
    return sorted(key for key, entry in recorded("onnx_tool")["networks"].items() if ("error" in entry) != counted)


def test_the_onnx_tool_convention_names_the_recorded_version():
    assert CONVENTIONS["onnx-tool"].version == recorded("onnx_tool")["version"]


@pytest.mark.parametrize("key", onnx_entries(counted=True))
def test_onnx_tool_totals_equal_what_it_printed(key: str):
    """The file as convcalc imports it, and the bundled spec it was exported from (SPEC.onnx, SPEC.torchvision.onnx);
    a file recorded at its exported batch of 2 is twice batch 1 (every onnx-tool count is a volume with the batch)."""
    entry = recorded("onnx_tool")["networks"][key]
    imported = count_layers(analyze(str(ONNX_FILES / f"{key}.onnx")).layers, CONVENTIONS["onnx-tool"])
    spec = count_layers(analyze(key.split(".")[0]).layers, CONVENTIONS["onnx-tool"])
    assert (entry["batch"] * imported.count, entry["batch"] * spec.count) == (entry["total"], entry["total"])


def layer_of(node: str, op: str, origins: dict[str, str], names: set[str]) -> str:
    """The convcalc layer an ONNX node belongs to: the layer it became, else its name as the import's name_for
    reads it ('/layer1/layer1.0/conv1/Sigmoid' -> 'layer1.0.conv1'), shortened to the longest layer name."""
    if node in origins:
        return origins[node]
    parts = [part for part in node.split("/") if part]
    if parts and parts[-1].split("_")[0] == op:
        parts.pop()
    kept: list[str] = []
    for part in parts:
        if kept and part.startswith(kept[-1] + "."):
            kept[-1] = part
        else:
            kept.append(part)
    name = ".".join(kept)
    while name and name not in names:
        name = name.rpartition(".")[0]
    return name


@pytest.mark.parametrize("key", onnx_entries(counted=True))
def test_onnx_tool_every_layer_equals_its_nodes(key: str):
    from convcalc.onnx_import import read_onnx_file

    entry = recorded("onnx_tool")["networks"][key]
    path = str(ONNX_FILES / f"{key}.onnx")
    origins: dict[str, str] = {}
    read_onnx_file(path, origins)
    layers = analyze(path).layers
    names = {layer.name for layer in layers}
    expected: dict[str, int] = {}
    for node, numbers in entry["nodes"].items():
        name = layer_of(node, numbers["op"], {v: k for k, v in origins.items()}, names)
        assert numbers["macs"] == 0 or name in names, f"onnx-tool counts {node} ({numbers['op']}), no convcalc layer"
        expected[name] = expected.get(name, 0) + numbers["macs"]
    counting = count_layers(layers, CONVENTIONS["onnx-tool"])
    mine = {t.layer.name: entry["batch"] * t.macs for t in counting.layers}
    assert {name: count for name, count in mine.items() if count != expected.get(name, 0)} == {}


@pytest.mark.parametrize("key", onnx_entries(counted=False))
def test_where_onnx_tool_crashes_convcalc_says_so(key: str):
    """alexnet and googlenet: torch exports their LRN with an If, on which onnx-tool raises."""
    error = recorded("onnx_tool")["networks"][key]["error"]
    counting = count_layers(analyze(key.split(".")[0]).layers, CONVENTIONS["onnx-tool"])
    assert counting.crash is not None and error["type"] in counting.crash
    assert error["message"].replace("-/lrn1/If", "").replace("-/norm1/If", "") in counting.crash
    result = run_cli("analyze", key.split(".")[0], "--convention", "onnx-tool")
    assert result.code == 2 and "cannot count this network" in result.stderr


def test_onnx_tool_params_add_batch_norms_running_statistics():
    """ResNet-50: 25,557,032 parameters + running mean and variance of its 26,560 batch-norm channels."""
    assert recorded("onnx_tool")["networks"]["resnet50"]["params"] == 25_557_032 + 2 * 26_560


ONNX_TOOL_HAND = [
    # conv 3 -> 8, 3x3, pad 1, bias, on 3x10x10: 800 outputs x 27 + 800 for the bias
    ("[3, 10, 10]", "{type: conv, filters: 8, kernel: 3, padding: 1}", 800 * 27 + 800),
    # transposed 4 -> 2, 2x2 stride 2 on 4x5x5: 200 outputs x (2 x 2 x 2) (recorded by hand: 3,200 at batch 2)
    ("[4, 5, 5]", "{type: conv_transpose, filters: 2, kernel: 2, stride: 2, bias: false}", 1_600),
    ("[4, 5, 5]", "{type: batchnorm}", 31 * 100),
    ("[4, 5, 5]", "{type: layernorm, over: all, affine: false}", 7 * 100 + 29 * 25),
    ("[4, 5, 5]", "{type: groupnorm, groups: 2}", 9 * 100),
    ("[4, 6, 6]", "{type: adaptive_avgpool, output: [3, 2]}", 144),
    ("[4, 6, 6]", "{type: global_avgpool}", 144 + 4 * 4),
    ("[4, 5, 5]", "{type: tanh}", 76 * 100),
    ("[4, 5, 5]", "{type: silu}", 33 * 100),
    ("[10]", "{type: softmax}", 36 * 10),
    ("[12]", "{type: linear, units: 5}", 65),
]


@pytest.mark.parametrize(("shape", "layer", "count"), ONNX_TOOL_HAND)
def test_onnx_tool_one_layer_by_hand(tmp_path: Any, shape: str, layer: str, count: int):
    assert one_layer(tmp_path, shape, layer, "onnx-tool") == (count, ())
