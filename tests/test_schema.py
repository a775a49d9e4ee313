"""`convcalc schema`: the JSON Schema of spec files, generated from the catalogue, accepts what convcalc accepts."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

from convcalc import SpecError, load_spec
from convcalc.core.keys import json_schema
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.spec.schema import SCHEMA_FILE, spec_schema
from tests.conftest import REPO, SPECS, run_cli

BUNDLED = sorted(SPECS.glob("*.yaml"))
VALIDATOR = jsonschema.Draft202012Validator(spec_schema())


def errors(text: str) -> list[str]:
    """The JSON paths the schema rejects in a YAML document."""
    return [error.json_path for error in VALIDATOR.iter_errors(yaml.safe_load(text))]


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = spec_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_reference_in_the_schema_resolves():
    schema = spec_schema()
    references = re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(schema))
    assert references
    for reference in references:
        node = schema
        for part in reference.split("/"):
            assert part in node, reference
            node = node[part]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.stem)
def test_bundled_spec_validates_and_names_the_schema(path):
    text = path.read_text(encoding="utf-8")
    assert errors(text) == []
    first_line = text.splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    assert (path.parent / SCHEMA_FILE).is_file()


def test_committed_schema_file_is_what_the_command_prints():
    result = run_cli("schema")
    assert result.code == 0
    assert json.loads(result.stdout) == spec_schema()
    assert (SPECS / SCHEMA_FILE).read_text(encoding="utf-8") == result.stdout, (
        "regenerate it: convcalc schema > specs/convcalc.schema.json"
    )


def test_schema_lists_every_kind_and_key_of_the_catalogue():
    schema = spec_schema()
    definitions = schema["$defs"]
    assert set(definitions["layer"]["properties"]["type"]["anyOf"][0]["enum"]) == {*CATALOGUE, "residual"}
    assert set(schema["properties"]["defaults"]["properties"]) == set(CATALOGUE)
    for kind in CATALOGUE.values():
        properties = definitions[kind.type]["properties"]
        own = set(properties) - {"type", "name", "input", "inputs", "repeat", "first", "expect", "size_of"}
        own -= {"kernels"} if kind.type == "conv" else set()  # a mixed-kernel conv's (spec.structures.MixedConv)
        assert own == {key.name for key in kind.keys}, kind.type
        assert ("size_of" in properties) == ("size" in own), kind.type  # size_of: another layer's size
        assert set(schema["properties"]["defaults"]["properties"][kind.type]["properties"]) == own
        assert ("inputs" in properties) == kind.many_inputs, kind.type


SAMPLES = [
    *(1, 0, -1, 3, 2.5, True, False, None, "same", "valid", "x", "nearest", "bilinear", 0.5),
    *([1, 2], [0, 0], [1], [1, 2, 3], [0, 1, 2, 3], [1, 2, 3, 4, 5], [1, -1, 1, 1], [2, 2.5]),
]
"""Literal values to try on every key. (Not 2.0: JSON Schema calls it an integer, convcalc wants 2.)"""


@pytest.mark.parametrize("kind", CATALOGUE.values(), ids=lambda kind: kind.type)
def test_each_key_schema_accepts_exactly_what_its_converter_accepts(kind):
    for key in kind.keys:
        validator = jsonschema.Draft202012Validator(json_schema(key.convert))
        for value in SAMPLES:
            try:
                key.convert(value)
                converts = True
            except ValueError:
                converts = False
            assert validator.is_valid(value) == converts, (kind.type, key.name, value)


GOOD = """
input: {channels: 3, height: 32, width: 32}
defaults:
  conv: {bias: false, padding: same}
  relu: {}
blocks:
  unit:
    params: {n: 4, k: 3, mode: nearest, flag: true}
    layers:
      - {type: conv, name: "c${n}", filters: "${n * 2}", kernel: ["${k}", 1], stride: "${1}", bias: "${flag}"}
      - {type: relu, repeat: "${n - 3}", first: {input: input}}
      - {type: upsample, scale: 1, mode: "${mode}"}
  pair:
    params: [n]
    layers: [{block: unit, n: "${n}"}]
layers:
  - {block: unit, name: u, n: 4, repeat: 2, first: {n: 5}}
  - {block: pair, n: 4}
  - {type: concat, branches: {a: [{type: relu}], b: [{type: maxpool, kernel: 3, stride: 1, padding: 1}]}}
  - {type: concat, name: cat, branches: [[{type: relu}], [{type: tanh}]], input: u.1, repeat: 2, first: {input: input}}
  - {type: residual, name: res, body: [{type: conv, filters: 16, kernel: 1}], shortcut: null, repeat: 1,
     first: {body: []}}
  - {type: add, name: sum, inputs: [cat.1, res.0]}
  - {type: conv, filters: 16, kernel: 1, repeat: 2, first: {stride: 2, input: sum}}
  - {type: linear, units: 10}
"""


def test_a_spec_using_every_structure_and_expressions_validates():
    load_spec("good.yaml", text=GOOD)  # convcalc accepts it
    assert errors(GOOD) == []


BAD = [
    # (what is wrong, YAML, where the schema objects)
    ("unknown key", "{type: conv, filters: 8, kernel: 3, stirde: 2}", "$.layers[0]"),
    ("wrong type", "{type: conv, filters: eight, kernel: 3}", "$.layers[0].filters"),
    ("boolean for a number", "{type: conv, filters: 8, kernel: true}", "$.layers[0].kernel"),
    ("below the minimum", "{type: conv, filters: 0, kernel: 3}", "$.layers[0].filters"),
    ("four sizes", "{type: conv, filters: 8, kernel: [3, 3, 3, 3]}", "$.layers[0].kernel"),
    ("unknown word", "{type: upsample, scale: 2, mode: cubic}", "$.layers[0].mode"),
    ("unknown type", "{type: convolution, filters: 8}", "$.layers[0].type"),
    ("inputs on a one-input layer", "{type: relu, inputs: [input]}", "$.layers[0]"),
    ("input on a merge", "{type: add, input: input}", "$.layers[0]"),
    ("first changing the name", "{type: relu, repeat: 2, first: {name: r}}", "$.layers[0].first"),
    ("first with another kind's key", "{type: relu, repeat: 2, first: {units: 3}}", "$.layers[0].first"),
    ("negative repeat", "{type: relu, repeat: -1}", "$.layers[0].repeat"),
    ("name with a dot", "{type: relu, name: a.b}", "$.layers[0].name"),
    ("body not a list", "{type: residual, body: {type: relu}}", "$.layers[0].body"),
    ("a block instance with a type", "{block: b, type: relu}", "$.layers[0]"),
    ("a merge without inputs", "{type: add}", "$.layers[0]"),
    ("a residual without body", "{type: residual, shortcut: [{type: relu}]}", "$.layers[0]"),
]


@pytest.mark.parametrize(("problem", "layer", "path"), BAD, ids=[case[0] for case in BAD])
def test_schema_rejects_what_convcalc_rejects(problem, layer, path):
    text = f"input: [3, 8, 8]\nblocks:\n  b:\n    layers: [{{type: relu}}]\nlayers:\n  - {layer}\n"
    with pytest.raises(SpecError):
        load_spec("bad.yaml", text=text)
    assert path in errors(text), problem


@pytest.mark.parametrize(
    ("problem", "text", "path"),
    [
        ("unknown top-level key", "input: [3, 8, 8]\nlayer: []\n", "$"),
        ("input of five numbers", "input: [8, 8, 8, 8, 8]\nlayers: [{type: relu}]\n", "$.input"),
        (
            "defaults for an unknown key",
            "input: [3, 8, 8]\ndefaults: {conv: {size: 3}}\nlayers: [{type: relu}]\n",
            "$.defaults.conv",
        ),
        (
            "an expression in defaults",
            "input: [3, 8, 8]\ndefaults: {conv: {bias: '${b}'}}\nlayers: [{type: conv, filters: 1, kernel: 1}]\n",
            "$.defaults.conv.bias",
        ),
        (
            "a block without layers",
            "input: [3, 8, 8]\nblocks: {b: {params: [n]}}\nlayers: [{type: relu}]\n",
            "$.blocks.b",
        ),
        (
            "a block parameter named input",
            "input: [3, 8, 8]\nblocks: {b: {params: [input], layers: [{type: relu}]}}\nlayers: [{type: relu}]\n",
            "$.blocks.b.params",
        ),
    ],
)
def test_schema_rejects_bad_structure(problem, text, path):
    with pytest.raises(SpecError):
        load_spec("bad.yaml", text=text)
    assert path in errors(text), problem


def test_the_spec_of_every_kind_validates():
    every_kind = REPO / "tests" / "data" / "every_kind.yaml"
    assert errors(every_kind.read_text(encoding="utf-8")) == []
