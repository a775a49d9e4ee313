"""The modern networks of the zoo (issue 12) reproduce torchvision's published figures and torch's exact counts.

Published params and GFLOPS: torchvision's model tables (pytorch.org/vision/stable/models.html, the weights' meta
"num_params" and "_ops"); torchvision's "GFLOPS" are multiply-accumulates of conv and linear layers (convcalc's MACs),
compared at the decimals it publishes, as text. Exact MACs: torch 2.13 forward hooks on torchvision 0.28's models
(random weights), summing H_out * W_out * C_out * k_h * k_w * C_in / groups per Conv2d and in * out per Linear.
Per-layer numbers of one block of each new kind are hand arithmetic written out here.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc import LayerResult, analyze

MODERN = [
    # (bundled spec, published params, published GFLOPS, torch's exact MACs); weights named per row
    ("efficientnet_b0", 5_288_548, "0.39", 385_814_752),  # EfficientNet_B0_Weights.IMAGENET1K_V1
    ("mobilenet_v3_large", 5_483_032, "0.22", 216_589_760),  # MobileNet_V3_Large_Weights.IMAGENET1K_V1
    ("convnext_tiny", 28_589_128, "4.46", 4_455_531_264),  # ConvNeXt_Tiny_Weights.IMAGENET1K_V1
    ("shufflenet_v2_x1_0", 2_278_604, "0.14", 144_907_992),  # ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1
    ("resnext50_32x4d", 25_028_904, "4.23", 4_230_479_872),  # ResNeXt50_32X4D_Weights.IMAGENET1K_V1
    ("densenet121", 7_978_856, "2.83", 2_834_161_664),  # DenseNet121_Weights.IMAGENET1K_V1
    ("regnet_y_400mf", 4_344_144, "0.40", 401_842_848),  # RegNet_Y_400MF_Weights.IMAGENET1K_V1
]


def by_name(name: str, **options: Any) -> dict[str, LayerResult]:
    return {layer.name: layer for layer in analyze(name, **options).layers}


def costs(layer: LayerResult) -> tuple[Any, ...]:
    return (layer.output_shape, layer.params, layer.macs, layer.flops)


@pytest.mark.parametrize(("name", "params", "gflops", "macs"), MODERN)
def test_published_params_and_gmacs_and_torchs_exact_macs(name: str, params: int, gflops: str, macs: int) -> None:
    analysis = analyze(name)
    assert analysis.output_shape == (1000,)
    assert analysis.total.params == params
    assert f"{analysis.total.macs / 1e9:.{len(gflops.split('.')[1])}f}" == gflops
    assert analysis.total.macs == macs
    assert not analysis.warnings


def test_lraspp_published_figures_at_520() -> None:
    # LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1: 3,221,538 params, 2.086 GFLOPS (at 520x520)
    analysis = analyze("lraspp_mobilenet_v3_large")
    assert analysis.input_shape == (3, 520, 520)
    assert analysis.output_shape == (21, 520, 520)
    assert analysis.total.params == 3_221_538
    assert f"{analysis.total.macs / 1e9:.3f}" == "2.086"
    assert analysis.total.macs == 2_086_219_688  # torch's hooks
    assert not analysis.warnings


@pytest.mark.parametrize(
    ("size", "low", "macs"),
    [
        # low (the C2 output): stem floor((H + 2 - 3) / 2) + 1, then k3/2 p1 and k5/2 p2, the same rule per axis
        # 333: 167, 84, 42; 500: 250, 125, 63. MACs: torch's hooks at that size.
        ((333, 500), (42, 63), 1_290_291_232),
        ((224, 224), (28, 28), 379_281_312),
        ((1025, 769), (129, 97), 6_106_146_128),  # 1025: 513, 257, 129; 769: 385, 193, 97
    ],
)
def test_lraspp_works_at_any_input_size(size: tuple[int, int], low: tuple[int, int], macs: int) -> None:
    analysis = analyze("lraspp_mobilenet_v3_large", input_shape=(3, *size))
    layers = {layer.name: layer for layer in analysis.layers}
    assert layers["bneck4.project_bn"].output_shape == (40, *low)  # the block bneck4's output
    assert layers["gated_up"].output_shape == (128, *low)  # upsampled to the size of 'low'
    assert analysis.output_shape == (21, *size)  # upsampled to the input's size
    assert layers["out"].flops == 7 * 21 * size[0] * size[1]  # bilinear: 7 per output element
    assert analysis.total.params == 3_221_538
    assert analysis.total.macs == macs


def test_efficientnet_se_block_by_hand() -> None:
    # stage 2's second MBConv: 24x56x56 in, expanded 6x to 144, SE squeezes to max(1, 24 // 4) = 6
    layers = by_name("efficientnet_b0")
    se = "stage2.block.0.body.mbconv.se."
    hw = 56 * 56
    assert costs(layers[se + "avgpool"]) == ((144, 1, 1), 0, 0, 144 * hw)  # 451,584 adds and divides
    assert costs(layers[se + "fc1"]) == ((6, 1, 1), 144 * 6 + 6, 144 * 6, 2 * 864 + 6)  # 870 params
    assert costs(layers[se + "activation"]) == ((6, 1, 1), 0, 0, 4 * 6)  # SiLU: 4 per element
    assert costs(layers[se + "fc2"]) == ((144, 1, 1), 6 * 144 + 144, 6 * 144, 2 * 864 + 144)  # 1,008 params
    assert costs(layers[se + "gate"]) == ((144, 1, 1), 0, 0, 3 * 144)  # sigmoid: 3 per element
    scale = layers[se + "scale"]  # multiply: the 144x56x56 map times the 144x1x1 gate
    assert scale.inputs == ("stage2.block.0.body.mbconv.depthwise.act", se + "gate")
    assert costs(scale) == ((144, 56, 56), 0, 0, 144 * hw)  # one multiply per element: 451,584
    drop = layers["stage2.block.0.body.stochastic_depth"]
    assert costs(drop) == ((24, 56, 56), 0, 0, 0)  # the identity at inference
    assert costs(layers["stage2.block.0"]) == ((24, 56, 56), 0, 0, 24 * hw)  # the residual's sum: 75,264


def test_mobilenet_v3_se_block_by_hand() -> None:
    # bneck4 (5x5, expanded 72, SE): squeeze _make_divisible(72 // 4, 8) = 24 (18 rounds to 16, under 0.9 * 18)
    layers = by_name("mobilenet_v3_large")
    assert costs(layers["bneck4.se.0.fc1"]) == ((24, 1, 1), 72 * 24 + 24, 72 * 24, 2 * 1_728 + 24)
    assert costs(layers["bneck4.se.0.gate"]) == ((72, 1, 1), 0, 0, 4 * 72)  # hard sigmoid: 4 per element
    assert costs(layers["bneck4.se.0.scale"]) == ((72, 28, 28), 0, 0, 72 * 28 * 28)
    assert "bneck1.expand.0.conv" not in layers  # expanded 16 = its 16 input channels: no expansion
    assert layers["bneck2.expand.0.conv"].params == 16 * 64


def test_convnext_block_by_hand() -> None:
    # stage 1's first block on 96x56x56
    layers = by_name("convnext_tiny")
    body = "stage1.0.block.body."
    hw = 56 * 56
    dw_macs = hw * 96 * 7 * 7  # 14,751,744
    assert costs(layers[body + "dwconv"]) == ((96, 56, 56), 96 * 49 + 96, dw_macs, 2 * dw_macs + 96 * hw)
    assert costs(layers[body + "norm"]) == ((96, 56, 56), 2 * 96, 0, 5 * 96 * hw)  # layernorm: 5 per element
    mlp_macs = hw * 384 * 96  # 115,605,504: a Linear per position
    assert costs(layers[body + "pwconv1"]) == ((384, 56, 56), 96 * 384 + 384, mlp_macs, 2 * mlp_macs + 384 * hw)
    assert layers[body + "pwconv1"].params == 37_248  # issue 12's Linear(96, 384) per position
    assert costs(layers[body + "gelu"]) == ((384, 56, 56), 0, 0, 5 * 384 * hw)
    assert costs(layers[body + "pwconv2"]) == ((96, 56, 56), 384 * 96 + 96, mlp_macs, 2 * mlp_macs + 96 * hw)
    assert costs(layers[body + "layer_scale"]) == ((96, 56, 56), 96, 0, 96 * hw)  # one gamma per channel
    assert costs(layers[body + "stochastic_depth"]) == ((96, 56, 56), 0, 0, 0)
    assert costs(layers["stage1.0.block"]) == ((96, 56, 56), 0, 0, 96 * hw)
    # 18 blocks' layer scales: 3 * 96 + 3 * 192 + 9 * 384 + 3 * 768 = 6,624, the params issue 12 found missing
    scales = [layer.params for name, layer in layers.items() if name.endswith("layer_scale")]
    assert sum(scales) == 3 * 96 + 3 * 192 + 9 * 384 + 3 * 768 == 6_624


def test_shufflenet_split_unit_by_hand() -> None:
    # stage 2's second unit on 116x28x28: halves of 58 channels, the second through the branch
    layers = by_name("shufflenet_v2_x1_0")
    unit = "stage2.unit.0."
    assert costs(layers[unit + "x1"]) == ((58, 28, 28), 0, 0, 0)  # channels 0-57
    assert costs(layers[unit + "x2"]) == ((58, 28, 28), 0, 0, 0)  # channels 58-115
    assert layers[unit + "x2"].inputs == layers[unit + "x1"].inputs == ("stage2.down.shuffle",)
    assert costs(layers[unit + "branch2.conv1"]) == ((58, 28, 28), 58 * 58, 28 * 28 * 58 * 58, 2 * 2_637_376)
    assert layers[unit + "cat"].inputs == (unit + "x1", unit + "branch2.relu2")
    assert costs(layers[unit + "cat"]) == ((116, 28, 28), 0, 0, 0)
    assert costs(layers[unit + "shuffle"]) == ((116, 28, 28), 0, 0, 0)  # channel shuffle: no arithmetic
    # the stride-2 unit's first branch: 3x3/2 depthwise on all 24 channels, 9 * 24 weights
    assert costs(layers["stage2.down.cat.branch1.dwconv"])[:2] == ((24, 28, 28), 9 * 24)
    assert layers["stage2.down.cat"].output_shape == (116, 28, 28)  # 58 + 58


def test_densenet_transition_halves_the_channels_by_hand() -> None:
    layers = by_name("densenet121")
    # after block 1: 64 + 6 * 32 = 256 channels at 56x56
    assert layers["denseblock1.5.cat"].output_shape == (256, 56, 56)
    assert costs(layers["transition1.conv"]) == ((128, 56, 56), 256 * 128, 56 * 56 * 128 * 256, 2 * 102_760_448)
    assert costs(layers["transition1.pool"]) == ((128, 28, 28), 0, 0, 4 * 128 * 28 * 28)  # 2x2 average
    # transitions 2 and 3: (128 + 12 * 32) // 2 = 256, (256 + 24 * 32) // 2 = 512
    assert layers["transition2.conv"].output_shape == (256, 28, 28)
    assert layers["transition3.conv"].output_shape == (512, 14, 14)


def test_regnet_se_squeezes_a_quarter_of_the_block_input() -> None:
    layers = by_name("regnet_y_400mf")
    # block1.0: 32 channels in, width 48 in 6 groups of 8; SE 48 -> 32 / 4 = 8 -> 48
    assert layers["block1.0.block.body.b"].params == 9 * 8 * 48  # 3x3, 48 / 6 = 8 input channels per group
    assert layers["block1.0.block.body.se.fc1"].params == 48 * 8 + 8
    # block4.1: 440 in, SE squeeze 110
    assert layers["block4.1.block.body.se.fc1"].params == 440 * 110 + 110


def test_regnet_runs_the_projection_before_the_body_as_torchvision_does() -> None:
    # torchvision's ResBottleneckBlock: x = self.proj(x) + self.f(x), the projection first; then the body, then the
    # sum: the order the peak memory is counted in
    names = [layer.name for layer in analyze("regnet_y_400mf").layers]
    first = [name for name in names if name.startswith("block1.0.")]
    assert first[:3] == ["block1.0.block.shortcut.proj.0", "block1.0.block.shortcut.proj_bn.0", "block1.0.block.body.a"]
    assert first[-2:] == ["block1.0.block", "block1.0.activation"]


def test_inception_v3_with_its_auxiliary_classifier() -> None:
    # Inception_V3_Weights.IMAGENET1K_V1: 27,161,264 params (the auxiliary classifier included), 5.71 GFLOPS measured
    # at inference, where the auxiliary classifier does not run; torch's hooks in eval mode: 5,713,216,096 MACs
    analysis = analyze("inception_v3")
    assert analysis.input_shape == (3, 299, 299)
    assert analysis.output_shape == (1000,)
    assert analysis.total.params == 27_161_264
    aux = [layer for layer in analysis.layers if layer.name.startswith("aux_")]
    inference_macs = analysis.total.macs - sum(layer.macs for layer in aux)
    assert inference_macs == 5_713_216_096
    assert f"{inference_macs / 1e9:.2f}" == "5.71"
    layers = {layer.name: layer for layer in aux}
    # the auxiliary classifier on Mixed_6e's 768x17x17: 5x5/3 average pool to floor((17 - 5) / 3) + 1 = 5
    assert layers["aux_pool"].output_shape == (768, 5, 5)
    assert layers["aux_conv0.conv"].macs == 5 * 5 * 128 * 768  # 2,457,600
    assert layers["aux_conv1.conv"].output_shape == (768, 1, 1)
    assert layers["aux_conv1.conv"].macs == 1 * 1 * 768 * 5 * 5 * 128  # 2,457,600
    assert layers["aux_fc"].macs == 768 * 1000
    aux_params = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
    assert sum(layer.params for layer in aux) == aux_params == 3_326_696
    assert analysis.total.params - aux_params == 23_834_568  # torchvision's inception_v3(aux_logits=False)
    assert analysis.total.macs == 5_713_216_096 + 2 * 2_457_600 + 768_000
    assert not analysis.warnings  # the never-read auxiliary output is acknowledged (expect: unused)
