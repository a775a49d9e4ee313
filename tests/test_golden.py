"""Every bundled spec's JSON is unchanged by a change of structure (see tests/golden_record.py)."""

from __future__ import annotations

import json

import pytest

from tests.golden_record import GOLDEN, golden_json, golden_sources


@pytest.mark.parametrize("stem", sorted(golden_sources()))
def test_json_unchanged(stem: str) -> None:
    expected = json.loads((GOLDEN / f"{stem}.json").read_text(encoding="utf-8"))
    assert golden_json(golden_sources()[stem]) == expected


def test_every_bundled_spec_has_a_golden_file() -> None:
    assert {path.stem for path in GOLDEN.glob("*.json")} == set(golden_sources())
