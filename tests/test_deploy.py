"""Deployment memory (issue 14) against MCUNetV2 (Lin et al., NeurIPS 2021): MobileNetV2's int8 peak of 1,372 kB
and its first conv's 539 kB (224x224x3 + 112x112x32 bytes), kB = 1024 bytes."""

from __future__ import annotations

import json

import pytest

from convcalc import analyze, load_spec
from convcalc.passes.deploy import deployment
from tests.conftest import SPECS, run_cli

KB = 1024


def test_mcunetv2_first_conv_539_kb() -> None:
    first = deployment(analyze(SPECS / "mobilenet_v2.yaml", dtype="int8")).steps[0]
    assert first.live_bytes == 224 * 224 * 3 + 112 * 112 * 32 == 539 * KB
    assert first.fused == ("conv1.batchnorm1", "conv1.relu61")


def test_mcunetv2_peak_1372_kb() -> None:
    """The first inverted block's expand conv: its input 112x112x16 and output 112x112x96 (the depthwise after it runs
    in place, so its 112x112x96 input and 56x56x96 output do not add up)."""
    plan = deployment(analyze(SPECS / "mobilenet_v2.yaml", dtype="int8"))
    assert plan.peak.live_bytes == 112 * 112 * 16 + 112 * 112 * 96 == 1372 * KB
    assert plan.peak.name == "bottleneck1.inverted1.expand.conv"
    depthwise = {step.name: step for step in plan.steps}["bottleneck1.inverted1.depthwise.conv"]
    assert depthwise.in_place and depthwise.live_bytes == 112 * 112 * 96


def test_residual_input_lives_until_its_add() -> None:
    """The second block of stage 2 (24 channels, 56x56): its input lives beside the expand's 144 channels, and beside
    the projection's input and output."""
    steps = {step.name: step for step in deployment(analyze(SPECS / "mobilenet_v2.yaml", dtype="int8")).steps}
    body = "bottleneck1.residual1.body.inverted1."
    assert steps[body + "expand.conv"].live_bytes == 56 * 56 * 24 + 56 * 56 * 144
    assert steps[body + "project"].live_bytes == 56 * 56 * 24 + 56 * 56 * 144 + 56 * 56 * 24


def folded_params() -> int:
    """Each batch norm (2 C params, 2 C buffers) folds into a bias-free conv, which gains C biases: params - sum C.
    MobileNetV2's batch norms, from Table 2: stem 32, t = 1 block 32 + 16, then per block t * c_in twice and c_out;
    the head 1280. torchvision's MobileNetV2 has 3,504,872 params."""
    rows = [(16, 6, 24, 2), (24, 6, 32, 3), (32, 6, 64, 4), (64, 6, 96, 3), (96, 6, 160, 3), (160, 6, 320, 1)]
    channels = 32 + 32 + 16 + 1280
    for c_in, t, c_out, n in rows:
        channels += (2 * t * c_in + c_out) + (n - 1) * (2 * t * c_out + c_out)
    return 3_504_872 - channels


def test_folding_changes_params() -> None:
    plan = deployment(analyze(SPECS / "mobilenet_v2.yaml", dtype="int8"))
    assert plan.params == folded_params()
    assert plan.buffers == 0 and plan.folded == 52


def test_deploy_json_and_table() -> None:
    result = run_cli("analyze", "mobilenet_v2", "--mode", "deploy", "--dtype", "int8", "-f", "json")
    deploy = json.loads(result.stdout)["total"]["deploy"]
    assert (deploy["peak_bytes"], deploy["peak_layer"]) == (1372 * KB, "bottleneck1.inverted1.expand.conv")
    table = run_cli("analyze", "mobilenet_v2", "--mode", "deploy", "--dtype", "int8").stdout
    assert "RAM, peak of live activations: 1.34 MiB = 1,372.0 KiB at bottleneck1.inverted1.expand.conv" in table
    # flash: the weights after folding in int8, one byte each; buffers 0 once folded
    assert deploy["flash_bytes"] == folded_params() * 1
    assert f"flash, weights after folding: 3.33 MiB = {folded_params() / 1024:,.1f} KiB" in table


def test_flash_is_params_and_buffers_after_folding_at_the_dtype() -> None:
    # a conv 3 -> 4 of 3x3 with batch norm: 108 weights, folded into 4 biases; at float16 2 bytes each
    text = "input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 4, kernel: 3}\n  - {type: batchnorm}\n"
    deployed = deployment(analyze(load_spec("t.yaml", text=text)), "float16")
    assert (deployed.params, deployed.buffers) == (3 * 3 * 3 * 4 + 4, 0)
    assert deployed.flash_bytes == (108 + 4) * 2
    assert deployed.to_dict()["flash_bytes"] == 224
    # a batch norm with no producer to fold into keeps its 4 running means and 4 variances: (8 + 8) x 2 bytes
    lone = deployment(
        analyze(load_spec("t.yaml", text="input: [4, 2, 2]\nlayers:\n  - {type: batchnorm}\n")), "float16"
    )
    assert (lone.params, lone.buffers, lone.flash_bytes) == (8, 8, 32)


def test_each_kinds_role_in_a_runtime() -> None:
    """TinyEngine-style deployment: activations fuse into their producer, batch norm folds into a producer with a
    bias (conv, transposed conv, linear), dropout, stochastic depth and identity are the identity and flatten,
    reshape and permute views; every other kind is a step of its own."""
    from convcalc.kinds.catalogue import CATALOGUE

    activations = {"relu", "relu6", "leaky_relu", "sigmoid", "tanh", "silu", "gelu", "hardsigmoid", "hardswish"}
    roles = {
        **dict.fromkeys(CATALOGUE, "step"),
        **dict.fromkeys(activations, "fused"),
        "batchnorm": "folded",
        **dict.fromkeys(("dropout", "stochastic_depth", "identity", "flatten", "reshape", "permute", "roll"), "free"),
    }
    assert {name: kind.deploys_as for name, kind in CATALOGUE.items()} == roles
    assert {name for name, kind in CATALOGUE.items() if kind.absorbs_batchnorm} == {"conv", "conv_transpose", "linear"}


def test_batch_norm_after_a_layer_norm_is_a_step() -> None:
    # a layer norm has a bias key too (false: gamma alone), but no filters to fold a batch norm into
    text = "input: [8, 4, 4]\nlayers:\n  - {type: layernorm, name: ln, bias: false}\n  - {type: batchnorm, name: bn}\n"
    deployed = deployment(analyze(load_spec("t.yaml", text=text)), "int8")
    assert [step.name for step in deployed.steps] == ["ln", "bn"]
    assert deployed.folded == 0


def test_batch_norm_after_a_pool_is_a_step() -> None:
    # nothing to fold into: a pool has no bias, so the batch norm stays a step of its own
    text = "input: [8, 8, 8]\nlayers:\n  - {type: maxpool, name: p, kernel: 2}\n  - {type: batchnorm, name: bn}\n"
    deployed = deployment(analyze(load_spec("t.yaml", text=text)), "int8")
    assert [step.name for step in deployed.steps] == ["p", "bn"]
    assert deployed.folded == 0


def test_deploy_lines_go_with_the_table_and_into_the_picture(tmp_path) -> None:
    """With --svg - the picture is standard output and the table (with the mode's lines) standard error: the lines
    used to be printed to standard output after the SVG, and the picture left them out."""
    result = run_cli("analyze", "mobilenet_v2", "--mode", "deploy", "--dtype", "int8", "--svg", "-")
    assert result.code == 0
    assert result.stdout.rstrip().endswith("</svg>")
    assert "1,372.0 KiB" in result.stderr  # MCUNetV2: 1,372 kB, which are KiB
    picture = tmp_path / "deploy.svg"
    assert run_cli("analyze", "mobilenet_v2", "--mode", "deploy", "--dtype", "int8", "--svg", str(picture)).code == 0
    assert "1,372.0" in picture.read_text(encoding="utf-8")


def test_the_modes_table_says_which_options_each_mode_takes():
    """One table (passes.modes.MODES) decides which options combine, for the CLI and the library alike."""
    from convcalc.passes.modes import ModeOptions, check_options, run_mode

    check_options("train", ModeOptions(optimizer="adam", precision="amp"))
    check_options("deploy", ModeOptions(patches="4x4", split="conv1"))
    for mode, options, refusal in (
        ("deploy", ModeOptions(optimizer="adam"), "give --mode train too"),
        ("inference", ModeOptions(patches="2x2"), "give --mode deploy too"),
        ("train", ModeOptions(split="conv1"), "give --patches too"),
        ("deploy", ModeOptions(patches="0x2"), "at least one patch"),
    ):
        with pytest.raises(ValueError, match=refusal):
            check_options(mode, options)
    analysis = analyze("inception-5x5")
    assert run_mode(analysis, "inference", ModeOptions()) is None
    # 28 x 28 x 32 outputs of 4 bytes, and the 28 x 28 x 192 input, live together at the one conv: 702,464 bytes
    deployed = run_mode(analysis, "deploy", ModeOptions()).to_dict()  # type: ignore[union-attr]
    assert deployed["peak_bytes"] == (28 * 28 * 32 + 28 * 28 * 192) * 4


def test_a_dangling_branch_is_freed_at_once_and_bytes_scale_with_batch_and_dtype() -> None:
    """Input 1x4x4; a (4 filters) reads it, b (2 filters) reads a and nothing reads b, c (3 filters) reads a again.
    Per sample, in elements: at a, the input 16 + a's 64 = 80 (the input is then freed); at b, a's 64 (read again
    by c) + b's 32 = 96, and b, never read, is freed at once; at c, a's 64 + c's 48 = 112. Each element is
    2 bytes (float16) for each of 2 samples: 4 bytes."""
    text = (
        "input: [1, 4, 4]\nlayers:\n"
        "  - {type: conv, name: a, filters: 4, kernel: 1}\n"
        "  - {type: conv, name: b, filters: 2, kernel: 1}\n"
        "  - {type: conv, name: c, filters: 3, kernel: 1, input: a}\n"
    )
    deployed = deployment(analyze(load_spec("t.yaml", text=text), batch=2), "float16")
    assert [(step.name, step.live_bytes) for step in deployed.steps] == [("a", 80 * 4), ("b", 96 * 4), ("c", 112 * 4)]
    assert (deployed.peak.name, deployed.to_dict()["peak_bytes"]) == ("c", 112 * 4)
