"""Issue 28, "the answer first": what new users could not find or misread. Option typos are answered by meaning,
warnings are summarised and can be acknowledged for any input, a channels-last input stops the run, --summary gives
the answer without the table, footers name what they measure.

Expected numbers are hand arithmetic written out here, or the published figures the docs cite (MCUNetV2's 1,372 kB).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("--latency", "--device NAME"),  # click's own guess was --batch
        ("--unit", "--exact"),  # click's own guess was --input, --split
        ("--fp16", "--dtype"),
        ("--batch-size", "--batch"),
        ("--resolution", "--input"),
        ("--train", "--mode train"),
    ],
)
def test_an_unknown_option_is_answered_by_what_it_meant(typed: str, meant: str):
    result = run_cli("analyze", "resnet18", typed)
    assert result.code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"Error: No such option: {typed}: ")
    assert meant in line
    assert "Possible options" not in line


def test_a_misspelt_option_is_offered_only_its_close_spellings():
    result = run_cli("analyze", "resnet18", "--bach")
    assert result.code == 2
    assert result.stderr.strip().splitlines()[-1] == "Error: No such option: --bach (Possible options: --batch)"


def test_a_meaning_whose_option_the_command_lacks_is_not_offered():
    # `export` has no --device: --latency gets no suggestion rather than a wrong one
    result = run_cli("export", "resnet18", "--latency")
    assert result.code == 2
    assert result.stderr.strip().splitlines()[-1] == "Error: No such option: --latency"


# --- warnings acknowledged for any input -------------------------------------------------------------------------

# ResNet-18's three downsampling shortcuts are 1x1 convs of stride 2 on even maps (56, 28, 14): their windows reach
# (out - 1) * 2 + 1 = 55, 27, 13 rows, one short of the input. True, routine, and the same on every ResNet.
SHORTCUTS = [f"layer{stage}.0.residual1.shortcut.conv.0" for stage in (2, 3, 4)]


def test_the_library_acknowledges_warnings_by_code_for_any_input():
    from convcalc import analyze

    assert [(w.layer, w.code) for w in analyze("resnet18").warnings] == [(name, "unread") for name in SHORTCUTS]
    assert analyze("resnet18", expect=["unread"]).warnings == ()
    assert analyze("resnet18", expect="unread", input_shape=(3, 160, 160)).warnings == ()  # at another size too
    with pytest.raises(ValueError, match="unknown warning code 'unred'; the codes are unread, asymmetric"):
        analyze("resnet18", expect=["unred"])
    with pytest.raises(TypeError, match="expect must be a list of warning codes"):
        analyze("resnet18", expect=5)  # type: ignore[arg-type]


def test_expect_acknowledges_warnings_of_an_onnx_file_too(tmp_path):
    from tests import onnxbuild as ob

    # a 1x1 conv of stride 2 on an 8x8 map: (4 - 1) * 2 + 1 = 7 rows reached of 8, 'unread'
    conv = ob.node("Conv", ["x", "w"], ["y"], name="down", kernel_shape=[1, 1], strides=[2, 2])
    path = tmp_path / "m.onnx"
    path.write_bytes(ob.model([conv], [("x", [1, 3, 8, 8])], [("y", [1, 4, 4, 4])], [ob.tensor("w", [4, 3, 1, 1])]))
    plain = run_cli("analyze", str(path))
    assert plain.code == 0 and "warning:" in plain.stdout
    quiet = run_cli("analyze", str(path), "--expect", "unread")
    assert quiet.code == 0 and "warning:" not in quiet.stdout


def test_an_unknown_code_for_expect_is_a_usage_error():
    result = run_cli("analyze", "resnet18", "--expect", "unred")
    assert result.code == 2
    assert result.stderr.startswith("convcalc: error: --expect: unknown warning code 'unred'; the codes are unread,")


# --- the answer first ----------------------------------------------------------------------------------------------


def test_summary_is_the_answer_without_the_table():
    full = run_cli("analyze", "resnet50", "--mode", "train", "--optimizer", "adam", "--batch", "64")
    short = run_cli("analyze", "resnet50", "--mode", "train", "--optimizer", "adam", "--batch", "64", "--summary")
    assert full.code == short.code == 0
    assert "┏" in full.stdout and "┏" not in short.stdout and "layer4.2.residual1.body.conv3" not in short.stdout
    # the same answer lines, in the same words: everything after the table
    after_table = full.stdout.split("┘\n", 1)[1]
    assert short.stdout == "ResNet-50 (torchvision, v1.5)  (3x224x224 -> 1000)\n" + after_table
    assert len(short.stdout.splitlines()) <= 20
    # adam keeps two values per parameter: 2 * 25,557,032 * 4 bytes = 204,456,256 B = 194.98 MiB
    assert "  optimizer state: 194.98 MiB" in short.stdout
    assert "not counted: the loss, framework workspaces" in short.stdout


def test_summary_refuses_other_formats():
    result = run_cli("analyze", "resnet18", "--summary", "-f", "json")
    assert result.code == 2 and "--summary" in result.stderr


def test_the_footer_names_what_each_memory_figure_is():
    # the footer used to say 'activations 57.04 KiB in all, peak 36.75 KiB' beside a mode's other 'peak'
    result = run_cli("analyze", "lenet5", "--summary")
    footer = next(line for line in result.stdout.splitlines() if line.startswith("batch 1"))
    assert "(every layer's output)" in footer and "forward-pass peak" in footer and "(alive at once)" in footer
    assert "in all, peak" not in footer


def test_depth_works_in_every_mode():
    for mode in (["--mode", "train"], ["--mode", "deploy", "--dtype", "int8"]):
        grouped = run_cli("analyze", "resnet18", *mode, "--depth", "1")
        assert grouped.code == 0, grouped.stderr
        rows = [line for line in grouped.stdout.splitlines() if line.startswith("│") and "total" not in line]
        # ResNet-18 at depth 1: conv1, bn1, relu1, maxpool, layer1..layer4, avgpool, fc
        assert len(rows) == 10
        assert any("basic x2" in row for row in rows)
    document = json.loads(run_cli("analyze", "resnet18", "--mode", "train", "--depth", "1", "-f", "json").stdout)
    assert document["depth"] == 1 and len(document["groups"]) == 10
    assert document["layers"][0]["saved_bytes"] == 3 * 224 * 224 * 4  # conv1 keeps its float32 input
    assert "training" in document["total"]


def test_deploy_says_flash_and_ram_and_what_kib_means():
    result = run_cli("analyze", "mobilenet_v2", "--mode", "deploy", "--dtype", "int8", "--summary")
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("deployment (int8)"))
    said = "\n".join(lines[start:])
    # MCUNetV2 (NeurIPS 2021): MobileNetV2 int8 peaks at 1,372 kB = 112x112x16 + 112x112x96 bytes = 1,404,928 B
    assert (112 * 112 * 16 + 112 * 112 * 96) / 1024 == 1372.0
    assert "RAM, peak of live activations: 1.34 MiB = 1,372.0 KiB" in said
    assert "flash, weights after folding:" in said
    assert "KiB = 1,024 bytes (MCUNet's papers write kB)" in said
    assert " kB" not in said.replace("write kB", "")


def test_many_warnings_of_one_code_are_one_line_naming_three_and_counting_the_rest():
    # five 1x1 stride-2 convs on even maps, each leaving the last row and column unread: one in full, four on a line
    layers = "".join(f"  - {{type: conv, name: c{i}, filters: 4, kernel: 1, stride: 2}}\n" for i in range(5))
    spec = f"input: [4, 64, 64]\nlayers:\n{layers}"
    result = run_cli("analyze", "-", stdin=spec)
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert warnings[0].startswith("warning: c0 (line 3): windows reach 63 of 64")  # (32 - 1) * 2 + 1 = 63
    assert warnings[1:] == ["warning: the same at 4 more layers: c1, c2, c3 and 1 more"]
    assert "(--expect unread acknowledges them)" in result.stdout
