"""The "never read" warning against PyTorch: an input row whose gradient is zero for every weight is never read.

Optional: skipped where torch is not installed. With all-ones weights (and average pools, whose gradient is
positive wherever a window covers a pixel) a row has a zero gradient exactly when no window covers it, so the
count of trailing zero rows is what convcalc says is never read.
"""

from __future__ import annotations

import re

import pytest

from convcalc import analyze, load_spec

torch = pytest.importorskip("torch", reason="torch is not installed: the gradient check of 'never read' is optional")

CASES = [
    # (size, spec layer, torch module factory)
    (224, "type: conv, filters: 1, kernel: 7, stride: 2, padding: 3", lambda: torch.nn.Conv2d(1, 1, 7, 2, 3)),
    (112, "type: avgpool, kernel: 3, stride: 2, padding: 1", lambda: torch.nn.AvgPool2d(3, 2, 1)),
    (56, "type: conv, filters: 1, kernel: 3, stride: 2, padding: 1", lambda: torch.nn.Conv2d(1, 1, 3, 2, 1)),
    (224, "type: conv, filters: 1, kernel: 11, stride: 4", lambda: torch.nn.Conv2d(1, 1, 11, 4)),
    (224, "type: conv, filters: 1, kernel: 11, stride: 4, padding: 2", lambda: torch.nn.Conv2d(1, 1, 11, 4, 2)),
    (56, "type: conv, filters: 1, kernel: 1, stride: 2", lambda: torch.nn.Conv2d(1, 1, 1, 2)),
    (224, "type: conv, filters: 1, kernel: 7, stride: 2", lambda: torch.nn.Conv2d(1, 1, 7, 2)),
    (109, "type: avgpool, kernel: 3, stride: 2, ceil_mode: true", lambda: torch.nn.AvgPool2d(3, 2, ceil_mode=True)),
    (110, "type: avgpool, kernel: 3, stride: 2, ceil_mode: true", lambda: torch.nn.AvgPool2d(3, 2, ceil_mode=True)),
    (110, "type: avgpool, kernel: 3, stride: 2", lambda: torch.nn.AvgPool2d(3, 2)),
    (
        31,
        "type: conv, filters: 1, kernel: 3, stride: 3, padding: 2, dilation: 2",
        lambda: torch.nn.Conv2d(1, 1, 3, 3, 2, 2),
    ),
    (16, "type: conv, filters: 1, kernel: 4, stride: 2, padding: same", None),
]


def trailing_zero_rows(gradient: torch.Tensor) -> int:
    rows = gradient.abs().sum(dim=1).tolist()
    count = 0
    while count < len(rows) and rows[len(rows) - 1 - count] == 0:
        count += 1
    return count


def torch_module(size: int, layer: str, factory: object) -> torch.nn.Module:
    if factory is not None:
        return factory()  # type: ignore[operator]
    # TensorFlow's SAME at stride 2 (4x4/2 at 16): out 8, total padding (8 - 1) * 2 + 4 - 16 = 2: 1 before, 1 after
    return torch.nn.Sequential(torch.nn.ZeroPad2d((1, 1, 1, 1)), torch.nn.Conv2d(1, 1, 4, 2))


@pytest.mark.parametrize(("size", "layer", "factory"), CASES)
def test_unread_rows_are_those_with_zero_gradient(size: int, layer: str, factory: object):
    module = torch_module(size, layer, factory)
    for parameter in module.parameters():
        torch.nn.init.ones_(parameter)
    image = torch.ones(1, 1, size, size, requires_grad=True)
    module(image).sum().backward()
    assert image.grad is not None
    unread_rows = trailing_zero_rows(image.grad[0, 0])
    warnings = analyze(load_spec("t.yaml", text=f"input: [1, {size}, {size}]\nlayers:\n  - {{{layer}}}\n")).warnings
    said = [w.message for w in warnings if w.code == "unread"]
    if unread_rows == 0:
        assert said == []
    else:
        assert len(said) == 1
        match = re.search(r"the last (\d+) rows? and", said[0])
        assert match is not None and int(match.group(1)) == unread_rows
