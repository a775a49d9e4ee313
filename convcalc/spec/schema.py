"""The JSON Schema (draft 2020-12) of spec files, generated from the layer catalogue and the spec language.

Each layer kind's keys come from :data:`~convcalc.layers.CATALOGUE`, each key's accepted values from its
converter's fragment in :mod:`convcalc.core.keys`, and the structure (top-level keys, blocks, entries, ``first``)
from :mod:`convcalc.spec.lower`'s key lists, so that the schema cannot drift from what convcalc accepts.

The schema checks a file's form only: names that must refer to earlier layers, block parameters and shapes
are checked by convcalc itself. A key a layer needs may also come from ``defaults``, so no layer key is required.
"""

from __future__ import annotations

import json
from typing import Any

from convcalc.core.findings import WARNINGS
from convcalc.core.keys import MAX_AXES, REQUIRED, Key, json_schema, positive_int, values_accepted
from convcalc.kinds.base import LayerKind
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.spec.lower import BLOCK_KEYS, FIRST_FIXED_KEYS, INPUT_AXES, TOP_LEVEL_KEYS
from convcalc.spec.shapes import SIZE_OF
from convcalc.spec.structures import ENTRY_KEYS, ORDERS

SCHEMA_FILE = "convcalc.schema.json"
"""The schema's file name next to the bundled specs, which name it in their first line."""
DIALECT = "https://json-schema.org/draft/2020-12/schema"
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"
Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


EXPRESSION = ref("expression")


def substitutable(fragment: Schema) -> Schema:
    """A fragment that also takes a `${...}` expression for the whole value or any list element."""
    members = fragment.get("anyOf", [fragment])
    nested = [
        {**member, "items": substitutable(member["items"])} if "items" in member else member for member in members
    ]
    return {"anyOf": [*nested, EXPRESSION]}


def key_schema(key: Key, *, expressions: bool) -> Schema:
    """A layer key's values, described by its converter's docstring, with its default."""
    fragment = json_schema(key.convert)
    schema = dict(substitutable(fragment) if expressions else fragment)
    schema["description"] = values_accepted(key.convert).rstrip(".")
    if key.default is not REQUIRED and key.default is not None:
        default = key.default
        if isinstance(default, tuple):
            default = default[0] if len(set(default)) == 1 else list(default)
        schema["default"] = default
    elif key.default is REQUIRED:
        schema["description"] += " (required, here or in 'defaults')"
    return schema


def closed(properties: Schema, **extra: Any) -> Schema:
    """An object with exactly these keys allowed."""
    return {"type": "object", "properties": properties, "additionalProperties": False, **extra}


def entry(
    type_name: str, description: str, own: Schema, *, input_key: str = "input", needs: str | None = None, at: str = ""
) -> Schema:
    """A layer entry: ``type``, name, input, repeat and ``first`` (overrides of the first copy), plus its own keys.

    ``at`` is the entry's name under ``$defs`` (its type's by default), where ``first`` finds the keys' schemas.
    """
    first = {key: {"$ref": f"#/$defs/{at or type_name}/properties/{key}"} for key in (input_key, "expect", *own)}
    common = {
        "type": {"const": type_name},
        "name": ref("name"),
        input_key: ref(input_key),
        "repeat": ref("repeat"),
        "expect": ref("expect"),
    }
    properties = {**common, "first": closed(first, description="keys of the first copy of a 'repeat'"), **own}
    return closed(properties, description=description, required=["type", *([needs] if needs else [])])


def kind_schema(kind: LayerKind) -> Schema:
    own = {key.name: key_schema(key, expressions=True) for key in kind.keys}
    if "size" in own:
        own[SIZE_OF] = {"type": "string", "description": "set 'size' to the height and width of this earlier layer"}
    if kind.type == "conv":  # a mixed-kernel conv (structures.MixedConv)
        kernels = {"type": "array", "items": json_schema(positive_int), "minItems": 2}
        own["kernels"] = {
            **substitutable(kernels),
            "description": "one kernel per channel group, instead of 'kernel' (MixNet's MixConv, timm's MixedConv2d)",
        }
    if kind.many_inputs:  # a merge reads named layers: 'inputs' cannot come from 'defaults'
        return entry(kind.type, kind.summary, own, input_key="inputs", needs="inputs")
    return entry(kind.type, kind.summary, own)


def structures() -> dict[str, Schema]:
    """The entries that hold layer lists: a concat of branches, a residual, a block instance."""
    branches = {
        "description": "parallel paths from one input: a list of layer lists, or a mapping of name to layer list",
        "anyOf": [
            {"type": "array", "items": ref("layers"), "minItems": 1},
            {"type": "object", "additionalProperties": ref("layers"), "minProperties": 1},
        ],
    }
    residual = {
        "body": {**ref("layers"), "description": "the layers whose output is added to the shortcut's"},
        "shortcut": {
            "anyOf": [ref("layers"), {"type": "null"}],
            "description": "layers on the way around the body; none is the identity",
        },
        "add": {
            **substitutable({"type": "boolean"}),
            "default": True,
            "description": "false: the body alone, no shortcut and no add (or a condition: ${stride == 1})",
        },
        "order": {
            "enum": list(ORDERS),
            "default": ORDERS[0],
            "description": "which path's layers run first (the same counts; torchvision's RegNet: shortcut-first)",
        },
    }
    instance_properties = {
        "block": {"type": "string", "description": "the name of a block under 'blocks' (or a parameter: ${kind})"},
        "name": ref("name"),
        "input": ref("input"),
        "repeat": ref("repeat"),
        "first": {
            "type": "object",
            "description": "block parameters of the first copy of a 'repeat'",
            "propertyNames": {"not": {"enum": list(FIRST_FIXED_KEYS)}},
        },
        "expect": ref("expect"),
    }
    assert set(instance_properties) == {"block", *ENTRY_KEYS} - {"type"}
    return {
        "concat_branches": entry(
            "concat", "concatenation of parallel branches on channels", {"branches": branches}, at="concat_branches"
        ),
        "residual": entry("residual", "body(x) + shortcut(x)", residual, needs="body"),
        "block_instance": {
            "type": "object",
            "description": "an instance of a block: its parameters as keys",
            "required": ["block"],
            "properties": instance_properties,
            "propertyNames": {"pattern": IDENTIFIER, "not": {"const": "type"}},
        },
    }


def layer_dispatch() -> Schema:
    """An entry's schema chosen by its ``type`` (a concat with ``branches`` is the structure, not the layer)."""
    types = [*CATALOGUE, "residual"]
    cases: list[Schema] = []
    for type_name in types:
        when: Schema = {"properties": {"type": {"const": type_name}}, "required": ["type"]}
        if type_name == "concat":
            then: Schema = {"if": {"required": ["branches"]}, "then": ref("concat_branches"), "else": ref("concat")}
        else:
            then = ref(type_name)
        cases.append({"if": when, "then": then})
    return {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"anyOf": [{"enum": types}, EXPRESSION], "description": "the layer kind (or a parameter: ${act})"}
        },
        "allOf": cases,
    }


def defaults_schema() -> Schema:
    """Per layer type, values for its keys: literal values, merged under each layer's own."""
    properties = {
        kind.type: closed({key.name: key_schema(key, expressions=False) for key in kind.keys})
        for kind in CATALOGUE.values()
    }
    return closed(properties, description="per layer type, default values for its keys, e.g. {conv: {bias: false}}")


def input_schema() -> Schema:
    dimension = json_schema(positive_int)
    return {
        "description": "[channels, height, width], {channels, height, width}, [channels, length] or [channels, "
        "depth, height, width] (1-D and 3-D maps), or [features] for a flat input",
        "anyOf": [
            {"type": "array", "items": dimension, "minItems": 1, "maxItems": 1 + MAX_AXES},
            *(closed(dict.fromkeys(keys, dimension), required=list(keys)) for keys in INPUT_AXES),
        ],
    }


def block_schema() -> Schema:
    parameter_name = {"pattern": IDENTIFIER, "not": {"enum": [*ENTRY_KEYS, "block"]}}
    properties = {
        "params": {
            "description": "parameter names with their defaults (null: required), or a list of required names",
            "anyOf": [
                {"type": "array", "items": {"type": "string", **parameter_name}},
                {"type": "object", "propertyNames": parameter_name},
            ],
        },
        "layers": {**ref("layers"), "minItems": 1},
        "description": {"type": "string"},
    }
    assert set(properties) == set(BLOCK_KEYS)
    return closed(properties, required=["layers"])


def entry_values() -> Schema:
    """The values an entry's own keys take: expressions, names, inputs, repeat and expect."""
    return {
        "expression": {
            "type": "string",
            "pattern": r"^\s*\$\{[^{}]*\}\s*$",
            "description": "arithmetic, comparisons and conditions over block parameters, e.g. '${mid * 4}', "
            "'${3 if stride == 1 else 5}'",
        },
        "name": {
            "type": "string",
            "pattern": r"^([^\s.]|\$\{[^{}]*\})+$",
            "description": "a layer name: no spaces or dots",
        },
        "input": {"type": "string", "description": "read this earlier layer's output ('input': the network input)"},
        "inputs": {
            "anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 1}, EXPRESSION],
            "description": "the names of the earlier layers to merge",
        },
        "repeat": {
            "anyOf": [{"type": "integer", "minimum": 0}, EXPRESSION],
            "description": "copies of this entry, named NAME.0, NAME.1, ...; 0 leaves it out",
        },
        "expect": {
            "description": "warnings this layer (or every layer inside this structure) is meant to have: "
            + "; ".join(f"{code}: {meaning}" for code, meaning in WARNINGS.items()),
            "anyOf": [
                {"enum": list(WARNINGS)},
                {"type": "array", "items": {"enum": list(WARNINGS)}, "minItems": 1},
                EXPRESSION,
            ],
        },
    }


def spec_schema() -> Schema:
    """The whole schema: top-level keys, then the definitions of blocks, entries and every layer kind."""
    top = {
        "name": {"type": "string", "description": "the network's name"},
        "description": {"type": "string", "description": "one line about the network"},
        "input": input_schema(),
        "defaults": defaults_schema(),
        "blocks": {
            "type": "object",
            "description": "reusable, parameterised layer lists; use as {block: NAME, PARAM: value}",
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
            "additionalProperties": ref("block"),
        },
        "layers": {**ref("layers"), "minItems": 1},
        "outputs": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "uniqueItems": True,
            "description": "the layers the network hands out, by full name, in order (default: the last layer)",
        },
    }
    assert set(top) == set(TOP_LEVEL_KEYS)
    definitions: Schema = {
        **entry_values(),
        "layers": {"type": "array", "items": ref("entry")},
        "entry": {
            "if": {"required": ["block"]},
            "then": ref("block_instance"),
            "else": {
                "if": {"required": ["type"], "properties": {"type": EXPRESSION}},
                "then": {
                    "type": "object",
                    "description": "a layer whose type is a block parameter ('${act}'): checked once substituted",
                },
                "else": ref("layer"),
            },
        },
        "layer": layer_dispatch(),
        "block": block_schema(),
        **structures(),
        **{kind.type: kind_schema(kind) for kind in CATALOGUE.values()},
    }
    return {
        "$schema": DIALECT,
        "title": "convcalc spec",
        "description": "A convolutional network for convcalc: input shape, layers, optional defaults and blocks.",
        **closed(top, required=["input", "layers"]),
        "$defs": definitions,
    }


def schema_text() -> str:
    """The schema as `convcalc schema` prints it (and as specs/convcalc.schema.json holds it)."""
    return json.dumps(spec_schema(), indent=2) + "\n"
