"""`--mode train/deploy` on the command line: the options as :class:`~convcalc.passes.modes.ModeOptions`, and what
the passes refuse as a usage error (which options combine is the passes' rule, :mod:`convcalc.passes.modes`)."""

from typing import TYPE_CHECKING

from convcalc.cli.common import require_format, usage_error
from convcalc.cli.options import Mode, Optimizer, OutputFormat, Precision, TableOrJson

if TYPE_CHECKING:  # the passes load when a mode runs (cold start of plain `convcalc analyze`)
    from convcalc.engine.results import Analysis
    from convcalc.passes.modes import ModeOptions, Report


def check_mode(output: OutputFormat, convention: str | None = None) -> None:
    """--mode train/deploy print a table with their totals, or JSON; in convcalc's own counts, so without
    --convention."""
    require_format(output, "--mode train/deploy", TableOrJson)
    if convention is not None:
        usage_error("--mode train/deploy count in convcalc's own convention: leave out --convention")


def mode_options(
    mode: Mode, optimizer: Optimizer | None, precision: Precision | None, patches: str | None, split: str | None
) -> "ModeOptions | None":
    """The mode's options, checked before anything is read (a wrong combination is a usage error); None for plain
    inference (no pass loads)."""
    if mode is Mode.inference and all(option is None for option in (optimizer, precision, patches, split)):
        return None
    from convcalc.passes.modes import ModeOptions, check_options

    options = ModeOptions(optimizer and optimizer.value, precision and precision.value, patches, split)
    try:
        check_options(mode.value, options)
    except ValueError as error:
        usage_error(str(error))
    return options


def mode_report(analysis: "Analysis", mode: Mode, options: "ModeOptions | None") -> "Report | None":
    """The training step or deployment of ``--mode`` (None for inference)."""
    if options is None:
        return None
    from convcalc.passes.modes import run_mode

    try:
        return run_mode(analysis, mode.value, options)
    except ValueError as error:
        usage_error(str(error))
