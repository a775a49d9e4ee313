"""Training memory and compute (issue 14): saved bytes against what PyTorch's autograd really keeps
(tests/data/autograd_saved.json, recorded by tools/record_autograd.py with torch 2.13.0), gradients and optimizer state
by hand arithmetic, backward MACs against written-out formulas, and the peak of a tiny step by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convcalc import analyze
from convcalc.passes.training import training
from tests.conftest import SPECS, run_cli

FIXTURE = json.loads((Path(__file__).parent / "data" / "autograd_saved.json").read_text(encoding="utf-8"))
NETWORKS = ("resnet18", "mobilenet_v2", "vgg16")


@pytest.mark.parametrize("network", NETWORKS)
def test_saved_bytes_equal_what_autograd_keeps(network: str) -> None:
    """Batch 8, float32, 3x224x224: the total equals both torchvision's module and the export of the bundled spec."""
    step = training(analyze(SPECS / f"{network}.yaml", batch=8))
    measured = FIXTURE["networks"]
    assert (
        step.saved_bytes == measured[network]["total_saved_bytes"] == measured[f"{network}/export"]["total_saved_bytes"]
    )


TEST_NETWORKS = {
    name: SPECS.parent / "tests" / "data" / "peers" / f"{name}.yaml" for name in ("every_kind_live", "saved_rules")
}
"""Recorded as their export alone: one layer of every kind; every kind and option whose saved tensors differ."""


@pytest.mark.parametrize("network", [*NETWORKS, *TEST_NETWORKS])
def test_saved_bytes_per_layer_equal_the_exports_modules(network: str) -> None:
    """The export's modules carry convcalc's layer names (a linear that flattens is 'NAME.1' of a Sequential, a
    channels-first layer norm 'NAME.norm'); batch 8."""
    step = training(analyze(TEST_NETWORKS.get(network, SPECS / f"{network}.yaml"), batch=8))
    ours = {layer.name: layer.saved_bytes for layer in step.layers}
    measured: dict[str, int] = {}
    for module, record in FIXTURE["networks"][f"{network}/export"]["modules"].items():
        name = module if module in ours else module.rsplit(".", 1)[0]
        measured[name] = measured.get(name, 0) + record["saved_bytes"]
    assert {name: saved for name, saved in ours.items() if saved} == {
        n: saved for n, saved in measured.items() if saved
    }
    assert sum(ours.values()) == step.saved_bytes == FIXTURE["networks"][f"{network}/export"]["total_saved_bytes"]


def test_published_figures_of_the_fixture() -> None:
    """docs/peer-rules.md: ResNet-18's stem, written out (batch 8, float32)."""
    layers = {layer.name: layer for layer in training(analyze(SPECS / "resnet18.yaml", batch=8)).layers}
    assert layers["conv1"].saved_bytes == 8 * 3 * 224 * 224 * 4  # the image
    assert layers["bn1"].saved_bytes == 8 * 64 * 112 * 112 * 4 + 2 * 64 * 4  # its input and two batch statistics
    assert layers["relu1"].saved_bytes == 8 * 64 * 112 * 112 * 4  # in place: batch norm's output storage
    assert layers["maxpool"].saved_bytes == 8 * 64 * 56 * 56 * 8  # int64 indices; its input is the relu's storage


def test_inplace_does_not_change_what_is_kept_in_these_networks(write_spec) -> None:
    """The fixture's torchvision modules (in place) and exports (not in place before this change) keep the same bytes:
    in-place relu6 keeps a copy of its input, where the out-of-place one keeps its input itself."""
    text = "input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 4, kernel: 1}\n  - {type: batchnorm}\n"
    text += "  - {type: relu6%s}\n  - {type: conv, filters: 4, kernel: 1}\n"
    kept = [training(analyze(write_spec(text % flag), batch=2)).saved_bytes for flag in ("", ", inplace: true")]
    image, conv_out, stats = 2 * 3 * 64 * 4, 2 * 4 * 64 * 4, 2 * 4 * 4
    assert kept[0] == kept[1] == image + conv_out + stats + conv_out + conv_out


def test_gradient_and_optimizer_bytes_by_hand() -> None:
    """ResNet-18: 11,689,512 params (torchvision), 9,600 running statistics (fixture: 38,400 bytes of buffers)."""
    analysis = analyze(SPECS / "resnet18.yaml", batch=32)
    params, buffers = 11_689_512, 38_400 // 4
    assert analysis.total.buffers == buffers
    for optimizer, copies in (("sgd", 0), ("momentum", 1), ("adam", 2), ("adamw", 2)):
        step = training(analysis, optimizer)
        assert step.gradient_bytes == params * 4
        assert step.optimizer_bytes == copies * params * 4
        assert step.weight_bytes == (params + buffers) * 4
    amp = training(analysis, "adam", "amp")
    assert amp.weight_bytes == (params + buffers) * 4 + params * 2  # float32 master weights + a float16 copy
    assert (amp.gradient_bytes, amp.optimizer_bytes) == (params * 4, 2 * params * 4)


def test_backward_macs_written_out(write_spec) -> None:
    """Input gradient = forward MACs except for the first layer (the image needs none); weight gradient = forward."""
    path = write_spec(
        "input: [3, 8, 8]\nlayers:\n"
        "  - {type: conv, filters: 8, kernel: 3, padding: 1}\n  - {type: relu}\n"
        "  - {type: conv, filters: 16, kernel: 3, padding: 1}\n  - {type: linear, units: 10}\n"
    )
    step = training(analyze(path, batch=2))
    conv1 = 8 * 8 * 8 * (3 * 3 * 3)  # H_out * W_out * C_out * k_h * k_w * C_in
    conv2 = 8 * 8 * 16 * (3 * 3 * 8)
    linear = 16 * 8 * 8 * 10  # in_features * units
    by_name = {layer.name: layer for layer in step.layers}
    assert (by_name["conv1"].input_grad_macs, by_name["conv1"].weight_grad_macs) == (0, 2 * conv1)
    assert (by_name["conv2"].input_grad_macs, by_name["conv2"].weight_grad_macs) == (2 * conv2, 2 * conv2)
    assert by_name["linear1"].backward_macs == 2 * 2 * linear
    assert by_name["relu1"].backward_macs == 0
    assert step.backward_macs == 2 * (conv1 + 2 * conv2 + 2 * linear)


def test_a_pool_on_the_image_keeps_nothing(write_spec) -> None:
    """Autograd records no op whose inputs need no gradient and that has no parameters."""
    path = write_spec(
        "input: [3, 8, 8]\nlayers:\n  - {type: maxpool, kernel: 2}\n  - {type: conv, filters: 4, kernel: 1}\n"
    )
    layers = training(analyze(path)).layers
    assert [layer.saved_bytes for layer in layers] == [0, 3 * 4 * 4 * 4]


def test_an_average_to_one_pixel_is_a_mean_which_keeps_nothing(write_spec) -> None:
    """PyTorch's adaptive average pool to 1x1 runs as a mean, whose backward needs only the input's sizes: it keeps
    nothing; to 2x1 it keeps its input, the conv's 4x8x8 float32 output: 4 * 8 * 8 * 4 = 1,024 bytes (batch 1). The
    linear keeps its own input, the pool's output: 4 * 1 * 1 * 4 = 16 or 4 * 2 * 1 * 4 = 32 bytes."""
    for output, pool, linear in (("1", 0, 16), ("[2, 1]", 4 * 8 * 8 * 4, 32)):
        path = write_spec(
            "input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 4, kernel: 1}\n"
            f"  - {{type: adaptive_avgpool, output: {output}}}\n  - {{type: linear, units: 2}}\n"
        )
        layers = training(analyze(path)).layers
        assert [layer.saved_bytes for layer in layers[1:]] == [pool, linear], output


def test_a_layer_norm_over_the_channels_of_tokens(write_spec) -> None:
    """LayerNorm over the 4 channels at each of 6 positions (a 1-D map, or tokens) runs as LayerNorm2d: on the
    channels-last copy, which it keeps, 4 * 6 float32 = 96 bytes, with a mean and an inverse standard deviation per
    position, 2 * 6 * 4 = 48 bytes: 144 (batch 1)."""
    path = write_spec("input: [3, 6]\nlayers:\n  - {type: conv, filters: 4, kernel: 1}\n  - {type: layernorm}\n")
    assert training(analyze(path)).layers[1].saved_bytes == 4 * 6 * 4 + 2 * 6 * 4


def test_an_identity_is_its_input_kept_once(write_spec) -> None:
    """c and d both read a (4x8x8 float32, 4 * 64 * 4 = 1,024 bytes), d through an identity, the same tensor in
    PyTorch: c keeps a's output, d keeps nothing more. The first conv keeps the image, 3 * 64 * 4 = 768 bytes."""
    text = (
        "input: [3, 8, 8]\nlayers:\n  - {type: conv, name: a, filters: 4, kernel: 1}\n"
        "  - {type: conv, name: c, filters: 4, kernel: 1}\n  - {type: identity, name: i, input: a}\n"
        "  - {type: conv, name: d, filters: 4, kernel: 1}\n  - {type: add, inputs: [c, d]}\n"
    )
    layers = training(analyze(write_spec(text))).layers
    assert [layer.saved_bytes for layer in layers] == [3 * 64 * 4, 4 * 64 * 4, 0, 0, 0]


def test_peak_of_one_linear_by_hand(write_spec) -> None:
    """4 -> 2 features, batch 1, float32, sgd. At the linear's backward: weights (4 * 2 + 2) * 4 = 40, the kept input
    16, the output 8 and its gradient 8, the weight gradients 40: 112."""
    step = training(analyze(write_spec("input: [4]\nlayers:\n  - {type: linear, units: 2}\n")))
    assert (step.peak_bytes, step.peak_at) == (40 + 16 + 8 + 8 + 40, "backward, linear1")


def test_peak_of_one_linear_under_amp_with_adam_by_hand(write_spec) -> None:
    """4 -> 2 features, batch 1, amp: activations in float16 (2 bytes), weights, gradients and Adam's two moments in
    float32 plus a float16 copy of the weights. Throughout: weights 10 * 4 + 10 * 2 = 60 and Adam's 2 * 10 * 4 = 80.
    At the linear's backward: the kept input 4 * 2 = 8, the output 2 * 2 = 4 and its gradient 4, the weight
    gradients 10 * 4 = 40: 56."""
    step = training(analyze(write_spec("input: [4]\nlayers:\n  - {type: linear, units: 2}\n")), "adam", "amp")
    assert (step.weight_bytes, step.optimizer_bytes) == (60, 80)
    assert (step.peak_bytes, step.peak_at) == (60 + 80 + 56, "backward, linear1")


def test_peak_of_four_linears_by_hand(write_spec) -> None:
    """8 -> 8 -> 8 -> 8 -> 2 features, batch 1, float32, sgd: 72 + 72 + 72 + 18 = 234 parameters, 936 bytes of
    weights throughout. Forward of layer i at time i, its backward at 7 - i, the optimizer step at 8. Each linear
    keeps its input (32 bytes) until its backward: the image until 7, the outputs of linear1, 2, 3 until 6, 5, 4; the
    network's output (8 bytes) lives until 4. Parameter gradients from each backward on: linear4's 72 bytes from 4,
    linear3's 288 from 5, linear2's from 6, linear1's from 7. The gradient of a layer's output (32 bytes; 8 for the
    output) from the backward of its reader until its own: linear3's over 4..5, linear2's 5..6, linear1's 6..7, the
    output's at 4. Live bytes: 64, 96, 128, 136 forward; at 4, 4 x 32 + 8 + 72 + 32 + 8 = 248; at 5, 3 x 32 + 360 +
    32 + 32 = 520; at 6, 2 x 32 + 648 + 32 + 32 = 776; at 7, 32 + 936 + 32 = 1,000; at the optimizer step 936.
    MACs: forward 3 x 64 + 16 = 208; backward 64 (linear1's weights: the image needs no gradient) + 2 x (64 + 64 + 16)
    = 352; a step 560."""
    text = "input: [8]\nlayers:\n" + "  - {type: linear, units: 8}\n" * 3 + "  - {type: linear, units: 2}\n"
    step = training(analyze(write_spec(text)))
    assert step.weight_bytes == 234 * 4
    assert (step.peak_bytes, step.peak_at) == (936 + 1000, "backward, linear1")
    assert (step.backward_macs, step.to_dict()["step_macs"]) == (352, 560)


def test_peak_at_the_first_of_equal_moments(write_spec) -> None:
    """Two relus on the image, batch 1, float32: nothing needs a gradient, nothing is kept. At relu1's forward the
    image and relu1's output live (16 + 16 bytes), at relu2's relu1's and relu2's (16 + 16): equal, and the first is
    the peak."""
    step = training(analyze(write_spec("input: [4]\nlayers:\n  - {type: relu}\n  - {type: relu}\n")))
    assert (step.peak_bytes, step.peak_at, step.saved_bytes) == (32, "forward, relu1", 0)


def test_peak_with_the_outputs_gradient_by_hand(write_spec) -> None:
    """1 -> 4 features, then a relu (not in place), batch 1, float32, sgd: weights 8 x 4 = 32 bytes throughout.
    Times: linear1 forward 0, relu1 1, relu1's backward 2, linear1's 3, the optimizer 4. The linear keeps the image
    (4 bytes) until 3; its output (16) lives over 0..1; the relu keeps its own output (16) over 1..2. The output's
    gradient (16) lives at 2, linear1's output's over 2..3, its weight gradients (32) over 3..4. Live: 20, 36,
    4 + 16 + 16 + 16 = 52 at 2 and 4 + 16 + 32 = 52 at 3: the first of the equal peaks, relu1's backward."""
    step = training(analyze(write_spec("input: [1]\nlayers:\n  - {type: linear, units: 4}\n  - {type: relu}\n")))
    assert (step.peak_bytes, step.peak_at) == (32 + 52, "backward, relu1")


def test_a_dangling_branch_gets_no_gradient(write_spec) -> None:
    """a: 1 -> 4 features; b: a relu of a that nothing reads; c: a relu of a, the output. Batch 1, float32, sgd;
    weights 8 x 4 = 32 bytes. Times: forward 0, 1, 2; backward of c 3, of b 4, of a 5. The image (4 bytes) is kept
    by a until 5; a's output (16) lives over 0..2; b keeps its output (16) over 1..4, c its own (16) over 2..3. No
    loss reads b: it has no gradient. c's gradient (16) lives at 3, a's over 3..5, a's weight gradients (32) over
    5..6. Live: 20, 36, 52, then at 3 4 + 16 + 16 + 16 + 16 = 68, at 4 36, at 5 52."""
    text = (
        "input: [1]\nlayers:\n  - {type: linear, name: a, units: 4}\n  - {type: relu, name: b}\n"
        "  - {type: relu, name: c, input: a}\n"
    )
    step = training(analyze(write_spec(text)))
    assert (step.peak_bytes, step.peak_at) == (32 + 68, "backward, c")


def test_a_first_layer_of_one_parameter_keeps_its_input(write_spec) -> None:
    """A 1x1 conv of one filter without bias on a 1x4x4 image: 1 parameter, so autograd records it and keeps its
    input, 16 floats: 64 bytes."""
    path = write_spec("input: [1, 4, 4]\nlayers:\n  - {type: conv, filters: 1, kernel: 1, bias: false}\n")
    (layer,) = training(analyze(path)).layers
    assert layer.saved_bytes == 64


def test_json_of_a_training_step() -> None:
    result = run_cli("analyze", "resnet18", "--mode", "train", "--optimizer", "adam", "--batch", "8", "-f", "json")
    document = json.loads(result.stdout)
    totals = document["total"]["training"]
    assert totals["saved_bytes"] == FIXTURE["networks"]["resnet18"]["total_saved_bytes"]
    assert totals["optimizer_bytes"] == 2 * 11_689_512 * 4
    assert {"saved_bytes", "gradient_bytes", "optimizer_bytes", "peak_bytes", "backward_macs"} <= set(totals)
    assert document["layers"][0]["saved_bytes"] == 8 * 3 * 224 * 224 * 4
    assert "training" not in json.loads(run_cli("analyze", "resnet18", "-f", "json").stdout)["total"]


def test_training_table_and_refusals() -> None:
    table = run_cli("analyze", "vgg16", "--mode", "train", "--optimizer", "momentum")
    assert table.code == 0 and "training step: optimizer momentum" in table.stdout
    assert run_cli("analyze", "vgg16", "--mode", "train", "-f", "csv").code == 2
    grouped = run_cli("analyze", "vgg16", "--mode", "train", "--depth", "1")  # issue 28: --depth in every mode
    assert grouped.code == 0 and "training step: optimizer sgd" in grouped.stdout


def cells(table: str, label: str) -> list[str]:
    """The cells of the side-by-side row that starts with ``label``."""
    row = next(line for line in table.splitlines() if line.startswith(f"│ {label} "))
    return [cell.strip() for cell in row.strip("│").split("│")]


def test_compare_shows_the_modes_side_by_side_with_analyzes_labels() -> None:
    """The totals are labelled as analyze's lines label them ('saved for backward', not the JSON key), in exact
    integers with --exact and in MiB without."""
    args = ("compare", "resnet18", "vgg16", "--mode", "train", "--optimizer", "momentum", "--batch", "8")
    table = run_cli(*args, "--exact")
    assert table.code == 0, table.stderr
    saved = [FIXTURE["networks"][name]["total_saved_bytes"] for name in ("resnet18", "vgg16")]
    assert cells(table.stdout, "saved for backward") == ["saved for backward", *(f"{b:,} B" for b in saved)]
    # momentum: one float32 value per parameter; torchvision: 11,689,512 and 138,357,544 parameters
    assert cells(table.stdout, "optimizer state") == ["optimizer state", "46,758,048 B", "553,430,176 B"]
    assert "saved_bytes" not in table.stdout and "optimizer_bytes" not in table.stdout
    # 138,357,544 * 4 bytes = 527.79 MiB (553,430,176 / 2^20 = 527.789...)
    assert cells(run_cli(*args).stdout, "optimizer state")[2] == "527.79 MiB"
    deploy = run_cli("compare", "mobilenet_v2", "resnet18", "--mode", "deploy", "--dtype", "int8")
    assert "RAM, peak of live activations" in deploy.stdout and "peak_bytes" not in deploy.stdout
    # MCUNetV2: MobileNetV2 int8 peaks at 1,372 kB (112x112x16 + 112x112x96 bytes) = 1.34 MiB
    assert cells(deploy.stdout, "RAM, peak of live activations")[1] == "1.34 MiB"
    document = json.loads(run_cli("compare", "resnet18", "vgg16", "--mode", "deploy", "-f", "json").stdout)
    assert set(document["deploy"]) == {"before", "after"}


def test_training_options_need_train_mode():
    result = run_cli("analyze", "resnet18", "--optimizer", "adam")
    assert result.code == 2 and "give --mode train too" in result.stderr
