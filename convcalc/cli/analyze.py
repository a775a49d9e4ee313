"""`convcalc analyze`: per-layer costs with totals, in a table, JSON, CSV, markdown or LaTeX."""

from typing import IO, TYPE_CHECKING, Annotated, Any, Optional

import typer

from convcalc.cli.common import (
    check_output_files,
    emit,
    load_analysis,
    report_stream,
    spec_errors,
    usage_error,
    write_svg,
)
from convcalc.cli.modes import check_mode, mode_options, mode_report
from convcalc.cli.options import (
    SPEC_HELP,
    BatchOption,
    ConventionOption,
    DepthOption,
    Dtype,
    FormatOption,
    InputOption,
    Mode,
    ModeOption,
    OptimizerOption,
    OutputFormat,
    PatchesOption,
    PrecisionOption,
    SplitOption,
    SvgOption,
    TableOrJson,
    other_formats,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.engine.results import Analysis, LayerResult
    from convcalc.passes.modes import Report


def analyze(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    output: FormatOption = OutputFormat.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
    columns: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Comma-separated columns for table/csv/markdown, e.g. name,shape,rf,params,macs."),
    ] = None,
    batch: BatchOption = 1,
    dtype: Annotated[Dtype, typer.Option(help="Element type for memory.")] = Dtype.float32,
    input_size: InputOption = None,
    svg: SvgOption = None,
    depth: DepthOption = None,
    convention: ConventionOption = None,
    mode: ModeOption = Mode.inference,
    optimizer: OptimizerOption = None,
    precision: PrecisionOption = None,
    patches: PatchesOption = None,
    split: SplitOption = None,
) -> None:
    """Per-layer output shape, parameters, MACs, FLOPs, memory and receptive field, with totals."""
    if mode is not Mode.inference:
        check_mode(output, depth, convention)
    options = mode_options(mode, optimizer, precision, patches, split)
    keys: tuple[str, ...] = ()
    if output is not OutputFormat.json or columns is not None or svg is not None:  # plain JSON needs no columns
        from convcalc.render.columns import DEFAULT_COLUMNS, parse_columns

        try:
            keys = parse_columns(columns) if columns is not None else DEFAULT_COLUMNS
        except ValueError as error:
            usage_error(str(error))
    with spec_errors(output, exact_numbers):
        check_output_files({"--svg": svg}, spec)
        analysis = load_analysis(spec, batch=batch, dtype=dtype.value, input_size=input_size)
    if convention is not None:
        chosen = keys if columns is not None else None
        title = f"convcalc analyze {spec} --convention {convention}"
        return with_convention(analysis, convention, output, exact_numbers, svg, title, columns=chosen, depth=depth)
    rows = grouped_rows(analysis, depth)
    extra = mode_report(analysis, mode, options)
    if svg is not None:  # files first: a reader that stops early (`| head -3`) must not cost the user the file
        from convcalc.render.modes import mode_lines
        from convcalc.render.table import analysis_view

        after = mode_lines(extra, mode.value, analysis.batch, exact_numbers=exact_numbers)
        view = analysis_view(analysis, exact_numbers=exact_numbers, columns=keys, rows=rows, after=after)
        write_svg(view, svg, f"convcalc analyze {spec}")
    print_analysis(
        analysis, output, keys, rows, extra, mode.value, report_stream(svg), exact_numbers=exact_numbers, depth=depth
    )


def with_convention(
    analysis: "Analysis", name: str, output: OutputFormat, exact_numbers: bool, svg: str | None, title: str, **view: Any
) -> None:
    """`analyze --convention NAME`: the analysis as that tool counts it (logic in convcalc.render.conventions_text);
    with ``--svg``, its table as a picture, written first as in analyze."""
    from convcalc.render.conventions_text import convention_table, show_analysis

    try:
        if svg is not None:
            write_svg(convention_table(analysis, name, exact_numbers=exact_numbers, **view), svg, title)
        formats = other_formats(OutputFormat)
        show_analysis(
            analysis, name, output.value, exact_numbers=exact_numbers, file=report_stream(svg), formats=formats, **view
        )
    except ValueError as error:
        usage_error(str(error))


def print_analysis(
    analysis: "Analysis",
    output: OutputFormat,
    keys: "Sequence[str]",
    rows: "Sequence[LayerResult] | None",
    extra: "Report | None",
    mode: str,
    report: IO[str],
    *,
    exact_numbers: bool,
    depth: int | None,
) -> None:
    """The analysis in the chosen format (with a train/deploy mode's totals) on ``report``."""
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        emit(to_json(extra.attach(analysis.to_dict()) if extra else analysis_json(analysis, depth)) + "\n", report)
    elif output.value in ("csv", "markdown", "latex"):
        from convcalc.render.plain import plain_layers

        emit(plain_layers(output.value, analysis, keys, rows, exact_numbers=exact_numbers), report)
    else:
        from convcalc.render.modes import mode_lines
        from convcalc.render.table import render_analysis

        formats = other_formats(TableOrJson if extra else OutputFormat)
        after = mode_lines(extra, mode, analysis.batch, exact_numbers=exact_numbers)
        render_analysis(
            analysis, exact_numbers=exact_numbers, columns=keys, rows=rows, file=report, formats=formats, after=after
        )


def grouped_rows(analysis: "Analysis", depth: int | None) -> "Sequence[LayerResult] | None":
    """The rows of ``--depth N`` (None without it: every layer)."""
    if depth is None:
        return None
    from convcalc.passes.views import rows

    return rows(analysis.layers, depth)


def analysis_json(analysis: "Analysis", depth: int | None) -> dict[str, Any]:
    """The analysis as JSON; with ``--depth``, its groups too, nested with their members."""
    if depth is None:
        return analysis.to_dict()
    from convcalc.passes.views import grouped_dict

    return grouped_dict(analysis, depth)
