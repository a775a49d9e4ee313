"""docs/output.schema.json describes convcalc's JSON output; every JSON document convcalc prints validates against it.

The schema is strict (every documented field required, no undocumented field), so renaming or dropping a field of
`analyze`, `compare` or `sweep` output, or of the error document, fails here.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from convcalc import analyze
from convcalc.spec.bundled import bundled_names
from tests.conftest import REPO, run_cli
from tests.docs import page
from tests.test_hand_golden import GOLDEN, SPEC

SCHEMA = json.loads((REPO / "docs" / "output.schema.json").read_text(encoding="utf-8"))
jsonschema.Draft202012Validator.check_schema(SCHEMA)


def validate(document: Any, definition: str) -> None:
    """Validate against one of the schema's documents (and against the schema as a whole)."""
    jsonschema.validate(document, {"$ref": f"#/$defs/{definition}", "$defs": SCHEMA["$defs"]})
    jsonschema.validate(document, SCHEMA)


def cli_json(*args: str, stdin: str = "", code: int = 0) -> Any:
    result = run_cli(*args, "--format", "json", stdin=stdin)
    assert result.code == code, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", sorted(bundled_names()))
def test_every_bundled_analysis(name: str) -> None:
    validate(analyze(name).to_dict(), "analysis")


def test_analyze_through_the_cli_with_warnings_and_notes() -> None:
    document = cli_json("analyze", str(SPEC), "--batch", "2", "--dtype", "float16")
    assert document["warnings"] and any("note" in layer for layer in document["layers"])
    validate(document, "analysis")
    validate(json.loads(GOLDEN.read_text(encoding="utf-8")), "analysis")
    validate(cli_json("analyze", str(REPO / "tests" / "data" / "every_kind.yaml")), "analysis")


def test_compare_documents() -> None:
    validate(cli_json("compare", "inception-5x5", "inception-5x5-bottleneck"), "comparison")
    rewritten = cli_json("compare", "inception-5x5", "--bottleneck", "conv5x5=16")
    assert rewritten["rewritten"]
    validate(rewritten, "comparison")
    skipped = cli_json("compare", "resnet18", "--bottleneck", "all=0.25")
    validate(skipped, "comparison")


def test_sweep_document() -> None:
    validate(cli_json("sweep", "lenet5", "--input", "32,64x48"), "sweep")


def test_error_document() -> None:
    spec = "input: [1, 8, 8]\nlayers:\n  - {type: relu}\n  - {type: conv, filters: 1, kernel: 9}\n"
    document = cli_json("analyze", "-", stdin=spec, code=2)
    assert len(document["layers"]) == 1
    validate(document, "error")


def test_the_schema_is_strict() -> None:
    """A renamed, dropped or added field anywhere fails validation."""
    document = json.loads(GOLDEN.read_text(encoding="utf-8"))
    validate(document, "analysis")
    edits = [
        ("total", "peak_activation_bytes"),
        ("layers", 0, "weight_bytes"),
        ("layers", 0, "inputs"),
        ("layers", 0, "input_shapes"),
        ("layers", 0, "line"),
        ("layers", 0, "receptive_field", "start"),
        ("warnings", 0, "message"),
        ("schema_version",),
        ("source",),
    ]
    for path in edits:
        for action in ("drop", "rename"):
            broken = copy.deepcopy(document)
            parent = broken
            for key in path[:-1]:
                parent = parent[key]
            value = parent.pop(path[-1])
            if action == "rename":
                parent[f"{path[-1]}_"] = value
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(broken, {"$ref": "#/$defs/analysis", "$defs": SCHEMA["$defs"]})


def test_the_readme_points_to_the_schema() -> None:
    assert "](docs/output.schema.json)" in page("README.md")
    assert "](../output.schema.json)" in page("reference/json.md")


def test_schema_file_is_formatted() -> None:
    path = Path(REPO / "docs" / "output.schema.json")
    assert path.read_text(encoding="utf-8") == json.dumps(SCHEMA, indent=2) + "\n"


def test_warning_codes_are_the_catalogues():
    from convcalc.core.findings import WARNINGS

    assert SCHEMA["$defs"]["warning"]["properties"]["code"]["enum"] == list(WARNINGS)
