"""`convcalc import`: a model file written as a spec."""

from typing import Annotated

import typer

from convcalc.cli.common import check_output_files, spec_errors, write_file
from convcalc.cli.options import OutputFormat
from convcalc.core.errors import SpecError


def import_model(
    model: Annotated[str, typer.Argument(help="An ONNX model (.onnx).", show_default=False)],
    out: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="The spec file to write ('-': standard output).")
    ] = "-",
    flat: Annotated[
        bool, typer.Option("--flat", help="One layer a line: no residuals, branches or blocks folded.")
    ] = False,
) -> None:
    """Write an ONNX model as a spec to read, edit, compare, bottleneck and export: residuals, concats of branches
    and repeated blocks written as such (--flat: one layer a line). The spec is read back before it is written: it
    loads as the same graph, or import refuses."""
    from convcalc.formats import FORMATS, format_of
    from convcalc.spec.writer import checked_spec

    origins: dict[str, str] = {}
    with spec_errors(OutputFormat.table, exact_numbers=False):
        found = format_of(model)
        if found is None:
            readable = ", ".join(f"{entry.name}s ({', '.join(entry.suffixes)})" for entry in FORMATS if entry.reader)
            raise SpecError(f"{model}: convcalc imports {readable}")
        check_output_files({"--output": out}, model)
        try:
            text = checked_spec(found.read(model, origins), origins, flat=flat)
        except ValueError as error:
            raise SpecError(f"{model}: {error}") from None
    write_file("--output", out, text, "spec")
