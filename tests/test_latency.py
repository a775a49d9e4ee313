"""Latency estimates (issue 24): the roofline of a conv, a depthwise conv and an add worked out by hand on stated
devices, the fusion rule, the JSON fields, bad input, and device profiles written and read back.

Devices used by hand: the bundled ``x86-avx2-core`` (float32 peak 128 GFLOP/s = 2 FMA units x 8 lanes x 2 FLOPs x
4.0 GHz; bandwidth 34.1 GB/s = 2 channels x 8 bytes x 2,133 MT/s), and made-up profiles stated in each test.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pytest

from convcalc.measure.calibrate import Measured, efficiencies
from convcalc.measure.microbench import Case
from convcalc.passes.devices import DEVICES, bundled
from convcalc.passes.latency import Work, estimate, roofline
from convcalc.passes.profile import MARK, DeviceProfile, profile_from
from tests.conftest import REPO, run_cli
from tests.netbuild import analyze_layers, analyze_text, spec_text
from tests.test_output_schema import validate

AVX2 = DEVICES["x86-avx2-core"]
PEAK, BANDWIDTH = 128e9, 34.1e9
"""The x86 core's figures, as its source derives them (not read from the table: the test checks the table too)."""


def test_the_x86_core_holds_its_derived_figures() -> None:
    assert AVX2.peak_flops["float32"] == 2 * 8 * 2 * 4.0e9 == PEAK
    assert AVX2.bandwidth == pytest.approx(2 * 8 * 2133e6, rel=1e-3) and AVX2.bandwidth == BANDWIDTH
    assert {"peak_flops.float32", "bandwidth"} <= set(AVX2.derived)


def test_a_dense_conv_is_compute_bound() -> None:
    """3x3 conv 16 -> 32 on 56x56, padding 1, no bias, float32:
    MACs = 56 * 56 * 32 * 16 * 3 * 3 = 14,450,688; FLOPs = 2 * MACs = 28,901,376;
    bytes = weights 32 * 16 * 9 * 4 = 18,432 + input 16 * 56 * 56 * 4 = 200,704 + output 32 * 56 * 56 * 4 = 401,408
          = 620,544;
    compute = 28,901,376 / 128e9 = 225.792 us; memory = 620,544 / 34.1e9 = 18.198 us: compute-bound, 225.792 us;
    intensity = 28,901,376 / 620,544 = 46.57 FLOPs per byte (the ridge point is 128 / 34.1 = 3.75)."""
    conv = {"type": "conv", "name": "conv", "filters": 32, "kernel": 3, "padding": 1, "bias": False}
    latency = estimate(analyze_layers([16, 56, 56], [conv]), AVX2)
    layer = latency.layers["conv"]
    assert layer.bytes == 620_544
    assert layer.bound == "compute"
    assert layer.estimate_s == pytest.approx(28_901_376 / PEAK, rel=1e-12)
    assert layer.intensity == pytest.approx(28_901_376 / 620_544)
    assert latency.estimate_s == layer.estimate_s and latency.nodes == 1


def test_a_depthwise_conv_is_memory_bound() -> None:
    """3x3 depthwise conv on 64x56x56 (groups 64), padding 1, no bias:
    MACs = 56 * 56 * 64 * 1 * 9 = 1,806,336; FLOPs = 3,612,672;
    bytes = weights 64 * 9 * 4 = 2,304 + input 802,816 + output 802,816 = 1,607,936;
    compute = 3,612,672 / 128e9 = 28.224 us; memory = 1,607,936 / 34.1e9 = 47.153 us: memory-bound, 47.153 us."""
    conv = {"type": "conv", "name": "dw", "filters": 64, "kernel": 3, "padding": 1, "groups": 64, "bias": False}
    layer = estimate(analyze_layers([64, 56, 56], [conv]), AVX2).layers["dw"]
    assert (layer.bytes, layer.bound) == (1_607_936, "memory")
    assert layer.estimate_s == pytest.approx(1_607_936 / BANDWIDTH, rel=1e-12)


ADD = [{"type": "relu", "name": "r"}, {"type": "add", "name": "sum", "inputs": ["input", "r"]}]
"""x + relu(x) on 64x56x56: the relu is no conv, so the add is a node of its own."""


def test_an_add_is_memory_bound_and_pays_its_family_and_its_node() -> None:
    """add of two 64x56x56 maps: FLOPs 64 * 56 * 56 = 200,704; bytes = two inputs 2 * 802,816 + output 802,816
    = 2,408,448.
    x86 core: compute 200,704 / 128e9 = 1.568 us, memory 2,408,448 / 34.1e9 = 70.629 us: memory-bound.
    A device of peak 1e11 FLOP/s, 1e10 bytes/s, element-wise efficiency 0.5 and 5 us per node:
    2,408,448 / 1e10 / 0.5 + 5e-6 = 481.6896 us + 5 us = 486.6896 us."""
    analysis = analyze_layers([64, 56, 56], ADD)
    layer = estimate(analysis, AVX2).layers["sum"]
    assert (layer.bytes, layer.bound) == (2_408_448, "memory")
    assert layer.estimate_s == pytest.approx(2_408_448 / BANDWIDTH, rel=1e-12)
    device = DeviceProfile("stated", {"float32": 1e11}, 1e10, efficiency={"elementwise": 0.5}, overhead_s=5e-6)
    assert estimate(analysis, device).layers["sum"].estimate_s == pytest.approx(486.6896e-6, rel=1e-12)


FUSED = """\
input: [16, 8, 8]
layers:
  - type: residual
    name: res
    body:
      - {type: conv, name: c1, filters: 16, kernel: 3, padding: 1, bias: false}
      - {type: batchnorm, name: b1}
      - {type: relu, name: r1}
      - {type: conv, name: c2, filters: 16, kernel: 3, padding: 1, bias: false}
      - {type: batchnorm, name: b2}
  - {type: relu, name: out}
  - {type: silu, name: s}
  - {type: flatten, name: f}
"""


def test_convs_absorb_batch_norm_activation_and_the_residual_add() -> None:
    """conv + bn + relu is one node; conv + bn + add + relu another, which also reads the add's other input (the
    network's 16x8x8 input); SiLU is not fused (onnxruntime fuses relu, not silu); flatten costs nothing.
    c2's node: input 16 * 64 * 4 = 4,096 + weights 16 * 16 * 9 * 4 = 9,216 + output 4,096 + the shortcut 4,096 =
    21,504 bytes."""
    latency = estimate(analyze_text(FUSED), AVX2)
    layers = latency.layers
    assert [(name, layers[name].bound, layers[name].node) for name in ("res.body.b1", "res.body.r1")] == [
        ("res.body.b1", "fused", "res.body.c1"),
        ("res.body.r1", "fused", "res.body.c1"),
    ]
    assert {layers[name].node for name in ("res.body.b2", "res", "out")} == {"res.body.c2"}
    assert layers["res.body.c2"].bytes == 4_096 + 9_216 + 4_096 + 4_096
    assert layers["s"].bound == "memory" and layers["s"].node == "s"
    assert (layers["f"].bound, layers["f"].node, layers["f"].estimate_s) == ("free", None, 0.0)
    assert latency.nodes == 3
    assert sum(layer.estimate_s for layer in layers.values()) == pytest.approx(latency.estimate_s)


def test_nothing_is_fused_into_a_conv_read_twice_nor_a_second_activation() -> None:
    """A conv whose output a relu and an add both read keeps them apart: three nodes. A conv fuses one activation:
    conv -> relu -> relu6 is two nodes. A lone batch norm absorbs the relu after it: one node."""
    read_twice = [
        {"type": "conv", "name": "c", "filters": 4, "kernel": 1},
        {"type": "relu", "name": "r"},
        {"type": "add", "name": "a", "inputs": ["c", "r"]},
    ]
    assert estimate(analyze_layers([4, 4, 4], read_twice), AVX2).nodes == 3
    two = [{"type": "conv", "name": "c", "filters": 4, "kernel": 1}, {"type": "relu"}, {"type": "relu6", "name": "r6"}]
    latency = estimate(analyze_layers([4, 4, 4], two), AVX2)
    assert latency.nodes == 2 and latency.layers["r6"].node == "r6"
    lone = estimate(analyze_layers([4, 4, 4], [{"type": "batchnorm", "name": "b"}, {"type": "relu"}]), AVX2)
    assert lone.nodes == 1


def test_lanes_round_channels_up() -> None:
    """A device computing channels in blocks of 8: a 3x3 conv 3 -> 10 on 8x8 (padding 1) does
    2 * 8 * 8 * 10 * 27 = 34,560 FLOPs, computed as 34,560 * 16 / 10 = 55,296 (c_out 10 -> 16; c_in 3, below one
    block, as it is): at 1e9 FLOP/s (bandwidth out of the way) 55.296 us. A depthwise 3x3 on 12 channels of 8x8:
    2 * 64 * 12 * 9 = 13,824 FLOPs as 13,824 * 16 / 12 = 18,432: 18.432 us."""
    device = DeviceProfile("blocks", {"float32": 1e9}, 1e15, lanes=8)
    conv = {"type": "conv", "name": "c", "filters": 10, "kernel": 3, "padding": 1}
    assert estimate(analyze_layers([3, 8, 8], [conv]), device).estimate_s == pytest.approx(55.296e-6)
    dw = {"type": "conv", "name": "d", "filters": 12, "kernel": 3, "padding": 1, "groups": 12, "bias": False}
    assert estimate(analyze_layers([12, 8, 8], [dw]), device).estimate_s == pytest.approx(18.432e-6)


def test_grouped_convs_by_channels_per_group_and_the_bandwidth_curve() -> None:
    """Grouped efficiency 0.2 at 4 channels per group, 0.4 at 16: 8 per group is halfway in log, 0.3; with lanes 8,
    8 per group is aligned and takes grouped_aligned, 0.9. The curve (1 kB: 100 GB/s, 100 kB: 10 GB/s) at 10 kB is
    halfway in log-log: sqrt(100 * 10) = 31.62 GB/s; it is clamped at its ends. Weights stream at the network's
    weights' bandwidth: 1 kB of weights at 100 kB's 10 GB/s and 1 kB of activations at 1 kB's 100 GB/s is
    1e-7 + 1e-8 = 110 ns."""
    points = ((4.0, 0.2), (16.0, 0.4))
    assert DeviceProfile("g", {"float32": 1.0}, 1.0, grouped_efficiency=points).efficiency_of("grouped", 8) == (
        pytest.approx(0.3)
    )
    aligned = DeviceProfile("g", {"float32": 1.0}, 1.0, lanes=8, grouped_efficiency=points, grouped_aligned=0.9)
    assert aligned.efficiency_of("grouped", 8) == 0.9 and aligned.efficiency_of("grouped", 4) == 0.2
    curve = DeviceProfile("c", {"float32": 1e15}, 1e10, bandwidth_curve=((1e3, 1e11), (1e5, 1e10)))
    assert curve.bandwidth_at(1e4) == pytest.approx(math.sqrt(1e11 * 1e10))
    assert (curve.bandwidth_at(10.0), curve.bandwidth_at(1e9)) == (pytest.approx(1e11), pytest.approx(1e10))
    compute, memory = roofline(Work("elementwise", 0, 1000, 1000), curve, "float32", 1e5)
    assert (compute, memory) == (0.0, pytest.approx(1e-7 + 1e-8))


def test_a_gpu_runs_element_wise_layers_at_its_vector_peak() -> None:
    """T4 in float16: convs at the tensor cores' 65 TFLOP/s, an add at the CUDA cores' float32 8.1 TFLOP/s (the
    peaks a layer gets, checked directly). The add of x and relu(x) on 4x64x64 maps in float16: 16,384 FLOPs,
    bytes 3 * 16,384 * 2 = 98,304: memory 98,304 / 320e9 = 307.2 ns against compute 16,384 / 8.1e12 = 2.0 ns."""
    t4 = DEVICES["t4"]
    assert t4.peak("float16", matrix=True) == 65e12 and t4.peak("float16", matrix=False) == 8.1e12
    layer = estimate(analyze_layers([4, 64, 64], ADD, dtype="float16"), t4).layers["sum"]
    assert layer.bytes == 98_304 and layer.estimate_s == pytest.approx(98_304 / 320e9)


def test_calibrated_efficiencies_are_roofline_over_kernel_time() -> None:
    """Two dense cases on a device of 1e9 FLOP/s and 1e15 bytes/s: 1e6 FLOPs in 2 ms (roofline 1 ms: e = 0.5) and
    in 1.25 ms (e = 0.8): the family's efficiency is their geometric mean sqrt(0.5 * 0.8) = 0.632. Grouped convs
    with lanes 8: 4 channels per group (e 0.25) are interpolated, 8 per group (e 0.5 and 0.7) are aligned: 0.6."""
    device = DeviceProfile("m", {"float32": 1e9}, 1e15, lanes=8)
    dense = Case("dense", "conv", ())
    grouped = Case("grouped", "conv", ())
    measured = [
        Measured(dense, Work("dense", 10**6, 0, 0, (32, 32, 1)), 2e-3),
        Measured(dense, Work("dense", 10**6, 0, 0, (32, 32, 1)), 1.25e-3),
        Measured(grouped, Work("grouped", 10**6, 0, 0, (32, 32, 8)), 4e-3),
        Measured(grouped, Work("grouped", 10**6, 0, 0, (32, 32, 4)), 2e-3),
        Measured(grouped, Work("grouped", 10**6, 0, 0, (64, 64, 8)), 1e-3 / 0.7),
    ]
    profile = efficiencies(device, measured)
    assert profile.efficiency["dense"] == pytest.approx(math.sqrt(0.5 * 0.8))
    assert profile.grouped_efficiency == ((4.0, pytest.approx(0.25)),)
    assert profile.grouped_aligned == pytest.approx(0.6)


# ---------------------------------------------------------------- the command line and JSON


def cli(*args: str, code: int = 0) -> Any:
    result = run_cli(*args)
    assert result.code == code, result.stderr
    return result


def test_json_has_every_layers_estimate_and_the_total() -> None:
    document = json.loads(cli("analyze", "vgg16", "--device", "a100", "-f", "json").stdout)  # its dropouts: free
    validate(document, "analysis")
    layers = document["layers"]
    assert all(set(layer["latency"]) == {"estimate_s", "bound", "bytes", "intensity", "node"} for layer in layers)
    assert {layer["latency"]["bound"] for layer in layers} == {"compute", "memory", "fused", "free"}
    total = document["total"]["latency"]
    assert (total["device"], total["calibrated"]) == ("a100", False)
    assert total["nodes"] == sum(1 for layer in layers if layer["latency"]["node"] == layer["name"])
    assert sum(layer["latency"]["estimate_s"] for layer in layers) == pytest.approx(total["estimate_s"], rel=1e-3)
    assert "not a measurement" in document["convention"]["latency"]
    compared = json.loads(cli("compare", "resnet18", "resnet50", "--device", "t4", "-f", "json").stdout)
    validate(compared, "comparison")
    assert compared["after"]["total"]["latency"]["estimate_s"] > compared["before"]["total"]["latency"]["estimate_s"]


def test_the_table_shows_latency_and_bound_and_says_it_is_an_estimate() -> None:
    plain = cli("analyze", "lenet5").stdout
    shown = cli("analyze", "lenet5", "--device", "stm32h7").stdout
    assert "latency (est.)" not in plain and "latency (est.)" in shown and "bound" in shown
    assert "latency estimate on stm32h7" in shown and "not a measurement" in shown and "lower bound" in shown
    csv = cli("analyze", "lenet5", "--device", "stm32h7", "-f", "csv", "--columns", "name,latency,bound").stdout
    assert csv.splitlines()[0] == "name,latency,bound"
    assert cli("compare", "lenet5", "lenet5", "--device", "t4").stdout.count("1.00x") == 1


def test_overrides_and_a_device_of_ones_own() -> None:
    """--peak-flops 1G --bandwidth 1G on the dense conv above: compute 28,901,376 / 1e9 = 28.9 ms."""
    spec = spec_text([16, 56, 56], [{"type": "conv", "filters": 32, "kernel": 3, "padding": 1, "bias": False}])
    result = run_cli("analyze", "-", "--peak-flops", "1G", "--bandwidth", "1e9", "-f", "json", stdin=spec)
    total = json.loads(result.stdout)["total"]["latency"]
    assert total["device"] == "custom" and total["estimate_s"] == pytest.approx(0.0289, rel=1e-3)
    faster = run_cli("analyze", "-", "--device", "x86-avx2-core", "--peak-flops", "256e9", "-f", "json", stdin=spec)
    assert json.loads(faster.stdout)["total"]["latency"]["estimate_s"] == pytest.approx(28_901_376 / 256e9, rel=1e-3)


BAD = [
    (("--device", "a10"), "unknown device 'a10' (did you mean 'a100'?); `convcalc devices` lists them"),
    (("--device", "A100", "--dtype", "float64"), "device 'a100' gives no float64 peak"),
    (("--peak-flops", "0", "--bandwidth", "1e9"), "--peak-flops must be a positive number of FLOP/s"),
    (("--peak-flops", "-5T", "--bandwidth", "1e9"), "--peak-flops must be a positive number of FLOP/s"),
    (("--device", "t4", "--bandwidth", "-1"), "--bandwidth must be a positive number of bytes/s"),
    (("--device", "t4", "--bandwidth", "nan"), "--bandwidth must be a positive number of bytes/s"),
    (("--peak-flops", "1e12"), "--peak-flops and --bandwidth make a device together"),
    (("--device", "t4", "--mode", "train"), "--device estimates inference latency: leave out --mode"),
    (("--device", "t4", "--depth", "1"), "leave out --depth and --convention"),
    (("--columns", "name,bound"), "--columns bound: latency estimates need a device"),
    (("--device", "missing.json"), "missing.json: no such file"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_device_options_are_one_message(args: tuple[str, ...], message: str) -> None:
    result = run_cli("analyze", "lenet5", *args)
    assert result.code == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def profile_document(**changes: Any) -> dict[str, Any]:
    document = {"profile": MARK, "name": "mine", "peak_flops": {"float32": 1e11}, "bandwidth": 2e10}
    document.update(changes)
    return {key: value for key, value in document.items() if value is not None}


PROFILES = [
    ({"profile": None}, 'not a device profile (a JSON object with "profile": "convcalc device profile"'),
    ({"peak_flops": {"float32": -1}}, "peak_flops.float32 must be a positive number (FLOP/s), not -1"),
    ({"peak_flops": {"float32": 0}}, "peak_flops.float32 must be a positive number (FLOP/s), not 0"),
    ({"peak_flops": {"fp32": 1e11}}, "peak_flops: unknown 'fp32'"),
    ({"peak_flops": {}}, "'peak_flops' gives no peak"),
    ({"bandwidth": None}, "missing 'bandwidth'"),
    ({"bandwidth": "fast"}, "bandwidth must be a positive number (bytes/s), not 'fast'"),
    ({"bandwith": 1e9}, "unknown key 'bandwith' (did you mean 'bandwidth'?)"),
    ({"efficiency": {"dense": 0}}, "efficiency.dense must be a positive number"),
    ({"bandwidth_curve": [[1e3]]}, "'bandwidth_curve' must be a list of [bytes, bytes/s] pairs"),
    ({"overhead_s": -1}, "'overhead_s' must be a number of seconds, 0 or more, not -1"),
]


@pytest.mark.parametrize(("changes", "message"), PROFILES)
def test_a_profile_file_that_is_not_a_profile(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    path = tmp_path / "device.json"
    path.write_text(json.dumps(profile_document(**changes)), encoding="utf-8")
    result = run_cli("analyze", "lenet5", "--device", str(path))
    assert result.code == 2 and f"{path}: " in result.stderr and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_files_that_are_no_profile_at_all(tmp_path: Path) -> None:
    """An analysis' JSON and a YAML spec are refused by name, never read as a device."""
    analysis = tmp_path / "analysis.json"
    analysis.write_text(cli("analyze", "lenet5", "-f", "json").stdout, encoding="utf-8")
    result = run_cli("analyze", "lenet5", "--device", str(analysis))
    assert result.code == 2 and "analysis.json: not a device profile" in result.stderr
    result = run_cli("analyze", "lenet5", "--device", "specs/lenet5.yaml")
    assert result.code == 2 and "lenet5.yaml: not a device profile: not JSON" in result.stderr


def test_a_profile_round_trip(tmp_path: Path) -> None:
    """A profile with every field, written and read back, is the same profile; a bundled device written by
    `convcalc devices NAME -f json` and read with --device FILE gives the same estimates as --device NAME."""
    profile = DeviceProfile(
        "full",
        {"float32": 1.2e11, "int8": 4.8e11},
        3e10,
        description="a machine",
        source="measured",
        vector_flops={"float32": 6e10},
        bandwidth_curve=((1e5, 8e10), (4e8, 3e10)),
        lanes=16,
        overhead_s=5e-6,
        efficiency={"dense": 0.9, "depthwise": 0.55},
        grouped_efficiency=((4.0, 0.22), (8.0, 0.32)),
        grouped_aligned=0.95,
        derived=("peak_flops.int8",),
        note="none",
        calibrated_with={"backend": "onnxruntime", "threads": 1},
    )
    assert profile_from(json.loads(json.dumps(profile.to_dict()))) == profile
    path = tmp_path / "a100.json"
    path.write_text(cli("devices", "a100", "-f", "json").stdout, encoding="utf-8")
    assert profile_from(json.loads(path.read_text(encoding="utf-8"))) == bundled("a100")
    by_name = cli("analyze", "mobilenet_v2", "--device", "a100", "-f", "json").stdout
    by_file = cli("analyze", "mobilenet_v2", "--device", str(path), "-f", "json").stdout
    assert json.loads(by_name)["total"]["latency"] == json.loads(by_file)["total"]["latency"]


def test_every_bundled_device_is_a_profile_with_a_source() -> None:
    """The issue's devices, each with a float32 peak and a source; `convcalc devices` lists them all, marking the
    derived figures; its JSON is profiles."""
    assert {"a100", "h100", "t4", "jetson-orin-nano", "raspberry-pi-5", "x86-avx2-core", "stm32h7"} <= set(DEVICES)
    assert any(name.startswith("apple-m2") for name in DEVICES)
    for device in DEVICES.values():
        assert device.source and device.peak_flops["float32"] > 0 and device.bandwidth > 0
        assert profile_from(device.to_dict()) == device
    table = cli("devices").stdout
    assert all(name in table for name in DEVICES) and "1.28 TFLOP/s*" in table and "624 TOP/s" in table
    listed = json.loads(cli("devices", "-f", "json").stdout)["devices"]
    assert [profile_from(document).name for document in listed] == list(DEVICES)
    assert "(derived)" in cli("devices", "raspberry-pi-5").stdout
    assert "did you mean 'h100'" in run_cli("devices", "h10").stderr


def test_calibrate_without_a_backend_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in ("numpy", "onnx", "onnxruntime") else real(name)
    )
    result = run_cli("calibrate", "-o", str(tmp_path / "me.json"))
    assert result.code == 2 and "pip install 'convcalc[latency]'" in result.stderr
    result = run_cli("calibrate", "--backend", "onnxruntime", "-o", str(tmp_path / "me.json"))
    assert result.code == 2 and "the onnxruntime backend needs onnxruntime, onnx, numpy" in result.stderr
    assert not (tmp_path / "me.json").exists()


def test_calibrate_refuses_a_folder_that_is_not_there_before_measuring(tmp_path: Path) -> None:
    result = run_cli("calibrate", "--backend", "numpy", "-o", str(tmp_path / "no" / "me.json"))
    assert result.code == 2 and "no folder" in result.stderr and "peak" not in result.stderr


def test_calibrate_with_numpy_writes_a_profile_that_device_reads(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    path = tmp_path / "me.json"
    cli("calibrate", "--backend", "numpy", "-o", str(path))
    profile = profile_from(json.loads(path.read_text(encoding="utf-8")))
    assert profile.calibrated and profile.calibrated_with["backend"] == "numpy" and len(profile.bandwidth_curve) == 7
    document = json.loads(cli("analyze", "resnet18", "--device", str(path), "-f", "json").stdout)
    assert document["total"]["latency"]["device"] == "this-machine" and document["total"]["latency"]["calibrated"]


def test_the_how_to_example_is_real_output() -> None:
    """docs/how-to/latency.md's example block is what the command prints, and the page says what an estimate is."""
    text = (REPO / "docs" / "how-to" / "latency.md").read_text(encoding="utf-8")
    assert "**An estimate is not a measurement**" in text
    start = text.index("```", text.index("## An example")) + 3
    block = text[text.index("\n", start) + 1 : text.index("```", start)].splitlines()
    command = block[0].removeprefix("$ convcalc ").split()
    assert block[1:] == [line.rstrip() for line in cli(*command).stdout.splitlines()]


def test_a_batch_of_two_and_a_residual_add_whose_shortcut_comes_first() -> None:
    """x + conv(x), the conv the add's second input: 1x1 conv 4 -> 4 on 8x8 without bias, batch 2, float32, one
    node. Bytes: weights 4 * 4 * 4 = 64 (once, whatever the batch); the conv's input, the add's output and the
    shortcut x each 2 * 4 * 8 * 8 * 4 = 2,048: 64 + 3 * 2,048 = 6,208."""
    layers = [
        {"type": "conv", "name": "c", "filters": 4, "kernel": 1, "bias": False},
        {"type": "add", "name": "a", "inputs": ["input", "c"]},
    ]
    latency = estimate(analyze_layers([4, 8, 8], layers, batch=2), AVX2)
    assert (latency.nodes, latency.layers["a"].node, latency.layers["c"].bytes) == (1, "c", 64 + 3 * 2_048)


def test_at_the_ridge_point_a_node_is_compute_bound() -> None:
    """The add of two 4x8x8 maps: 256 FLOPs, 3 x 256 x 4 = 3,072 bytes. On a device of 2^30 FLOP/s and 12 x 2^30
    bytes/s both terms are 256 / 2^30 s exactly: compute-bound (the larger or equal term). Its intensity 256 /
    3,072 = 0.0833..., 0.083 in the JSON (three decimals); its estimate 2.384185791015625e-07 s, 2.384e-07 (four
    significant figures)."""
    device = DeviceProfile("ridge", {"float32": 2.0**30}, 12 * 2.0**30)
    layer = estimate(analyze_layers([4, 8, 8], ADD), device).layers["sum"]
    assert (layer.bound, layer.estimate_s) == ("compute", 256 / 2**30)
    assert layer.to_dict() == {
        "estimate_s": 2.384e-07,
        "bound": "compute",
        "bytes": 3_072,
        "intensity": 0.083,
        "node": "sum",
    }


def test_fused_and_free_layers_have_no_bytes_of_their_own() -> None:
    """In FUSED, the relu fused into c1's node and the flatten (free) carry 0 bytes and 0 s."""
    layers = estimate(analyze_text(FUSED), AVX2).layers
    assert [(layers[name].bytes, layers[name].estimate_s) for name in ("res.body.r1", "f")] == [(0, 0.0), (0, 0.0)]


def test_a_conv_on_a_1x1_map_runs_as_a_linear_layer() -> None:
    """A 1x1 conv 8 -> 4 on a 8x1x1 map is a matrix-vector product: the 'linear' family, here of efficiency 0.5 on a
    device of 1e9 FLOP/s (bandwidth out of the way): 2 x 32 MACs = 64 FLOPs / 1e9 / 0.5 = 128 ns. On a 8x2x1 map it
    is a pointwise conv, of efficiency 1: 128 FLOPs / 1e9 = 128 ns."""
    device = DeviceProfile("d", {"float32": 1e9}, 1e15, efficiency={"linear": 0.5})
    conv = {"type": "conv", "name": "c", "filters": 4, "kernel": 1, "bias": False}
    assert estimate(analyze_layers([8, 1, 1], [conv]), device).estimate_s == pytest.approx(128e-9, rel=1e-12)
    assert estimate(analyze_layers([8, 2, 1], [conv]), device).estimate_s == pytest.approx(128e-9, rel=1e-12)


def test_the_linear_family_needs_a_1x1_map_in_and_out() -> None:
    """On a device of 1e9 FLOP/s (bandwidth out of the way) with linear efficiency 0.5: a 2x1 conv 8 -> 4 on 8x2x1
    gives 4x1x1 but reads a 2x1 map: dense, 2 x (1 x 4 x 2 x 8 = 64 MACs) = 128 FLOPs / 1e9 = 128 ns (as linear it
    would take 256 ns). A 1x1 conv 8 -> 4 padded (1, 0) on 8x1x1 gives 4x3x1: pointwise, 2 x (3 x 4 x 8 = 96) = 192
    FLOPs: 192 ns."""
    device = DeviceProfile("d", {"float32": 1e9}, 1e15, efficiency={"linear": 0.5})
    tall = {"type": "conv", "name": "c", "filters": 4, "kernel": [2, 1], "bias": False}
    assert estimate(analyze_layers([8, 2, 1], [tall]), device).estimate_s == pytest.approx(128e-9, rel=1e-12)
    padded = {"type": "conv", "name": "c", "filters": 4, "kernel": 1, "padding": [1, 0], "bias": False}
    assert estimate(analyze_layers([8, 1, 1], [padded]), device).estimate_s == pytest.approx(192e-9, rel=1e-12)


def test_only_an_add_of_two_joins_a_conv_and_free_layers_end_nothing() -> None:
    """A concat of a conv's output and the input is a node of its own (onnxruntime fuses an add, not a concat): conv
    + concat, 2 nodes. A dropout (free) between a conv and a relu: conv, then the relu after it, 2 nodes (the relu
    reads the dropout, not the conv). A batch norm after conv + relu is a node of its own (it folds into a conv's
    weights only right after it): 2 nodes; so is a batch norm after a lone batch norm: 2 nodes. conv + bn + relu
    then relu6: the relu6 follows an activation, 2 nodes."""
    conv = {"type": "conv", "name": "c", "filters": 4, "kernel": 1}
    cases = {
        "concat": [conv, {"type": "concat", "name": "cat", "inputs": ["c", "input"]}],
        "dropout": [conv, {"type": "dropout", "name": "d"}, {"type": "relu", "name": "r"}],
        "bn after relu": [conv, {"type": "relu"}, {"type": "batchnorm", "name": "b"}],
        "bn after bn": [{"type": "batchnorm"}, {"type": "batchnorm", "name": "b"}],
        "relu6 after bn, relu": [conv, {"type": "batchnorm"}, {"type": "relu"}, {"type": "relu6", "name": "r6"}],
    }
    nodes = {case: estimate(analyze_layers([4, 4, 4], layers), AVX2).nodes for case, layers in cases.items()}
    assert nodes == dict.fromkeys(cases, 2)


def test_convs_run_at_the_matrix_peak_and_other_layers_at_the_vector_peak() -> None:
    """A device of 1e9 matrix FLOP/s and 1e8 vector FLOP/s, bandwidth out of the way: a 1x1 conv 4 -> 4 on 4x4
    without bias, 2 x 16 x 4 x 4 = 512 FLOPs, at 1e9: 512 ns; the add of x and relu(x) on 4x4x4, 64 FLOPs, at 1e8:
    640 ns (the relu, 64 FLOPs: 640 ns more)."""
    device = DeviceProfile("v", {"float32": 1e9}, 1e15, vector_flops={"float32": 1e8})
    conv = {"type": "conv", "name": "c", "filters": 4, "kernel": 1, "bias": False}
    assert estimate(analyze_layers([4, 4, 4], [conv]), device).estimate_s == pytest.approx(512e-9, rel=1e-12)
    latency = estimate(analyze_layers([4, 4, 4], ADD), device)
    assert (latency.layers["sum"].estimate_s, latency.estimate_s) == (pytest.approx(640e-9), pytest.approx(1280e-9))


def test_a_hot_roofline_reads_every_byte_at_its_own_bandwidth() -> None:
    """With no network to stream weights from (a micro-benchmark's node run again and again), 1,000 bytes of weights
    and 1,000 of activations at 1e10 bytes/s: 2,000 / 1e10 = 200 ns."""
    device = DeviceProfile("b", {"float32": 1e15}, 1e10)
    assert roofline(Work("elementwise", 0, 1000, 1000), device, "float32", None) == (0.0, pytest.approx(2e-7))


def test_a_grouped_conv_runs_at_its_channels_per_group_efficiency() -> None:
    """Grouped efficiency 0.2 at 4 input channels per group, 0.4 at 16: a 1x1 conv 32 -> 32 in 4 groups (8 per
    group: 0.3, halfway in log) on 4x4 without bias does 2 x (16 x 32 x 8 = 4,096 MACs) = 8,192 FLOPs: at 1e9
    FLOP/s, 8.192 us / 0.3 = 27.307 us."""
    device = DeviceProfile("g", {"float32": 1e9}, 1e15, grouped_efficiency=((4.0, 0.2), (16.0, 0.4)))
    conv = {"type": "conv", "name": "c", "filters": 32, "kernel": 1, "groups": 4, "bias": False}
    assert estimate(analyze_layers([32, 4, 4], [conv]), device).estimate_s == pytest.approx(8.192e-6 / 0.3)


def test_two_lanes_round_odd_channels_up() -> None:
    """Lanes of 2: a 1x1 conv 3 -> 3 on 4x4 without bias, 2 x 16 x 3 x 3 = 288 FLOPs, is computed as 4 x 4 of 3 x 3
    channels: 288 x 4 / 3 x 4 / 3 = 512 FLOPs, at 1e9 FLOP/s 512 ns."""
    device = DeviceProfile("two", {"float32": 1e9}, 1e15, lanes=2)
    conv = {"type": "conv", "name": "c", "filters": 3, "kernel": 1, "bias": False}
    assert estimate(analyze_layers([3, 4, 4], [conv]), device).estimate_s == pytest.approx(512e-9)
