"""Issue 28, "the answer first": what new users could not find or misread. Option typos are answered by meaning,
warnings are summarised and can be acknowledged for any input, a channels-last input stops the run, --summary gives
the answer without the table, footers name what they measure.

Expected numbers are hand arithmetic written out here, or the published figures the docs cite (MCUNetV2's 1,372 kB).
"""

from __future__ import annotations

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
