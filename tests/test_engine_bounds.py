"""The engine's own bounds and defaults, at their edges (written for the mutation run of convcalc/engine/run.py)."""

from __future__ import annotations

import pytest

from convcalc import AnalysisError, load_spec
from convcalc.engine.run import analyze_spec

GOOGOL = 10**100


def spec(text: str):
    return load_spec("t.yaml", text=text)


def test_the_default_batch_is_one():
    # a 1x1 conv 1 -> 1 on 1x2x2 (4 positions): 4 MACs for one sample
    analysis = analyze_spec(spec("input: [1, 2, 2]\nlayers: [{type: conv, filters: 1, kernel: 1}]\n"))
    assert analysis.batch == 1 and analysis.total.macs == 4


@pytest.mark.parametrize("batch", [1, GOOGOL])
def test_batches_at_the_bounds_are_counted(batch: int):
    analysis = analyze_spec(spec("input: [1, 2, 2]\nlayers: [{type: conv, filters: 1, kernel: 1}]\n"), batch=batch)
    assert analysis.total.macs == 4 * batch


@pytest.mark.parametrize("batch", [0, GOOGOL + 1])
def test_batches_past_the_bounds_are_refused(batch: int):
    with pytest.raises(ValueError, match="batch must be at least 1 and at most 10"):
        analyze_spec(spec("input: [1, 2, 2]\nlayers: [{type: relu}]\n"), batch=batch)


def test_an_output_of_exactly_ten_to_the_hundred_is_counted():
    # a relu on a 1 x 1 x 10^100 input: 10^100 elements out, the largest size convcalc allows
    analysis = analyze_spec(spec(f"input: [1, 1, {GOOGOL}]\nlayers: [{{type: relu}}]\n"))
    assert analysis.output_shape == (1, 1, GOOGOL) and analysis.total.flops == GOOGOL


def test_an_output_past_ten_to_the_hundred_is_refused():
    # upsampling 10^100 by 2 gives 2 * 10^100 columns
    with pytest.raises(AnalysisError, match="above 10\\^100"):
        analyze_spec(spec(f"input: [1, 1, {GOOGOL}]\nlayers: [{{type: upsample, scale: [1, 2]}}]\n"))


def strided(layers: int) -> str:
    """1x1 convs of stride [1, 10^100] on a 1x1 map: each output 1x1, the receptive field's jump x 10^100 each."""
    conv = f"{{type: conv, filters: 1, kernel: 1, stride: [1, {GOOGOL}], repeat: {layers}}}"
    return f"input: [1, 1, 1]\nlayers: [{conv}]\n"


def test_a_jump_of_exactly_ten_to_the_thousand_is_counted():
    analysis = analyze_spec(spec(strided(10)))  # (10^100)^10 = 10^1000
    assert analysis.layers[-1].receptive_field.jump == (1, 10**1000)


def test_a_jump_past_ten_to_the_thousand_is_refused():
    with pytest.raises(AnalysisError, match="jump passes 10\\^1000"):
        analyze_spec(spec(strided(11)))
