"""Fuzzing the whole input path through the CLI entry point, the way attackers and tired users test.

Random YAML documents (random data, spec-shaped data, random text) and random mutations of the bundled specs
(deleted keys, swapped types, huge and negative numbers, unicode names, edited text) must give exit code 0 or 2,
never a traceback, and exit 0 must come with well-formed output. Examples are bounded so CI stays fast, and drawn
the same way on every run (tests/conftest.py loads a derandomized hypothesis profile; HYPOTHESIS_PROFILE=explore
draws new ones). Random valid networks must also keep the arithmetic's invariants: totals are the sums of the
layers, MACs, FLOPs and activations grow linearly with the batch, bytes with the dtype's size, weights with neither.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.core.text import UNSAFE
from convcalc.kinds.catalogue import CATALOGUE
from tests.conftest import SPECS, run_cli

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
"""Derandomized: the examples follow from each test's code, so CI runs the same ones every time."""

BUNDLED = sorted(SPECS.glob("*.yaml"))
TYPES = [*CATALOGUE, "residual"]
KEYS = sorted(
    {key.name for kind in CATALOGUE.values() for key in kind.keys}
    | {"type", "name", "input", "inputs", "repeat", "block", "body", "shortcut", "branches", "params", "layers"}
)
WORDS = [*TYPES, *KEYS, "same", "valid", "input", "conv1", "b", "${c}", "${c * 2}", "${1 / 0}", "${", "-", "nearest"]

NUMBERS = st.one_of(
    st.integers(min_value=-3, max_value=40),
    st.sampled_from([0, -1, 2**31, 2**64, 10**100, 10**100 + 1, -(10**100), 10**400]),
    st.integers(),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    st.floats(allow_subnormal=False),  # another test may import a library built with -ffast-math
    st.text(max_size=10),
    st.sampled_from(WORDS),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner),
    max_leaves=12,
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` seven times in eight, else ``bad``."""
    return st.integers(min_value=0, max_value=7).flatmap(lambda roll: bad if roll == 0 else good)


PLAUSIBLE = st.one_of(
    st.integers(min_value=0, max_value=9),
    st.lists(st.integers(min_value=0, max_value=9), min_size=2, max_size=2),
    st.sampled_from([True, False, "same", "valid", "bilinear", 0.5, "${c}", "${c * 2}", "${c // 0}"]),
)
"""Values for layer keys that are mostly right, so that shapes get computed and checked."""
NAMES = st.one_of(
    st.sampled_from(["a", "b1", "conv1", "input", "relu2", "r", "later"]), st.text(min_size=1, max_size=6)
)
REFERENCES = mostly(st.sampled_from(["input", "a", "conv1"]), NAMES)
ENTRY_KEYS = {"name": NAMES, "input": REFERENCES, "repeat": mostly(st.integers(min_value=0, max_value=3), NUMBERS)}


def own_keys(type_name: str) -> tuple[dict[str, st.SearchStrategy[Any]], dict[str, st.SearchStrategy[Any]]]:
    """Strategies for the required and the optional keys of a layer type: mostly right, now and then anything."""
    value = mostly(PLAUSIBLE, SCALARS)
    keys = CATALOGUE[type_name].keys
    return {k.name: value for k in keys if k.required}, {k.name: value for k in keys if not k.required}


def plain_layer(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    required, optional = own_keys(type_name)
    if CATALOGUE[type_name].many_inputs:
        required["inputs"] = st.lists(REFERENCES, max_size=3)
    return st.fixed_dictionaries({"type": st.just(type_name), **required}, optional=optional | ENTRY_KEYS)


def defaults(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    required, optional = own_keys(type_name)
    return st.fixed_dictionaries({type_name: st.fixed_dictionaries({}, optional=required | optional)})


PLAIN = st.sampled_from(list(CATALOGUE)).flatmap(plain_layer)
BLOCK_INSTANCE = st.fixed_dictionaries(
    {"block": st.sampled_from(["b", "missing"])}, optional={"c": NUMBERS} | ENTRY_KEYS
)


def nested(depth: int) -> st.SearchStrategy[list[Any]]:
    """Lists of layers with residuals and concats of branches nested ``depth`` deep at most."""
    if depth == 0:
        return st.lists(PLAIN, min_size=1, max_size=4)
    inner = nested(depth - 1)
    residual = st.fixed_dictionaries({"type": st.just("residual"), "body": inner}, optional={"shortcut": inner})
    branches = st.fixed_dictionaries({"type": st.just("concat"), "branches": st.lists(inner, max_size=3)})
    return st.lists(mostly(PLAIN, st.one_of(residual, branches, BLOCK_INSTANCE)), min_size=1, max_size=5)


SPEC_DOCUMENTS = st.fixed_dictionaries(
    {
        "input": mostly(st.lists(st.integers(min_value=1, max_value=32), min_size=3, max_size=3), SCALARS),
        "layers": nested(2),
    },
    optional={
        "name": st.text(max_size=20),
        "blocks": st.fixed_dictionaries(
            {"b": st.fixed_dictionaries({"params": st.just({"c": 4}), "layers": nested(1)})}
        ),
        "defaults": st.sampled_from(list(CATALOGUE)).flatmap(defaults),
    },
)
FORMATS = st.sampled_from(["json", "table"])
MOSTLY_JSON = mostly(st.just("json"), st.just("table"))
"""For the bundled networks, whose tables take longest to draw."""


def check(text: str, output: str) -> None:
    """Run `convcalc analyze -` on the text: exit 0 with good output, or exit 2 with one error message."""
    result = run_cli("analyze", "-", "--format", output, "--exact", stdin=text)
    assert result.code in (0, 2), (text, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (text, result.stderr)
    if output == "json":
        document = json.loads(result.stdout)  # exit 0: the analysis; exit 2: {"error": ..., "layers": [...]}
        assert ("error" in document) == (result.code == 2)
        if result.code == 0:
            assert all(isinstance(document["total"][key], int) for key in ("params", "macs", "flops"))
    if result.code == 2:
        assert result.stderr.count("error:") == 1, result.stderr
    else:
        assert result.stderr == ""
    assert not UNSAFE.search(result.stdout + result.stderr), (text, result.stdout, result.stderr)


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@FUZZ
@given(document=VALUES, output=FORMATS)
def test_random_yaml_documents(document: Any, output: str) -> None:
    check(dump(document), output)


@FUZZ
@given(text=st.text(max_size=200), output=FORMATS)
def test_random_text(text: str, output: str) -> None:
    check(text, output)


@settings(FUZZ, max_examples=80)
@given(document=SPEC_DOCUMENTS, output=FORMATS)
def test_random_specs(document: dict[str, Any], output: str) -> None:
    check(dump(document), output)


def paths(data: Any, prefix: tuple[Any, ...] = (), seen: set[int] | None = None) -> list[tuple[Any, ...]]:
    """Every place in a document (a key of a mapping or an index of a list), shared lists and mappings once."""
    seen = set() if seen is None else seen
    if id(data) in seen:
        return []
    seen.add(id(data))
    found: list[tuple[Any, ...]] = []
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in children:
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key), seen))
    return found


def alias_bomb(levels: int) -> list[Any]:
    """Nine references to nine references to ... one small list: YAML writes it with aliases, in a few lines."""
    value: list[Any] = [1, 2]
    for _ in range(levels):
        value = [value] * 9
    return value


def mutate(data: Any, draw: st.DataObject) -> Any:
    """One random edit at one random place: delete it, duplicate it (an alias), or put there a value of another type,
    a huge or negative number, unicode text or nine aliases of nine aliases of ..."""
    path = draw.draw(st.sampled_from(paths(data)))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = draw.draw(st.sampled_from(["delete", "replace", "duplicate"]))
    if action == "delete":
        del parent[key]
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(key, parent[key])
    else:
        parent[key] = draw.draw(
            st.one_of(
                VALUES,
                NUMBERS,
                st.text(min_size=1, max_size=8),
                st.sampled_from(WORDS),
                st.builds(alias_bomb, st.integers(min_value=1, max_value=6)),
            )
        )
    return data


@FUZZ
@given(spec=st.sampled_from(BUNDLED), data=st.data(), edits=st.integers(min_value=1, max_value=3), output=MOSTLY_JSON)
def test_mutated_bundled_specs(spec: Any, data: st.DataObject, edits: int, output: str) -> None:
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    for _ in range(edits):
        document = mutate(document, data)
    check(dump(document), output)


@FUZZ
@given(spec=st.sampled_from(BUNDLED), data=st.data(), output=MOSTLY_JSON)
def test_text_edits_of_bundled_specs(spec: Any, data: st.DataObject, output: str) -> None:
    text = spec.read_text(encoding="utf-8")
    start = data.draw(st.integers(min_value=0, max_value=len(text)))
    end = data.draw(st.integers(min_value=start, max_value=min(len(text), start + 20)))
    insert = data.draw(
        st.text(max_size=10) | st.sampled_from(["\t", "{", "[", "- ", ": ", "&a ", "*a", "!!", "'", '"'])
    )
    check(text[:start] + insert + text[end:], output)


def test_bundled_specs_pass_the_same_checks() -> None:
    for spec in BUNDLED:
        check(spec.read_text(encoding="utf-8"), "json")


OTHER_COMMANDS = st.sampled_from(
    [
        ("explain", "-", "--format", "json"),
        ("explain", "-"),
        ("export", "-"),
        ("sweep", "-", "--input", "16,33", "--format", "csv"),
        ("analyze", "-", "--format", "csv", "--columns", "name,shape,rf,jump,intensity,bar,share"),
        ("analyze", "-", "--format", "markdown", "--columns", "name,input,weights,buffers,note"),
        ("analyze", "-", "--input", "3x17x9", "--batch", "3", "--dtype", "int8"),
    ]
)


@settings(FUZZ, max_examples=40)
@given(document=SPEC_DOCUMENTS, command=OTHER_COMMANDS)
def test_random_specs_through_the_other_commands(document: dict[str, Any], command: tuple[str, ...]) -> None:
    """explain, export, sweep and every column of the table: exit 0 or one error line with exit 2, never a crash."""
    result = run_cli(*command, stdin=dump(document))
    assert result.code in (0, 2), (command, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (command, result.stderr)
    if result.code == 2:
        assert result.stderr.count("error:") == 1, result.stderr


# --- YAML tags, control characters and merge keys (issue 19) ----------------------------------------------------

TAGS = [
    "!!bool",
    "!!int",
    "!!float",
    "!!str",
    "!!null",
    "!!map",
    "!!seq",
    "!!timestamp",
    "!!binary",
    "!!set",
    "!!omap",
    "!!pairs",
    "!!merge",
    "!!python/object:os.system",
    "!custom",
    "!<tag:yaml.org,2002:int>",
]
CONTROLS = ["\\e", "\\a", "\\0", "\\x9b", "\\u202e", "\\r", "\\x7f", "\\e]0;t\\a", "\\e[2J", "\\t", "\\n"]
"""Written as YAML double-quoted escapes: the characters reach convcalc only through the parser."""


def scalar_places(text: str) -> list[int]:
    """Offsets just after ': ' in flow or block mappings: where a value starts."""
    return [index + 2 for index in range(len(text) - 1) if text[index : index + 2] == ": "]


@FUZZ
@given(spec=st.sampled_from(BUNDLED), data=st.data(), output=MOSTLY_JSON)
def test_yaml_tags_on_values_of_bundled_specs(spec: Any, data: st.DataObject, output: str) -> None:
    """A tag put before some value: read as its tag says, or one located error (never an internal error)."""
    text = spec.read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        place = data.draw(st.sampled_from(scalar_places(text)))
        text = f"{text[:place]}{data.draw(st.sampled_from(TAGS))} {text[place:]}"
    check(text, output)


TEXT_VALUE = re.compile(r"\b(name|type|description): ([^,}\n#'\"]+)")


@FUZZ
@given(spec=st.sampled_from(BUNDLED), data=st.data(), control=st.sampled_from(CONTROLS), output=MOSTLY_JSON)
def test_control_characters_in_bundled_specs(spec: Any, data: st.DataObject, control: str, output: str) -> None:
    """A control character in a name, type or description: refused where it is written, never printed raw."""
    text = spec.read_text(encoding="utf-8")
    match = data.draw(st.sampled_from(list(TEXT_VALUE.finditer(text))))
    at = data.draw(st.integers(min_value=0, max_value=len(match.group(2).strip())))
    value = match.group(2).strip()
    quoted = f'"{value[:at]}{control}{value[at:]}"'
    check(f"{text[: match.start(2)]}{quoted}{text[match.start(2) + len(value) :]}", output)


@FUZZ
@given(document=SPEC_DOCUMENTS, data=st.data(), output=FORMATS)
def test_merge_keys_in_random_specs(document: dict[str, Any], data: st.DataObject, output: str) -> None:
    """A layer written again as `{<<: *anchor, ...}` with or without overriding keys: valid YAML, exit 0 or 2."""
    layers = [layer for layer in document["layers"] if isinstance(layer, dict)]
    if not layers:
        return
    base = data.draw(st.sampled_from(layers))
    document["layers"].append(base)  # the same mapping twice: YAML writes an anchor and an alias
    overrides = data.draw(st.dictionaries(st.sampled_from(["name", "type", "repeat", "input"]), NAMES, max_size=2))
    text = dump(document)
    alias = list(re.finditer(r"\*(id\d+)", text))[-1]
    merged = ", ".join([f"<<: *{alias.group(1)}", *(f"{key}: {json.dumps(value)}" for key, value in overrides.items())])
    check(f"{text[: alias.start()]}{{{merged}}}{text[alias.end() :]}", output)


# --- numeric properties of random valid networks ------------------------------------------------------------------

SIZES = st.integers(min_value=1, max_value=3)
VALID_LAYERS = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("conv"), "filters": st.integers(1, 6), "kernel": SIZES},
        optional={"stride": SIZES, "padding": st.sampled_from([0, 1, "same"]), "bias": st.booleans()},
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["maxpool", "avgpool"]), "kernel": SIZES}),
    st.fixed_dictionaries({"type": st.sampled_from(["relu", "batchnorm", "sigmoid", "lrn", "dropout"])}),
    st.fixed_dictionaries({"type": st.just("residual"), "body": st.just([{"type": "relu"}])}),
    st.fixed_dictionaries({"type": st.just("upsample"), "scale": SIZES}),
)
VALID_NETWORKS = st.fixed_dictionaries(
    {
        "input": st.lists(st.integers(min_value=1, max_value=12), min_size=3, max_size=3),
        "layers": st.lists(VALID_LAYERS, min_size=1, max_size=5).map(
            lambda layers: [*layers, {"type": "global_avgpool"}, {"type": "linear", "units": 4}]
        ),
    }
)


def analysis_json(text: str, *options: str) -> dict[str, Any] | None:
    """The analysis as JSON, or None when the network is refused (a kernel larger than its input)."""
    result = run_cli("analyze", "-", "--format", "json", *options, stdin=text)
    assert result.code in (0, 2), result.stderr
    return json.loads(result.stdout) if result.code == 0 else None


@settings(FUZZ, max_examples=60)
@given(document=VALID_NETWORKS, batch=st.integers(min_value=2, max_value=9))
def test_numeric_properties_of_random_networks(document: dict[str, Any], batch: int) -> None:
    text = dump(document)
    one = analysis_json(text)
    if one is None:
        return
    many = analysis_json(text, "--batch", str(batch), "--dtype", "float16")
    assert many is not None
    layers, total = one["layers"], one["total"]
    for key in ("params", "buffers", "macs", "flops", "activation_bytes", "weight_bytes"):
        assert total[key] == sum(layer[key] for layer in layers), key
    assert total["weight_bytes"] == 4 * (total["params"] + total["buffers"])  # float32: 4 bytes a number
    for layer in layers:
        assert layer["flops"] >= 2 * layer["macs"]
        assert layer["activation_bytes"] == 4 * math.prod(layer["output_shape"])
    # the input stays alive until its last reader, so the peak is at least input + first output
    input_bytes = 4 * math.prod(one["input"])
    assert max(layer["activation_bytes"] for layer in layers) <= total["peak_activation_bytes"]
    assert total["peak_activation_bytes"] <= input_bytes + total["activation_bytes"]
    assert input_bytes + layers[0]["activation_bytes"] <= total["peak_activation_bytes"]
    # batch and dtype: MACs, FLOPs and activations per sample times the batch; bytes 2 instead of 4; weights per model
    for key in ("macs", "flops"):
        assert many["total"][key] == batch * total[key]
    for key in ("activation_bytes", "peak_activation_bytes"):
        assert many["total"][key] * 2 == batch * total[key]
    assert many["total"]["params"] == total["params"]
    assert many["total"]["weight_bytes"] * 2 == total["weight_bytes"]
    assert [layer["output_shape"] for layer in many["layers"]] == [layer["output_shape"] for layer in layers]
    assert one["output"] == [4]
