"""FLOPs against PyTorch's own counter, recorded by tools/record_flop_counter.py in tests/data/flop_counter.json.

torch.utils.flop_counter counts 2 FLOPs per multiply-accumulate of convolutions (transposed ones included) and of
the linear layers' matrix products, and nothing else. So for every network: torch's total = 2 x convcalc's MACs,
torch's `convolution` = 2 x the MACs of conv and conv_transpose layers, its `addmm` + `mm` + `bmm` = 2 x the linear,
attention, matmul and dot-product attention layers' (an attention layer: its projections, Linears, and Q K^T and
A V, batched products). The record runs on the meta device, where scaled_dot_product_attention decomposes into bmm;
on the CPU its fused kernel has no formula and counts 0 (the flop_counter convention, tests/test_conventions.py).
convcalc's FLOPs add the element-wise work torch does not count, so they can only be larger. Torch is needed only
to re-record the file, never here.
"""

from __future__ import annotations

import json

import pytest

from convcalc import analyze
from convcalc.spec.bundled import bundled_names
from tests.conftest import REPO

RECORD = json.loads((REPO / "tests" / "data" / "flop_counter.json").read_text(encoding="utf-8"))
SOURCES = {
    **{name: name for name in bundled_names()},
    "every_kind": str(REPO / "tests" / "data" / "every_kind.yaml"),
    "hand": str(REPO / "tests" / "data" / "hand.yaml"),
}


def test_every_bundled_spec_is_recorded() -> None:
    assert set(RECORD["specs"]) == set(SOURCES)
    assert RECORD["torch"].startswith("2.")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_torch_flops_are_twice_convcalc_macs(name: str) -> None:
    recorded = RECORD["specs"][name]
    analysis = analyze(SOURCES[name], batch=recorded["batch"])
    by_kind = {
        kind: sum(layer.macs for layer in analysis.layers if layer.type == kind)
        for kind in {"conv", "conv_transpose", "linear", "attention", "matmul", "dot_product_attention"}
    }
    operators = recorded["by_operator"]
    assert set(operators) <= {"convolution", "addmm", "mm", "bmm"}, operators
    assert recorded["total"] == sum(operators.values())
    assert recorded["total"] == 2 * analysis.total.macs
    assert operators.get("convolution", 0) == 2 * (by_kind["conv"] + by_kind["conv_transpose"])
    products = sum(operators.get(op, 0) for op in ("addmm", "mm", "bmm"))
    products_of_activations = by_kind["attention"] + by_kind["matmul"] + by_kind["dot_product_attention"]
    assert products == 2 * (by_kind["linear"] + products_of_activations)
    assert analysis.total.flops >= recorded["total"]


def test_the_hand_network_at_batch_2() -> None:
    # tests/test_hand_golden.py: c1 576 and fc 144 MACs per sample; torch counted two samples
    assert RECORD["specs"]["hand"] == {
        "batch": 2,
        "total": 2 * 2 * (576 + 144),
        "by_operator": {"addmm": 2 * 2 * 144, "convolution": 2 * 2 * 576},
    }


def test_vit_attention_products_are_torchs_bmm() -> None:
    """ViT-B/16: 12 layers, each Q K^T and A V over 197 tokens of 768 features (12 heads of 64): 197 x 197 x 768
    multiply-accumulates each, 2 FLOPs per MAC."""
    assert RECORD["specs"]["vit_b_16"]["by_operator"]["bmm"] == 2 * 12 * 2 * (197 * 197 * 768)
