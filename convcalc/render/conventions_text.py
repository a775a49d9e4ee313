"""`convcalc analyze --convention NAME`, `convcalc conventions` and `explain --convention`: other tools' counts
shown as the table, JSON, CSV or markdown convcalc prints for its own (see :mod:`convcalc.passes.conventions`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from convcalc.engine.results import Analysis, LayerResult
from convcalc.passes.conventions.counting import (
    CONVENTIONS,
    DEFAULT,
    Convention,
    Counting,
    counted,
    difference_by_kind,
    explain_rules,
    reaching_output,
    recount,
    recounted,
    skipped_note,
)
from convcalc.render.units import exact, human_count

if TYPE_CHECKING:
    from rich.console import RenderableType

    from convcalc.passes.explain import Explanation


def skipped_text(skipped: dict[str, int]) -> str:
    return ", ".join(f"{op} x{times}" for op, times in skipped.items())


def convention_json(analysis: Analysis, counting: Counting) -> dict[str, Any]:
    """`analyze --convention --format json`: convcalc's JSON with the tool's MACs (and FLOPs where it reports
    them) per layer and in total, ``skipped`` ops where it names some, and the convention with its tool version."""
    data = analysis.to_dict()
    data["convention"] = counting.convention.to_dict()
    for entry, t in zip(data["layers"], counting.layers, strict=True):
        entry["macs"] = t.macs
        if t.flops is None:
            entry.pop("flops")
        else:
            entry["flops"] = t.flops
        if t.skipped:
            entry["skipped"] = list(t.skipped)
    data["total"]["macs"] = counting.macs
    if counting.flops is None:
        data["total"].pop("flops")
    else:
        data["total"]["flops"] = counting.flops
    data["skipped"] = counting.skipped()
    return data


def convention_columns(columns: Sequence[str] | None, counting: Counting) -> tuple[str, ...]:
    """The columns shown: the given ones, or the default without FLOPs for a tool that reports none, with the
    notes (the ops it skipped) when there are any. ValueError for a FLOPs column the tool has no number for."""
    from convcalc.render.columns import DEFAULT_COLUMNS

    if counting.flops is None and columns is not None and "flops" in columns:
        raise ValueError(f"{counting.convention.name} reports no FLOPs; leave 'flops' out of --columns")
    if columns is not None:
        return tuple(columns)
    shown = tuple(key for key in DEFAULT_COLUMNS if key != "flops" or counting.flops is not None)
    return (*shown, "note") if any(t.skipped or t.layer.note for t in counting.layers) else shown


def convention_lines(counting: Counting, default: Counting) -> list[str]:
    """Below the table: the exact totals beside convcalc's, the ops the tool skipped, and its rules."""
    chosen = counting.convention
    unit = chosen.unit
    ours = default.flops if unit == "FLOPs" else default.macs
    lines = [
        f"exact: {unit} {exact(counting.count)} as {chosen.counter} counts "
        f"({chosen.call}); convcalc's {unit} {exact(ours or 0)}"
    ]
    skipped = counting.skipped()
    if skipped:
        lines.append(f"{chosen.name} does not count (and lists): {skipped_text(skipped)}")
    lines.append(f"[dim]{chosen.name}: {chosen.summary}[/dim]")
    return lines


def convention_view(
    analysis: Analysis,
    counting: Counting,
    default: Counting,
    *,
    exact_numbers: bool,
    columns: Sequence[str],
    rows: Sequence[LayerResult] | None,
) -> list[RenderableType]:
    """The table of `analyze --convention` (rich; ``analysis`` recounted), its exact totals beside convcalc's
    (``default``) and its rules below."""
    from rich.markup import escape

    from convcalc.render.table import layer_table

    title = f"{escape(analysis.name)}  ({analysis.shapes_text})  as {escape(counting.convention.counter)} counts"
    shown = analysis.layers if rows is None else rows
    table = layer_table(shown, exact_numbers=exact_numbers, columns=columns, title=title, totals=True)
    return [table, *convention_lines(counting, default)]


def conventions_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """`convcalc conventions`: per convention its headline count and the difference from convcalc's by kind."""
    default = counted(analysis, DEFAULT)
    rows: list[dict[str, Any]] = []
    for chosen in CONVENTIONS.values():
        counting = default if chosen is DEFAULT else counted(analysis, chosen)
        ours = default.flops if chosen.unit == "FLOPs" else default.macs
        if counting.crash:
            rows.append({**chosen.to_dict(), "count": None, "difference": None, "by_kind": {}, "error": counting.crash})
            continue
        rows.append(
            {
                **chosen.to_dict(),
                "count": counting.count,
                "difference": counting.count - (ours or 0),
                "by_kind": difference_by_kind(counting, default),
                "skipped": counting.skipped(),
            }
        )
    return rows


def conventions_json(analysis: Analysis) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "name": analysis.name,
        "source": analysis.source,
        "input": list(analysis.input_shape),
        "batch": analysis.batch,
        "convcalc": {"macs": analysis.total.macs, "flops": analysis.total.flops},
        "conventions": conventions_rows(analysis),
    }


def signed(value: int, exact_numbers: bool) -> str:
    text = exact(abs(value)) if exact_numbers else human_count(abs(value))
    return ("+" if value > 0 else "-" if value < 0 else "") + text


def breakdown(by_kind: dict[str, int], exact_numbers: bool) -> str:
    return ", ".join(f"{signed(delta, exact_numbers)} {kind}" for kind, delta in by_kind.items())


def conventions_view(analysis: Analysis, *, exact_numbers: bool) -> list[RenderableType]:
    """One row per convention: the package and its version, unit, count, difference from convcalc's and what makes
    it up (in a narrow terminal the tool version is left out first, then the difference by kind, then the unit)."""
    from rich.markup import escape

    from convcalc.core.text import printable
    from convcalc.render.grid import Grid, GridColumn

    columns = [
        GridColumn("convention", "left", None, shrink="name"),
        GridColumn("tool version", "left", None, drop=1),
        GridColumn("unit", "left", None, drop=3),
        GridColumn("count", "right", None),
        GridColumn("vs convcalc", "right", None),
        GridColumn("difference by layer kind", "left", None, drop=2, shrink="prose"),
    ]
    rows: list[list[str]] = []
    for row in conventions_rows(analysis):
        release = f"{row['package']} {row['version']}"
        if row["count"] is None:
            rows.append([row["name"], release, row["unit"], "crashes", "", printable(row["error"])])
            continue
        count = exact(row["count"]) if exact_numbers else human_count(row["count"])
        difference = signed(row["difference"], exact_numbers) if row["name"] != "convcalc" else ""
        by_kind = printable(breakdown(row["by_kind"], exact_numbers))
        rows.append([row["name"], release, row["unit"], count, difference, by_kind])
    return [
        Grid(f"{escape(analysis.name)}: one network, every counter's number", columns, rows),
        f"[dim]vs convcalc: the count minus convcalc's MACs ({exact(analysis.total.macs)}), or its FLOPs "
        f"({exact(analysis.total.flops)}) for a tool that prints FLOPs · batch {analysis.batch}[/dim]",
    ]


def explanations_text(explanations: Sequence[Explanation], analysis: Analysis, chosen: Convention) -> str:
    """`explain --convention`: each layer's own explanation, then the tool's rule with its numbers."""
    from convcalc.render.explain_text import render_explanations

    live = reaching_output(analysis.layers, analysis.output_layers) if chosen.traced else None
    blocks = []
    for explanation in explanations:
        lines = [render_explanations([explanation]).rstrip("\n")]
        lines.append(f"  as {chosen.counter} counts ({chosen.unit}):")
        for step in explain_rules(explanation.layer, chosen):
            label = f"{step.part}: " if step.part else ""
            lines.append(f"    {label}{step.rule}")
            value = f"{step.value:,}"
            arithmetic = " = ".join(dict.fromkeys((step.formula, step.substituted, value)))
            lines.append(f"      = {arithmetic}" if arithmetic != value else f"      = {value}")
            if step.skipped:
                lines.append(f"      {skipped_note(step.skipped)} (listed by the tool)")
        if live is not None and explanation.layer.name not in live:
            lines.append("    but its result never reaches an output of the network: the trace drops it, 0")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def explanations_json(explanations: Sequence[Explanation], analysis: Analysis, chosen: Convention) -> dict[str, Any]:
    layers = []
    for explanation in explanations:
        entry = explanation.to_dict()
        entry["convention"] = [step.to_dict() for step in explain_rules(explanation.layer, chosen)]
        layers.append(entry)
    return {"name": analysis.name, "convention": chosen.to_dict(), "layers": layers}


def layer_rows(analysis: Analysis, depth: int | None) -> Sequence[LayerResult] | None:
    if depth is None:
        return None
    from convcalc.passes.views import rows

    return rows(analysis.layers, depth)


def convention_table(
    analysis: Analysis, name: str, *, exact_numbers: bool, columns: Sequence[str] | None, depth: int | None
) -> list[RenderableType]:
    """The table view of `analyze --convention NAME` (what the terminal and ``--svg`` show)."""
    counting, default = recount(analysis, name)
    shown = recounted(analysis, counting)
    keys = convention_columns(columns, counting)
    return convention_view(
        shown, counting, default, exact_numbers=exact_numbers, columns=keys, rows=layer_rows(shown, depth)
    )


def show_analysis(
    analysis: Analysis,
    name: str,
    output: str,
    *,
    exact_numbers: bool,
    columns: Sequence[str] | None,
    depth: int | None,
    file: IO[str] | None = None,
    formats: Sequence[str] = (),
) -> None:
    """Print `analyze --convention NAME` in a format (table, json, csv, markdown) on ``file`` (standard output;
    ``formats``: the others, which show what a narrow terminal leaves out). ValueError: an unknown name, a FLOPs
    column for a tool without FLOPs."""
    if output == "table":
        from convcalc.render.table import print_view

        view = convention_table(analysis, name, exact_numbers=exact_numbers, columns=columns, depth=depth)
        print_view(view, file, formats)
        return
    counting, _ = recount(analysis, name)
    if output == "json":
        from convcalc.render.json_format import to_json

        print(to_json(convention_json(analysis, counting)), file=file)
        return
    keys = convention_columns(columns, counting)
    shown = recounted(analysis, counting)
    rows = layer_rows(shown, depth)
    from convcalc.render.plain import plain_layers

    print(plain_layers(output, shown, keys, rows, exact_numbers=exact_numbers), end="", file=file)
