"""`convcalc analyze`: per-layer costs with totals, in a table, JSON, CSV, markdown or LaTeX."""

from typing import IO, TYPE_CHECKING, Annotated, Any, NamedTuple, Optional

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
from convcalc.cli.devices import BandwidthOption, DeviceOption, PeakFlopsOption, device_profile
from convcalc.cli.modes import check_mode, mode_options, mode_report
from convcalc.cli.options import (
    SPEC_HELP,
    BatchOption,
    ConventionOption,
    DepthOption,
    Dtype,
    ExpectOption,
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
    from convcalc.passes.latency import Latency
    from convcalc.passes.modes import Report
    from convcalc.passes.profile import DeviceProfile


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
    device: DeviceOption = None,
    peak_flops: PeakFlopsOption = None,
    bandwidth: BandwidthOption = None,
    expect: ExpectOption = None,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary", help="The answer without the per-layer table: totals, memory, warnings, a mode's answer."
        ),
    ] = False,
) -> None:
    """Per-layer output shape, parameters, MACs, FLOPs, memory and receptive field, with totals (with --device, an
    estimate of each layer's latency)."""
    if mode is not Mode.inference:
        check_mode(output, convention)
    if summary and output is not OutputFormat.table:
        usage_error("--summary shortens the table's report: leave out --format (JSON's 'total' holds the answer)")
    options = mode_options(mode, optimizer, precision, patches, split)
    profile = estimated_device(device, peak_flops, bandwidth, dtype, mode, depth, convention)
    keys: tuple[str, ...] = ()
    if output is not OutputFormat.json or columns is not None or svg is not None:  # plain JSON needs no columns
        keys = column_keys(columns, profile is not None)
    with spec_errors(output, exact_numbers):
        check_output_files({"--svg": svg}, spec)
        analysis = load_analysis(spec, batch=batch, dtype=dtype.value, input_size=input_size, expect=expect)
    if convention is not None:
        chosen = keys if columns is not None else None
        title = f"convcalc analyze {spec} --convention {convention}"
        return with_convention(analysis, convention, output, exact_numbers, svg, title, columns=chosen, depth=depth)
    extra = mode_report(analysis, mode, options)
    shown = Shown(keys, grouped_rows(analysis, depth), extra, mode.value, latency_of(analysis, profile), depth, summary)
    if svg is not None:  # files first: a reader that stops early (`| head -3`) must not cost the user the file
        from convcalc.render.table import analysis_view

        after = after_lines(analysis, shown, exact_numbers)
        view = analysis_view(
            analysis, exact_numbers=exact_numbers, columns=keys, rows=shown.rows, after=after, latency=shown.latency
        )
        write_svg(view, svg, f"convcalc analyze {spec}")
    print_analysis(analysis, output, shown, report_stream(svg), exact_numbers=exact_numbers)


class Shown(NamedTuple):
    """What a report of an analysis shows besides it: the columns, the rows (a grouped view's, or None: every
    layer), a mode's report, the mode, the latency estimates of --device, --depth, --summary (no table)."""

    keys: "Sequence[str]"
    rows: "Sequence[LayerResult] | None"
    extra: "Report | None"
    mode: str
    latency: "Latency | None"
    depth: int | None
    summary: bool = False


def estimated_device(
    device: str | None,
    peak_flops: str | None,
    bandwidth: str | None,
    dtype: Dtype,
    mode: Mode,
    depth: int | None,
    convention: str | None,
) -> "DeviceProfile | None":
    """The device of --device, --peak-flops, --bandwidth (None without them); a usage error with an option whose
    rows are no single layers or runs (--depth, --mode train/deploy, --convention)."""
    profile = device_profile(device, peak_flops, bandwidth, dtype.value)
    if profile is not None:
        if mode is not Mode.inference:
            usage_error("--device estimates inference latency: leave out --mode")
        if depth is not None or convention is not None:
            usage_error("--device estimates per layer, in convcalc's counts: leave out --depth and --convention")
    return profile


def column_keys(columns: str | None, estimated: bool) -> tuple[str, ...]:
    """The columns of --columns, or the default ones (with --device, the latency and bound columns too); a usage
    error for an unknown column, or an estimated one without --device."""
    from convcalc.render.columns import COLUMNS, DEFAULT_COLUMNS, ESTIMATED, parse_columns

    if columns is None:
        return (*DEFAULT_COLUMNS, *ESTIMATED) if estimated else DEFAULT_COLUMNS
    try:
        keys = parse_columns(columns)
    except ValueError as error:
        usage_error(str(error))
    needs = [key for key in keys if key in COLUMNS and COLUMNS[key].estimated]
    if needs and not estimated:
        usage_error(f"--columns {','.join(needs)}: latency estimates need a device: give --device NAME")
    return keys


def latency_of(analysis: "Analysis", profile: "DeviceProfile | None") -> "Latency | None":
    """The latency pass' estimates on the device (None without one)."""
    if profile is None:
        return None
    from convcalc.passes.latency import estimate

    return estimate(analysis, profile)


def after_lines(analysis: "Analysis", shown: Shown, exact_numbers: bool) -> list[str]:
    """The lines after the table: a mode's totals, the latency estimate's."""
    from convcalc.render.modes import mode_lines

    lines = mode_lines(shown.extra, shown.mode, analysis.batch, exact_numbers=exact_numbers)
    if shown.latency is not None:
        from convcalc.render.latency import latency_lines

        lines = [*lines, *latency_lines(shown.latency, analysis.dtype)]
    return lines


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
    analysis: "Analysis", output: OutputFormat, shown: Shown, report: IO[str], *, exact_numbers: bool
) -> None:
    """The analysis in the chosen format (with a train/deploy mode's totals, or the latency estimates) on
    ``report``."""
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        attached = shown.extra or shown.latency
        document = analysis_json(analysis, shown.depth)
        document = attached.attach(document) if attached else document
        emit(to_json(document) + "\n", report)
    elif output.value in ("csv", "markdown", "latex"):
        from convcalc.render.plain import plain_layers

        text = plain_layers(
            output.value, analysis, shown.keys, shown.rows, exact_numbers=exact_numbers, latency=shown.latency
        )
        emit(text, report)
    else:
        from convcalc.render.table import render_analysis

        formats = other_formats(TableOrJson if shown.extra else OutputFormat)
        render_analysis(
            analysis,
            exact_numbers=exact_numbers,
            columns=shown.keys,
            rows=shown.rows,
            file=report,
            formats=formats,
            after=after_lines(analysis, shown, exact_numbers),
            latency=shown.latency,
            table=not shown.summary,
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
