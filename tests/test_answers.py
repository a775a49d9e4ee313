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
