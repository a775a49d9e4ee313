"""`convcalc import`: a model file written as a spec."""

from typing import Annotated

import typer

from convcalc.cli.common import check_output_files, spec_errors, usage_error, whole_shape, write_file
from convcalc.cli.options import InputOption, OutputFormat
from convcalc.core.errors import SpecError


def import_model(
    model: Annotated[
        str,
        typer.Argument(
            help="An ONNX model (.onnx), a saved torch.export program (.pt2), or package.module:factory naming a "
            "PyTorch module (this imports and runs that code; give --input).",
            show_default=False,
        ),
    ],
    out: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="The spec file to write ('-': standard output).")
    ] = "-",
    flat: Annotated[
        bool, typer.Option("--flat", help="One layer a line: no residuals, branches or blocks folded.")
    ] = False,
    input_size: InputOption = None,
) -> None:
    """Write a model (ONNX, torch.export, a PyTorch module) as a spec to read, edit, compare, bottleneck and export:
    residuals, concats of branches and repeated blocks written as such (--flat: one layer a line). The spec is read
    back before it is written: it loads as the same graph, or import refuses."""
    from convcalc.formats import FORMATS, format_of
    from convcalc.spec.writer import checked_spec

    origins: dict[str, str] = {}
    with spec_errors(OutputFormat.table, exact_numbers=False):
        found = format_of(model)
        if found is None:
            readable = ", ".join(f"{entry.name}s ({', '.join(entry.suffixes)})" for entry in FORMATS if entry.reader)
            raise SpecError(f"{model}: convcalc imports {readable}")
        check_output_files({"--output": out}, model)
        if input_size is not None and not found.sized:
            usage_error("--input sets the input of a PyTorch module (package.module:factory); a file has its own")
        graph = found.read(model, origins, whole_shape(input_size) if input_size is not None else None)
        try:
            text = checked_spec(graph, origins, flat=flat)
        except ValueError as error:
            raise SpecError(f"{model}: {error}") from None
    write_file("--output", out, text, "spec")
