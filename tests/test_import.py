"""`convcalc import model.onnx`: a spec people can read, which counts exactly as the model does."""

from __future__ import annotations

import pytest

from convcalc import analyze, load_spec
from convcalc.spec_writer import yaml_value
from tests.conftest import run_cli
from tests.test_onnx import DECOMPOSED_LRN, FIXTURES, fixture_pairs


@pytest.mark.parametrize(("file", "spec"), [p for p in fixture_pairs() if p[1] not in DECOMPOSED_LRN])
def test_the_written_spec_counts_as_the_model(tmp_path, file: str, spec: str):
    target = tmp_path / "imported.yaml"
    result = run_cli("import", str(FIXTURES / file), "-o", str(target))
    assert result.code == 0, result.stderr
    model, written = analyze(str(FIXTURES / file)), analyze(str(target))
    assert written.total == model.total
    assert [layer.output_shape for layer in written.layers] == [layer.output_shape for layer in model.layers]


def test_names_and_comments_are_readable():
    result = run_cli("import", str(FIXTURES / "resnet50.torchvision.onnx"))
    assert result.code == 0
    lines = result.stdout.splitlines()
    # torchvision's module path, dots made underscores; the ONNX node kept as a comment
    conv = next(line for line in lines if "name: layer1_0_conv1," in line)
    assert conv.endswith("# /layer1/layer1.0/conv1/Conv") and "filters: 64, kernel: 1, bias: false" in conv
    # a residual's add reads the block's last batch norm and the shortcut, by name
    add = next(line for line in lines if line.startswith("  - {type: add, name: layer1_0,"))
    assert "inputs: [layer1_0_bn3, layer1_0_downsample_1]" in add
    assert load_spec("t.yaml", text=result.stdout).name == "resnet50.torchvision"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ((3, 3), "3"),
        ((3, 1), "[3, 1]"),
        (True, "true"),
        (1e-05, "1.0e-05"),
        (0.1, "0.1"),
        ("same", "same"),
        ("a b", '"a b"'),
    ],
)
def test_values_are_written_as_yaml_reads_them(value: object, text: str):
    assert yaml_value(value) == text


def test_import_refuses_what_is_not_onnx(write_spec):
    result = run_cli("import", str(write_spec("input: [3, 8, 8]\nlayers: [{type: relu}]\n")))
    assert result.code == 2 and "imports ONNX models" in result.stderr


def test_import_never_writes_over_its_model(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes((FIXTURES / "lenet5.onnx").read_bytes())
    result = run_cli("import", str(model), "-o", str(model))
    assert result.code == 2 and model.read_bytes() == (FIXTURES / "lenet5.onnx").read_bytes()


def test_a_bottleneck_rewrite_of_an_onnx_model_says_to_import_it_first():
    result = run_cli("compare", str(FIXTURES / "inception-5x5.onnx"), "-b", "conv5x5=16")
    assert result.code == 2 and "this is an ONNX model" in result.stderr and "convcalc import" in result.stderr
