"""The model zoo reproduces published figures.

Every expected number is a published figure (its source named next to it) or hand arithmetic written out here.
torchvision's model pages list "Params" (weights + biases + batch-norm gamma/beta, which convcalc calls params;
running statistics are convcalc's buffers) and "GFLOPS", which are multiply-accumulates of conv and linear layers
(convcalc's MACs). Its figures are compared at the decimals it publishes, as text.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest

from convcalc import analyze
from tests.conftest import SPECS, run_cli
from tests.docs import page

TORCHVISION = [
    # (bundled spec, published params, published GFLOPS); source: torchvision's classification model table
    # (pytorch.org/vision/stable/models.html), i.e. the weights' meta "num_params" and "_ops":
    ("alexnet-torchvision", 61_100_840, "0.714"),  # AlexNet_Weights.IMAGENET1K_V1
    ("vgg16", 138_357_544, "15.47"),  # VGG16_Weights.IMAGENET1K_V1
    ("resnet18", 11_689_512, "1.814"),  # ResNet18_Weights.IMAGENET1K_V1
    ("resnet50", 25_557_032, "4.089"),  # ResNet50_Weights.IMAGENET1K_V1
    ("mobilenet_v2", 3_504_872, "0.301"),  # MobileNet_V2_Weights.IMAGENET1K_V1
    ("squeezenet1_0", 1_248_424, "0.819"),  # SqueezeNet1_0_Weights.IMAGENET1K_V1
]


def by_name(analysis):
    return {layer.name: layer for layer in analysis.layers}


def module_macs(analysis):
    """MACs summed per top-level name (`inception3a.concat.3x3.conv...` -> `inception3a`)."""
    totals: dict[str, int] = defaultdict(int)
    for layer in analysis.layers:
        totals[layer.name.split(".")[0]] += layer.macs
    return totals


@pytest.mark.parametrize(("name", "params", "gflops"), TORCHVISION)
def test_torchvision_params_and_gmacs(name, params, gflops):
    analysis = analyze(name)
    assert analysis.output_shape == (1000,)
    assert analysis.total.params == params
    decimals = len(gflops.split(".")[1])
    assert f"{analysis.total.macs / 1e9:.{decimals}f}" == gflops


def test_lenet5_parameters_per_layer():
    # mnchapel.github.io/deep_learning_models (LeNet): 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 parameters
    analysis = analyze("lenet5")
    layers = by_name(analysis)
    assert layers["C1"].params == (5 * 5 * 1 + 1) * 6 == 156
    assert layers["C3"].params == (5 * 5 * 6 + 1) * 16 == 2_416
    assert layers["C5"].params == (5 * 5 * 16 + 1) * 120 == 48_120
    assert layers["F6"].params == (120 + 1) * 84 == 10_164
    assert layers["output"].params == (84 + 1) * 10 == 850
    assert analysis.total.params == 61_706
    assert layers["S4"].output_shape == (16, 5, 5)
    assert layers["C5"].output_shape == (120, 1, 1)


def test_alexnet_torchvision_takes_224_because_conv1_pads():
    layers = by_name(analyze("alexnet-torchvision"))
    assert layers["conv1"].output_shape == (64, (224 + 2 * 2 - 11) // 4 + 1, 55)
    assert layers["avgpool"].output_shape == (256, 6, 6)
    assert layers["fc6"].params == 6 * 6 * 256 * 4096 + 4096


def test_resnet50_buffers_are_the_batch_norm_running_statistics():
    # BN channels: stem 64; per bottleneck mid + mid + 4*mid; one projection BN (4*mid) per stage
    channels = 64 + sum(
        blocks * (mid + mid + 4 * mid) + 4 * mid for mid, blocks in ((64, 3), (128, 4), (256, 6), (512, 3))
    )
    assert analyze("resnet50").total.buffers == 2 * channels == 53_120  # running mean and variance


def test_resnet50_paper_v1_has_the_same_parameters_and_fewer_macs():
    v15, v1 = analyze("resnet50"), analyze("resnet50-v1")
    assert v1.total.params == v15.total.params == 25_557_032  # torchvision ResNet50_Weights.IMAGENET1K_V1
    # He et al. 2016, Table 1, 50-layer: "3.8 x 10^9" FLOPs (multiply-adds), given to two digits; the exact
    # count is 3.858 x 10^9, so the table truncates rather than rounds.
    assert 3.8e9 <= v1.total.macs < 3.9e9
    # The difference is only where the stride sits in the first block of stages 2-4: v1.5's first 1x1 runs at
    # the stage's input size H, v1's at H/2, i.e. H*H*C_in*mid - (H/2)*(H/2)*C_in*mid more per stage.
    extra = sum(h * h * c_in * mid * 3 // 4 for h, c_in, mid in ((56, 256, 128), (28, 512, 256), (14, 1024, 512)))
    assert v15.total.macs - v1.total.macs == extra == 3 * 77_070_336


def test_resnet_first_blocks_project_and_the_rest_add_the_identity():
    layers = by_name(analyze("resnet50"))
    assert layers["layer2.0.residual1.shortcut.conv.0"].params == 256 * 512
    assert layers["layer2.0.residual1.shortcut.conv.0"].output_shape == (512, 28, 28)
    assert not any(name.startswith("layer2.1.residual1.shortcut") for name in layers)
    resnet18 = by_name(analyze("resnet18"))
    assert not any(".shortcut." in name for name in resnet18 if name.startswith("layer1"))  # 64 -> 64: identity


# Szegedy et al. 2015, "Going deeper with convolutions", Table 1, column "ops" (whole millions).
GOOGLENET_TABLE_OPS = {
    "inception3a": 128,
    "inception3b": 304,
    "inception4a": 73,
    "inception4b": 88,
    "inception4c": 100,
    "inception4d": 119,
    "inception4e": 170,
    "inception5b": 71,
    "fc": 1,
}


def test_googlenet_matches_the_papers_ops_column():
    modules = module_macs(analyze("googlenet"))
    for module, ops in GOOGLENET_TABLE_OPS.items():
        assert abs(modules[module] / 1e6 - ops) < 1, module
    # Table 1's "convolution 3x3/1" row (depth 2: the 64-channel 1x1 reduce and the 3x3 to 192): 360M
    assert abs((modules["conv2_reduce"] + modules["conv2"]) / 1e6 - 360) < 1


def test_googlenet_rows_where_the_table_disagrees_with_its_own_layers():
    modules = module_macs(analyze("googlenet"))
    # Table 1 prints 34M (and 2.7K params) for the 7x7/2 convolution; its 3 -> 64 channels at 112x112 give:
    assert modules["conv1"] == 112 * 112 * 64 * 7 * 7 * 3 == 118_013_952
    # ... and 54M for inception (5a); its own columns (7x7x832 in; 256, 160 -> 320, 32 -> 128, 128) give 51M:
    per_pixel = 832 * 256 + 832 * 160 + 160 * 320 * 3 * 3 + 832 * 32 + 32 * 128 * 5 * 5 + 832 * 128
    assert modules["inception5a"] == 7 * 7 * per_pixel == 51_079_168


def test_googlenet_keeps_real_5x5_branches():
    layers = by_name(analyze("googlenet"))
    assert layers["inception3a.concat.5x5.conv_relu2.conv"].params == 5 * 5 * 16 * 32 + 32
    assert layers["inception3a.concat"].output_shape == (64 + 128 + 32 + 32, 28, 28)
    assert layers["inception5b.concat"].output_shape == (384 + 384 + 128 + 128, 7, 7)


def test_mobilenet_v1_matches_the_paper():
    analysis = analyze("mobilenet_v1")
    # Howard et al. 2017, Table 8, "1.0 MobileNet-224": 569 million mult-adds, 4.2 million parameters
    assert round(analysis.total.macs / 1e6) == 569
    assert round(analysis.total.params / 1e6, 1) == 4.2
    layers = by_name(analysis)
    assert layers["separable1.dw"].params == 3 * 3 * 32  # depthwise: one 3x3 filter per channel
    assert layers["separable1.dw"].macs == 112 * 112 * 32 * 3 * 3


def test_unet_output_and_crops_follow_the_paper():
    analysis = analyze("unet")
    layers = by_name(analysis)
    # Ronneberger et al. 2015, Fig. 1: a 572x572 input tile gives a 388x388 output segmentation map, 2 classes;
    # the copied maps 64, 136, 280, 568 are cropped to 56, 104, 200, 392.
    assert analysis.output_shape == (2, 388, 388)
    for level, size in (("up4", 56), ("up3", 104), ("up2", 200), ("up1", 392)):
        assert layers[f"{level}.crop"].output_shape[1:] == (size, size)
    assert layers["up4.concat"].output_shape == (1024, 56, 56)


def test_unet_total_parameters_by_hand():
    def double_conv(c_in, c_out):
        return 3 * 3 * c_in * c_out + c_out + 3 * 3 * c_out * c_out + c_out

    down = sum(double_conv(c_in, c_out) for c_in, c_out in ((1, 64), (64, 128), (128, 256), (256, 512), (512, 1024)))
    # each level up: a 2x2 up-convolution c -> c/2, then two 3x3 convs on the concatenation (c/2 + c/2 = c) -> c/2
    up = sum(2 * 2 * c * (c // 2) + c // 2 + double_conv(c, c // 2) for c in (1024, 512, 256, 128))
    final = 64 * 2 + 2
    assert analyze("unet").total.params == down + up + final == 31_030_658


def test_every_bundled_spec_is_analysable_by_name_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for path in sorted(SPECS.glob("*.yaml")):
        result = run_cli("analyze", path.stem, "--format", "json")
        assert result.code == 0, (path.stem, result.stderr)
        assert json.loads(result.stdout)["name"]


def test_zoo_lists_every_bundled_spec_with_its_description():
    result = run_cli("zoo", "--format", "json")
    assert result.code == 0, result.stderr
    entries = {entry["name"]: entry for entry in json.loads(result.stdout)["specs"]}
    assert sorted(entries) == sorted(path.stem for path in SPECS.glob("*.yaml"))
    assert all(entry["description"] for entry in entries.values())
    resnet50 = entries["resnet50"]
    assert resnet50["params"] == 25_557_032  # torchvision ResNet50_Weights.IMAGENET1K_V1
    assert f"{resnet50['macs'] / 1e9:.3f}" == "4.089"
    assert resnet50["input"] == [3, 224, 224]


def test_zoo_table_shows_names_descriptions_and_exact_totals():
    result = run_cli("zoo", "--exact")
    assert result.code == 0, result.stderr
    assert "squeezenet1_0" in result.stdout
    assert "crop-and-concat" in result.stdout  # unet's description
    assert "138,357,544" in result.stdout  # torchvision VGG16_Weights.IMAGENET1K_V1 params
    assert "61,706" in result.stdout  # LeNet-5


def test_readme_zoo_table_matches_the_specs():
    """The docs' zoo table is documentation of convcalc's counts; this keeps it in step with the specs."""
    rows = re.findall(r"^\| `([\w-]+)` \| [^|]+ \| ([\d,]+) \| ([\d,]+) \|", page("reference/zoo.md"), re.M)
    assert sorted(name for name, _, _ in rows) == sorted(path.stem for path in SPECS.glob("*.yaml"))
    for name, params, macs in rows:
        total = analyze(name).total
        assert (f"{total.params:,}", f"{total.macs:,}") == (params, macs), name


def test_an_unknown_name_suggests_a_bundled_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("analyze", "resnet5")
    assert result.code == 2
    assert "resnet5: no such file, and no bundled spec has that name" in result.stderr
    assert "did you mean 'resnet50'?" in result.stderr
    result = run_cli("analyze", "zzz")
    assert result.code == 2
    assert "convcalc zoo" in result.stderr
    assert "lenet5" in result.stderr
