"""What every command does the same way: errors as one located line (exit 2), reports and files written, a spec
loaded and analysed."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, NoReturn

import typer

from convcalc.cli.options import OutputFormat, TableOrJson
from convcalc.core.errors import SpecError, UnsizedInput
from convcalc.core.text import message_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import RenderableType

    from convcalc.core.tensor import Shape
    from convcalc.engine.graph import Graph
    from convcalc.engine.results import Analysis


class State:
    """Options of the whole run (the app's callback sets them)."""

    debug = False


def fail(error: SpecError) -> NoReturn:
    """One line naming file, line and layer (plus a hint), exit code 2."""
    message = str(error) if error.location else f"convcalc: {error}"
    print(message, file=sys.stderr)
    if error.hint:
        print(f"  hint: {message_line(error.hint)}", file=sys.stderr)
    raise typer.Exit(2)


@contextmanager
def spec_errors(output: OutputFormat, exact_numbers: bool) -> Iterator[None]:
    """Turn a SpecError into its message; a failed run shows the layers that did work first."""
    from convcalc.engine.results import AnalysisError

    try:
        yield
    except AnalysisError as error:
        if output is OutputFormat.json:
            from convcalc.render.json_format import error_json

            emit(error_json(error) + "\n")
        elif error.partial:
            from convcalc.render.table import layer_table, print_view

            partial = layer_table(error.partial, exact_numbers=exact_numbers, title="layers before the error")
            print_view([partial], sys.stderr, ("json",))
        fail(error)
    except SpecError as error:
        if output is OutputFormat.json:
            from convcalc.render.json_format import error_json

            emit(error_json(error) + "\n")
        fail(error)


def emit(text: str, file: IO[str] | None = None) -> None:
    """Print a report; a closed pipe (`convcalc ... | head -1`) ends the run quietly with exit code 0."""
    from convcalc.render.outputs import write_stream

    write_stream(file or sys.stdout, text)


def usage_error(message: str) -> NoReturn:
    """Bad command-line usage: one line, exit code 2."""
    print(message_line(f"convcalc: error: {message}"), file=sys.stderr)
    raise typer.Exit(2)


def require_format(output: OutputFormat, what: str, allowed: type[TableOrJson]) -> None:
    """Refuse a --format an option does not print, rather than silently printing another."""
    names = [f.value for f in allowed]
    if output.value not in names:
        usage_error(f"{what} prints {', '.join(names[:-1])} or {names[-1]}, not {output.value}")


def load_sized(spec: str, input_size: str | None) -> "tuple[Graph, Shape | None]":
    """Load a spec and read an ``--input`` size against it; the caller reports SpecErrors. A PyTorch module (an
    import path) is traced at the input size, which it needs whole (3x224x224): the shape returned is then None."""
    from convcalc.api import load_spec, parse_shape
    from convcalc.formats import format_of

    model = format_of(spec)
    if model is not None and model.sized:
        return load_spec(spec, input_shape=whole_shape(input_size) if input_size else None), None
    try:
        loaded = load_spec(spec)
    except UnsizedInput:  # an ONNX file with dynamic axes: read at the whole size given
        if input_size is None:
            raise
        return load_spec(spec, input_shape=whole_shape(input_size)), None
    if input_size is None:
        return loaded, None
    try:
        return loaded, parse_shape(input_size, loaded.input_shape)
    except ValueError as error:
        usage_error(str(error))


def whole_shape(text: str) -> "Shape":
    """An ``--input`` size read as the whole per-sample shape (3x224x224; 1x16000 for a 1-D signal), for a network
    that has none of its own to read a shorter one against."""
    from convcalc.api import parse_shape

    try:
        return parse_shape(text, (1,) * (text.count("x") + 1))
    except ValueError as error:
        usage_error(str(error))


def load_analysis(
    spec: str, *, batch: int, dtype: str, input_size: str | None, expect: str | None = None
) -> "Analysis":
    """Load and analyse a spec, the warnings of ``--expect`` acknowledged; the caller reports SpecErrors (an input
    that looks channels-last is one, unless acknowledged)."""
    from convcalc.api import analyze as run_analysis

    codes = expected_codes(expect)
    loaded, shape = load_sized(spec, input_size)
    analysis = run_analysis(loaded, batch=batch, dtype=dtype, input_shape=shape, expect=codes)
    refuse_channels_last(analysis)
    return analysis


def expected_codes(expect: str | None) -> "frozenset[str]":
    """The warning codes of ``--expect``; a usage error naming the codes for an unknown one."""
    from convcalc.api import warning_codes

    try:
        return warning_codes(expect or ())
    except ValueError as error:
        usage_error(f"--expect: {error}")


def refuse_channels_last(analysis: "Analysis") -> None:
    """An input the first layer can only read as channels-last costs a different network: an error, not 183 lines
    of wrong numbers under a warning (``--expect layout`` runs it as written)."""
    for warning in analysis.warnings:
        if warning.code == "layout":
            raise SpecError(
                warning.message,
                warning.location,
                layer=warning.layer,
                hint="to cost the input as written (channels first), give --expect layout",
            )


def check_output_files(outputs: dict[str, str | None], *specs: str) -> None:
    """Refuse an output that would write over an input spec, or two outputs to one file (README: Errors)."""
    from convcalc.api import resolve_path
    from convcalc.formats import IMPORT_PATH, format_of
    from convcalc.render.outputs import check_outputs

    check_outputs(outputs, [resolve_path(spec) for spec in specs if format_of(spec) is not IMPORT_PATH])


def report_stream(*outputs: str | None) -> IO[str]:
    """Where the report goes: standard output, or standard error when an output option writes there ('-')."""
    from convcalc.render.outputs import STDOUT

    return sys.stderr if STDOUT in outputs else sys.stdout


def write_file(option: str, path: str, text: str, what: str) -> None:
    """Write an output file (or standard output for '-') and say so on standard error."""
    from convcalc.render.outputs import STDOUT, write_output

    try:
        write_output(path, text, option)
    except SpecError as error:
        fail(error)
    if path != STDOUT:
        print(message_line(f"{what} written to {path}"), file=sys.stderr)


def write_svg(view: "Sequence[RenderableType]", svg: str, title: str) -> None:
    from convcalc.render.table import svg_text

    write_file("--svg", svg, svg_text(view, message_line(title)), "picture")
