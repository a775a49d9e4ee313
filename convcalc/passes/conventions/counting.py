"""The conventions (a tool, the version reproduced, its unit and registries), and a network counted under one, layer
by layer, with the rules explained."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from convcalc.core.formula import Term
from convcalc.core.version import __version__
from convcalc.engine.results import Analysis, LayerResult
from convcalc.passes.conventions.onnx_tool import ONNX_TOOL
from convcalc.passes.conventions.rules import Crashes, Registry, Rule, Skipped, sizes, symbolic_sizes
from convcalc.passes.conventions.thop import THOP, ULTRALYTICS_THOP
from convcalc.passes.conventions.tools import (
    CONVCALC,
    FLOP_COUNTER,
    FVCORE,
    PTFLOPS_FUNCTIONAL,
    PTFLOPS_HOOKS,
    TORCHINFO,
    TORCHVISION,
)
from convcalc.passes.conventions.versions import RECORDED

# --- the conventions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Convention:
    """One tool's way of counting: its registries (summed), the unit it prints and the version reproduced (of the
    package ``package``: the recording's, :data:`RECORDED`, for every tool that was recorded)."""

    name: str
    tool: str
    package: str
    version: str
    unit: str
    """'MACs' or 'FLOPs' (2 per multiply-add): what the tool's numbers are."""
    call: str
    summary: str
    parts: tuple[tuple[str, Registry], ...]
    also_flops: bool = False
    """convcalc's own: FLOPs beside its MACs."""
    traced: bool = False
    """The tool counts a torch.jit trace, which drops every op whose result never reaches an output of the network."""

    @property
    def release(self) -> str:
        """The package and its version, as pip names them: 'ultralytics-thop 2.2.3'."""
        return f"{self.package} {self.version}"

    @property
    def counter(self) -> str:
        """The tool with its version after the package's name: 'ptflops 0.7.5 (pytorch backend)', or after the tool
        where the package is another's: 'torch.utils.flop_counter.FlopCounterMode (torch 2.13.0+cpu)'."""
        if self.tool == self.package or self.tool.startswith(f"{self.package} "):
            return self.release + self.tool.removeprefix(self.package)
        return f"{self.tool} ({self.release})"

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "tool": self.tool,
            "package": self.package,
            "version": self.version,
            "unit": self.unit,
            "call": self.call,
            "rules": self.summary,
        }


CONVENTIONS: dict[str, Convention] = {
    convention.name: convention
    for convention in (
        Convention(
            "convcalc",
            "convcalc",
            "convcalc",
            __version__,
            "MACs",
            "convcalc analyze",
            "conv, transposed conv and linear multiply-accumulates; FLOPs = 2 x MACs + element-wise work",
            (("", CONVCALC),),
            also_flops=True,
        ),
        Convention(
            "torchvision",
            "torchvision (published _ops, 'GFLOPS')",
            "torchvision",
            "0.28.0",
            "MACs",
            "weights.meta['_ops']",
            "conv and linear multiply-adds only, no bias: convcalc's MACs",
            (("", TORCHVISION),),
        ),
        Convention(
            "fvcore",
            "fvcore",
            "fvcore",
            RECORDED["fvcore"],
            "MACs",
            "FlopCountAnalysis(model, x).total()",
            "conv/linear without bias, batch norm 2 x elements, adaptive avg pool 1 x input; 0 for a conv with "
            "padding='same', pools, adds, activations other than ReLU (listed as unsupported) and for layers whose "
            "output never reaches an output of the network (dropped by its trace)",
            (("", FVCORE),),
            traced=True,
        ),
        Convention(
            "ptflops",
            "ptflops (pytorch backend)",
            "ptflops",
            RECORDED["ptflops"],
            "MACs",
            "get_model_complexity_info(model, (C, H, W))",
            "conv/linear with bias, norms 2 x elements, ReLU and pools counted twice (module hook + F.* wrapper), "
            "ReLU6 once, LRN through its wrapped ops",
            (("module hook", PTFLOPS_HOOKS), ("functional", PTFLOPS_FUNCTIONAL)),
        ),
        Convention(
            "ptflops-hooks",
            "ptflops (pytorch backend), module hooks only",
            "ptflops",
            RECORDED["ptflops"],
            "MACs",
            "get_model_complexity_info(..., backend_specific_config={'count_functional': False}); the per-layer table",
            "ptflops' per-layer table: its module hooks without the functional wrappers (as before 0.7.1)",
            (("module hook", PTFLOPS_HOOKS),),
        ),
        Convention(
            "thop",
            "thop",
            "thop",
            RECORDED["thop"],
            "MACs",
            "profile(model, inputs=(x,))",
            "conv/linear without bias (transposed conv on its output: stride^2 too much), batch norm 4 x elements, "
            "avg pools per output element (+1), softmax 3C - 1, ReLU and max pools 0",
            (("", THOP),),
        ),
        Convention(
            "ultralytics_thop",
            "ultralytics-thop",
            "ultralytics-thop",
            RECORDED["ultralytics_thop"],
            "MACs",
            "profile(model, inputs=(x,))",
            "conv/linear without bias (transposed conv on its input), batch, layer and group norm 4 x elements, "
            "average pools 1 x each input their windows read + 1 x output (exact windows, stride and padding), "
            "softmax 3C - 1, attention's projections and products, matmul; ReLU and max pools 0",
            (("", ULTRALYTICS_THOP),),
        ),
        Convention(
            "torchinfo",
            "torchinfo (Total mult-adds)",
            "torchinfo",
            RECORDED["torchinfo"],
            "MACs",
            "summary(model, input_size=(1, C, H, W))",
            "parameters x output positions for convs (bias included; transposed on its output), parameters once "
            "for every other layer (batch norm 2 x C), 0 without parameters",
            (("", TORCHINFO),),
        ),
        Convention(
            "onnx-tool",
            "onnx-tool (ONNX file)",
            "onnx-tool",
            RECORDED["onnx_tool"],
            "MACs",
            "onnx_tool.model_profile('model.onnx')",
            "every node of the ONNX export: conv/linear with bias, batch norm 31 x elements, ReLU 1, Clip 2, Sigmoid "
            "32, Tanh 76, pools output x kernel, global avg pool input + 4 x output, adds and muls 1 x elements; "
            "crashes on torch's LRN export (an If); the export is a trace: layers whose output never reaches the "
            "network's output are not in the file",
            (("", ONNX_TOOL),),
            traced=True,
        ),
        Convention(
            "flop_counter",
            "torch.utils.flop_counter.FlopCounterMode",
            "torch",
            RECORDED["flop_counter"],
            "FLOPs",
            "FlopCounterMode(); get_total_flops()",
            "2 x conv/linear multiply-adds without bias; nothing else",
            (("", FLOP_COUNTER),),
        ),
    )
}


def convention(name: str) -> Convention:
    """The convention of a name; ValueError lists the names."""
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ValueError(f"unknown convention {name!r}; expected one of {', '.join(CONVENTIONS)}") from None


def rule_of(registry: Registry, kind: str, name: str) -> Rule:
    try:
        return registry[kind]
    except KeyError:
        raise ValueError(f"the {name} convention has no rule for the layer kind {kind!r}") from None


@dataclass(frozen=True, slots=True)
class Tally:
    """One layer under a convention, for its batch: MACs, FLOPs where the tool reports FLOPs, ops it skipped."""

    layer: LayerResult
    macs: int
    flops: int | None
    skipped: tuple[str, ...]
    crash: str | None = None
    """What the tool raises on this layer: it counts no network that has it."""


def tally(layer: LayerResult, chosen: Convention, batch: int) -> Tally:
    """A layer as the tool counts it: the sum of its registries' rules, times the batch."""
    measured = sizes(layer, batch)
    value, skipped = 0, tuple[str, ...]()
    for _, registry in chosen.parts:
        count = rule_of(registry, layer.type, chosen.name)(measured)
        if isinstance(count, Crashes):
            return Tally(layer, 0, None, (), count.error)
        if isinstance(count, Skipped):
            skipped += count.ops
            value += int(count.counted)
        else:
            value += int(count)
    value *= batch
    if chosen.unit == "FLOPs":
        return Tally(layer, value // 2, value, skipped)
    return Tally(layer, value, layer.flops if chosen.also_flops else None, skipped)


@dataclass(frozen=True, slots=True)
class Counting:
    """A network under a convention: every layer's tally and the totals."""

    convention: Convention
    layers: tuple[Tally, ...]

    @property
    def macs(self) -> int:
        return sum(t.macs for t in self.layers)

    @property
    def flops(self) -> int | None:
        return None if self.layers and self.layers[0].flops is None else sum(t.flops or 0 for t in self.layers)

    @property
    def crash(self) -> str | None:
        """What the tool raises on this network (its first layer that it cannot count), or None."""
        return next((f"{t.layer.name}: {t.crash}" for t in self.layers if t.crash), None)

    @property
    def count(self) -> int:
        """The headline number in the tool's unit."""
        flops = self.flops
        return flops if self.convention.unit == "FLOPs" and flops is not None else self.macs

    def skipped(self) -> dict[str, int]:
        """Every op the tool said it did not count, with how often."""
        result: dict[str, int] = {}
        for layer in self.layers:
            for op in layer.skipped:
                result[op] = result.get(op, 0) + 1
        return dict(sorted(result.items()))


def reaching_output(layers: Sequence[LayerResult], outputs: Sequence[str]) -> set[str]:
    """The names of the layers whose results the network's outputs depend on."""
    by_name = {layer.name: layer for layer in layers}
    live, waiting = set(), list(outputs)
    while waiting:
        name = waiting.pop()
        if name in by_name and name not in live:
            live.add(name)
            waiting.extend(by_name[name].inputs)
    return live


def count_layers(
    layers: Sequence[LayerResult], chosen: Convention, batch: int = 1, outputs: Sequence[str] = ()
) -> Counting:
    """Every layer under a convention; ``outputs``: the network's output layers (the last layer if none)."""
    live = reaching_output(layers, outputs or [layers[-1].name]) if chosen.traced and layers else None
    return Counting(
        chosen,
        tuple(
            tally(layer, chosen, batch) if live is None or layer.name in live else Tally(layer, 0, None, ())
            for layer in layers
        ),
    )


def difference_by_kind(counting: Counting, default: Counting) -> dict[str, int]:
    """The convention's count minus convcalc's in the same unit (MACs, or FLOPs for a FLOPs tool), per layer kind,
    largest first; kinds with no difference left out."""
    flops = counting.convention.unit == "FLOPs"
    result: dict[str, int] = {}
    for mine, ours in zip(counting.layers, default.layers, strict=True):
        delta = (mine.flops or 0) - (ours.flops or 0) if flops else mine.macs - ours.macs
        result[mine.layer.type] = result.get(mine.layer.type, 0) + delta
    return dict(sorted(((k, v) for k, v in result.items() if v), key=lambda item: (-abs(item[1]), item[0])))


@dataclass(frozen=True, slots=True)
class RuleStep:
    """One registry's rule for a layer, explained: its text, formula, the numbers substituted and its value."""

    part: str
    rule: str
    formula: str
    substituted: str
    value: int
    skipped: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "part": self.part,
            "rule": self.rule,
            "formula": self.formula,
            "substituted": self.substituted,
            "value": self.value,
            "skipped": list(self.skipped),
        }


def explain_rules(layer: LayerResult, chosen: Convention) -> list[RuleStep]:
    """Each of the convention's rules for a layer (per sample), run on named symbols so it shows its arithmetic."""
    steps = []
    measured = symbolic_sizes(layer)
    for part, registry in chosen.parts:
        rule = rule_of(registry, layer.type, chosen.name)
        result = rule(measured)
        text = " ".join((rule.__doc__ or "").split())
        if isinstance(result, Crashes):
            steps.append(RuleStep(part, f"{text} The tool raises: {result.error}", "0", "0", 0, ()))
            continue
        skipped: tuple[str, ...] = result.ops if isinstance(result, Skipped) else ()
        count = result.counted if isinstance(result, Skipped) else result
        formula = count.symbols if isinstance(count, Term) else str(int(count))
        numbers = count.numbers if isinstance(count, Term) else str(int(count))
        steps.append(RuleStep(part, text, formula, numbers, int(count), skipped))
    return steps


# --- an analysis recounted -----------------------------------------------------------------------------------

DEFAULT = CONVENTIONS["convcalc"]
"""convcalc's own convention, beside which every other is shown."""


def counted(analysis: Analysis, chosen: Convention) -> Counting:
    """The analysis' layers under a convention, for its batch (a traced tool drops what misses the output)."""
    return count_layers(analysis.layers, chosen, analysis.batch, analysis.output_layers)


def recount(analysis: Analysis, name: str) -> tuple[Counting, Counting]:
    """The analysis as tool ``name`` counts it, and as convcalc does. ValueError: an unknown name, or a network the
    tool crashes on."""
    counting, default = counted(analysis, convention(name)), counted(analysis, DEFAULT)
    if counting.crash:
        chosen = counting.convention
        raise ValueError(f"{chosen.counter} cannot count this network: {counting.crash}")
    return counting, default


def recounted(analysis: Analysis, counting: Counting) -> Analysis:
    """The analysis with every layer's MACs (and FLOPs, 0 where the tool reports none) the tool's; the ops a tool
    skipped are the layer's note."""
    layers = tuple(
        dataclasses.replace(
            t.layer,
            macs=t.macs,
            flops=t.flops or 0,
            note="; ".join(filter(None, (t.layer.note, skipped_note(t.skipped)))) or None,
        )
        for t in counting.layers
    )
    total = dataclasses.replace(analysis.total, macs=counting.macs, flops=counting.flops or 0)
    return dataclasses.replace(analysis, layers=layers, total=total)


def skipped_note(ops: Sequence[str]) -> str:
    """What a layer's note says of the ops the tool skipped."""
    return f"not counted: {', '.join(sorted(set(ops)))}" if ops else ""
