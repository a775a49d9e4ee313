"""JSON output: the API's ``to_dict()``, exact integers, stable keys; errors as an object too."""

from __future__ import annotations

import json
from typing import Any

from convcalc.core.errors import SpecError
from convcalc.core.text import message_line
from convcalc.engine.results import AnalysisError


def to_json(data: dict[str, Any]) -> str:
    """Readable and fast: top-level keys and list items on lines of their own, each record compact on one line.

    (json's indent= mode runs the pure-Python encoder; compact records use the C one, which matters for cold start.)
    """
    return _layout(data, "") + "\n"


def _layout(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and (indent == "" or _has_records(value)):
        items = [f"{inner}{json.dumps(key)}: {_layout(item, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}" if items else "{}"
    if isinstance(value, list) and _has_records(value):
        items = [f"{inner}{_layout(item, inner)}" for item in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value)


def _has_records(value: Any) -> bool:
    """A non-empty list of mappings (layers, warnings), or a mapping holding one."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(item, dict) for item in value)
    return isinstance(value, dict) and any(_has_records(item) for item in value.values())


def error_json(error: SpecError) -> str:
    """``{"error": {...}, "layers": [...]}``, where layers are those computed before the failing one; the message
    clipped and escaped as on standard error."""
    location = error.location
    partial = error.partial if isinstance(error, AnalysisError) else ()
    return to_json(
        {
            "error": {
                "message": message_line(error.message),
                "file": location.file if location else None,
                "line": location.line if location else None,
                "column": location.column if location else None,
                "layer": error.layer,
                "hint": message_line(error.hint) if error.hint else None,
            },
            "layers": [layer.to_dict() for layer in partial],
        }
    )
