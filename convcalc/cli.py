"""The command line: a thin layer over the library API. Exit codes: 0 ok, 2 bad spec or usage, 1 unexpected."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import IO, TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer

from convcalc import __version__
from convcalc.core.errors import SpecError
from convcalc.core.keys import MAX_MAGNITUDE
from convcalc.core.text import message_line, tolerate_encoding

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import RenderableType

    from convcalc.comparison import Comparison
    from convcalc.core.tensor import Shape
    from convcalc.deploy import Deployment
    from convcalc.explain import Explanation
    from convcalc.graph import Graph
    from convcalc.patches import Grid
    from convcalc.results import Analysis, LayerResult
    from convcalc.training import Training

app = typer.Typer(
    name="convcalc",
    help="Exact shapes, parameters, MACs, FLOPs and memory of a CNN from a YAML layer spec.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SPEC_HELP = "Spec file, '-' for standard input, or the name of a bundled spec (convcalc zoo lists them)."


class OutputFormat(str, Enum):
    """What `analyze` prints. Each command's --format takes the formats of its own enum (these, TableOrJson or
    TableJsonOrCsv): its --help lists exactly those and it refuses the others."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class TableOrJson(str, Enum):
    """What explain, conventions, zoo and compare print, and analyze with --mode train/deploy."""

    table = "table"
    json = "json"


class TableJsonOrCsv(str, Enum):
    """What sweep prints."""

    table = "table"
    json = "json"
    csv = "csv"


def chosen_format(output: OutputFormat | TableOrJson | TableJsonOrCsv) -> OutputFormat:
    """A command's --format as one of analyze's formats, which the renderers take."""
    return OutputFormat(output.value)


def other_formats(formats: type[OutputFormat] | type[TableOrJson] | type[TableJsonOrCsv]) -> tuple[str, ...]:
    """A command's formats besides its table: they show every column a narrow terminal leaves out."""
    return tuple(f.value for f in formats if f.value != OutputFormat.table.value)


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
TableOrJsonOption = Annotated[TableOrJson, typer.Option("--format", "-f", help="Output format.")]


class Dtype(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    int8 = "int8"
    float64 = "float64"


class Mode(str, Enum):
    inference = "inference"
    train = "train"
    deploy = "deploy"


class Optimizer(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"
    adamw = "adamw"


class Precision(str, Enum):
    fp32 = "fp32"
    amp = "amp"


ModeOption = Annotated[
    Mode,
    typer.Option(
        help="train: memory and compute of a training step (autograd's saved tensors, gradients, optimizer state, "
        "peak); deploy: a microcontroller runtime's peak (batch norm folded, in-place depthwise; use --dtype int8). "
        f"Both print --format {' or '.join(f.value for f in TableOrJson)}."
    ),
]
OptimizerOption = Annotated[
    Optional[Optimizer],  # noqa: UP045 - typer reads the annotation at run time
    typer.Option(help="--mode train: the optimizer's state per parameter (default sgd).", show_default=False),
]
PrecisionOption = Annotated[
    Optional[Precision],  # noqa: UP045
    typer.Option(
        help="--mode train: fp32 (everything in --dtype, the default) or amp (float16 activations).", show_default=False
    ),
]

PatchesOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--patches",
        metavar="ROWSxCOLS",
        help="--mode deploy: run the initial stage patch by patch (MCUNetV2), the split layer's output cut into "
        "ROWSxCOLS tiles such as 4x4; prints both stages' peaks and the MACs recomputed in the overlapping halos.",
        show_default=False,
    ),
]
SplitOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--split",
        metavar="LAYER",
        help="--patches: the last layer run patch by patch (default: the split with the lowest peak).",
        show_default=False,
    ),
]


class _State:
    debug = False


def _version(value: bool) -> None:
    if value:
        print(f"convcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback for unexpected errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    _State.debug = debug


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
    from convcalc.results import AnalysisError

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
    from convcalc.outputs import write_stream

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


def load_sized(spec: str, input_size: str | None) -> tuple[Graph, Shape | None]:
    """Load a spec and read an ``--input`` size against it; the caller reports SpecErrors."""
    from convcalc.api import load_spec, parse_shape

    loaded = load_spec(spec)
    if input_size is None:
        return loaded, None
    try:
        return loaded, parse_shape(input_size, loaded.input_shape)
    except ValueError as error:
        usage_error(str(error))


def load_analysis(spec: str, *, batch: int, dtype: str, input_size: str | None) -> Analysis:
    """Load and analyse a spec; the caller reports SpecErrors."""
    from convcalc.api import analyze as run_analysis

    loaded, shape = load_sized(spec, input_size)
    return run_analysis(loaded, batch=batch, dtype=dtype, input_shape=shape)


def _batch_limit(batch: int) -> int:
    """convcalc's bound on any number, said as 10^100 (click's own range check would print all 101 digits)."""
    if batch > MAX_MAGNITUDE:
        raise typer.BadParameter("is above 10^100, convcalc's limit")
    return batch


BatchOption = Annotated[
    int,
    typer.Option(min=1, callback=_batch_limit, help="Batch size, 1 to 10^100 (scales MACs, FLOPs, activations)."),
]
InputOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time
    typer.Option("--input", help="Cost the network at another input size: 3x512x512, 512x1024 or 512."),
]
DepthOption = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--depth",
        min=1,
        help="One row per block, repeat or structure N levels deep (1: stages such as 'layer1: bottleneck x3').",
    ),
]


ConventionOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--convention",
        metavar="NAME",
        help="Count MACs (and FLOPs) as another tool does: convcalc, torchvision, fvcore, ptflops, ptflops-hooks, "
        "thop, torchinfo, onnx-tool or flop_counter (README: Conventions).",
    ),
]


def with_convention(
    analysis: Analysis, name: str, output: OutputFormat, exact_numbers: bool, svg: str | None, title: str, **view: Any
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


SvgOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--svg", metavar="FILE", help="Also write the table as an SVG picture to FILE (slides, READMEs)."),
]


BottleneckOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--bottleneck",
        "-b",
        metavar="LAYER=WIDTH",
        help="Insert a 1x1 conv before a conv: LAYER=FILTERS or LAYER=FRACTION of its input channels; "
        "'all=0.25' for every conv with a kernel over 1x1. Repeatable.",
    ),
]


def check_output_files(outputs: dict[str, str | None], *specs: str) -> None:
    """Refuse an output that would write over an input spec, or two outputs to one file (README: Errors)."""
    from convcalc.api import resolve_path
    from convcalc.outputs import check_outputs

    check_outputs(outputs, [resolve_path(spec) for spec in specs])


def report_stream(*outputs: str | None) -> IO[str]:
    """Where the report goes: standard output, or standard error when an output option writes there ('-')."""
    from convcalc.outputs import STDOUT

    return sys.stderr if STDOUT in outputs else sys.stdout


def write_file(option: str, path: str, text: str, what: str) -> None:
    """Write an output file (or standard output for '-') and say so on standard error."""
    from convcalc.outputs import STDOUT, write_output

    try:
        write_output(path, text, option)
    except SpecError as error:
        fail(error)
    if path != STDOUT:
        print(message_line(f"{what} written to {path}"), file=sys.stderr)


def write_svg(view: Sequence[RenderableType], svg: str, title: str) -> None:
    from convcalc.render.table import svg_text

    write_file("--svg", svg, svg_text(view, message_line(title)), "picture")


@app.command()
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
    grid = patch_grid(mode, patches, split)
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
    extra = mode_extra(analysis, mode, optimizer, precision, (grid, split))
    if svg is not None:  # files first: a reader that stops early (`| head -3`) must not cost the user the file
        from convcalc.render.modes import mode_lines
        from convcalc.render.table import analysis_view

        after = mode_lines(extra, analysis.batch, exact_numbers=exact_numbers)
        view = analysis_view(analysis, exact_numbers=exact_numbers, columns=keys, rows=rows, after=after)
        write_svg(view, svg, f"convcalc analyze {spec}")
    print_analysis(analysis, output, keys, rows, extra, report_stream(svg), exact_numbers=exact_numbers, depth=depth)


def print_analysis(
    analysis: Analysis,
    output: OutputFormat,
    keys: Sequence[str],
    rows: Sequence[LayerResult] | None,
    extra: Training | Deployment | None,
    report: IO[str],
    *,
    exact_numbers: bool,
    depth: int | None,
) -> None:
    """The analysis in the chosen format (with a train/deploy mode's totals) on ``report``."""
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        emit(to_json(extra.attach(analysis.to_dict()) if extra else analysis_json(analysis, depth)) + "\n", report)
    elif output is OutputFormat.csv:
        from convcalc.render.plain import to_csv

        emit(to_csv(analysis, keys, rows), report)
    elif output is OutputFormat.markdown:
        from convcalc.render.plain import to_markdown

        emit(to_markdown(analysis, keys, exact_numbers=exact_numbers, rows=rows), report)
    else:
        from convcalc.render.modes import mode_lines
        from convcalc.render.table import render_analysis

        formats = other_formats(TableOrJson if extra else OutputFormat)
        after = mode_lines(extra, analysis.batch, exact_numbers=exact_numbers)
        render_analysis(
            analysis, exact_numbers=exact_numbers, columns=keys, rows=rows, file=report, formats=formats, after=after
        )


def check_mode(output: OutputFormat, depth: int | None, convention: str | None = None) -> None:
    """--mode train/deploy print a table with their totals, or JSON; per layer, so without --depth; in convcalc's
    own counts, so without --convention."""
    require_format(output, "--mode train/deploy", TableOrJson)
    if depth is not None:
        usage_error("--mode train/deploy reports every layer: leave out --depth")
    if convention is not None:
        usage_error("--mode train/deploy count in convcalc's own convention: leave out --convention")


def patch_grid(mode: Mode, patches: str | None, split: str | None) -> Grid | None:
    """--patches' grid (None without it); --patches only with --mode deploy, --split only with --patches."""
    if patches is None:
        if split is not None:
            usage_error("--split says where the patches end: give --patches too")
        return None
    if mode is not Mode.deploy:
        usage_error("--patches runs a deployment's initial stage patch by patch: give --mode deploy too")
    from convcalc.patches import parse_grid

    try:
        return parse_grid(patches)
    except ValueError as error:
        usage_error(str(error))


def mode_extra(
    analysis: Analysis,
    mode: Mode,
    optimizer: Optimizer | None,
    precision: Precision | None,
    patches: tuple[Grid | None, str | None] = (None, None),
) -> Training | Deployment | None:
    """The training step or the deployment of ``--mode`` (None for inference), the deployment's initial stage run
    in ``patches`` (a grid and a split layer, or None for the lowest peak); --optimizer and --precision only with
    --mode train."""
    if mode is not Mode.train and (optimizer is not None or precision is not None):
        usage_error("--optimizer and --precision describe a training step: give --mode train too")
    if mode is Mode.train:
        from convcalc.training import training

        return training(analysis, (optimizer or Optimizer.sgd).value, (precision or Precision.fp32).value)
    if mode is Mode.deploy:
        from convcalc.deploy import deployment

        plan, (grid, split) = deployment(analysis, analysis.dtype), patches
        if grid is None:
            return plan
        from convcalc.patches import patched

        try:
            return patched(analysis, plan, grid, split)
        except ValueError as error:
            usage_error(f"{analysis.name}: {error}")
    return None


def grouped_rows(analysis: Analysis, depth: int | None) -> Sequence[LayerResult] | None:
    """The rows of ``--depth N`` (None without it: every layer)."""
    if depth is None:
        return None
    from convcalc.views import rows

    return rows(analysis.layers, depth)


def analysis_json(analysis: Analysis, depth: int | None) -> dict[str, Any]:
    """The analysis as JSON; with ``--depth``, its groups too, nested with their members."""
    if depth is None:
        return analysis.to_dict()
    from convcalc.views import grouped_dict

    return grouped_dict(analysis, depth)


@app.command()
def explain(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    layers: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(help="Layer names or patterns (conv*, layer2.*); all layers when none.", show_default=False),
    ] = None,
    form: TableOrJsonOption = TableOrJson.table,
    input_size: InputOption = None,
    convention: ConventionOption = None,
) -> None:
    """Each layer's output-size, params, MACs and FLOPs formulas, then the same with its numbers substituted."""
    from convcalc.explain import explain_layer, select_layers

    output = chosen_format(form)
    with spec_errors(output, exact_numbers=False):
        analysis = load_analysis(spec, batch=1, dtype="float32", input_size=input_size)
    try:
        chosen = select_layers(analysis, layers or ())
    except ValueError as error:
        usage_error(str(error))
    explanations = [explain_layer(layer) for layer in chosen]
    if convention is not None:
        return explain_convention(explanations, analysis, convention, output)
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        emit(to_json({"name": analysis.name, "layers": [e.to_dict() for e in explanations]}) + "\n")
    else:
        from convcalc.render.explain_text import render_explanations

        emit(render_explanations(explanations))


def explain_convention(
    explanations: Sequence[Explanation], analysis: Analysis, name: str, output: OutputFormat
) -> None:
    """`explain --convention NAME`: each explanation, then that tool's rule for the layer with its numbers."""
    from convcalc.conventions import convention
    from convcalc.render.conventions_text import explanations_json, explanations_text

    try:
        chosen = convention(name)
    except ValueError as error:
        usage_error(str(error))
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        print(to_json(explanations_json(explanations, analysis, chosen)))
    else:
        print(explanations_text(explanations, analysis, chosen), end="")


@app.command()
def conventions(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    form: TableOrJsonOption = TableOrJson.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
    batch: BatchOption = 1,
    input_size: InputOption = None,
) -> None:
    """One row per counting tool (fvcore, ptflops, thop, ...): its count and how it differs from convcalc's."""
    from convcalc.render.conventions_text import conventions_json, conventions_view

    output = chosen_format(form)
    with spec_errors(output, exact_numbers):
        analysis = load_analysis(spec, batch=batch, dtype="float32", input_size=input_size)
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        print(to_json(conventions_json(analysis)))
    else:
        from convcalc.render.table import print_view

        print_view(conventions_view(analysis, exact_numbers=exact_numbers), formats=other_formats(TableOrJson))


@app.command()
def zoo(
    form: TableOrJsonOption = TableOrJson.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
) -> None:
    """The bundled example networks: name, description, total parameters and MACs."""
    from convcalc.zoo import zoo_entries

    output = chosen_format(form)
    with spec_errors(output, exact_numbers):
        entries = zoo_entries()
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        emit(to_json({"specs": [entry.to_dict() for entry in entries]}) + "\n")
    else:
        from convcalc.render.table import render_zoo

        render_zoo(entries, exact_numbers=exact_numbers, formats=other_formats(TableOrJson))


@app.command()
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
    mode: ModeOption = Mode.inference,
    optimizer: OptimizerOption = None,
    precision: PrecisionOption = None,
    patches: PatchesOption = None,
    split: SplitOption = None,
) -> None:
    """Two networks side by side, or one before and after inserting 1x1 bottleneck convs."""
    output = chosen_format(form)
    grid = patch_grid(mode, patches, split)
    with spec_errors(output, exact_numbers):
        if (second is None) == (not bottleneck):
            raise SpecError("compare needs a second spec or --bottleneck (one of the two)")
        if emit_spec is not None and not bottleneck:
            raise SpecError("--emit-spec writes the spec that --bottleneck rewrites; give --bottleneck too")
        check_output_files({"--emit-spec": emit_spec, "--svg": svg}, first, *([second] if second else []))
        comparison = compared(first, second, bottleneck, batch=batch, dtype=dtype.value)
    report = report_stream(emit_spec, svg)
    sides = [
        mode_extra(side, mode, optimizer, precision, (grid, split)) for side in (comparison.before, comparison.after)
    ]
    if emit_spec is not None and comparison.rewrite is not None:  # files first, as in analyze
        write_file("--emit-spec", emit_spec, comparison.rewrite.text, "rewritten spec")
    if svg is not None:
        from convcalc.render.compare_table import comparison_view

        title = f"convcalc compare {first} {second or ' '.join(f'-b {b}' for b in bottleneck or ())}"
        write_svg(comparison_view(comparison_rows(comparison, depth), exact_numbers=exact_numbers), svg, title)
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        document = comparison_json(comparison, depth)
        emit(to_json(compared_modes(document, mode, sides)) + "\n", report)
    else:
        from convcalc.render.compare_table import render_comparison

        shown = comparison_rows(comparison, depth)
        render_comparison(shown, exact_numbers=exact_numbers, file=report, formats=other_formats(TableOrJson))
        print_compared_modes(comparison, sides, report, exact_numbers)


def compared(first: str, second: str | None, bottleneck: list[str] | None, *, batch: int, dtype: str) -> Comparison:
    """Two specs, or one before and after its --bottleneck rewrite; the caller checks that exactly one is given
    and reports SpecErrors."""
    from convcalc.api import compare as run_comparison

    return run_comparison(first, second, bottlenecks=bottleneck or (), batch=batch, dtype=dtype)


def compared_modes(document: dict[str, Any], mode: Mode, sides: list[Training | Deployment | None]) -> dict[str, Any]:
    """`compare --mode train/deploy -f json`: each side's totals under ``training`` or ``deploy``."""
    if sides[0] is not None and sides[1] is not None:
        document[mode.value if mode is Mode.deploy else "training"] = {
            "before": sides[0].to_dict(),
            "after": sides[1].to_dict(),
        }
    return document


def print_compared_modes(
    comparison: Comparison, sides: list[Training | Deployment | None], report: IO[str], exact_numbers: bool
) -> None:
    if sides[0] is not None and sides[1] is not None:
        from convcalc.render.modes import side_by_side
        from convcalc.render.table import print_view

        names = (comparison.before.name, comparison.after.name)
        grid = side_by_side(sides[0], sides[1], names, exact_numbers=exact_numbers)
        print_view([grid], report, other_formats(TableOrJson))


def comparison_rows(comparison: Comparison, depth: int | None) -> Comparison:
    """The comparison with ``--depth N``: its rows are the groups at that depth of each side."""
    if depth is None:
        return comparison
    from convcalc.views import grouped_comparison

    return grouped_comparison(comparison, depth)


def comparison_json(comparison: Comparison, depth: int | None) -> dict[str, Any]:
    """`compare --format json`; with ``--depth``, grouped rows and each side's groups nested."""
    if depth is None:
        return comparison.to_dict()
    from convcalc.views import grouped_comparison_dict

    return grouped_comparison_dict(comparison, depth)


@app.command()
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
    from convcalc.sweep import parse_sizes
    from convcalc.sweep import sweep as run_sweep

    output = chosen_format(form)
    with spec_errors(output, exact_numbers):
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


class GraphFormat(str, Enum):
    dot = "dot"
    mermaid = "mermaid"


@app.command()
def graph(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    output: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="dot (Graphviz) or mermaid (a flowchart).")
    ] = GraphFormat.dot,
    input_size: InputOption = None,
) -> None:
    """The dataflow graph as text: layers with kind and cost, arrows with tensor shapes, blocks as clusters."""
    from convcalc.dataflow import diagram
    from convcalc.render.graph_text import to_dot, to_mermaid

    with spec_errors(OutputFormat.table, exact_numbers=False):
        analysis = load_analysis(spec, batch=1, dtype="float32", input_size=input_size)
    picture = diagram(analysis)
    emit(to_dot(picture) if output is GraphFormat.dot else to_mermaid(picture))


@app.command()
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
) -> None:
    """One self-contained HTML page: totals, collapsible table, bar charts, the graph, warnings and explain; with
    SPEC2 or --bottleneck, the two networks side by side (totals, difference, ratio, aligned layers, charts)."""
    with spec_errors(OutputFormat.table, exact_numbers=False):
        check_output_files({"--output": out}, spec, *([second] if second else []))
        if second is None and not bottleneck:
            page = single_report(spec, batch=batch, dtype=dtype.value, input_size=input_size)
        elif second is not None and bottleneck:
            raise SpecError("report compares with a second spec or with --bottleneck, not both")
        elif input_size is not None:
            usage_error("--input is for one network's report; compare two specs written at the sizes you want")
        else:
            from convcalc.render.html_compare import comparison_html

            page = comparison_html(compared(spec, second, bottleneck, batch=batch, dtype=dtype.value))
    write_file("--output", out, page, "report")


def single_report(spec: str, *, batch: int, dtype: str, input_size: str | None) -> str:
    """`convcalc report SPEC`: one network's page; the caller reports SpecErrors."""
    from convcalc.render.html_report import report_html

    return report_html(load_analysis(spec, batch=batch, dtype=dtype, input_size=input_size))


@app.command("import")
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
    and repeated blocks written as such (--flat: one layer a line)."""
    from convcalc.onnx_import import read_onnx_file
    from convcalc.spec_writer import write_spec

    origins: dict[str, str] = {}
    with spec_errors(OutputFormat.table, exact_numbers=False):
        if not model.lower().endswith(".onnx"):
            raise SpecError(f"{model}: convcalc imports ONNX models (.onnx files)")
        check_output_files({"--output": out}, model)
        try:
            text = write_spec(read_onnx_file(model, origins), origins, flat=flat)
        except ValueError as error:
            raise SpecError(f"{model}: {error}") from None
    write_file("--output", out, text, "spec")


class ExportTarget(str, Enum):
    pytorch = "pytorch"


@app.command()
def export(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    to: Annotated[
        ExportTarget, typer.Option("--to", help="What to write: a PyTorch nn.Module.")
    ] = ExportTarget.pytorch,
    input_size: InputOption = None,
) -> None:
    """Write the network as code: convcalc export SPEC --to pytorch > model.py (a self-contained nn.Module)."""
    from convcalc.export import to_pytorch

    with spec_errors(OutputFormat.table, exact_numbers=False):
        loaded, shape = load_sized(spec, input_size)
        source = to_pytorch(loaded, input_shape=shape)
    emit(source)


@app.command()
def schema() -> None:
    """The JSON Schema of spec files, for editors (README: Editor support): convcalc schema > convcalc.schema.json"""
    from convcalc.schema import schema_text

    emit(schema_text())


def main() -> None:
    """Entry point: never a traceback for the user (unless --debug)."""
    tolerate_encoding(sys.stdout, sys.stderr)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # e.g. `convcalc analyze ... | head`
        sys.stderr.close()
        sys.exit(0)
    except Exception as error:  # anything unexpected: one line, exit 1
        if _State.debug:
            raise
        print(
            message_line(f"convcalc: internal error: {type(error).__name__}: {error} (run with --debug for details)"),
            file=sys.stderr,
        )
        sys.exit(1)
