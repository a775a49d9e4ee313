"""Every bundled spec with a torch reference record (tests/data/torch/NAME.json, tools/record_torch_reference.py:
the network as its authors' code builds it, run by torch 2.13 with the math attention path) counts as torch does:
sum(p.numel()) parameters, FlopCounterMode's FLOPs = 2 x convcalc's MACs (torch counts 2 per multiply-add of
convolutions, Linears and batched products, nothing else), and the output's shape, at the record's input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from convcalc import analyze
from convcalc.spec.bundled import bundled_names
from tests.conftest import REPO

RECORDS = REPO / "tests" / "data" / "torch"
SPECS = sorted(name for name in bundled_names() if (RECORDS / f"{name}.json").exists())


def record(name: str) -> dict[str, Any]:
    return json.loads((RECORDS / f"{name}.json").read_text(encoding="utf-8"))


def test_the_new_networks_of_issue_27_have_records() -> None:
    assert {"m5", "tcn", "unet3d", "r3d_18", "r2plus1d_18", "vit_b_16", "swin_t", "mobilevit_xxs"} <= set(SPECS)


@pytest.mark.parametrize("name", SPECS)
def test_the_spec_counts_as_torch(name: str) -> None:
    torch = record(name)
    analysis = analyze(name, input_shape=tuple(torch["input"][1:]))
    assert analysis.total.params == torch["params"]
    assert 2 * analysis.total.macs == torch["flops"]
    assert analysis.output_shape == tuple(torch["output"][1:])  # [N, ...] of a single output


def test_mobilevit_xxs_by_hand() -> None:
    """timm's MobileViT-XXS: 1,272,024 parameters (sum(p.numel())); its first MobileViT block's attention, d = 64 on
    4 x 256 tokens (2x2 patches of the 32x32 map): Q, K, V 4 x 256 x 64 x 192, Q K^T and A V 2 x 4 x 256 x 256 x 64,
    the output 4 x 256 x 64 x 64."""
    layers = {layer.name: layer for layer in analyze("mobilevit_xxs").layers}
    attention = layers["stages_2_1.transformer.0.residual1.body.attn"]
    assert attention.input_shapes == ((64, 4, 256),)
    assert attention.macs == 4 * 256 * 64 * 192 + 2 * 4 * 256 * 256 * 64 + 4 * 256 * 64 * 64
    assert analyze("mobilevit_xxs").total.params == 1_272_024
