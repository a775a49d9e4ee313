"""Mutation testing: does a wrong number in the catalogue, the formula arithmetic or the `${...}` parser fail a test?

A small AST mutator, no dependencies: it makes one change at a time to one module (an operator, a comparison, an
``and``/``or``, a unary minus or ``not`` dropped, a whole number plus or minus one, ``True``/``False``, ``break``/
``continue``), runs that module's fast targeted tests against the mutant and counts the mutant killed when they fail
(or hang). Strings (messages, docstrings) are not mutated. Usage, from the repository root:

    python tools/mutate.py                       # every target below; the score and every survivor
    python tools/mutate.py expr --jobs 1         # one module, one worker
    python tools/mutate.py kinds --list          # the mutants of convcalc/kinds/ only, without running anything

Each worker tests mutants in its own copy of the repository; the test run of a mutant is a fork of a process that
has already imported pytest and the third-party libraries, so a mutant costs its tests, not Python's start-up.
Surviving mutants known to be equivalent (no test can tell them apart: the change cannot alter any result) are
listed in ``EQUIVALENT`` with the reason; docs/dev/testing.md records the score.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

LAYER_TESTS = [
    "tests/test_layers.py",
    "tests/test_axes.py",
    "tests/test_oracle.py",
    "tests/test_receptive_field.py",
    "tests/test_explain.py",
    "tests/test_warnings_memory.py",
    "tests/test_hand_golden.py",
    "tests/test_layer_details.py",
    "tests/test_modern_kinds.py",
    "tests/test_true_warnings.py",
    "tests/test_training.py",
    "tests/test_torch_modules.py",
    "tests/test_schema.py",
    "tests/test_deploy.py",
    "tests/test_patches.py",
    "tests/test_tensor_ops.py",
    "tests/test_dimensions.py",
    "tests/test_torch_reference_specs.py",
    "tests/test_flop_counter.py",
]
"""The layer catalogue's tests: every module of convcalc/kinds/ (and the numbers it computes with) runs them."""
KINDS = (
    "base",
    "windows",
    "weighted",
    "pool",
    "norm",
    "elementwise",
    "merge",
    "tensor",
    "tensorops",
    "attention",
    "catalogue",
)
ONNX_OPS_TESTS = [
    "tests/test_onnx_ops.py",
    "tests/test_onnx.py",
    "tests/test_onnx_real.py",
    "tests/test_dimensions.py",
    "tests/test_import.py",
]
"""The ONNX handlers' tests: built graphs of every op, the recorded fixtures (tests/data/onnx) against published
counts and the real exports of torchvision's and timm's networks against torch's; fastest first, so that a killed
mutant stops early."""
ONNX_TESTS = [
    "tests/test_onnx_importer.py",
    "tests/test_onnx_tensors.py",
    *ONNX_OPS_TESTS,
    "tests/test_onnx_constants.py",
    "tests/test_onnx_hostile.py",
]
"""The importer's: also its own modules' branches and its tensor ops, the shape arithmetic on constants and the
hostile files (limits of the reader, half the time of these tests)."""
CONVENTION_TESTS = ["tests/test_conventions.py", "tests/test_compare.py", "tests/test_torch_import.py"]
"""Other tools' counts against their recordings (tests/data/peers)."""
TORCH_TESTS = ["tests/test_torch_import.py", "tests/test_torch_ops.py"]
"""The PyTorch front end against the recorded traces (tests/data/torch/traces)."""
FOLD_TESTS = ["tests/test_fold_rules.py", "tests/test_fold.py", "tests/test_import.py"]
"""Folding: the rules on graphs built by hand (fastest, first), random graphs and every ONNX fixture, folded and
flat, count alike."""

TARGETS = {
    **{f"kinds.{name}": (f"convcalc/kinds/{name}.py", LAYER_TESTS) for name in KINDS},
    "core.numbers": ("convcalc/core/numbers.py", LAYER_TESTS),
    "core.tensor": ("convcalc/core/tensor.py", LAYER_TESTS),
    "core.formula": (
        "convcalc/core/formula.py",
        ["tests/test_formula.py", "tests/test_explain.py", "tests/test_layers.py"],
    ),
    "spec.expr": ("convcalc/spec/expr.py", ["tests/test_expr.py", "tests/test_spec_shapes.py"]),
    "spec.shapes": (
        "convcalc/spec/shapes.py",
        ["tests/test_spec_shapes.py", "tests/test_expr.py", "tests/test_layers.py", "tests/test_lowering.py"],
    ),
    **{f"spec.fold.{name}": (f"convcalc/spec/fold/{name}.py", FOLD_TESTS) for name in ("blocks", "items", "runs")},
    "onnx.ops": ("convcalc/importers/onnx/ops.py", ONNX_OPS_TESTS),
    **{
        f"onnx.{name}": (f"convcalc/importers/onnx/{name}.py", ONNX_TESTS)
        for name in ("importer", "patterns", "tensors", "layouts", "uncounted", "learned")
    },
    "onnx.constants": (  # its own tests first: most of its mutants fail them, and stop there
        "convcalc/importers/onnx/constants.py",
        ["tests/test_onnx_constants.py", *(tests for tests in ONNX_TESTS if tests != "tests/test_onnx_constants.py")],
    ),
    **{
        f"torch.{name}": (f"convcalc/importers/torch/{name}.py", TORCH_TESTS)
        for name in ("ops", "tensors", "importer", "events")
    },
    **{
        f"conventions.{name}": (f"convcalc/passes/conventions/{name}.py", CONVENTION_TESTS)
        for name in ("rules", "tools", "thop", "onnx_tool", "counting")
    },
    "passes.training": ("convcalc/passes/training.py", ["tests/test_training.py", "tests/test_deploy.py"]),
    "passes.deploy": (
        "convcalc/passes/deploy.py",
        ["tests/test_deploy.py", "tests/test_patches.py", "tests/test_dimensions.py"],
    ),
    "passes.patches": ("convcalc/passes/patches.py", ["tests/test_patches.py", "tests/test_deploy.py"]),
    "passes.latency": ("convcalc/passes/latency.py", ["tests/test_latency.py"]),
    "engine.run": (
        "convcalc/engine/run.py",
        [
            "tests/test_hand_golden.py",
            "tests/test_golden.py",
            "tests/test_receptive_field.py",
            "tests/test_warnings_memory.py",
            "tests/test_structures.py",
            "tests/test_oracle.py",
            "tests/test_true_warnings.py",
            "tests/test_engine_bounds.py",
            "tests/test_errors.py",
        ],
    ),
}
"""Each target module (a short dotted name): its file, and the fast tests that must catch its mutants. A name given
on the command line selects that target, or every target it is a dotted prefix of (`kinds`: all of convcalc/kinds/)."""
TIMEOUT_FACTOR = 4
"""A mutant's tests may take this many times as long as the original's (plus 3 s) before they count as a hang
(killed: an infinite loop is caught)..."""
RETRY_FACTOR = 5
"""... after one more try with this many times as long (a loaded machine's slow run is not a hang)."""

EQUIVALENT: dict[tuple[str, str], str] = {
    # (module, "source line: change") -> why no test can tell the mutant from the original
    ("engine.run", "if len(sources) == 1:  # the common case, kept cheap: the engine's time is per layer: 1 -> 0"): (
        "the fast path for one input and the general path for several give the same field and sizes for one input"
    ),
    (
        "engine.run",
        "full = [s for s, shape in zip(sources, shapes, strict=True) if shape[1:] == result.shape[1:]]: True -> False",
    ): "sources and shapes are made from each other: always of one length",
    (
        "engine.run",
        'named = (f"{name} {format_shape(shape)}" for name, shape in zip(sources, shapes, strict=True)): True -> False',
    ): "a merge's sources and their shapes: always of one length",
    ("kinds.merge", "for other in inputs[1:]:: 1 -> 0"): "also compares the first input with itself, always equal",
    **dict.fromkeys(
        [
            ("kinds.windows", "if count > 1 and all(each == axes[0] for each in axes):: 0 -> 1"),
            ("kinds.windows", 'reached = f"{axes[0][0]} input {listed(units)} {axes[0][1]}": 0 -> 1'),
        ],
        "every axis told alike: the first and the second are the same text",
    ),
    **dict.fromkeys(
        [
            (
                "kinds.tensor",
                'named(name, n * f) for name, n, f in zip(axis_names(len(size), "out"), size, factors, strict=True): '
                "True -> False",
            ),
            ("kinds.tensor", "for i, o in zip(size, out, strict=True): True -> False"),
            (
                "kinds.tensor",
                'pads = tuple(symbol(f"p_{side}", n) for side, n in zip(SIDE_NAMES[len(size)], pads, strict=True)): '
                "True -> False",
            ),
            (
                "kinds.tensor",
                'for axis, (name, n) in enumerate(zip(axis_names(len(size), "out"), size, strict=True)): True -> False',
            ),
            ("kinds.tensor", "if any(o > n for o, n in zip(out, size, strict=True)):: True -> False"),
            (
                "kinds.tensor",
                "windows = tuple(Window(1, 1, -(int(n - o) // 2)) for n, o in zip(size, out, strict=True)): "
                "True -> False",
            ),
            (
                "kinds.tensor",
                'return call("Crop", *out, *((n - o) // 2 for n, o in zip(size, out, strict=True))): True -> False',
            ),
        ],
        "per-axis values of one map (its sizes, the output's, factors, sides checked against the axes): one length",
    ),
    **dict.fromkeys(
        [
            (
                "kinds.tensor",
                "windows = full_windows(shape[1:], (1,) * (len(shape) - 1)) if len(shape) > 1 else None: "
                "> -> >= (comparison 1)",
            ),
            (
                "kinds.tensor",
                "windows = full_windows(shape[1:], (1,) * (len(shape) - 1)) if len(shape) > 1 else None: 1 -> 0",
            ),
        ],
        "a flat input's windows on no axis, (), leave the field as no windows (None) do",
    ),
    ("kinds.tensor", "if len(value) % 2 or not 2 <= len(value) <= 2 * MAX_AXES:: 2 -> 1"): (
        "1 <= len for the lengths % 2 lets through, which are even: the same as 2 <= len"
    ),
    **dict.fromkeys(
        [
            (
                "kinds.windows",
                "padded = [int(n) + sum(int(side) for side in sides) for n, sides in zip(size, pads, strict=True)]: "
                "True -> False",
            ),
            (
                "kinds.windows",
                "span = [int(d) * (int(k) - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]: True -> False",
            ),
            (
                "kinds.windows",
                "for k, s, p, d in zip(kernel, stride, pad_before, dilation, strict=True): True -> False",
            ),
            (
                "kinds.windows",
                "return tuple(adaptive_window(n, o) for n, o in zip(size, out, strict=True)): True -> False",
            ),
            (
                "kinds.pool",
                "for name, n, k, s, p, d in zip(names, size, kernel, stride, pad, dilation, strict=True): "
                "True -> False",
            ),
            ("kinds.pool", "for suffix, n, o in zip(AXIS_SUFFIXES[len(size)], size, out, strict=True): True -> False"),
            (
                "kinds.windows",
                "return tuple(same_padding(*axis) for axis in zip(size, kernel, stride, dilation, strict=True)): "
                "True -> False",
            ),
        ],
        "a layer's sizes, pads, kernel, stride and dilation are per_axis's, one per spatial axis each: of one length",
    ),
    **dict.fromkeys(
        [
            ("kinds.windows", "if count > 1 and all(each == axes[0] for each in axes):: > -> >= (comparison 1)"),
            ("kinds.windows", "if count > 1 and all(each == axes[0] for each in axes):: 1 -> 0"),
        ],
        "a map of one axis: its reach told for the axis's units alone is the same text either way",
    ),
    **dict.fromkeys(
        [
            (
                "kinds.windows",
                "if len(gaps) > 1 and all(how == gaps[0][0] for how, _ in gaps):: > -> >= (comparison 1)",
            ),
            ("kinds.windows", "if len(gaps) > 1 and all(how == gaps[0][0] for how, _ in gaps):: 1 -> 0"),
            ("kinds.windows", "gaps = [(gaps[0][0], listed([what for _, what in gaps]))]: 0 -> 1"),
            ("kinds.windows", "if len(gaps) > 1 and all(how == gaps[0][0] for how, _ in gaps):: 0 -> 1"),
        ],
        "one gap merged with itself is the same gap, and gaps merge only where each is told alike: the same text",
    ),
    **dict.fromkeys(
        [
            (
                "kinds.weighted",
                "padded = (n + before + after for n, (before, after) in zip(inputs[0][1:], sides, strict=True)): "
                "True -> False",
            ),
            (
                "kinds.weighted",
                'sides = ", ".join(f"{before}/{after} {unit}" for (before, after), unit in zip(pads, units, '
                "strict=True)): True -> False",
            ),
            (
                "kinds.weighted",
                'axis_names(len(size), "out"), size, kernel, stride, pad, output_pad, dilation, strict=True: True -> '
                "False",
            ),
            (
                "kinds.weighted",
                "windows = tuple(self.window(*axis) for axis in zip(kernel, stride, pad, dilation, strict=True)): "
                "True -> False",
            ),
        ],
        "one value per spatial axis in each zipped sequence, resolved to the input's rank: always of one length",
    ),
    (
        "kinds.merge",
        'return call("Concat", dim=(resolve_axis(config["axis"], inputs[0], self.type) + 1, 1)): 0 -> 1',
    ): "the default torch's Concat takes written out (Concat(dim=1) is Concat())",
    ("kinds.merge", "if any(s != inputs[0] for s in inputs[1:]):: 1 -> 0"): "also compares the first input with itself",
    (
        "kinds.merge",
        "return Evaluation(inputs[0], flops=(len(inputs) - 1) * elements(inputs[0])): 0 -> 1",
    ): "every input has the first one's shape (checked on the line before)",
    ("kinds.merge", "if any(len(shape) != len(first) for shape in inputs[1:]):: 1 -> 0"): (
        "also compares the first input's length with itself"
    ),
    ("kinds.merge", "shape = tuple(max(sizes) for sizes in zip(*inputs, strict=True)): True -> False"): (
        "the inputs' lengths were checked equal on the lines before"
    ),
    (
        "kinds.merge",
        "if any(size not in (1, largest) for size, largest in zip(shape_in, shape, strict=True)):: True -> False",
    ): "shape is as long as every input (made from them by zip on the line before)",
    ("spec.expr", "tokens.append(match.group(match.lastindex or 0)): 0 -> 1"): (
        "every alternative of _TOKEN is a group, so lastindex is never 0 or None"
    ),
    ("spec.expr", 'if len(token.partition(".")[0]) > 101:: 101 -> 102'): (
        "a literal of 102 digits is above 10^100 either way, and check() refuses it as too large with the same message"
    ),
    ("passes.training", 'for record, layer in zip(document["layers"], self.layers, strict=True):: True -> False'): (
        "the document is the JSON of the same analysis: one record per layer"
    ),
    ("passes.training", "change = [0] * (2 * self.steps + 2): 2 -> 3"): (
        "a longer array of changes: the last span ends at 2n, its change at 2n + 1; the rest stay 0"
    ),
    ("passes.training", "running = list(accumulate(change[: 2 * self.steps])): 2 -> 3"): (
        "times 2n and on hold only parameter gradients, all live at 2n - 1 already: never the first peak"
    ),
    (
        "onnx.ops",
        "if not per_position and len(shape) > 1 and weight[0] == shape[-1] != math.prod(shape):  # tokens [N, T, D]:"
        " > -> >= (comparison 1)",
    ): "a flat input's last axis is all of it: shape[-1] != prod(shape) never holds for it",
    (
        "onnx.ops",
        'return importer.integers(node, "kernel_shape", None, 0) or (weight[2:] if weight else ()): 0 -> 1',
    ): "with no count (None) a missing attribute is (): the default fills no axis",
    (
        "onnx.ops",
        "if not per_position and len(shape) > 1 and weight[0] == shape[-1] != math.prod(shape):  # tokens [N, T, D]:"
        " 1 -> 0",
    ): "a flat input's last axis is all of it: shape[-1] != prod(shape) never holds for it",
    (
        "onnx.ops",
        '"kernel": importer.integers(node, "kernel_shape", count, 1),: 1 -> 2',
    ): "spatial_axes makes a pool without kernel_shape opaque before this default is read",
    (
        "onnx.ops",
        '"kernel": importer.integers(node, "kernel_shape", count, 1),: 1 -> 0',
    ): "spatial_axes makes a pool without kernel_shape opaque before this default is read",
    (
        "onnx.ops",
        'linear = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(count, "linear"): 1 -> 2',
    ): "1-D: the default of .get is linear too",
    (
        "onnx.ops",
        'linear = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(count, "linear"): 1 -> 0',
    ): "1-D: the default of .get is linear too",
    (
        "onnx.ops",
        '"padding": _padding(importer, node, count, allow_same=False)[0],: False -> True',
    ): "ConvTranspose refuses every auto_pad but VALID before: same padding is never asked for",
    ("onnx.ops", "if node.inputs[1] in importer.model.initializers:: 1 -> 0"): (
        "a Conv's input is never an initializer there (a Conv of constants alone is folded before its handler, one "
        "whose weight is none refused before gain), so the mutant asks take() of every weight: an initializer's is "
        "counted already, by shared() just before (0)"
    ),
    ("onnx.ops", 'keep = bool(node.attributes.get("keepdims", 1)): 1 -> 2'): "only its truth is read: 2 keeps as 1",
    (
        "onnx.ops",
        'if node.op_type == "ReduceMean" and len(held) >= 3 and chosen == list(range(2, len(held))):: 3 -> 2',
    ): "a flat [N, F] has no spatial axis: range(2, 2) is empty, and chosen, of the axes given (some), never is",
    **dict.fromkeys(
        [
            ("torch.tensors", "return dim if dim < found.batch_axis else dim - 1: < -> <= (comparison 1)"),
            ("torch.tensors", "batch = found.batch_axis - (dim < found.batch_axis): < -> <= (comparison 1)"),
            (
                "torch.tensors",
                "dims = tuple(axis if axis < batch else axis - 1 for axis in perm if axis != batch): < -> <= "
                "(comparison 1)",
            ),
        ],
        "they differ only where dim is the batch's axis, which _axis refused (and the comprehension left out) before",
    ),
    **dict.fromkeys(
        [
            (
                "torch.tensors",
                "if found is None or not -source.shape[dim] <= index < source.shape[dim]:: or -> and",
            ),
            (
                "torch.tensors",
                "if found is None or not -source.shape[dim] <= index < source.shape[dim]:: < -> <= (comparison 2)",
            ),
            (
                "torch.tensors",
                "if len(source.shape) == 3 and dim % 3 == 2 and -length <= index < length and importer.layout(source) "
                '== "first":: < -> <= (comparison 2)',
            ),
        ],
        "an index out of range: torch's select raises IndexError, so no trace holds one (and _axis refused a tensor "
        "that is no activation before)",
    ),
    **dict.fromkeys(
        [
            (
                "torch.tensors",
                'elif rank >= 3 and layout == "first" and found is not None and not found.batch_axis and '
                "perm == to_last:: 3 -> 2",
            ),
            ("torch.tensors", 'elif rank >= 3 and layout == "last" and perm == to_first:: 3 -> 2'),
        ],
        "at rank 2, to_last and to_first are (0, 1): the identity, made no layer by the branch before",
    ),
    ("torch.tensors", "first, second = (int(d) % rank for d in event.args[1:3]): 3 -> 4"): (
        "transpose(x, dim0, dim1) has exactly three arguments"
    ),
    ("torch.tensors", 'dim = int(importer.arg(event, 1, "dim", 0)) % len(parts[-1].shape): 1 -> 0'): (
        "parts[-1] -> parts[-0], the first: every tensor cat joins has one rank (the other 1 -> 0, the argument's "
        "position, is killed)"
    ),
    ("torch.tensors", 'dim = int(importer.arg(event, 2, "dim", 0)) % len(source.shape): 0 -> 1'): (
        "split without dim splits the batch: read over dim 1 instead, each part holds all C channels, so the first "
        "is all of the source and the second starts past its end, refused as the batch is (one part: all of it "
        "either way); the op is opaque alike"
    ),
    **dict.fromkeys(
        [
            ("torch.tensors", '"_scaled_dot_product_flash_attention_for_cpu": (-1, "attn_mask"),: 1 -> 2'),
            ("torch.tensors", '"_scaled_dot_product_flash_attention": (-1, "attn_mask"),: 1 -> 2'),
            (
                "torch.tensors",
                "mask = importer.arg(event, position, keyword) if position >= 0 else event.kwargs.get(keyword): >= -> "
                "> (comparison 1)",
            ),
            (
                "torch.tensors",
                "mask = importer.arg(event, position, keyword) if position >= 0 else event.kwargs.get(keyword): 0 -> 1",
            ),
        ],
        "the mask's positions are 3 or -1 (keyword only): -2 is keyword only too, and no position is 0",
    ),
    **dict.fromkeys(
        [
            ("torch.tensors", 'if layout == "last" and len(sizes) > 1:: > -> >= (comparison 1)'),
            ("torch.tensors", 'if layout == "last" and len(sizes) > 1:: 1 -> 0'),
        ],
        "a constant of one size, its last moved first, is itself",
    ),
    **dict.fromkeys(
        [
            ("torch.ops", "kernel = _axes(event.args[1], count, 1): 1 -> 2"),
            ("torch.ops", "kernel = _axes(event.args[1], count, 1): 1 -> 0"),
            ("torch.ops", "output = _axes(event.args[1], count, 1): 1 -> 2"),
            ("torch.ops", "output = _axes(event.args[1], count, 1): 1 -> 0"),
        ],
        (
            "the default of an empty size list: aten's pools require kernel_size and "
            "output_size, never empty (the other 1, the argument's position, is killed)"
        ),
    ),
    **dict.fromkeys(
        [
            ("torch.ops", '"stride": _axes(stride, count, 1) if stride else kernel,: 1 -> 2'),
            ("torch.ops", '"stride": _axes(stride, count, 1) if stride else kernel,: 1 -> 0'),
        ],
        "read only when stride is a list with values: the default is never used",
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                (
                    'low, high = importer.arg(event, 1, "min_val", -1.0), importer.arg(event, 2, '
                    "\"max_val\", 1.0): drop unary '-'"
                ),
            ),
        ],
        "hardtanh's default min_val (-1 or 1) is only compared with 0",
    ),
    **dict.fromkeys(
        [
            ("torch.ops", "pads += [0] * (2 * count - len(pads)): - -> +"),
            ("torch.ops", "pads += [0] * (2 * count - len(pads)): 2 -> 3"),
        ],
        "zeros past the 2 x count sides are never read",
    ),
    **dict.fromkeys(
        [
            ("torch.ops", "elif not 1 <= count <= 3:: 1 -> 0"),
        ],
        (
            "a pool of no spatial axis (an unbatched C x L read as [N, F]): every size per "
            "axis is empty, which the pool kinds refuse (a config error): opaque alike"
        ),
    ),
    **dict.fromkeys(
        [
            ("torch.ops", "elif not 1 <= count <= 3:: 3 -> 4"),
        ],
        "torch has no pool over 4 axes (max_pool3d, avg_pool3d the largest)",
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                (
                    'elif layout == "first" and len(shape) > 2 and out == (batch, '
                    "math.prod(shape[1:])):: > -> >= (comparison 1)"
                ),
            ),
            (
                "torch.ops",
                ('elif layout == "first" and len(shape) > 2 and out == (batch, math.prod(shape[1:])):: 2 -> 1'),
            ),
            (
                "torch.ops",
                (
                    'elif layout == "first" and len(shape) > 2 and out == (math.prod(shape[:-1]), '
                    "shape[-1]):  # tokens' rows: > -> >= (comparison 1)"
                ),
            ),
            (
                "torch.ops",
                (
                    'elif layout == "first" and len(shape) > 2 and out == (math.prod(shape[:-1]), '
                    "shape[-1]):  # tokens' rows: 2 -> 1"
                ),
            ),
            (
                "torch.ops",
                (
                    'elif layout == "rows" and len(out) > 2 and out[-1] == shape[-1] and '
                    "math.prod(out[:-1]) == shape[0]:: > -> >= (comparison 1)"
                ),
            ),
            (
                "torch.ops",
                (
                    'elif layout == "rows" and len(out) > 2 and out[-1] == shape[-1] and '
                    "math.prod(out[:-1]) == shape[0]:: 2 -> 1"
                ),
            ),
        ],
        ("at rank 2 the shape these compare with is the source's own, aliased by the first branch"),
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                (
                    'elif layout == "rows" and len(out) > 2 and out[-1] == shape[-1] and '
                    "math.prod(out[:-1]) == shape[0]:: drop unary '-'"
                ),
            ),
        ],
        ("rows are [R, C]: shape[1] is shape[-1] (out[1] and out[:1], the other two, are killed)"),
    ),
    **dict.fromkeys(
        [
            ("torch.ops", 'arg(event, 8, "groups", 1),: 1 -> 2'),
            ("torch.ops", 'arg(event, 8, "groups", 1),: 1 -> 0'),
        ],
        "convolution and _convolution take groups as a required argument (position 8)",
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                (
                    "bias, (source, weight) = (event.args[0], event.args[1:3]) if event.op == "
                    '"addmm" else (None, event.args[:2]): 3 -> 4'
                ),
            ),
            (
                "torch.ops",
                (
                    "bias, (source, weight) = (event.args[0], event.args[1:3]) if event.op == "
                    '"addmm" else (None, event.args[:2]): 2 -> 3'
                ),
            ),
        ],
        "addmm has three positional arguments, mm two (beta and alpha are keywords)",
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                (
                    "bias, (source, weight) = (event.args[0], event.args[1:3]) if event.op == "
                    '"addmm" else (None, event.args[:2]): 0 -> 1'
                ),
            ),
        ],
        ("addmm's bias (args[0]) and input (args[1]) are both tensors: there is a bias either way"),
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                ("_linear(importer, event, source, _weight(importer, weight)[-1], bias is not None): drop unary '-'"),
            ),
        ],
        "mm's weight is 2-D: [1] is [-1]",
    ),
    **dict.fromkeys(
        [
            ("torch.ops", "momentum = [a for a in event.args[5:] if isinstance(a, float)]: 5 -> 4"),
        ],
        "args[4] is running_var, a tensor or None, never a float",
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                (
                    'config = {"affine": event.args[1] is not None, "eps": eps, "momentum": '
                    "momentum[0] if len(momentum) > 1 else 0.1}: 1 -> 2"
                ),
            ),
            ("torch.ops", "groups, weight, eps = event.args[6], event.args[1], event.args[7]: 1 -> 2"),
            (
                "torch.ops",
                (
                    'groups, weight, eps = event.args[1], importer.arg(event, 2, "weight"), '
                    'importer.arg(event, 4, "eps", 1e-5): 2 -> 3'
                ),
            ),
        ],
        (
            "nn.BatchNorm and nn.GroupNorm have a weight and a bias both or neither "
            "(affine): the bias says the same (the other 1 -> 2 of the batch norm's line, "
            "len(momentum) > 2, is killed)"
        ),
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                ('linear = {1: "linear", 2: "bilinear", 3: "trilinear"}[count] if 1 <= count <= 3 else "": 1 -> 0'),
            ),
            (
                "torch.ops",
                ('linear = {1: "linear", 2: "bilinear", 3: "trilinear"}[count] if 1 <= count <= 3 else "": 3 -> 4'),
            ),
        ],
        (
            "a count of 0 or 4 then looks up a key the table lacks: a KeyError, opaque as "
            "the empty mode is (the key mutants of the table are killed)"
        ),
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                (
                    "if len(pads) % 2 or not 1 <= count <= 3 or len(pads) > 2 * count or any(p < 0 "
                    "for p in pads):: 2 -> 1"
                ),
            ),
        ],
        ("len(pads) % 1: torch refuses an odd pad list (2 * count -> 1 * count, the other, is killed)"),
    ),
    **dict.fromkeys(
        [
            (
                "torch.ops",
                (
                    "if len(pads) % 2 or not 1 <= count <= 3 or len(pads) > 2 * count or any(p < 0 "
                    "for p in pads):: 3 -> 4"
                ),
            ),
        ],
        ("the pad kind refuses a map of 4 spatial axes before any shape (a config error): opaque alike"),
    ),
    **dict.fromkeys(
        [
            ("torch.ops", "scale = tuple(o // i for o, i in zip(after, before, strict=True)): True -> False"),
            (
                "torch.ops",
                ("exact = all(o == i * s for o, i, s in zip(after, before, scale, strict=True)): True -> False"),
            ),
        ],
        "before and after are both the spatial sizes of one rank",
    ),
    **dict.fromkeys(
        [
            ("torch.ops", 'elif layout in ("first", "last") and len(out) >= 2 and out[0] == batch:: 2 -> 1'),
        ],
        ("a view to [N] keeping the batch first has one value per sample, held as [N, 1] by the branch before"),
    ),
    (
        "onnx.patterns",
        'kernel = importer.integers(node, "kernel_shape", None, 0) if node.op_type == "AveragePool" else (): 0 -> 1',
    ): "with no count (None) a missing attribute is (): the default fills no axis",
    ("onnx.tensors", "rank = len(importer.shapes[sources[1]]): 1 -> 0"): (
        "an Einsum's operands have as many axes (its equation's letters for each, checked equal) and are held alike "
        "(both with every axis, or both without the batch's): the first's rank is the second's"
    ),
    ("onnx.tensors", "aligned = enumerate(zip(wanted, dims[offset:], strict=True), start=offset): True -> False"): (
        "dims[offset:] has len(wanted) sizes, offset >= 0 checked before"
    ),
    ("onnx.importer", "self.index = 0: 0 -> 1"): (
        "build_graph sets it (check_graph's loop, then the read loop) before any location is asked for"
    ),
    **dict.fromkeys(
        [
            ("onnx.importer", "self.batch = 1  # the batch the file holds (its input's first size): 1 -> 2"),
            ("onnx.importer", "self.batch = 1  # the batch the file holds (its input's first size): 1 -> 0"),
        ],
        "build_graph sets it from the input's first size before any node is read",
    ),
    **dict.fromkeys(
        [
            ("onnx.importer", "1,  # a column, never printed for a node: 1 -> 2"),
            ("onnx.importer", "1,  # a column, never printed for a node: 1 -> 0"),
        ],
        "a node's location prints its index, name and op type, never a column; JSON gives its line only",
    ),
    **dict.fromkeys(
        [
            ("onnx.importer", "stated = (1, *stated): 1 -> 2"),
            ("onnx.importer", "stated = (1, *stated): 1 -> 0"),
        ],
        "only stated[1:] and the length are read after it: the first size stands for the batch's axis",
    ),
    (
        "onnx.importer",
        "if all(not isinstance(s, int) or s == d for s, d in zip(stated[1:], shape, strict=True)):: True -> False",
    ): "len(stated) == len(shape) + 1 was checked on the line before: zip's inputs are of one length",
    (
        "onnx.importer",
        "return sum(self.readers.get(tensor, 0) for tensor in self.tensors_of.get(name, ())) == 1: 0 -> 1",
    ): (
        "a node's tensors beyond its first are aliases made by nodes that read one of them, and the node asking reads"
        " one too: where a tensor no node reads is among them, the sum is 2 or more either way"
    ),
    **dict.fromkeys(
        [
            ("onnx.constants", "return quotient if (a < 0) == (b < 0) else -quotient: 0 -> 1"),
            ("onnx.constants", "return quotient if (a < 0) == (b < 0) else -quotient: < -> <= (comparison 1)"),
        ],
        "they differ at a = 0, whose quotient is 0 either way (-0 is 0 for integers), or at b = 0, refused before",
    ),
    **dict.fromkeys(
        [
            ("onnx.constants", "return -left if fmod and a < 0 else left: 0 -> 1"),
            ("onnx.constants", "return -left if fmod and a < 0 else left: < -> <= (comparison 1)"),
        ],
        "they differ at a = 0 only (integers), whose remainder is 0 either way (-0 is 0)",
    ),
    **dict.fromkeys(
        [
            ("onnx.constants", "return pow(a, b, 1 << 64): 64 -> 65"),
            ("onnx.constants", "return pow(a, b, 1 << 64): 1 -> 2"),
        ],
        "the power is wrapped modulo 2^64 after (_wrap): modulo 2^65 first changes nothing",
    ),
    (
        "onnx.constants",
        "return [values[sum(k * s for k, s in zip(where(i), strides, strict=True))] for i in _indices(dims)]:"
        " True -> False",
    ): "where(i) gives one index per axis of the source: as many as its strides",
    ("onnx.constants", "rank = max((len(shape) for shape in shapes), default=0): 0 -> 1"): (
        "broadcast is always given a shape or more"
    ),
    (
        "onnx.constants",
        "picked = at[sum(k * s for k, s in zip(i[axis : axis + taken], strides, strict=True))]: True -> False",
    ): "an output index has the indices' taken axes from axis on: as many as their strides",
    ("onnx.constants", "for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):: True -> False"): (
        "their lengths were checked equal on the line before"
    ),
    (
        "onnx.constants",
        "return _make(dims, lambda: _pick(data, dims, lambda i: [r[k] for r, k in zip(kept, i, strict=True)]), data):"
        " True -> False",
    ): "kept has one range per axis of data, and an index of dims one number per axis",
    ("onnx.constants", "if len(values) == 1:: 1 -> 0"): (
        "a shortcut: _pick gives one value at every index too, and no values where an axis of 0 leaves no index"
    ),
    **dict.fromkeys(
        [
            ("onnx.constants", "low = -1 if step < 0 else 0: < -> <= (comparison 1)"),
            ("onnx.constants", "low = -1 if step < 0 else 0: 0 -> 1"),
        ],
        "a step of 0 is refused on the line before: for a whole number, step < 1 and step <= 0 are step < 0 (the"
        " line's other 0 -> 1, low = 1, is killed)",
    ),
    (
        "onnx.constants",
        'keep = _attribute(node, "keepdims", 1): 1 -> 2',
    ): "only its truth is read: 2 keeps the axes as 1 does",
    ("onnx.constants", "data, indices = _given(inputs)[:2]: 2 -> 3"): (
        "validity.py admits a Gather of exactly 2 inputs before anything is folded"
    ),
    **dict.fromkeys(
        [
            ("onnx.constants", "for tensor in _given(inputs)[:3]:: 3 -> 4"),
            ("onnx.constants", "data, indices, updates = _given(inputs)[:3]: 3 -> 4"),
        ],
        "validity.py admits a Range or a ScatterND of exactly 3 inputs before anything is folded",
    ),
    **{
        ("passes.latency", f"channels: tuple[int, int, int] = (0, 0, 1): {change}"): (
            "a Work's channels are read only for the lane families (padded_flops) and grouped convs (their "
            "efficiency); every such Work gives its own (Node.work's convs and linears, microbench's conv and Gemm)"
        )
        for change in ("0 -> 1", "1 -> 2", "1 -> 0")
    },
    **{
        ("passes.latency", f"channels or (0, 0, 1),: {change}"): (
            "a node without weights is never of a lane family nor grouped: its channels are never read, only its "
            "groups divided by (1 -> 0 is killed)"
        )
        for change in ("0 -> 1", "1 -> 2")
    },
    (
        "passes.latency",
        'channels = (head.input_shapes[0][0], head.output_shape[0], head.config.get("groups", 1)) if weighted else'
        " None: 1 -> 2",
    ): "the default serves linears only, never of the grouped family: their groups are never read (0 is, killed)",
    ("passes.latency", "other = layer.input_shapes[1 - layer.inputs.index(source)]: 1 -> 0"): (
        "an add's inputs have one shape (kinds.merge refuses others): the source's elements are the other's"
    ),
    ("passes.latency", "if lanes <= 1 or work.family not in LANE_FAMILIES or not c_out:: <= -> < (comparison 1)"): (
        "one lane rounds every channel count to itself: factor 1.0, the FLOPs unchanged"
    ),
    ("passes.latency", "if lanes <= 1 or work.family not in LANE_FAMILIES or not c_out:: 1 -> 0"): (
        "one lane rounds every channel count to itself: factor 1.0, the FLOPs unchanged"
    ),
    (
        "passes.latency",
        'factor = up(c_out) if work.family == "depthwise" else up(c_out) * (up(c_in) if c_in >= lanes else 1.0):'
        " >= -> > (comparison 1)",
    ): "at c_in == lanes, rounding c_in up to the lanes is the identity: factor 1.0 either way",
    ("passes.latency", "for node, work in zip(nodes, works, strict=True):: True -> False"): (
        "works is made from nodes, one per node"
    ),
    (
        "spec.shapes",
        "replace(self.network, nodes=tuple(self.nodes[: self.done + 1]), output=failing.name, more_outputs=()): 1 -> 2",
    ): "the engine runs the nodes in order and raises at the failing one: a node after it is never evaluated",
    **{
        ("passes.patches", f"if best is not None and (bounds[index], index) > best[:2]:: {change}"): (
            "no two candidates share an index: (bound, index) never equals (peak, index) of the best, and the "
            "comparison ends within the first two items"
        )
        for change in ("> -> >= (comparison 1)", "2 -> 3")
    },
    **{
        ("passes.patches", f"if best is None or (plan.peak, index) < best[:2]:: {change}"): (
            "no two candidates share an index: the comparison ends within the first two items, never equal"
        )
        for change in ("< -> <= (comparison 1)", "2 -> 3")
    },
    ("passes.patches", "break: break -> continue"): (
        "the candidates are sorted by (bound, index): every later one fails the same test, and none is evaluated"
    ),
    (
        "passes.patches",
        "sources = dict(zip((self.plan.alias[name] for name in split.inputs), split.input_shapes, strict=True)):"
        " True -> False",
    ): "a layer has one input shape per input",
    ("passes.patches", "for source, shape in zip(step.inputs, step.input_shapes, strict=True):: True -> False"): (
        "a layer has one input shape per input"
    ),
    ("passes.patches", "for at in range(index, -1, -1):: 1 -> 2"): (
        "the extra step at -1 is the last one: the split again (the same demands, the same hull) or a step after "
        "it, which needs no region (None: the hull unchanged)"
    ),
    ("passes.patches", "best: tuple[list[int], Grid] = ([], (0, 0)): 0 -> 1"): (
        "the first pattern replaces the initial patch whatever it is (best[0] is empty)"
    ),
    (
        "passes.patches",
        "return (0, 1) if size == 1 < output[axis + 1] else region  # a size-1 input broadcasts: < -> <= (comparison"
        " 2)",
    ): "an output of size 1 has the one region (0, 1)",
    ("passes.patches", "if tiles and step.macs % (step.output_shape[1] * step.output_shape[2]):: 1 -> 0"): (
        "the kinds that run on tiles with MACs (convs, per-position linears) do C_out x C_in / groups x k MACs per "
        "position: C_out x W divides them as H x W does"
    ),
    (
        "passes.patches",
        "rest = max((step.live_bytes for step in self.deployment.steps[index + 1 :]), default=0): 0 -> 1",
    ): "the split's buffer, compared with it, is at least one byte",
    **{
        (
            "passes.patches",
            f"elif readers[step.name][-1] > (readers[worst][-1] if readers[worst] else -1):: {change}",
        ): (
            "the else is never taken: worst is the network's input, which the first step reads (every step's inputs "
            "lead back to it), or a step with readers (the elif runs only for those)"
        )
        for change in ("drop unary '-'", "1 -> 0", "1 -> 2")
    },
    **{
        ("conventions.rules", f"return 1, 1: {change}"): (
            "the kernel of a kind without one: only conv and pool rules read k_h and k_w, and those kinds all have a "
            "kernel"
        )
        for change in ("1 -> 2", "1 -> 0")
    },
    **{
        (
            "conventions.rules",
            f'groups=layer.config["groups"] if layer.type in ("conv", "conv_transpose") else 1,: {change}',
        ): "the groups of a kind without them: only the conv and transposed conv rules read groups"
        for change in ("1 -> 2", "1 -> 0")
    },
    ("conventions.counting", "return Tally(layer, 0, None, (), count.error): 0 -> 1"): (
        "a network with a layer the tool crashes on shows no count: recount raises, the conventions table shows the "
        "error"
    ),
    ("conventions.counting", "for mine, ours in zip(counting.layers, default.layers, strict=True):: True -> False"): (
        "both countings are of the same layers"
    ),
    ("conventions.counting", "continue: continue -> break"): (
        "only onnx-tool's rules crash, and it has one registry: no part follows"
    ),
    (
        "conventions.thop",
        "return sum(max(min(i * stride - pad + kernel, upper) - max(i * stride - pad, lower), 0) for i in range(out)):"
        " 0 -> 1",
    ): (
        "every window reads at least one input: PyTorch allows padding up to half the kernel, and with ceil_mode drops "
        "a last window that would start in the right padding"
    ),
    (
        "conventions.thop",
        "for suffix, n, o, k, step, p in zip(AXIS_SUFFIXES[len(size)], size, out, kernel, stride, pad, strict=True):"
        ": True -> False",
    ): "every list has one entry per spatial axis of the input",
    ("conventions.thop", "for suffix, n, o in zip(AXIS_SUFFIXES[len(size)], size, out, strict=True):: True -> False"): (
        "every list has one entry per spatial axis of the input"
    ),
    ("core.formula", "ADD, MUL, DIV, ATOM = 1, 2, 3, 4: 1 -> 0"): "only the order of the precedences matters",
    ("core.formula", "ADD, MUL, DIV, ATOM = 1, 2, 3, 4: 4 -> 5"): "only the order of the precedences matters",
    **dict.fromkeys(
        [
            ("spec.fold.blocks", "if len(use.copies) > 1:: > -> >= (comparison 1)"),
            ("spec.fold.blocks", "if len(use.copies) > 1:: 1 -> 0"),
        ],
        "a single copy's first values are its values: none differs from the block's defaults with its own (first "
        "stays empty)",
    ),
    ("spec.fold.blocks", "end += 1: 1 -> 0"): (
        "the loop after it compares the second copy with itself first, which always agrees: end passes it there"
    ),
    ("spec.fold.blocks", "for entry, base in zip(entries, bases, strict=True):: True -> False"): (
        "stripped() gives one name per entry"
    ),
    ("spec.fold.blocks", 'use.name = full.rsplit(".", 1)[-1]: 1 -> 2'): "the last part is the same however many split",
    **dict.fromkeys(
        [
            ("spec.fold.blocks", "for row, occurrence in zip(rows, occurrences, strict=True):: True -> False"),
            (
                "spec.fold.blocks",
                "if of == key and all(a is None or b is None or a == b for a, b in zip(values, column, strict=True)):"
                ": True -> False",
            ),
            (
                "spec.fold.blocks",
                "values[:] = [b if a is None else a for a, b in zip(values, column, strict=True)]: True -> False",
            ),
        ],
        "rows and columns hold one value per occurrence of the block",
    ),
    (
        "spec.fold.blocks",
        "for index, (item, parts) in enumerate(zip(items, stripped(own), strict=True)):: True -> False",
    ): "stripped() gives one name per entry",
    (
        "spec.fold.blocks",
        "self.parts = {node.name: parts for node, parts in zip(graph.nodes, runs.parts, strict=True)}: True -> False",
    ): "Runs makes its parts one per graph node",
    ("spec.fold.blocks", "for depth in range(len(here), common, -1):: 1 -> 2"): (
        "only a list of layers holds names: a reader's enclosing lists are every second scope from its own (a region "
        "adds its name and a path, a repeated instance its name and copy, a repeated projection's layer .0 after its "
        "name), but for a one-copy instance (its name alone), whose layers read nothing outside it (Runs.valid)"
    ),
    ("spec.fold.items", "MAX_REGIONS = (MAX_NESTING - 7) // 3: 7 -> 6"): "94 // 3 is 93 // 3: 31",
    ("spec.fold.items", "return bool(value) and all(type(item) is int for item in value): and -> or"): (
        "they differ for the empty tuple only, which no configuration holds: the catalogue's tuples are sizes per "
        "axis, shapes and permutations, and an empty permutation fits no input"
    ),
    ("spec.fold.items", "if start < end < stop:: < -> <= (comparison 1)"): (
        "a merge at start has no node between it and its fork: all its inputs are the fork, repeated, which paths() "
        "refuses"
    ),
    ("spec.fold.items", "elif start <= at < end:: < -> <= (comparison 2)"): "at == end: the merge reading itself",
    ("spec.fold.items", "for other in node.inputs[1:]:: 1 -> 0"): (
        "also compares the first input with itself, where the loop stops at once"
    ),
    ("spec.fold.items", "if self.position[fork] > self.position[other]:: > -> >= (comparison 1)"): (
        "positions are unique (the input's -1 too): equal ones are one node, where the loop has stopped"
    ),
    (
        "spec.fold.runs",
        "outside = frozenset(node for form in inner for node in form.outside if self.position[node] < first): < -> <="
        " (comparison 1)",
    ): (
        "a node at the region's first position is in every unit the region is in: valid(), the one reader of "
        "outside, refuses only nodes before the unit's first"
    ),
    **dict.fromkeys(
        [
            ("spec.fold.runs", "for index in range(len(forms) - 2, -1, -1):: 2 -> 3"),
            ("spec.fold.runs", "for index in range(len(forms) - 2, -1, -1):: 1 -> 2"),
        ],
        "alike is read only where the unit fits twice after it: a count that stops one short at the end (len - 2 "
        "left out) is still at least the period there, and an extra pass at -1 sets the last count, never read (the "
        "step -2 is killed)",
    ),
    (
        "spec.fold.runs",
        "self.shared = Counter(parts[:length] for parts in self.parts for length in range(1, len(parts) + 1)): 1 -> 0",
    ): "the empty prefix counted too: nothing asks for it (prefixes are looked up from one part on)",
    ("spec.fold.runs", "for parts in self.parts[first + 1 : last + 1]:: 1 -> 0"): (
        "from first + 0: the first node's parts against themselves, the common prefix unchanged (last + 0 is killed)"
    ),
    ("spec.fold.runs", "shortest = (common[:length] for length in range(1, len(common) + 1)): 1 -> 0"): (
        "the empty prefix first: never counted in shared, so never the answer"
    ),
    ("spec.fold.runs", "shortest = (common[:length] for length in range(1, len(common) + 1)): 1 -> 2"): (
        "up to len(common) + 1: one more candidate, common itself again (from 2 on is killed)"
    ),
    (
        "spec.fold.runs",
        "if any(o.loose != u.loose or o.tail not in (None, u.tail) for o, u in zip(other, unit, strict=True)):: "
        "True -> False",
    ): "other and unit are both period forms long (the loop fits a whole copy first)",
    ("spec.fold.runs", "count = 1: 1 -> 0"): (
        "the first pass compares the unit with itself: alike, and valid (checked just before), making count 1"
    ),
    ("spec.fold.runs", "best = (0, 0): 0 -> 1"): (
        "best's period is read only times its copies, 0 until a run is found (the other 0 -> 1 hangs: killed)"
    ),
    ("spec.fold.runs", "if best[1]:: 1 -> 0"): "best's period and copies are set together: both 0 or both above",
    ("spec.fold.runs", "return 0, 0: 0 -> 1"): (
        "the caller reads the unit's length only where copies is not 0 (the other 0 -> 1 hangs: killed)"
    ),
    ("torch.importer", "self.index = 0: 0 -> 1"): "imported() sets index to each event's before its handler runs",
    ("torch.importer", "if held > counted:: > -> >= (comparison 1)"): "graph() calls _held only where they differ",
    ("torch.importer", 'return [".".join(parts[:count]) for count in range(1, len(parts))]: 1 -> 0'): (
        "the prefix '' it adds is no instance: _instances leaves the root out"
    ),
    ("torch.importer", "self.side.update(ref.id for ref in event.outputs[1:]): 1 -> 0"): (
        "the result is in values, and skipped() reads side only for tensors not in values"
    ),
}

BINARY = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
BOOLEAN = {ast.And: ast.Or, ast.Or: ast.And}
SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
    ast.Div: "/",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.And: "and",
    ast.Or: "or",
}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # the index-th mutation point of the module, in ast.walk order
    choice: int  # which of that point's replacements
    line: int
    code: str  # the source line, stripped
    description: str

    @property
    def key(self) -> tuple[str, str]:
        """(module, "code: change"): what EQUIVALENT lists, unchanged when lines move."""
        return self.module, f"{self.code}: {self.description}"

    def __str__(self) -> str:
        return f"line {self.line}: {self.description}    {self.code}"


DATACLASS_FIELD_OPTIONS = {"repr", "compare", "hash", "kw_only"}
"""Keywords of ``dataclasses.field`` that say how a field is shown and compared, never what it holds."""


def skipped(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, `if TYPE_CHECKING:` blocks, decorators' arguments
    (``@dataclass(frozen=True, slots=True)``, ``@lru_cache(maxsize=...)``: memory layout, mutability, caching, not a
    value) and ``field(repr=False, compare=False)``'s options."""
    nodes: set[int] = set()

    def skip(node: ast.AST | None) -> None:
        if node is not None:
            nodes.update(id(child) for child in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                skip(decorator)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "field":
            for keyword in node.keywords:
                if keyword.arg in DATACLASS_FIELD_OPTIONS:
                    skip(keyword)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skip(node.returns)
            for argument in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                skip(argument.annotation)
        elif isinstance(node, ast.AnnAssign):
            skip(node.annotation)
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip(node)
    return nodes


def replacements(node: ast.AST) -> list[tuple[str, ast.AST | None]]:
    """(description, the node that replaces it; None for 'drop this operator') for each mutation of a node."""
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINARY:
        new = BINARY[type(node.op)]
        return [(f"{SYMBOLS[type(node.op)]} -> {SYMBOLS[new]}", new())]
    if isinstance(node, ast.Compare):
        return [
            (f"{SYMBOLS[type(op)]} -> {SYMBOLS[COMPARE[type(op)]]} (comparison {i + 1})", COMPARE[type(op)]())
            for i, op in enumerate(node.ops)
            if type(op) in COMPARE
        ]
    if isinstance(node, ast.BoolOp):
        new = BOOLEAN[type(node.op)]
        return [(f"{SYMBOLS[type(node.op)]} -> {SYMBOLS[new]}", new())]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        return [("drop unary '-'" if isinstance(node.op, ast.USub) else "drop 'not'", None)]
    if isinstance(node, ast.Constant) and type(node.value) is bool:
        return [(f"{node.value} -> {not node.value}", ast.Constant(not node.value))]
    if isinstance(node, ast.Constant) and type(node.value) is int:
        value = node.value
        found = [(f"{value} -> {value + 1}", ast.Constant(value + 1))]
        if value > 0:
            found.append((f"{value} -> {value - 1}", ast.Constant(value - 1)))
        return found
    if isinstance(node, ast.Continue):
        return [("continue -> break", ast.Break())]
    if isinstance(node, ast.Break):
        return [("break -> continue", ast.Continue())]
    return []


def points(tree: ast.Module) -> Iterator[ast.AST]:
    """The mutable nodes of a module, in a fixed order."""
    never = skipped(tree)
    for node in ast.walk(tree):
        if id(node) in never:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            continue
        if replacements(node):
            yield node


def mutants(module: str) -> list[Mutant]:
    path = REPO / TARGETS[module][0]
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for index, node in enumerate(points(ast.parse(text))):
        line = getattr(node, "lineno", 0)
        for choice, (description, _) in enumerate(replacements(node)):
            found.append(Mutant(module, index, choice, line, lines[line - 1].strip(), description))
    return found


def mutated_source(mutant: Mutant) -> str:
    path = REPO / TARGETS[mutant.module][0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    node = list(points(tree))[mutant.index]
    description, new = replacements(node)[mutant.choice]
    if isinstance(node, (ast.BinOp, ast.AugAssign, ast.BoolOp)):
        node.op = new  # type: ignore[assignment]
    elif isinstance(node, ast.Compare):
        position = [i for i, op in enumerate(node.ops) if type(op) in COMPARE][
            int(description.rsplit(" ", 1)[1][:-1]) - 1
        ]
        node.ops[position] = new  # type: ignore[call-overload]
    elif isinstance(node, ast.UnaryOp):
        replace(tree, node, node.operand)
    else:
        assert new is not None
        replace(tree, node, ast.copy_location(new, node))
    return ast.unparse(ast.fix_missing_locations(tree))


def replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                value[next(i for i, item in enumerate(value) if item is old)] = new
                return
    raise LookupError("node not found")


# --- running ----------------------------------------------------------------------------------------------------------

_workdir: Path | None = None


def _start_worker(base: Path) -> None:
    """Each worker: its own copy of the repository; pytest and the libraries imported once, before any fork."""
    global _workdir
    _workdir = Path(tempfile.mkdtemp(dir=base))
    for name in ("convcalc", "tests", "specs", "docs", "tools"):
        shutil.copytree(REPO / name, _workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, _workdir / name)
    import hypothesis  # noqa: F401
    import jsonschema  # noqa: F401
    import pytest  # noqa: F401
    import rich.console  # noqa: F401
    import typer  # noqa: F401
    import yaml  # noqa: F401


def run_tests(module: str, source: str | None, timeout: float = 600.0) -> bool:
    """True when the module's tests pass with this source (None: the original) in the worker's copy. The copy
    gets the original back afterwards: the next job may test another module's mutant, which must meet this module
    as it is (a worker that kept a layers mutant in place killed engine's equivalent mutants)."""
    assert _workdir is not None
    target = _workdir / TARGETS[module][0]
    original = (REPO / TARGETS[module][0]).read_text(encoding="utf-8")
    target.write_text(source if source is not None else original)
    try:
        return _run_child(module, timeout)
    finally:
        target.write_text(original)


def _run_child(module: str, timeout: float) -> bool:
    """Run the module's tests in a forked child on the worker's copy: whether they pass within ``timeout``."""
    assert _workdir is not None
    pid = os.fork()
    if pid == 0:  # the child: run the tests on the copy, exit with pytest's code
        code = 3
        try:
            os.chdir(_workdir)
            sys.path.insert(0, str(_workdir))
            sys.dont_write_bytecode = True
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            import pytest

            arguments = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *TARGETS[module][1]]
            # tmp_path under the copy, cleared by each run: pytest's own numbered directories are never cleaned up
            # after a child that ends with os._exit (its lock stays), and the ONNX tests write 190 MB a run
            arguments += ["--basetemp", str(_workdir / ".pytest-tmp")]
            code = int(pytest.main([a for a in arguments if a.endswith(".py") is False or (_workdir / a).exists()]))
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) == 0
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False  # a hang counts as killed


def _test(job: tuple[Mutant, float]) -> tuple[Mutant, bool]:
    """A mutant survives when its tests pass. One that runs out of time is tried again with RETRY_FACTOR times as
    long before it counts as a hang: on a loaded machine a slow run is not an infinite loop."""
    mutant, timeout = job
    started = time.monotonic()
    survived = run_tests(mutant.module, mutated_source(mutant), timeout)
    if not survived and time.monotonic() - started >= timeout:
        survived = run_tests(mutant.module, mutated_source(mutant), RETRY_FACTOR * timeout)
    return mutant, survived


def _timed(module: str) -> float:
    """Seconds the original's tests take (a failure is fatal: fix the tests first)."""
    started = time.monotonic()
    if not run_tests(module, None):
        raise SystemExit(f"{module}: the tests fail without any mutation; fix them first")
    return time.monotonic() - started


def selects(target: str) -> Callable[[str], bool]:
    """Whether a name given on the command line selects ``target``: the target itself, or a prefix of it at a dot
    (`kinds`: every module of convcalc/kinds/; `kinds.tensor` is that module alone, not also `kinds.tensorops`)."""
    return lambda name: target == name or target.startswith(name + ".")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument(
        "--retest",
        type=Path,
        help="test only the mutants a run's output FILE lists as 'survived: ...' (after tests were added)",
    )
    options = parser.parse_args()
    unknown = [name for name in options.modules if not any(selects(target)(name) for target in TARGETS)]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    modules = [target for target in TARGETS if not options.modules or any(map(selects(target), options.modules))]
    if options.list:
        for module in modules:
            for mutant in mutants(module):
                print(f"{mutant.module}: {mutant}")
        return 0
    all_mutants = [mutant for module in modules for mutant in mutants(module)]
    if options.retest:
        listed = set(options.retest.read_text(encoding="utf-8").splitlines())
        all_mutants = [mutant for mutant in all_mutants if f"survived: {mutant.module}: {mutant}" in listed]
    base = Path(tempfile.mkdtemp(prefix="convcalc-mutate-"))
    try:
        with Pool(options.jobs, initializer=_start_worker, initargs=(base,)) as pool:
            timeouts = {module: TIMEOUT_FACTOR * pool.apply(_timed, (module,)) + 3 for module in modules}
            started = time.monotonic()
            results = []
            jobs = [(mutant, timeouts[mutant.module]) for mutant in all_mutants]
            for result in pool.imap_unordered(_test, jobs):
                results.append(result)
                if result[1] and result[0].key not in EQUIVALENT:  # as it happens: work on it while the rest run
                    print(f"survived: {result[0].module}: {result[0]}", file=sys.stderr, flush=True)
                if len(results) % 50 == 0:
                    print(f"{len(results)} of {len(jobs)} mutants tested", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    failed = False
    for module in modules:
        mine = sorted(
            ((mutant, survived) for mutant, survived in results if mutant.module == module),
            key=lambda item: (item[0].line, item[0].index, item[0].choice),
        )
        if not mine:  # --retest: none of this module's
            continue
        survivors = [mutant for mutant, survived in mine if survived]
        equivalent = [mutant for mutant in survivors if mutant.key in EQUIVALENT]
        alive = [mutant for mutant in survivors if mutant.key not in EQUIVALENT]
        killed = len(mine) - len(survivors)
        score = 100 * (killed + len(equivalent)) / len(mine)
        print(
            f"{module}: {len(mine)} mutants, {killed} killed, {len(equivalent)} equivalent, {len(alive)} surviving:"
            f" {100 * killed / len(mine):.1f}% killed, {score:.1f}% with the equivalent ones"
        )
        for mutant in equivalent:
            print(f"  equivalent  {mutant}\n              ({EQUIVALENT[mutant.key]})")
        for mutant in alive:
            print(f"  SURVIVED    {mutant}")
        failed = failed or bool(alive)
    print(f"{len(all_mutants)} mutants in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
