"""`convcalc sweep`: totals at several input sizes."""

from typing import Annotated

import typer

from convcalc.cli.common import emit, spec_errors, usage_error, whole_shape
from convcalc.cli.options import (
    SPEC_HELP,
    BatchOption,
    Dtype,
    OutputFormat,
    TableJsonOrCsv,
    chosen_format,
    other_formats,
)


def sweep(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    sizes: Annotated[
        str,
        typer.Option(
            "--input",
            help="Comma-separated input sizes: 224,320,512 (square), 512x1024 or 3x512x1024.",
            show_default=False,
        ),
    ],
    form: Annotated[TableJsonOrCsv, typer.Option("--format", "-f", help="Output format.")] = TableJsonOrCsv.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
    batch: BatchOption = 1,
    dtype: Annotated[Dtype, typer.Option(help="Element type for memory.")] = Dtype.float32,
) -> None:
    """Totals at several input sizes: one row each with params, MACs, FLOPs and peak activation memory."""
    from convcalc.api import load_spec
    from convcalc.engine.graph import Graph
    from convcalc.formats import format_of
    from convcalc.sweep import parse_sizes
    from convcalc.sweep import sweep as run_sweep

    output = chosen_format(form)
    with spec_errors(output, exact_numbers):
        model = format_of(spec)
        if model is not None and model.sized:  # a PyTorch module: each size whole, the module traced at each
            loaded: str | Graph = spec
            shapes = tuple(whole_shape(size.strip()) for size in sizes.split(",") if size.strip())
        else:
            loaded = load_spec(spec)
            try:
                shapes = parse_sizes(sizes, loaded.input_shape)
            except ValueError as error:
                usage_error(str(error))
        result = run_sweep(loaded, shapes, batch=batch, dtype=dtype.value)
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        emit(to_json(result.to_dict()) + "\n")
    elif output is OutputFormat.csv:
        from convcalc.render.plain import sweep_csv

        emit(sweep_csv(result))
    else:
        from convcalc.render.table import render_sweep

        render_sweep(result, exact_numbers=exact_numbers, formats=other_formats(TableJsonOrCsv))
