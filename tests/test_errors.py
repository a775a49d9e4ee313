"""Every bad input gets one clear message naming file:line:column and the layer, and exit code 2.

Table-driven: each case is a spec, the location the message must point at, and key words it must contain.
"""

from __future__ import annotations

from tests.conftest import run_cli


def test_a_layer_reading_its_own_output_is_an_error_not_a_crash(write_spec):
    path = write_spec("input: [3, 8, 8]\nlayers:\n  - {type: conv, name: a, filters: 4, kernel: 3, input: a}\n")
    result = run_cli("analyze", str(path))
    assert result.code == 2
    assert f"{path}:3:57: error: layer 'a'" in result.stderr
    assert "its own output" in result.stderr
