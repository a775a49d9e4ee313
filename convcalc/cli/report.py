"""`convcalc report`: one self-contained HTML page."""

from typing import Annotated

import typer

from convcalc.cli.analyze import estimated_device, latency_of
from convcalc.cli.common import check_output_files, load_analysis, spec_errors, usage_error, write_file
from convcalc.cli.compare import compared
from convcalc.cli.devices import BandwidthOption, DeviceOption, PeakFlopsOption
from convcalc.cli.options import (
    SPEC_HELP,
    BatchOption,
    BottleneckOption,
    DepthOption,
    Dtype,
    ExpectOption,
    InputOption,
    Mode,
    OutputFormat,
)
from convcalc.core.errors import SpecError


def report(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    out: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="The HTML file to write.")],
    second: Annotated[
        str | None,
        typer.Argument(help="A spec to compare with: the page shows both side by side.", metavar="[SPEC2]"),
    ] = None,
    bottleneck: BottleneckOption = None,
    batch: BatchOption = 1,
    dtype: Annotated[Dtype, typer.Option(help="Element type for memory.")] = Dtype.float32,
    input_size: InputOption = None,
    expect: ExpectOption = None,
    depth: DepthOption = None,
    device: DeviceOption = None,
    peak_flops: PeakFlopsOption = None,
    bandwidth: BandwidthOption = None,
) -> None:
    """One self-contained HTML page: totals, collapsible table, bar charts, the graph, warnings and explain; with
    SPEC2 or --bottleneck, the two networks side by side (totals, difference, ratio, aligned layers, charts).
    --depth N: the charts and the graph show the groups N levels deep; --device: a chart of each layer's latency
    estimate and bound."""
    with spec_errors(OutputFormat.table, exact_numbers=False):
        check_output_files({"--output": out}, spec, *([second] if second else []))
        profile = estimated_device(device, peak_flops, bandwidth, dtype, Mode.inference, None, None)
        given = [option for option, value in (("--depth", depth), ("--device", profile)) if value is not None]
        if (second is not None or bottleneck) and given:
            usage_error(f"{given[0]} is for one network's report")
        if depth is not None and profile is not None:
            usage_error("--device charts each layer's estimate: leave out --depth")
        if second is None and not bottleneck:
            from convcalc.render.html_report import report_html

            analysis = load_analysis(spec, batch=batch, dtype=dtype.value, input_size=input_size, expect=expect)
            page = report_html(analysis, depth, latency_of(analysis, profile))
        elif second is not None and bottleneck:
            raise SpecError("report compares with a second spec or with --bottleneck, not both")
        elif input_size is not None:
            usage_error("--input is for one network's report; compare two specs written at the sizes you want")
        else:
            from convcalc.render.html_compare import comparison_html

            compared_pair = compared(
                spec, second, bottleneck, batch=batch, dtype=dtype.value, input_size=None, expect=expect
            )
            page = comparison_html(compared_pair)
    write_file("--output", out, page, "report")
