"""The PyTorch front end on real modules, where torch is installed (skipped without it: tests/test_torch_import.py
checks the same mapping on recorded traces, and tests/test_torch_missing.py what a user without torch sees).

The live trace of tools/torch_cases.py's networks and of M5 is the recorded one (the fixtures are current); the
library takes modules (analyze, load_spec, compare, sweep, convention=); `convcalc analyze` takes a .pt2 file and a
package.module:factory path; a forward that raises, an input the module cannot take and an import path that does not
resolve are one located message, exit 2.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip(
    "torch", reason="torch is not installed (pip install 'convcalc[torch]'): live trace not run"
)

from torch import nn  # noqa: E402

from convcalc import AnalysisError, analyze, compare, load_spec  # noqa: E402
from convcalc.importers.torch.events import to_dict  # noqa: E402
from convcalc.importers.torch.trace import trace_module  # noqa: E402
from convcalc.sweep import sweep  # noqa: E402
from tests.conftest import REPO, run_cli  # noqa: E402

sys.path.insert(0, str(REPO / "tools"))
from reference_models import M5  # noqa: E402
from torch_cases import CASES  # noqa: E402

DATA = REPO / "tests" / "data" / "torch" / "traces"


def recorded(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_live_trace_is_the_recorded_one(name: str) -> None:
    cls, shape = CASES[name]
    torch.manual_seed(0)
    model = cls()
    assert to_dict(trace_module(model, shape)) == recorded(name)["trace"]
    assert analyze(model, input_shape=shape).total.params == sum(p.numel() for p in model.parameters())


def test_m5_traced_live() -> None:
    model = M5()
    analysis = analyze(model, input_shape=(1, 32000), convention="flop_counter")
    assert to_dict(trace_module(model, (1, 32000))) == recorded("m5")["trace"]
    assert analysis.total.params == sum(p.numel() for p in model.parameters()) == 559_114
    assert analysis.total.flops == recorded("m5")["flop_counter"]["total"]
    assert [layer.name for layer in analysis.layers][:4] == ["features.0", "features.1", "features.2", "features.3"]


def test_the_module_is_left_as_it_was() -> None:
    """Traced in eval mode on fake tensors: its modes restored, its weights untouched, nothing computed."""
    model = M5().train()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    analyze(model, input_shape=(1, 8000))
    assert all(module.training for module in model.modules())
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())


def test_load_spec_compare_and_sweep_take_modules() -> None:
    small, large = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU())
    graph = load_spec(small, input_shape=(3, 10, 10))
    assert [node.name for node in graph.nodes] == ["0", "1"] and graph.input_shape == (3, 10, 10)
    comparison = compare(small, large, input_shape=(3, 10, 10))
    # 8 x 8 outputs, 3 x 3 x 3 weights: 8 * 8 * 27 = 1,728 MACs per filter
    assert (comparison.before.total.macs, comparison.after.total.macs) == (8 * 1728, 16 * 1728)
    result = sweep(small, [(3, 10, 10), (3, 18, 18)], convention="flop_counter")
    assert [row.flops for row in result.rows] == [2 * 8 * 1728, 2 * 8 * 16 * 16 * 27]
    with pytest.raises(TypeError, match="input_shape"):
        analyze(small)
    with pytest.raises(ValueError, match="unknown convention"):
        analyze(small, input_shape=(3, 10, 10), convention="mine")


class Raising(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3)
        self.head = Head()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stem(x))


class Head(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError("this head is broken")


def test_a_forward_that_raises_names_the_module() -> None:
    with pytest.raises(AnalysisError) as raised:
        analyze(Raising(), input_shape=(3, 8, 8))
    assert raised.value.layer == "head" and raised.value.kind == "Head"
    assert "ValueError: this head is broken" in str(raised.value) and "3x8x8" in str(raised.value)


def test_an_input_the_module_cannot_take_names_the_module() -> None:
    with pytest.raises(AnalysisError) as raised:
        analyze(Raising(), input_shape=(1, 8, 8))
    assert raised.value.layer == "stem" and raised.value.kind == "Conv2d"
    assert "expected input[1, 1, 8, 8] to have 3 channels" in str(raised.value)


@pytest.fixture
def factories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "my_models.py").write_text(
        textwrap.dedent(
            """
            from torch import nn

            def tiny():
                return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(8 * 4 * 4, 2))

            def broken():
                raise RuntimeError("no weights here")

            number = 3
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_an_import_path_is_analysed(factories: Path) -> None:
    result = run_cli("analyze", "my_models:tiny", "--input", "3x4x4", "-f", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    # conv 8 * 3 * 9 + 8, batch norm 2 * 8, linear 128 * 2 + 2
    assert data["total"]["params"] == 224 + 16 + 258
    assert [layer["name"] for layer in data["layers"]] == ["0", "1", "2", "3", "4"]
    spec = run_cli("import", "my_models:tiny", "--input", "3x4x4")
    assert spec.code == 0 and "type: conv" in spec.stdout


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["my_models:tiny"], "no input size of its own"),
        (["my_models:missing", "--input", "3x4x4"], "my_models has no attribute 'missing'"),
        (["no_such_package.models:tiny", "--input", "3x4x4"], "cannot import no_such_package.models"),
        (["my_models:number", "--input", "3x4x4"], "is a int, not a torch.nn.Module"),
        (["my_models:broken", "--input", "3x4x4"], "calling broken() raised RuntimeError: no weights here"),
        (["my_models:tiny", "--input", "3x5x5"], "layer '4' (Linear): its forward raised at input 3x5x5"),
    ],
)
def test_bad_import_paths_are_one_message(factories: Path, argv: list[str], said: str) -> None:
    result = run_cli("analyze", *argv)
    assert result.code == 2 and said in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_saved_exported_program_is_read(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    path = tmp_path / "tiny.pt2"
    torch.export.save(torch.export.export(model.eval(), (torch.randn(1, 3, 12, 12),)), str(path))
    result = run_cli("analyze", str(path), "-f", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [layer["type"] for layer in data["layers"]] == ["conv", "batchnorm", "relu", "global_avgpool", "flatten"]
    assert data["total"]["params"] == sum(p.numel() for p in model.parameters())
    (tmp_path / "bad.pt2").write_bytes(b"not a zip")
    bad = run_cli("analyze", str(tmp_path / "bad.pt2"))
    assert bad.code == 2 and "not a readable ExportedProgram" in bad.stderr
