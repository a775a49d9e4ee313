"""Every bad input gets one clear message naming file:line:column and the layer, and exit code 2.

Table-driven: each case is a spec, where its message must point (a piece of the spec text, located here by
searching the text, or an explicit (line, column) where the YAML parser decides), and words it must contain.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from convcalc.core.keys import MAX_MAGNITUDE
from convcalc.spec.expr import MAX_PARENTHESES
from convcalc.spec.lower import MAX_DEPTH, MAX_LAYERS
from convcalc.spec.reader import MAX_BYTES, MAX_NESTING
from tests.conftest import REPO, run_cli

NET = "input: [3, 8, 8]\nlayers:\n"
"""The head of most specs below: an 8x8 RGB input."""

BLOCK_C = "input: [3, 8, 8]\nblocks:\n  b:\n    params: {c: 5}\n    layers:\n"
"""The head of the block-parameter specs: block 'b' with parameter c = 5."""


def position(text: str, needle: str | tuple[int, int]) -> tuple[int, int]:
    """(line, column), counting from 1, of the first occurrence of ``needle`` in ``text``."""
    if isinstance(needle, tuple):
        return needle
    offset = text.index(needle)
    before = text[:offset]
    return before.count("\n") + 1, offset - before.rfind("\n")


def lol(levels: int) -> str:
    """A 'billion laughs' spec: each residual's body holds nine aliases of the one before (9^levels relus)."""
    lines = [NET, "  - &l0 {type: residual, body: [{type: relu}]}\n"]
    lines += [f"  - &l{i} {{type: residual, body: [{', '.join([f'*l{i - 1}'] * 9)}]}}\n" for i in range(1, levels)]
    return "".join(lines)


def aliases(levels: int) -> str:
    """A spec head whose block parameter p{i} is nine aliases of p{i-1}: 9^levels numbers when written out."""
    params = ", ".join(
        ["p0: &k0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
        + [f"p{i}: &k{i} [{', '.join([f'*k{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    )
    return f"input: [3, 8, 8]\nblocks:\n  b:\n    params: {{{params}}}\n    layers: [{{type: relu}}]\nlayers:\n"


def deepest_past_limit(size: Callable[[int], int], indices: range) -> int:
    """The largest index whose block holds more than MAX_LAYERS nodes: blocks expand from the deepest, so the
    limit is passed inside that one."""
    return max(i for i in indices if size(i) > MAX_LAYERS)


def block_chain(length: int, copies: int) -> str:
    """Blocks b0 .. b{length}, each holding ``copies`` instances of the next: copies^length relus."""
    blocks = "".join(f"  b{i}:\n    layers:\n" + f"      - {{block: b{i + 1}}}\n" * copies for i in range(length))
    return (
        f"input: [3, 8, 8]\nblocks:\n{blocks}  b{length}:\n    layers: [{{type: relu}}]\nlayers:\n  - {{block: b0}}\n"
    )


CASES = [
    # --- YAML ---------------------------------------------------------------------------------------
    pytest.param(
        NET + "  - {type: conv, filters: 4\n  - {type: relu}\n",
        "{type: relu}",
        ["YAML syntax", "did not find expected ','", "flow mapping at line 3, column 5"],
        id="yaml-unclosed-flow-mapping",
    ),
    pytest.param(NET + "\t- {type: relu}\n", (3, 1), ["YAML syntax", "hint: YAML does not allow tabs"], id="yaml-tab"),
    pytest.param(
        NET + "  - type: conv\n   filters: 3\n",
        "filters",
        ["YAML syntax", "block collection at line 3"],
        id="yaml-indent",
    ),
    pytest.param(NET + "  - *nope\n", "*nope", ["undefined alias 'nope'"], id="yaml-undefined-alias"),
    pytest.param(NET + "  - {type: relu}\n---\ninput: [1]\n", "---", ["single document"], id="yaml-two-documents"),
    pytest.param(
        "name: 2024-13-45\n" + NET + "  - {type: relu}\n",
        "2024-13-45",
        ["cannot read the value '2024-13-45'", "month", "hint: quote it"],
        id="yaml-impossible-date",
    ),
    pytest.param(
        NET + "  - {type: conv, kernel: 1, filters: 1" + "0" * 5000 + "}\n",
        "1000",
        ["the number", "too large"],
        id="yaml-5000-digit-number",
    ),
    pytest.param(
        NET + "  - {type: relu, type: tanh}\n",
        "type: tanh",
        ["duplicate key 'type' (first written at line 3)"],
        id="dup-key",
    ),
    pytest.param("", (1, 1), ["the spec is empty", "'input' and 'layers'"], id="empty-file"),
    pytest.param("# only a comment\n", (1, 1), ["the spec is empty"], id="comment-only"),
    pytest.param("- {type: relu}\n", (1, 1), ["top level", "must be a mapping", "not a list"], id="top-level-list"),
    pytest.param("relu\n", (1, 1), ["top level", "must be a mapping", "the text 'relu'"], id="top-level-text"),
    pytest.param("layers:\n  - {type: relu}\n", (1, 1), ["the spec has no 'input'"], id="missing-input"),
    pytest.param("input: [3, 8, 8]\n", (1, 1), ["the spec has no 'layers'"], id="missing-layers"),
    pytest.param("input: [3, 8, 8]\nlayers: []\n", "[]", ["'layers' is empty"], id="empty-layers"),
    pytest.param(
        "input: [3, 8, 8]\nlayer:\n  - {type: relu}\n",
        "layer:",
        ["unknown key 'layer' for the top level", "hint: did you mean 'layers'?"],
        id="misspelt-top-level-key",
    ),
    pytest.param("input: [3, 8, 8]\nlayers: {type: relu}\n", "{type", ["'layers' must be a list"], id="layers-map"),
    # --- safety: specs are data ------------------------------------------------------------------------------
    pytest.param(
        "input: !!python/object/apply:os.system ['echo hacked']\nlayers:\n  - {type: relu}\n",
        "!!python",
        ["unsupported YAML tag", "python/object/apply:os.system", "plain data only"],
        id="python-object-tag",
    ),
    pytest.param(
        NET + "  - {type: !!python/name:os.system relu}\n",
        "!!python",
        ["unsupported YAML tag", "python/name:os.system"],
        id="python-name-tag",
    ),
    pytest.param(
        NET + "  - {type: conv, kernel: 1, filters: \"${__import__('os').getpid()}\"}\n",
        '"${',
        ["'filters'", "unexpected character"],
        id="expression-is-not-python",
    ),
    # --- layer types, keys and value types --------------------------------------------------------------------
    pytest.param(
        NET + "  - {type: convv, filters: 4, kernel: 3}\n",
        "convv",
        ["unknown layer type 'convv'", "hint: did you mean 'conv'?"],
        id="unknown-type",
    ),
    pytest.param(
        NET + "  - {type: conv, filter: 4, kernel: 3}\n",
        "filter:",
        ["layer 'conv1'", "unknown key 'filter' for a conv layer", "hint: did you mean 'filters'?"],
        id="unknown-key",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 4, kernel: five}\n",
        "five",
        ["layer 'conv1' (conv)", "'kernel'", "expected a whole number", "the text 'five'"],
        id="kernel-five",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 2.5, kernel: 3}\n",
        "2.5",
        ["layer 'conv1' (conv)", "'filters'", "expected a whole number, got 2.5"],
        id="filters-float",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 4, kernel: 3, stride: 0}\n",
        "0}",
        ["'stride'", "must be at least 1, got 0"],
        id="stride-zero",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: -2, kernel: 3}\n",
        "-2",
        ["'filters'", "at least 1, got -2"],
        id="negative-filters",
    ),
    pytest.param(
        "input: [3, -8, 8]\nlayers:\n  - {type: relu}\n", "-8", ["'input'", "at least 1"], id="negative-input"
    ),
    pytest.param(
        "input: {channels: 3, height: yes, width: 8}\nlayers:\n  - {type: relu}\n",
        "yes",
        ["'input'", "the boolean true"],
        id="input-yes",
    ),
    pytest.param(
        "input: [3, 8, 8, 8, 8]\nlayers:\n  - {type: relu}\n",
        "[3, 8, 8, 8, 8]",
        ["'input' must be [channels", "[channels, length] or [channels, depth, height, width]"],
        id="input-4-spatial-axes",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: yes, kernel: 3}\n",
        "yes",
        ["'filters'", "expected a whole number, got the boolean true"],
        id="filters-yes",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 4, kernel: on}\n", "on}", ["'kernel'", "the boolean true"], id="kernel-on"
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 4, kernel: 3, bias: 1}\n",
        "1}",
        ["'bias'", "expected true or false, got 1"],
        id="bias-1",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 4, kernel: [3, 3, 3]}\n",
        "{type: conv",
        ["layer 'conv1' (conv)", "'kernel' 3x3x3 gives 3 sizes, but the input's 8x8 has 2 spatial axes: give one"],
        id="kernel-3d-on-an-image",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 4, kernel: [3, 3, 3, 3]}\n",
        "[3, 3, 3, 3]",
        ["'kernel'", "a list of 4"],
        id="kernel-4-axes",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 1" + "0" * 101 + ", kernel: 1}\n",
        "1000",
        ["'filters'", "102 digits is too large", "10^100"],
        id="number-above-limit",
    ),
    pytest.param(NET + "  - {type: }\n", "}", ["'type' is empty", "hint: layer types: conv"], id="type-empty"),
    pytest.param(
        NET + "  - relu\n", "relu", ["a layer must be a mapping", "hint: write it as {type: relu}"], id="layer-as-text"
    ),
    pytest.param(NET + "  - {name: a}\n", "{name", ["a layer needs a 'type'"], id="no-type"),
    pytest.param(NET + "  - {type: dropout, rate: 1.5}\n", "1.5", ["'rate'", "must be in [0, 1)"], id="dropout-rate"),
    pytest.param(
        NET + "  - {type: upsample, scale: 2, mode: cubic}\n",
        "cubic",
        ["layer 'upsample1' (upsample)", "'mode'", "one of nearest, linear, bilinear, trilinear"],
        id="upsample-mode",
    ),
    pytest.param(
        NET + "  - {type: maxpool, kernel: 3, padding: same}\n",
        "same",
        ["layer 'maxpool1' (maxpool)", "'padding'", "'same' is for conv layers only"],
        id="same-padding-on-a-pool",
    ),
    pytest.param(
        "input: [3, 8, 8]\ndefaults:\n  cnv: {bias: false}\nlayers:\n  - {type: relu}\n",
        "cnv",
        ["'defaults' names unknown layer type 'cnv'", "did you mean 'conv'?"],
        id="defaults-unknown-type",
    ),
    pytest.param(
        "input: [3, 8, 8]\ndefaults:\n  conv: {bias: 3}\nlayers:\n  - {type: conv, filters: 4, kernel: 1}\n",
        "3}",
        ["layer 'conv1' (conv)", "'bias' (from 'defaults')", "expected true or false"],
        id="defaults-bad-value",
    ),
    # --- shapes that cannot be -------------------------------------------------------------------------------
    pytest.param(
        NET + "  - {type: conv, name: c1, filters: 4, kernel: 3}\n  - {type: conv, name: big, filters: 4, kernel: 7}\n",
        "{type: conv, name: big",
        ["layer 'big' (conv)", "kernel 7x7 is larger than its padded input 6x6"],
        id="kernel-larger-than-input",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 4, kernel: 3, dilation: 4}\n",
        "{type",
        ["kernel 3x3 (spanning 9x9 with dilation) is larger than its padded input 8x8"],
        id="dilated-kernel-larger-than-input",
    ),
    pytest.param(
        NET + "  - {type: conv, filters: 4, kernel: 3, groups: 2}\n",
        "{type",
        ["layer 'conv1' (conv)", "groups=2 must divide", "input channels (3)", "output channels (4)"],
        id="groups-not-dividing",
    ),
    pytest.param(
        NET + "  - {type: flatten}\n  - {type: conv, filters: 4, kernel: 3}\n",
        "{type: conv",
        ["layer 'conv1' (conv)", "needs a CxHxW feature map", "flat vector 192"],
        id="conv-after-flatten",
    ),
    pytest.param(
        NET + "  - {type: linear, units: 10}\n  - {type: maxpool, kernel: 2}\n",
        "{type: maxpool",
        ["layer 'maxpool1' (maxpool)", "flat vector 10"],
        id="pool-after-linear",
    ),
    pytest.param(
        NET + "  - {type: conv, name: a, filters: 4, kernel: 3}\n"
        "  - {type: conv, name: b, input: input, filters: 4, kernel: 1}\n"
        "  - {type: concat, inputs: [a, b]}\n",
        "{type: concat",
        ["layer 'concat1' (concat)", "cannot concatenate 4x6x6, 4x8x8", "(inputs: a 4x6x6, b 4x8x8)"],
        id="concat-mismatch",
    ),
    pytest.param(
        NET + "  - type: concat\n    branches:\n      - [{type: maxpool, kernel: 2}]\n      - [{type: relu}]\n",
        "type: concat",
        ["layer 'concat1' (concat)", "cannot concatenate 3x4x4, 3x8x8"],
        id="concat-branches-mismatch",
    ),
    pytest.param(
        NET + "  - {type: conv, name: a, filters: 4, kernel: 3}\n"
        "  - {type: conv, name: b, input: input, filters: 8, kernel: 3}\n"
        "  - {type: add, inputs: [a, b]}\n",
        "{type: add",
        ["layer 'add1' (add)", "cannot add 4x6x6 and 8x6x6", "(inputs: a 4x6x6, b 8x6x6)"],
        id="add-mismatch",
    ),
    pytest.param(
        NET + "  - type: residual\n    body:\n      - {type: conv, filters: 8, kernel: 3, padding: 1}\n",
        "type: residual",
        ["layer 'residual1' (add)", "cannot add 8x8x8 and 3x8x8", "hint: a residual adds its body's output"],
        id="residual-mismatch",
    ),
    pytest.param(NET + "  - {type: crop, size: 9}\n", "{type", ["cannot crop 8x8 to the larger 9x9"], id="crop-larger"),
    pytest.param(
        NET + "  - {type: upsample, scale: 2, size: 16}\n",
        "{type",
        ["exactly one of 'scale' and 'size'"],
        id="upsample",
    ),
    pytest.param(
        NET + "  - {type: conv_transpose, filters: 4, kernel: 3, stride: 2, output_padding: 2}\n",
        "{type",
        ["layer 'conv_transpose1' (conv_transpose)", "output_padding 2 must be smaller than the stride (2)"],
        id="output-padding",
    ),
    pytest.param(
        NET + "  - {type: maxpool, kernel: 2, padding: 2}\n",
        "{type",
        ["padding 2 is more than half the kernel 2"],
        id="pool-padding",
    ),
    pytest.param(
        NET + f"  - {{type: upsample, scale: {MAX_MAGNITUDE}}}\n",
        "{type",
        ["layer 'upsample1' (upsample)", "above 10^100"],
        id="output-size-above-limit",
    ),
    # --- names, references, blocks and ${...} ------------------------------------------------------------------
    pytest.param(
        NET + "  - {type: conv, name: a, filters: 4, kernel: 3}\n  - {type: relu, name: a}\n",
        "{type: relu",
        ["layer 'a'", "duplicate layer name 'a' (first used at line 3)"],
        id="duplicate-name",
    ),
    pytest.param(
        NET + "  - {type: conv, name: a, filters: 4, kernel: 3}\n  - {type: relu, input: b}\n",
        "b}",
        ["layer 'relu1'", "no earlier layer is named 'b'"],
        id="unknown-input",
    ),
    pytest.param(
        NET + "  - {type: conv, name: a, filters: 4, kernel: 3, input: c}\n  - {type: relu, name: c}\n",
        "c}",
        ["layer 'a'", "'c' is defined later, at line 4", "hint: a layer can only read the outputs of layers before it"],
        id="input-defined-later",
    ),
    pytest.param(
        NET + "  - {type: conv, name: a, filters: 4, kernel: 1}\n"
        "  - {type: add, inputs: [a, z]}\n"
        "  - {type: relu, name: z}\n",
        "z]",
        ["layer 'add1'", "'z' is defined later, at line 5"],
        id="inputs-defined-later",
    ),
    pytest.param(
        NET + "  - {type: conv, name: a, filters: 4, kernel: 3, input: a}\n",
        "a}",
        ["layer 'a'", "a layer cannot read its own output"],
        id="input-is-itself",
    ),
    pytest.param(
        NET + "  - type: residual\n    name: r\n    body:\n      - {type: relu, input: r}\n",
        "r}",
        ["layer 'r.body.relu1'", "the output of 'r', which contains it"],
        id="input-is-the-enclosing-residual",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      - {block: b}\nlayers:\n  - {block: b}\n",
        "{block: b}",
        ["block 'b' uses itself: b -> b"],
        id="block-cycle",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n  a:\n    layers:\n      - {block: b}\n"
        "  b:\n    layers:\n      - {type: relu}\n      - {block: a}\nlayers:\n  - {block: a}\n",
        "{block: a}",
        ["block 'a' uses itself: a -> b -> a"],
        id="block-cycle-through-another",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n  stage:\n    layers: [{type: relu}]\nlayers:\n  - {block: stag}\n",
        "stag}",
        ["unknown block 'stag'", "hint: did you mean 'stage'?"],
        id="unknown-block",
    ),
    pytest.param(
        BLOCK_C + "      - {type: conv, filters: '${c}', kernel: 1}\nlayers:\n  - {block: b, cc: 3}\n",
        "cc:",
        ["layer 'b1'", "unknown parameter 'cc' for block 'b'", "hint: did you mean 'c'?"],
        id="unknown-block-parameter",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n  b:\n    params: [c]\n    layers:\n"
        "      - {type: conv, filters: '${c}', kernel: 1}\nlayers:\n  - {block: b}\n",
        "{block: b}",
        ["layer 'b1'", "block 'b' needs parameter(s) c"],
        id="missing-block-parameter",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n  b:\n    params: [c, [d]]\n    layers: [{type: relu}]\nlayers:\n  - {block: b}\n",
        "[d]",
        ["block parameter a list of 1 must be an identifier"],
        id="block-parameter-not-a-name",
    ),
    pytest.param(
        BLOCK_C + "      - {type: conv, filters: '${c *}', kernel: 1}\nlayers:\n  - {block: b}\n",
        "'${",
        ["layer 'b1'", "'filters'", "'c *' ends too early"],
        id="expression-malformed",
    ),
    pytest.param(
        BLOCK_C + "      - {type: conv, filters: '${c // (c - 5)}', kernel: 1}\nlayers:\n  - {block: b}\n",
        "'${",
        ["'filters'", "division by zero"],
        id="expression-divides-by-zero",
    ),
    pytest.param(
        BLOCK_C + "      - {type: conv, filters: '${c / 2}', kernel: 1}\nlayers:\n  - {block: b}\n",
        "'${",
        ["'filters'", "expected a whole number, got 2.5", "round it in the expression"],
        id="expression-not-an-integer",
    ),
    pytest.param(
        BLOCK_C + "      - {type: conv, filters: '${d}', kernel: 1}\nlayers:\n  - {block: b}\n",
        "'${",
        ["unknown name 'd'", "block parameters: c"],
        id="expression-unknown-name",
    ),
    pytest.param(
        BLOCK_C + "      - {type: conv, filters: '${c', kernel: 1}\nlayers:\n  - {block: b}\n",
        "'${",
        ["malformed placeholder"],
        id="expression-unclosed",
    ),
    pytest.param(
        BLOCK_C
        + "      - {type: conv, filters: '${"
        + "(" * (MAX_PARENTHESES + 1)
        + "c"
        + ")" * (MAX_PARENTHESES + 1)
        + "}',"
        " kernel: 1}\nlayers:\n  - {block: b}\n",
        "'${",
        [f"more than {MAX_PARENTHESES} nested parentheses"],
        id="expression-deep-parentheses",
    ),
    pytest.param(
        NET + "  - {type: relu, repeat: -1}\n", "-1", ["'repeat' must be a whole number >= 0"], id="repeat-negative"
    ),
    pytest.param(
        NET + "  - {type: relu, repeat: many}\n", "many", ["'repeat' must be a whole number >= 0"], id="repeat-text"
    ),
    # --- scale: refused at once, by the documented limits ----------------------------------------------------------
    pytest.param(
        NET + "  - {type: relu, repeat: 100000000000}\n",
        "100000000000",
        [f"this expands the spec past {MAX_LAYERS:,} layers"],
        id="huge-repeat",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      - {type: relu, repeat: 1000}\n"
        "layers:\n  - {block: b, repeat: 1001}\n",
        "1001",
        [f"past {MAX_LAYERS:,} layers"],
        id="repeat-of-a-repeat",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      - {type: relu, repeat: 0}\n"
        "layers:\n  - {block: b, repeat: 100000000000}\n",
        "100000000000",
        [f"past {MAX_LAYERS:,} layers"],
        id="huge-repeat-of-nothing",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n  b:\n    params: [n]\n    layers:\n      - {type: relu, repeat: '${n}'}\n"
        "layers:\n  - {block: b, n: 100000000000}\n",
        "'${n}'",
        [f"this expands the spec past {MAX_LAYERS:,} layers"],
        id="huge-repeat-from-a-parameter",
    ),
    # b8 holds 10 relus, b_i 10 * (1 + size(b_{i+1})) = (10^(10 - i) - 10) / 9: 10, 110, 1110, ...; blocks expand
    # from the deepest, so the limit is passed in the deepest b_i past it, whose entry is on line 6 + 4i, column 40
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n"
        + "".join(
            f"  b{i}:\n    params: [n]\n    layers:\n      - {{block: b{i + 1}, n: '${{n}}', repeat: '${{n}}'}}\n"
            for i in range(8)
        )
        + "  b8:\n    params: [n]\n    layers: [{type: relu, repeat: '${n}'}]\nlayers:\n  - {block: b0, n: 10}\n",
        (6 + 4 * deepest_past_limit(lambda i: (10 ** (10 - i) - 10) // 9, range(9)), 40),
        [f"this expands the spec past {MAX_LAYERS:,} layers"],
        id="repeats-from-parameters-nested",
    ),
    pytest.param(
        "input: [3, 8, 8]\nblocks:\n"
        + "".join(
            f"  b{i}:\n    params: [x]\n    layers:\n"
            f"      - {{block: b{i + 1}, x: '${{x * 2}}'}}\n      - {{block: b{i + 1}, x: '${{x * 2 + 1}}'}}\n"
            for i in range(40)
        )
        + "  b40:\n    params: [x]\n    layers: [{type: relu}]\nlayers:\n  - {block: b0, x: 1}\n",
        # b_i holds 3 * 2^(40 - i) - 2 nodes; its entries are on lines 6 + 5i and 7 + 5i: the deepest b_i past the
        # limit passes it at its second instance of b_{i+1}
        (7 + 5 * deepest_past_limit(lambda i: 3 * 2 ** (40 - i) - 2, range(41)), 9),
        [f"this expands the spec past {MAX_LAYERS:,} layers"],
        id="block-tree-with-distinct-parameters",
    ),
    # residual l_i holds 1 + 9 * size(l_{i-1}) = (17 * 9^i - 1) / 8 nodes: 2, 19, 172, 1549, 13942, ...; the first
    # l_i past the limit passes it at a copy of l_{i-1} in its body, and an alias is reported where its anchor is
    pytest.param(
        lol(12),
        f"&l{min(i for i in range(12) if (17 * 9**i - 1) // 8 > MAX_LAYERS) - 1}",
        [f"past {MAX_LAYERS:,} layers", "YAML aliases"],
        id="billion-laughs",
    ),
    # block b_i holds 3 * 2^(60 - i) - 2 nodes; the deepest b_i past the limit passes it at its second instance of
    # b_{i+1}; b_i's entries are written on lines 5 + 4i and 6 + 4i.
    pytest.param(
        block_chain(60, 2),
        (6 + 4 * deepest_past_limit(lambda i: 3 * 2 ** (60 - i) - 2, range(61)), 9),
        [f"past {MAX_LAYERS:,} layers"],
        id="block-doubling-bomb",
    ),
    pytest.param(
        block_chain(MAX_DEPTH + 5, 1),
        f"{{block: b{MAX_DEPTH}}}",
        [f"blocks, branches and residuals are nested more than {MAX_DEPTH} deep"],
        id="deep-block-chain",
    ),
    # values that are aliases of aliases (9^10 numbers) are never walked, copied or printed whole
    pytest.param(
        aliases(9) + "  - {type: conv, kernel: 1, filters: *k9}\n",
        "&k9",
        ["layer 'conv1' (conv)", "'filters'", "expected a whole number, got a list of 9"],
        id="alias-bomb-as-a-number",
    ),
    pytest.param(
        aliases(9) + "  - {type: conv, kernel: 1, filters: 4, stride2: *k9}\n",
        "stride2",
        ["unknown key 'stride2'", "did you mean 'stride'?"],
        id="alias-bomb-in-an-unknown-key",
    ),
    pytest.param(
        NET + "  - {type: batchnorm, eps: .nan}\n", ".nan", ["'eps'", "expected a finite number, got nan"], id="nan"
    ),
    pytest.param(
        # PyTorch (MaxPool2d(2, 1, 2, dilation=3)) refuses padding above half the kernel itself, dilated or not
        NET + "  - {type: maxpool, kernel: 2, stride: 1, padding: 2, dilation: 3}\n",
        "{type: maxpool",
        ["padding 2 is more than half the kernel 2"],
        id="pool-padding-with-dilation",
    ),
    pytest.param(aliases(9) + "  - {block: *k9}\n", "&k9", ["unknown block a list of 9"], id="alias-bomb-as-a-block"),
    pytest.param(aliases(9) + "  - {type: *k9}\n", "&k9", ["'type' is a list of 9"], id="alias-bomb-as-a-type"),
    # the mapping and 'layers' are two levels, so the (MAX_NESTING - 1)th bracket is one too many
    pytest.param(
        NET + "  - " + "[" * 200 + "]" * 200 + "\n",
        (3, len("  - ") + MAX_NESTING - 1),
        [f"the YAML is nested more than {MAX_NESTING} levels deep"],
        id="deep-yaml",
    ),
]


@pytest.mark.parametrize(("text", "needle", "words"), CASES)
def test_message(write_spec, text: str, needle: str | tuple[int, int], words: list[str]) -> None:
    path = write_spec(text)
    result = run_cli("analyze", str(path))
    line, column = position(text, needle)
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{path}:{line}:{column}: error: " in result.stderr, result.stderr
    assert result.stderr.count("error:") == 1
    for word in words:
        assert word in result.stderr, (word, result.stderr)


# --- files ---------------------------------------------------------------------------------------------------------


def test_file_that_does_not_exist_suggests_a_bundled_spec(tmp_path: Path) -> None:
    result = run_cli("analyze", "alexnet-lectur")
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "convcalc: error: alexnet-lectur: no such file, and no bundled spec has that name",
        "  hint: did you mean 'alexnet-lecture'?",
    ]


def test_directory(tmp_path: Path) -> None:
    result = run_cli("analyze", str(tmp_path))
    assert result.code == 2
    assert result.stderr == f"convcalc: error: {tmp_path}: is a directory, not a spec file\n"


@pytest.mark.parametrize(
    ("raw", "where", "words"),
    [
        pytest.param(b"input: [3, 8, 8]\nname: caf\xe9\n", (2, 10), ["not UTF-8", "byte 0xe9", "save it as UTF-8"]),
        pytest.param("input: [3, 8, 8]\n".encode("utf-16"), (1, 1), ["not UTF-8", "looks like UTF-16"], id="utf-16"),
        pytest.param(b"input: [3, 8, 8]\nlayers: [{type: relu}]\x00\n", (2, 23), ["NUL character"], id="nul"),
        pytest.param(b'input: [3, 8, 8]\nname: "a\x07"\n', (2, 9), ["control characters", "#x0007"], id="control"),
    ],
)
def test_unreadable_text(tmp_path: Path, raw: bytes, where: tuple[int, int], words: list[str]) -> None:
    path = tmp_path / "net.yaml"
    path.write_bytes(raw)
    result = run_cli("analyze", str(path))
    assert result.code == 2
    assert f"{path}:{where[0]}:{where[1]}: error: " in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr


def test_standard_input_is_checked_like_a_file() -> None:
    # the real entry point in a new process, so that standard input is a byte stream
    command = [sys.executable, "-m", "convcalc", "analyze", "-"]
    result = subprocess.run(command, input=b"input: [3, 8, 8]\nname: caf\xe9\n", capture_output=True, cwd=REPO)
    assert result.returncode == 2
    assert (
        result.stderr.decode()
        == "<stdin>:2:10: error: the file is not UTF-8 text (byte 0xe9)\n  hint: save it as UTF-8\n"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_file_is_refused() -> None:
    result = run_cli("analyze", "/dev/zero")
    assert result.code == 2
    assert result.stderr == f"convcalc: error: /dev/zero: more than {MAX_BYTES // 2**20} MiB; is it a spec?\n"


def test_bad_usage_is_exit_code_2() -> None:
    assert run_cli("analyze").code == 2
    assert run_cli("analyze", "alexnet", "--batch", "0").code == 2
    assert run_cli("analyze", "alexnet", "--dtype", "float7").code == 2
    assert run_cli("analyse", "alexnet").code == 2
    for command in (["analyze", "alexnet"], ["sweep", "alexnet", "--input", "224"]):
        assert run_cli(*command, "--batch", str(MAX_MAGNITUDE + 1)).code == 2


# --- shape errors show how far the network got -------------------------------------------------------------------

PARTIAL = NET + (
    "  - {type: conv, name: c1, filters: 4, kernel: 3}\n"  # 4x6x6
    "  - {type: maxpool, name: p1, kernel: 2}\n"  # 4x3x3
    "  - {type: conv, name: c2, filters: 8, kernel: 5}\n"  # 5x5 on 3x3: fails
    "  - {type: relu, name: never}\n"
)


def test_shape_error_prints_the_layers_before_it_then_the_error(write_spec) -> None:
    path = write_spec(PARTIAL)
    result = run_cli("analyze", str(path), "--exact")
    assert result.code == 2
    table, _, message = result.stderr.partition(f"{path}:5:5: error: ")
    assert message == "layer 'c2' (conv): conv kernel 5x5 is larger than its padded input 3x3\n"
    assert "layers before the error" in table
    assert "c1" in table and "4x6x6" in table and f"{3 * 3 * 3 * 4 + 4:,}" in table
    assert "p1" in table and "4x3x3" in table
    assert "never" not in table
    assert result.stdout == ""


def test_shape_error_as_json_on_stdout(write_spec) -> None:
    path = write_spec(PARTIAL)
    result = run_cli("analyze", str(path), "--format", "json")
    assert result.code == 2
    document = json.loads(result.stdout)
    assert document["error"] == {
        "message": "conv kernel 5x5 is larger than its padded input 3x3",
        "file": str(path),
        "line": 5,
        "column": 5,
        "layer": "c2",
        "hint": None,
    }
    assert [(layer["name"], layer["output_shape"]) for layer in document["layers"]] == [
        ("c1", [4, 6, 6]),
        ("p1", [4, 3, 3]),
    ]
    assert document["layers"][0]["params"] == 3 * 3 * 3 * 4 + 4
    assert "error: layer 'c2'" in result.stderr


def test_spec_error_as_json_has_no_layers(write_spec) -> None:
    text = NET + "  - {type: conv, filters: 4, kernel: five}\n"
    path = write_spec(text)
    result = run_cli("analyze", str(path), "--format", "json")
    assert result.code == 2
    error = json.loads(result.stdout)
    assert error["layers"] == []
    assert (error["error"]["line"], error["error"]["column"]) == position(text, "five")
    assert error["error"]["layer"] == "conv1"


# --- the unexpected: one line, exit 1; --debug shows the traceback ----------------------------------------------------


def test_unexpected_error_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr("convcalc.api.analyze", broken)
    result = run_cli("analyze", "alexnet")
    assert result.code == 1
    assert result.stderr == "convcalc: internal error: RuntimeError: something broke (run with --debug for details)\n"
    with pytest.raises(RuntimeError, match="something broke"):
        run_cli("--debug", "analyze", "alexnet")


FORMATS = ["table", "json", "csv", "markdown", "dot", "mermaid", "html", "svg", "yaml", "latex"]
"""Every output format the docs name (and a few it does not): what a user might pass to --format."""
RUNS = {
    "analyze": ["lenet5"],
    "explain": ["lenet5", "C1"],
    "conventions": ["lenet5"],
    "zoo": [],
    "compare": ["lenet5", "lenet5"],
    "sweep": ["lenet5", "--input", "32,64"],
    "graph": ["lenet5"],
    "devices": [],
}
"""A run of each command that has --format, without the option."""


def help_formats(command: str) -> list[str] | None:
    """The formats ``convcalc COMMAND --help`` lists for --format (None: it has no --format)."""
    result = run_cli(command, "--help")
    assert result.code == 0, result.stderr
    listed = re.search(r"--format[ =]?[<\[]([\w|-]+)[>\]]", result.stdout)
    return listed.group(1).split("|") if listed else None


def test_every_command_lists_exactly_the_formats_it_prints() -> None:
    """Each command's --help lists every --format it prints and no other; any other is refused, exit 2."""
    from convcalc.cli.app import app

    commands = [command.name or command.callback.__name__ for command in app.registered_commands]  # type: ignore[union-attr]
    with_format = {command: formats for command in commands if (formats := help_formats(command)) is not None}
    assert set(with_format) == set(RUNS), "give RUNS a run of each command with --format"
    for command, listed in with_format.items():
        for output in FORMATS:
            result = run_cli(command, *RUNS[command], "--format", output)
            if output in listed:
                assert result.code == 0, (command, output, result.stderr)
            else:
                assert result.code == 2, (command, output, result.stdout[:200])
                assert f"'{output}' is not one of" in result.stderr, (command, output, result.stderr)
    assert with_format["zoo"] == with_format["explain"] == with_format["compare"] == with_format["devices"]
    assert with_format["zoo"] == ["table", "json"]
    assert with_format["sweep"] == ["table", "json", "csv"]
    assert with_format["analyze"] == ["table", "json", "csv", "markdown", "latex"]


def test_mode_train_names_the_formats_it_prints() -> None:
    assert "Both print --format table or json." in " ".join(run_cli("analyze", "--help").stdout.split())
    result = run_cli("analyze", "lenet5", "--mode", "train", "--format", "csv")
    assert result.code == 2 and "--mode train/deploy prints table or json, not csv" in result.stderr


def test_a_closed_pipe_ends_the_table_quietly() -> None:
    """`convcalc analyze vgg16 | head -1`: exit 0, as for JSON, not rich's exit 1."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "convcalc", "analyze", "vgg16"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the table is written, as with `head` on a long table
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr
