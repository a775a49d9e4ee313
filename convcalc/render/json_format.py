"""JSON output: the API's ``to_dict()``, exact integers, stable keys; errors as an object too."""

from __future__ import annotations

import json
from typing import Any

from convcalc.engine import AnalysisError
from convcalc.errors import SpecError


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)


def error_json(error: SpecError) -> str:
    """``{"error": {...}, "layers": [...]}``, where layers are those computed before the failing one."""
    location = error.location
    partial = error.partial if isinstance(error, AnalysisError) else ()
    return to_json(
        {
            "error": {
                "message": error.message,
                "file": location.file if location else None,
                "line": location.line if location else None,
                "column": location.column if location else None,
                "layer": error.layer,
                "hint": error.hint,
            },
            "layers": [layer.to_dict() for layer in partial],
        }
    )
