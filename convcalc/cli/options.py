"""The command line's shared vocabulary: formats, element types, modes, and the options several commands take."""

from enum import Enum
from typing import Annotated, Optional

import typer

from convcalc.core.keys import MAX_MAGNITUDE

SPEC_HELP = (
    "Spec file, '-' for standard input, the name of a bundled spec (convcalc zoo lists them), a model file (.onnx, "
    ".pt2), or package.module:factory naming a PyTorch module (this imports and runs that code; give --input)."
)


class OutputFormat(str, Enum):
    """What `analyze` prints. Each command's --format takes the formats of its own enum (these, TableOrJson or
    TableJsonOrCsv): its --help lists exactly those and it refuses the others."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    latex = "latex"


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
    typer.Option(
        "--input",
        help="Cost the network at another input size: 3x512x512, 512x1024 or 512 (a PyTorch module: the whole size).",
    ),
]


ExpectOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--expect",
        metavar="CODES",
        help="Acknowledge warnings by code on every layer, comma-separated (unread,layout): they are not printed; "
        "'layout' runs an input that looks channels-last as written (docs: reference/warnings).",
    ),
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
        "thop, ultralytics_thop, torchinfo, onnx-tool or flop_counter (README: Conventions).",
    ),
]


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


class GraphFormat(str, Enum):
    dot = "dot"
    mermaid = "mermaid"


class ExportTarget(str, Enum):
    pytorch = "pytorch"
