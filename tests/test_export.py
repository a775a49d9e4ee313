"""`convcalc export --to pytorch`: the generated module's text (the torch comparison is in test_export_torch.py)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from convcalc import analyze, load_spec
from convcalc.export import class_name, to_pytorch
from convcalc.kinds.catalogue import CATALOGUE
from tests.conftest import REPO, SPECS, run_cli
from tests.docs import page

EVERY_KIND = REPO / "tests" / "data" / "every_kind.yaml"


def test_every_catalogue_kind_has_a_torch_module():
    modules = {
        layer.type: layer.kind.torch_module(layer.config, layer.input_shapes)
        for layer in analyze(str(EVERY_KIND)).layers
    }
    assert set(modules) == set(CATALOGUE)
    assert all(isinstance(module, str) and module for module in modules.values())


def test_every_kind_spec_uses_every_kind():
    assert {layer.type for layer in analyze(str(EVERY_KIND)).layers} == set(CATALOGUE)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda path: path.stem)
def test_export_is_python_with_one_module_per_layer(path):
    source = to_pytorch(str(path))
    tree = ast.parse(source)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    network = classes[-1]
    assert network.name == class_name(load_spec(str(path)).name)
    names = ast.literal_eval(
        next(
            node.value for node in tree.body if isinstance(node, ast.Assign) and node.targets[0].id == "CONVCALC_NAMES"
        )
    )
    assert list(names.values()) == [layer.name for layer in analyze(str(path)).layers]
    imports = {
        alias.name for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names
    }
    assert imports == {"torch", "nn"}  # self-contained: torch only, no convcalc


def test_export_of_every_kind_reads_as_written():
    source = to_pytorch(str(EVERY_KIND))
    for line in (
        # 'same' at stride 2 on 17: out = ceil(17 / 2) = 9, total padding (9 - 1) * 2 + 4 - 17 = 3 -> 1 before, 2 after
        "self.same2 = nn.Sequential(nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(3, 8, kernel_size=4, stride=2))",
        'self.same1 = nn.Conv2d(8, 8, kernel_size=2, padding="same")',  # stride 1: torch's own 'same'
        "self.dilated = nn.Conv2d(8, 16, kernel_size=3, padding=(2, 1), dilation=(2, 1), groups=8, bias=False)",
        "self.forward_ = nn.Sequential(nn.Flatten(), nn.Linear(144, 4))",  # 24 * 3 * 2 = 144 features; not forward()
        "self.bn1d = nn.BatchNorm1d(48, affine=False)",
        "self.lrn1 = nn.LocalResponseNorm(3, alpha=0.001, beta=0.5, k=2)",
        'self.upsample2 = nn.Upsample(size=(13, 7), mode="bilinear", align_corners=True)',
        "self.crop1 = Crop(11, 5, 1, 1)",  # its input is 13x7: (13 - 11) // 2 = 1 row and (7 - 5) // 2 = 1 column in
        "self.sum_ = Add()",  # a layer called 'sum' does not shadow the builtin
        "x = self.type_(network_input)",  # `input: input` reads the network input
        "x = self.sum_(gmax, gavg)",  # read only by the next layer: passed on in x
        "pointwise = self.pointwise(x)",  # read by three branches: a variable of its own
        # nn.Linear over the channels at every position
        "self.pointwise = nn.Sequential(Permute(0, 2, 3, 1), nn.Linear(8, 8), Permute(0, 3, 1, 2))",
    ):
        assert f"        {line}\n" in source, line


def test_generated_sources_are_lint_clean(tmp_path):
    for path in [*SPECS.glob("*.yaml"), EVERY_KIND]:
        (tmp_path / f"{path.stem.replace('-', '_')}.py").write_text(to_pytorch(str(path)), encoding="utf-8")
    tricky = 'input: [1, 4, 4]\nname: "a \\\\ b \\"quoted\\""\nlayers: [{type: relu, name: "if"}]\n'
    (tmp_path / "tricky.py").write_text(to_pytorch(load_spec("t.yaml", text=tricky)), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            "E,F,W,I",
            "--isolated",
            "--line-length",
            "120",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_class_names():
    assert class_name("ResNet-50 (torchvision, v1.5)") == "ResNet50TorchvisionV15"
    assert class_name("1x1 convolutions") == "Net1x1Convolutions"
    assert class_name("---") == "Network"


def test_export_command(tmp_path):
    result = run_cli("export", str(SPECS / "lenet5.yaml"), "--to", "pytorch")
    assert result.code == 0, result.stderr
    assert "class LeNet5(nn.Module):" in result.stdout
    assert "self.C1 = nn.Conv2d(1, 6, kernel_size=5)" in result.stdout
    at_64 = run_cli("export", str(SPECS / "lenet5.yaml"), "--input", "64")
    # at 64: C1 60, S2 30, C3 26, S4 13, C5 9 -> F6 reads 120 * 9 * 9 = 9,720 features
    assert "nn.Sequential(nn.Flatten(), nn.Linear(9720, 84))" in at_64.stdout
    assert "INPUT_SHAPE = (1, 64, 64)" in at_64.stdout


def test_export_errors_are_one_line():
    bad = run_cli("export", "no-such-spec.yaml")
    assert bad.code == 2 and "no such file" in bad.stderr
    wrong = run_cli("export", str(SPECS / "lenet5.yaml"), "--to", "tensorflow")
    assert wrong.code == 2
    small = run_cli("export", str(SPECS / "lenet5.yaml"), "--input", "8")
    # at 8: C1 (8 - 5) + 1 = 4, S2 2, and C3's 5x5 kernel does not fit in 2x2
    assert small.code == 2 and "error: layer 'C3' (conv)" in small.stderr


def test_readme_shows_the_real_export_of_its_example():
    export = page("how-to/pytorch-export.md")
    shown = export.split("```python\nclass Inception5x5Branch1x1Bottleneck", 1)[1].split("```", 1)[0]
    assert f"class Inception5x5Branch1x1Bottleneck{shown}" in to_pytorch("inception-5x5-bottleneck")
