"""`convcalc compare`: two networks side by side, or one before and after its 1x1 bottlenecks."""

from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from convcalc.cli.common import (
    check_output_files,
    emit,
    expected_codes,
    load_sized,
    refuse_channels_last,
    report_stream,
    spec_errors,
    usage_error,
    write_file,
    write_svg,
)
from convcalc.cli.devices import BandwidthOption, DeviceOption, PeakFlopsOption, device_profile
from convcalc.cli.modes import mode_options, mode_report
from convcalc.cli.options import (
    SPEC_HELP,
    BatchOption,
    BottleneckOption,
    DepthOption,
    Dtype,
    ExpectOption,
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
    TableOrJsonOption,
    chosen_format,
    other_formats,
)
from convcalc.core.errors import SpecError

if TYPE_CHECKING:
    from convcalc.passes.comparison import Comparison
    from convcalc.passes.latency import Latency
    from convcalc.passes.modes import Report
    from convcalc.passes.profile import DeviceProfile


def compare(
    first: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False, metavar="SPEC")],
    second: Annotated[
        str | None,
        typer.Argument(help="The spec to compare with (or use --bottleneck).", show_default=False, metavar="SPEC2"),
    ] = None,
    bottleneck: BottleneckOption = None,
    emit_spec: Annotated[
        str | None,
        typer.Option("--emit-spec", metavar="FILE", help="Write the rewritten spec as YAML to FILE ('-': stdout)."),
    ] = None,
    form: TableOrJsonOption = TableOrJson.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
    batch: BatchOption = 1,
    dtype: Annotated[Dtype, typer.Option(help="Element type for memory.")] = Dtype.float32,
    svg: SvgOption = None,
    depth: DepthOption = None,
    input_size: InputOption = None,
    mode: ModeOption = Mode.inference,
    optimizer: OptimizerOption = None,
    precision: PrecisionOption = None,
    patches: PatchesOption = None,
    split: SplitOption = None,
    device: DeviceOption = None,
    peak_flops: PeakFlopsOption = None,
    bandwidth: BandwidthOption = None,
    expect: ExpectOption = None,
) -> None:
    """Two networks side by side, or one before and after inserting 1x1 bottleneck convs (with --device, each one's
    latency estimate)."""
    output = chosen_format(form)
    options = mode_options(mode, optimizer, precision, patches, split)
    profile = compared_device(device, peak_flops, bandwidth, dtype, options is not None or depth is not None)
    with spec_errors(output, exact_numbers):
        check_sides(first, second, bottleneck, {"--emit-spec": emit_spec, "--svg": svg})
        comparison = compared(
            first, second, bottleneck, batch=batch, dtype=dtype.value, input_size=input_size, expect=expect
        )
    report = report_stream(emit_spec, svg)
    sides = [mode_report(side, mode, options) for side in (comparison.before, comparison.after)]
    latencies = estimates(comparison, profile)
    if emit_spec is not None and comparison.rewrite is not None:  # files first, as in analyze
        write_file("--emit-spec", emit_spec, comparison.rewrite.text, "rewritten spec")
    if svg is not None:
        from convcalc.render.compare_table import comparison_view

        title = f"convcalc compare {first} {second or ' '.join(f'-b {b}' for b in bottleneck or ())}"
        write_svg(comparison_view(comparison_rows(comparison, depth), exact_numbers=exact_numbers), svg, title)
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        document = with_latency(comparison_json(comparison, depth), latencies)
        emit(to_json(compared_modes(document, mode, sides)) + "\n", report)
    else:
        from convcalc.render.compare_table import render_comparison

        shown = comparison_rows(comparison, depth)
        render_comparison(shown, exact_numbers=exact_numbers, file=report, formats=other_formats(TableOrJson))
        print_compared_modes(comparison, mode, sides, report, exact_numbers)
        print_compared_latency(latencies, comparison.before.dtype, report)


def check_sides(first: str, second: str | None, bottleneck: list[str] | None, outputs: dict[str, str | None]) -> None:
    """A second spec or --bottleneck, exactly one; --emit-spec only with --bottleneck; no output file over an input
    or another output."""
    if (second is None) == (not bottleneck):
        raise SpecError("compare needs a second spec or --bottleneck (one of the two)")
    if outputs["--emit-spec"] is not None and not bottleneck:
        raise SpecError("--emit-spec writes the spec that --bottleneck rewrites; give --bottleneck too")
    check_output_files(outputs, first, *([second] if second else []))


def compared(
    first: str,
    second: str | None,
    bottleneck: list[str] | None,
    *,
    batch: int,
    dtype: str,
    input_size: str | None,
    expect: str | None = None,
) -> "Comparison":
    """Two specs (each at ``--input``, read against it), or one before and after its --bottleneck rewrite, the
    warnings of ``--expect`` acknowledged; the caller checks that exactly one is given and reports SpecErrors (an
    input that looks channels-last is one)."""
    from convcalc.api import compare as run_comparison

    codes = expected_codes(expect)
    if second is not None and input_size is not None:
        sides = [load_sized(spec, input_size) for spec in (first, second)]
        graphs = [graph.at_input(shape) if shape else graph for graph, shape in sides]
        comparison = run_comparison(graphs[0], graphs[1], batch=batch, dtype=dtype, expect=codes)
    elif second is not None:
        comparison = run_comparison(first, second, batch=batch, dtype=dtype, expect=codes)
    else:
        shape = load_sized(first, input_size)[1] if input_size is not None else None
        comparison = run_comparison(
            first, bottlenecks=bottleneck or (), batch=batch, dtype=dtype, input_shape=shape, expect=codes
        )
    for side in (comparison.before, comparison.after):
        refuse_channels_last(side)
    return comparison


def compared_device(
    device: str | None, peak_flops: str | None, bandwidth: str | None, dtype: Dtype, modes_or_groups: bool
) -> "DeviceProfile | None":
    """The device of --device (None without one); a usage error with --mode or --depth."""
    profile = device_profile(device, peak_flops, bandwidth, dtype.value)
    if profile is not None and modes_or_groups:
        usage_error("--device estimates inference latency per layer: leave out --mode and --depth")
    return profile


def with_latency(document: dict[str, Any], latencies: "tuple[Latency, Latency] | None") -> dict[str, Any]:
    """`compare --device -f json`: each side's analysis with its estimates, as analyze --device writes them."""
    for key, latency in zip(("before", "after"), latencies or (), strict=False):
        latency.attach(document[key])
    return document


def print_compared_latency(latencies: "tuple[Latency, Latency] | None", dtype: str, report: IO[str]) -> None:
    if latencies is not None:
        from convcalc.render.latency import compared_latency_lines

        emit("".join(line + "\n" for line in compared_latency_lines(*latencies, dtype)), report)


def estimates(comparison: "Comparison", profile: "DeviceProfile | None") -> "tuple[Latency, Latency] | None":
    """Each side's latency estimates on --device (None without one)."""
    if profile is None:
        return None
    from convcalc.passes.latency import estimate

    return estimate(comparison.before, profile), estimate(comparison.after, profile)


def compared_modes(document: dict[str, Any], mode: Mode, sides: "list[Report | None]") -> dict[str, Any]:
    """`compare --mode train/deploy -f json`: each side's totals under the mode's key (``training``, ``deploy``)."""
    if sides[0] is not None and sides[1] is not None:
        from convcalc.passes.modes import MODES

        document[MODES[mode.value].json_key] = {"before": sides[0].to_dict(), "after": sides[1].to_dict()}
    return document


def print_compared_modes(
    comparison: "Comparison", mode: Mode, sides: "list[Report | None]", report: IO[str], exact_numbers: bool
) -> None:
    if sides[0] is not None and sides[1] is not None:
        from convcalc.render.modes import side_by_side
        from convcalc.render.table import print_view

        names = (comparison.before.name, comparison.after.name)
        grid = side_by_side(mode.value, sides[0], sides[1], names, exact_numbers=exact_numbers)
        print_view([grid], report, other_formats(TableOrJson))


def comparison_rows(comparison: "Comparison", depth: int | None) -> "Comparison":
    """The comparison with ``--depth N``: its rows are the groups at that depth of each side."""
    if depth is None:
        return comparison
    from convcalc.passes.views import grouped_comparison

    return grouped_comparison(comparison, depth)


def comparison_json(comparison: "Comparison", depth: int | None) -> dict[str, Any]:
    """`compare --format json`; with ``--depth``, grouped rows and each side's groups nested."""
    if depth is None:
        return comparison.to_dict()
    from convcalc.passes.views import grouped_comparison_dict

    return grouped_comparison_dict(comparison, depth)
