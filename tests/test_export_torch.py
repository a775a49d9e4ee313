"""The PyTorch export, run in torch: torch's own output shapes and parameter counts, layer by layer, equal convcalc's.

An independent check of convcalc's arithmetic: torch computes every shape and weight tensor itself. The test only
needs torch where it is installed (`pip install torch`); without it, these tests skip.
"""

from __future__ import annotations

import pytest

from convcalc import analyze, load_spec
from convcalc.export import class_name, to_pytorch
from tests.conftest import SPECS
from tests.test_export import EVERY_KIND

torch = pytest.importorskip("torch", reason="PyTorch is not installed; `pip install torch` to compare the export")

MAX_FORWARD_MACS = 20 * 10**9
"""Specs with more MACs run torch's shape functions on the meta device instead of a real forward pass (no
arithmetic, same shapes): U-Net's 150 G MACs take about 5 s on one CPU core, the others together about 1.5 s."""


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One thread: on small shared machines, torch's thread start-up costs more than it saves on one sample."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # uninitialised weights must not slow the forward pass down
    yield
    torch.set_flush_denormal(False)  # the process default, for the tests that run after these
    torch.set_num_threads(threads)


def run_exported(path):
    """Export a spec, build its module without initialising weights, and run one sample through it."""
    analysis = analyze(str(path))
    namespace = {"__name__": "exported"}
    exec(compile(to_pytorch(str(path)), f"{path} (exported)", "exec"), namespace)
    device = "meta" if analysis.total.macs > MAX_FORWARD_MACS else "cpu"
    with torch.device("meta"):
        model = namespace[class_name(load_spec(str(path)).name)]()
    if device == "cpu":
        model = model.to_empty(device="cpu")
    model.eval()
    shapes = []
    for attribute, name in namespace["CONVCALC_NAMES"].items():
        getattr(model, attribute).register_forward_hook(
            lambda module, args, output, name=name: shapes.append((name, tuple(output.shape)))
        )
    with torch.no_grad():
        output = model(torch.zeros(1, *namespace["INPUT_SHAPE"], device=device))
    return analysis, model, namespace, shapes, output


def buffer_count(module) -> int:
    """Batch norm's running mean and variance (torch's counter of batches seen is not a statistic)."""
    return sum(buffer.numel() for name, buffer in module.named_buffers() if not name.endswith("num_batches_tracked"))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's note on its own copy
@pytest.mark.parametrize("path", [*sorted(SPECS.glob("*.yaml")), EVERY_KIND], ids=lambda path: path.stem)
def test_torch_agrees_with_convcalc(path):
    analysis, model, namespace, shapes, output = run_exported(path)
    assert shapes == [(layer.name, (1, *layer.output_shape)) for layer in analysis.layers]
    assert tuple(output.shape) == (1, *analysis.output_shape)
    assert sum(parameter.numel() for parameter in model.parameters()) == analysis.total.params
    results = {layer.name: layer for layer in analysis.layers}
    for attribute, name in namespace["CONVCALC_NAMES"].items():
        module = getattr(model, attribute)
        assert sum(parameter.numel() for parameter in module.parameters()) == results[name].params, name
        assert buffer_count(module) == results[name].buffers, name


def test_the_generated_file_runs_as_a_script(capsys):
    exec(compile(to_pytorch(str(SPECS / "lenet5.yaml")), "model.py", "exec"), {"__name__": "__main__"})
    # LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 parameters, 10 outputs
    assert capsys.readouterr().out == f"(1, 10) {156 + 2_416 + 48_120 + 10_164 + 850} parameters\n"


def test_a_conv_with_a_gain_exports_as_a_standardised_conv(tmp_path):
    """NFNet's ScaledStdConv2d(16, 32, 3): torch counts weight 4,608 + bias 32 + gain 32, as convcalc does."""
    path = tmp_path / "gain.yaml"
    path.write_text("input: [16, 8, 8]\nlayers:\n  - {type: conv, filters: 32, kernel: 3, padding: 1, gain: true}\n")
    analysis, model, _, _, output = run_exported(path)
    assert sum(parameter.numel() for parameter in model.parameters()) == analysis.total.params == 4608 + 32 + 32
    assert tuple(output.shape) == (1, 32, 8, 8)
