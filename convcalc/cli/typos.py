"""An unknown option's suggestion: by what the user meant first (`--latency` -> `--device`), then by spelling, only
when close (click's own guess offers `--batch` for `--latency`)."""

import difflib

from typer._click.core import Context  # typer vendors click since 0.22
from typer._click.exceptions import NoSuchOption
from typer.core import TyperCommand

MEANINGS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("latency", "speed", "time", "timing", "fps", "gpu", "cpu", "hardware"),
        ("--device", "latency estimates need a device: --device NAME (convcalc devices lists them)"),
    ),
    **dict.fromkeys(
        ("unit", "units", "raw", "full", "human", "precise", "no-human"),
        ("--exact", "counts print as K/M/G; --exact prints every digit"),
    ),
    **dict.fromkeys(
        ("shape", "size", "resolution", "image-size", "img-size", "input-size", "input-shape", "res"),
        ("--input", "the input size is --input, e.g. 3x512x512 or 512"),
    ),
    **dict.fromkeys(
        ("json", "csv", "markdown", "latex", "md", "output-format", "fmt"),
        ("--format", "the output format is --format (-f), e.g. -f json"),
    ),
    **dict.fromkeys(
        ("fp16", "fp32", "half", "int8", "bf16", "bits", "bytes"),
        ("--dtype", "the element type is --dtype, e.g. --dtype float16"),
    ),
    **dict.fromkeys(
        ("train", "training", "deploy", "inference", "mcu"),
        ("--mode", "train and deploy are modes: --mode train or --mode deploy"),
    ),
    **dict.fromkeys(
        ("level", "levels", "max-depth", "blocks", "group", "collapse"),
        ("--depth", "one row per block N levels deep is --depth N"),
    ),
    **dict.fromkeys(("batch-size", "bs", "batchsize"), ("--batch", "the batch size is --batch")),
    **dict.fromkeys(
        ("tool", "peer", "fvcore", "ptflops", "thop"), ("--convention", "count as a tool does with --convention NAME")
    ),
    **dict.fromkeys(
        ("quiet", "ack", "ignore", "silence", "no-warnings"),
        ("--expect", "acknowledge warnings by code with --expect CODE"),
    ),
}
"""What an unknown option (without its dashes) most likely meant: the option, and one line saying how to use it."""


def suggestion(typed: str, options: list[str]) -> tuple[list[str], str | None]:
    """The options to offer for ``typed`` among a command's ``options``, and a line on why (None: spelling only)."""
    word = typed.lstrip("-").lower()
    meant = MEANINGS.get(word)
    if meant is not None and meant[0] in options:
        return [meant[0]], meant[1]
    return difflib.get_close_matches(typed, options, n=2, cutoff=0.75), None


class SuggestingCommand(TyperCommand):
    """A command whose unknown option is answered by :func:`suggestion`."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except NoSuchOption as error:
            options = [name for param in self.params for name in (*param.opts, *param.secondary_opts)]
            offered, why = suggestion(error.option_name, [name for name in options if name.startswith("--")])
            error.possibilities = None if why else offered
            if why is not None:
                error.message = f"No such option: {error.option_name}: {why}"
            raise
