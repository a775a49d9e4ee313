"""Record what the real FLOP counters print for the torch equivalents of the bundled specs (issue 15's fixture).

Runs fvcore, ptflops, thop, ultralytics-thop, torchinfo and torch.utils.flop_counter on every bundled spec at its own
input size, and on resnet50 and mobilenet_v2 at 1024x1024, batch 1, eval mode, CPU, and writes one JSON file per tool
to tests/data/peers/ (TOOL.json): the tool's version and torch's, and per network the total and the number of every
leaf module, as the tool reports them; then convcalc/passes/conventions/versions.py, every recording's version (the
conventions name them from there). Where a tool crashes or cannot count a network the entry holds
``{"error": {"type": ..., "message": first line}}`` instead of numbers.

Networks (tools/peer_models.py): the specs that are torchvision's networks run as torchvision's own modules
(entry ``"SPEC@HxW"``, modules keyed by torchvision's names) *and* as ``convcalc export --to pytorch``
(``"SPEC@HxW/export"``); every other spec runs as its export only (``"SPEC@HxW"``). Export entries key their modules by
the convcalc layer name (``CONVCALC_NAMES``; a module inside a layer's module after it: ``downsample1.norm.norm``).
Each entry says which model it ran (``"model"``). An entry holds only what the tool printed: a re-record on the same
versions writes the same bytes (each run's time is printed, not recorded).

Set up (never needed by convcalc or its tests; the global Python stays torch-free), from the checkout: a virtual
environment with the ``peers`` extra, at ``.venv-peers/`` unless PEERS_VENV names another (git ignores
``.venv-peers/``), and torchvision's model definitions from its unpacked wheel (tools/peer_models.py: TVSRC, and
PEERS_TVMODELS for the folder of tvmodels.py):

    PEERS_VENV=${PEERS_VENV:-.venv-peers}
    python -m venv "$PEERS_VENV" && "$PEERS_VENV"/bin/pip install -e '.[peers]'
    pip download --no-deps -d .peers-tv torchvision==0.28.0
    python -m zipfile -e .peers-tv/torchvision-0.28.0-*.whl .peers-tv/tv
    TVSRC=.peers-tv/tv/torchvision PEERS_TVMODELS=... "$PEERS_VENV"/bin/python tools/record_peers.py

thop 0.1.1 (``thop``) and ultralytics-thop (``ultralytics_thop``) are both ``import thop``: install ultralytics-thop
beside the environment and put it first on PYTHONPATH for its recording only (the recorder checks that the ``thop`` it
imports is the distribution it records, and stops otherwise):

    "$PEERS_VENV"/bin/pip install --no-deps --target .peers-uthop ultralytics-thop==2.2.3
    PYTHONPATH=.peers-uthop:. TVSRC=... PEERS_TVMODELS=... "$PEERS_VENV"/bin/python tools/record_peers.py \
        --tools ultralytics_thop

``--only resnet50 --tools fvcore`` re-records a part and keeps the rest of the files. Without TVSRC only the exports
run. What each tool's numbers mean is in docs/peer-rules.md.

Per tool, per entry:
- fvcore: ``FlopCountAnalysis(model, x)``: ``total`` (``.total()``, multiply-adds though fvcore calls them flops),
  ``modules`` (``.by_module()`` of leaf modules), ``by_operator``, ``unsupported_ops`` (ops it skipped, with counts).
- ptflops: ``get_model_complexity_info(model, (C, H, W), as_strings=False)``, pytorch backend (its default):
  ``total`` MACs, ``params``, ``modules`` (the per-layer table's module hook counts), ``functional`` (what its patched
  ``torch.nn.functional``/tensor ops added to the total, attributed here to the leaf module that was running, ``""``
  outside any leaf: these are in the total but in no row of its table).
- thop: ``profile(model, inputs=(x,), ret_layer_info=True)``: ``total`` ops (MACs), ``params``, ``modules``.
- ultralytics_thop: the same call: ``total``, ``params``, ``modules`` (from its per-layer tree: every leaf module's
  ops, and any other module's own, its children's left out, where it has some: nn.MultiheadAttention's),
  ``functional`` (what its TorchFunctionMode counted, matmul, F.linear, scaled_dot_product_attention run outside a
  counted module, attributed here to the innermost module running, ``""`` outside every module: in the total, in no
  node of its tree).
- torchinfo: ``summary(model, input_size=(1, C, H, W))``: ``total`` (``total_mult_adds``), ``params``
  (``total_params``), ``modules`` (mult-adds per leaf module, summed over calls), ``module_params``.
- flop_counter: ``torch.utils.flop_counter.FlopCounterMode``: ``total`` FLOPs (``get_total_flops()``, 2 per
  multiply-add), ``by_operator``, ``modules`` (``get_flop_counts()`` of each leaf module, and of any other module
  its own FLOPs, its submodules' left out, where it has some: an attention module's products).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peer_models

OUT = peer_models.REPO / "tests" / "data" / "peers"
LARGE = {"resnet50": [3, 1024, 1024], "mobilenet_v2": [3, 1024, 1024]}
"""Specs also recorded at 1024x1024."""

TOOLS = ("fvcore", "ptflops", "thop", "ultralytics_thop", "torchinfo", "flop_counter")
DISTRIBUTIONS = {
    "fvcore": "fvcore",
    "ptflops": "ptflops",
    "thop": "thop",
    "ultralytics_thop": "ultralytics-thop",
    "torchinfo": "torchinfo",
}
"""Each tool's distribution, whose version the recording names (flop_counter's is torch's)."""
IMPORTS = {"ultralytics_thop": "thop"}
"""The module a tool is imported as, where it is not the distribution's name: ultralytics-thop is ``import thop``."""


def number(value: Any) -> int | float:
    """An int where the tool's number is whole (thop and ptflops compute in floats), else the float."""
    value = float(value)
    return int(value) if value.is_integer() else value


def error(exc: BaseException) -> dict[str, Any]:
    lines = str(exc).strip().splitlines()
    return {"error": {"type": type(exc).__name__, "message": lines[0] if lines else ""}}


def leaf_names(model: Any) -> dict[int, str]:
    """id(module) -> qualified name of every leaf module (a module reached by two names keeps the first)."""
    names: dict[int, str] = {}
    for name, module in model.named_modules():
        if not any(module.children()):
            names.setdefault(id(module), name)
    return names


def rename(values: dict[str, Any], names: dict[str, str] | None) -> dict[str, Any]:
    """Module names -> convcalc layer names for an export: its submodules are flat attributes, each a layer; a module
    inside one (LayerNorm2d's ``norm``) keeps its own name after the layer's: ``downsample1.norm.norm``."""
    if names is None:
        return values

    def renamed(key: str) -> str:
        attribute, dot, inside = key.partition(".")
        return names.get(attribute, attribute) + dot + inside

    return {renamed(key): value for key, value in values.items()}


# --- the tools ---------------------------------------------------------------------------------------------------


def run_fvcore(model: Any, x: Any) -> dict[str, Any]:
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    total = analysis.total()
    by_module = analysis.by_module()
    leaves = set(leaf_names(model).values())
    return {
        "total": number(total),
        "modules": {name: number(by_module.get(name, 0)) for name in sorted(leaves)},
        "by_operator": {op: number(count) for op, count in sorted(analysis.by_operator().items())},
        "unsupported_ops": dict(sorted(analysis.unsupported_ops().items())),
    }


def run_ptflops(model: Any, x: Any) -> dict[str, Any]:
    import torch
    from ptflops import get_model_complexity_info
    from ptflops import pytorch_engine as engine

    names = leaf_names(model)
    stack: list[Any] = []
    functional: dict[str, int] = {}
    table: dict[str, int] = {}

    def pre(module: Any, args: Any) -> None:
        stack.append(module)

    def post(module: Any, args: Any, output: Any) -> None:
        stack.pop()

    original_call = engine.torch_function_wrapper.__call__
    original_print = engine.print_model_with_flops

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        """ptflops' own wrapper, unchanged; only notes which leaf module was running when it counted."""
        before = len(self.collector)
        result = original_call(self, *args, **kwargs)
        owner = next((names[id(m)] for m in reversed(stack) if id(m) in names), "")
        for flops in self.collector[before:]:
            functional[owner] = functional.get(owner, 0) + int(flops)
        return result

    def capture(flops_model: Any, *args: Any, **kwargs: Any) -> None:
        """Instead of printing the per-layer table: read the numbers it would print (module hooks, per sample)."""
        batches = flops_model.__batch_counter__
        for module in flops_model.modules():
            if id(module) in names and engine.is_supported_instance(module):
                table[names[id(module)]] = module.__flops__ / batches

    hooks = [
        torch.nn.modules.module.register_module_forward_pre_hook(pre),
        torch.nn.modules.module.register_module_forward_hook(post),
    ]
    engine.torch_function_wrapper.__call__ = call
    engine.print_model_with_flops = capture
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            macs, params = get_model_complexity_info(
                model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=True, ost=printed
            )
    finally:
        engine.torch_function_wrapper.__call__ = original_call
        engine.print_model_with_flops = original_print
        for hook in hooks:
            hook.remove()
    if macs is None:  # ptflops catches the exception, prints it and returns None
        text = printed.getvalue()
        marker = "the following exception: \n"
        line = text.split(marker, 1)[1].splitlines()[0] if marker in text else text.strip().splitlines()[0]
        kind, _, message = line.partition(": ")
        return {
            "error": {"type": kind.removeprefix("<class '").removesuffix("'>").rsplit(".", 1)[-1], "message": message}
        }
    modules = {name: number(table.get(name, 0)) for name in sorted(set(names.values()))}
    return {
        "total": number(macs),
        "params": number(params),
        "modules": modules,
        "functional": dict(sorted(functional.items())),
    }


def run_thop(model: Any, x: Any) -> dict[str, Any]:
    from thop import profile

    with contextlib.redirect_stdout(io.StringIO()):
        ops, params, tree = profile(model, inputs=(x,), verbose=False, ret_layer_info=True)
    modules: dict[str, int | float] = {}

    def walk(prefix: str, children: dict[str, Any]) -> None:
        for name, (child_ops, _child_params, grandchildren) in children.items():
            qualified = f"{prefix}{name}"
            if grandchildren:
                walk(qualified + ".", grandchildren)
            else:
                modules[qualified] = number(child_ops)

    walk("", tree)
    return {"total": number(ops), "params": number(params), "modules": dict(sorted(modules.items()))}


def run_torchinfo(model: Any, x: Any) -> dict[str, Any]:
    from torchinfo import summary

    names = leaf_names(model)
    stats = summary(model, input_size=tuple(x.shape), verbose=0, depth=100, col_names=("num_params", "mult_adds"))
    modules: dict[str, int] = {}
    module_params: dict[str, int] = {}
    for layer in stats.summary_list:
        if layer.is_leaf_layer and id(layer.module) in names:
            name = names[id(layer.module)]
            modules[name] = modules.get(name, 0) + int(layer.macs)
            module_params[name] = max(int(layer.num_params), 0)
    return {
        "total": number(stats.total_mult_adds),
        "params": number(stats.total_params),
        "modules": dict(sorted(modules.items())),
        "module_params": dict(sorted(module_params.items())),
    }


def run_flop_counter(model: Any, x: Any) -> dict[str, Any]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    leaves = set(leaf_names(model).values())
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    by_operator: dict[str, int] = {}
    inclusive: dict[str, int] = {}  # each module's FLOPs, its submodules' included (as FlopCounterMode keeps them)
    for key, counts in counter.get_flop_counts().items():
        if key == "Global":
            by_operator = {str(op): int(count) for op, count in counts.items()}
        else:  # "ResNet.layer1.0.conv1" -> "layer1.0.conv1"; the root -> ""
            inclusive[key.partition(".")[2]] = int(sum(counts.values()))
    modules = dict.fromkeys(sorted(leaves), 0)
    for name, flops in inclusive.items():  # a module's own: less its direct submodules' (an attention's products)
        children = [other for other in inclusive if other.rpartition(".")[0] == name and other != name]
        own = flops - sum(inclusive[child] for child in children)
        if name in leaves or (name and own):
            modules[name] = own
    return {
        "total": int(counter.get_total_flops()),
        "by_operator": dict(sorted(by_operator.items())),
        "modules": modules,
    }


def run_ultralytics_thop(model: Any, x: Any) -> dict[str, Any]:
    import torch
    from thop import profile

    counter = sys.modules["thop.profile"]
    names = {id(module): name for name, module in reversed(list(model.named_modules()))}  # first name wins
    stack: list[Any] = []
    functional: dict[str, int | float] = {}
    originals = dict(counter.functional_hooks)

    def attributed(rule: Callable[..., Any]) -> Callable[..., Any]:
        """Its own rule, unchanged (called only where it counts); notes which module was running."""

        def count(args: Any, kwargs: Any, y: Any) -> Any:
            ops = rule(args, kwargs, y)
            owner = next((names[id(m)] for m in reversed(stack) if id(m) in names), "")
            functional[owner] = number(functional.get(owner, 0) + ops)
            return ops

        return count

    def pre(module: Any, args: Any) -> None:
        stack.append(module)

    def post(module: Any, args: Any, output: Any) -> None:
        stack.pop()

    hooks = [
        torch.nn.modules.module.register_module_forward_pre_hook(pre),
        torch.nn.modules.module.register_module_forward_hook(post),
    ]
    counter.functional_hooks.update({func: attributed(rule) for func, rule in originals.items()})
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            ops, params, tree = profile(model, inputs=(x,), verbose=False, ret_layer_info=True)
    finally:
        counter.functional_hooks.update(originals)
        for hook in hooks:
            hook.remove()
    modules: dict[str, int | float] = {}

    def walk(prefix: str, children: dict[str, Any]) -> None:
        """Every leaf module's ops, and a module's own (its tree's less its children's) where it has some."""
        for name, (child_ops, _child_params, grandchildren) in children.items():
            qualified = f"{prefix}{name}"
            own = child_ops - sum(grand[0] for grand in grandchildren.values())
            if own or not grandchildren:
                modules[qualified] = number(own)
            walk(qualified + ".", grandchildren)

    walk("", tree)
    return {
        "total": number(ops),
        "params": number(params),
        "modules": dict(sorted(modules.items())),
        "functional": dict(sorted(functional.items())),
    }


RUNNERS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "fvcore": run_fvcore,
    "ptflops": run_ptflops,
    "thop": run_thop,
    "ultralytics_thop": run_ultralytics_thop,
    "torchinfo": run_torchinfo,
    "flop_counter": run_flop_counter,
}


# --- recording ---------------------------------------------------------------------------------------------------


def tool_version(tool: str) -> str:
    """The version recorded: the distribution's, once the module ``import`` finds is checked to be its own (thop and
    ultralytics-thop are both ``import thop``: the first on sys.path wins)."""
    import torch

    if tool == "flop_counter":
        return str(torch.__version__)
    distribution = metadata.distribution(DISTRIBUTIONS[tool])
    module = importlib.import_module(IMPORTS.get(tool, tool))
    files = {Path(str(file.locate())).resolve() for file in distribution.files or ()}
    if Path(str(module.__file__)).resolve() not in files:
        sys.exit(f"{tool}: 'import {module.__name__}' finds {module.__file__}, not {DISTRIBUTIONS[tool]}'s files")
    return str(distribution.version)


def runs(only: set[str] | None, with_torchvision: bool) -> list[tuple[str, str, str, list[int]]]:
    """(entry key, spec, source, input shape) of every recording, one network at a time."""
    result = []
    for spec in peer_models.spec_names():
        if only and spec not in only:
            continue
        shapes = [peer_models.spec_input(spec)] + ([LARGE[spec]] if spec in LARGE else [])
        for shape in shapes:
            key = f"{spec}@{'x'.join(map(str, shape[1:]))}"  # its spatial sizes: HxW, DxHxW for a video
            if (spec in peer_models.TORCHVISION and with_torchvision) or spec in peer_models.reference_specs():
                library = "torchvision" if spec in peer_models.TORCHVISION else "reference"
                result.append((key, spec, library, shape))
                result.append((f"{key}/export", spec, "export", shape))
            else:
                result.append((key, spec, "export", shape))
    return result


def record_one(tool: str, spec: str, source: str, shape: list[int]) -> dict[str, Any]:
    """One tool on one network; nothing in the entry depends on the run (its time is printed, not recorded)."""
    import torch

    model, names, description = peer_models.build(spec, source, shape)
    x = torch.randn(1, *shape)
    entry: dict[str, Any] = {"spec": spec, "model": description, "input": shape, "batch": 1}
    start = time.perf_counter()
    try:
        result = RUNNERS[tool](model, x)
    except Exception as exc:  # a tool that cannot count a network: record what it raised
        result = error(exc)
    for key in ("modules", "module_params", "functional"):
        if key in result:
            result[key] = rename(result[key], names)
    entry.update(result)
    print(
        f"{tool:12} {spec:28} {source:11} {entry.get('total', entry.get('error'))}  "
        f"({time.perf_counter() - start:.2f} s)",
        file=sys.stderr,
        flush=True,
    )
    return entry


def without_time(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry recorded before the fixtures left out each run's time (``seconds``), without it."""
    return {key: value for key, value in entry.items() if key != "seconds"}


VERSIONS = peer_models.REPO / "convcalc" / "passes" / "conventions" / "versions.py"
VERSIONS_HEAD = '''"""The version of each tool a convention reproduces, as its recording names it (``version`` in
tests/data/peers/TOOL.json). Written by tools/record_peers.py from the recordings; tests/test_conventions.py checks
that it is what they say."""

RECORDED = {
'''


def write_versions() -> None:
    """convcalc/passes/conventions/versions.py from every recording's metadata (onnx_tool.json's too)."""
    recorded = {path.stem: json.loads(path.read_text())["version"] for path in sorted(OUT.glob("*.json"))}
    lines = "".join(f"    {json.dumps(tool)}: {json.dumps(version)},\n" for tool, version in recorded.items())
    VERSIONS.write_text(f"{VERSIONS_HEAD}{lines}}}\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="spec names to record (default: all)")
    parser.add_argument("--tools", nargs="*", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    import ptflops  # noqa: F401  (it probes for torchvision.ops at import: before tvmodels fakes the package)
    import torch

    torch.manual_seed(0)
    torch.set_flush_denormal(True)
    with_torchvision = peer_models.torchvision_available()
    if not with_torchvision:
        print("torchvision's sources not found (TVSRC, PEERS_TVMODELS): recording the exports only", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    only = set(args.only) if args.only else None
    plan = runs(only, with_torchvision)
    for tool in args.tools:
        path = args.out / f"{tool}.json"
        previous = json.loads(path.read_text()) if path.exists() and only else {}
        kept = {key: without_time(entry) for key, entry in previous.get("networks", {}).items()}
        document = {
            "tool": tool,
            "version": tool_version(tool),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "recorded_by": "tools/record_peers.py",
            "networks": kept,
        }
        for key, spec, source, shape in plan:
            document["networks"][key] = record_one(tool, spec, source, shape)
        document["networks"] = dict(sorted(document["networks"].items()))
        path.write_text(json.dumps(document, indent=1) + "\n")
    if args.out == OUT:
        write_versions()


if __name__ == "__main__":
    main()
