"""`--mode train/deploy` and `--patches`: which options combine, and the training step or deployment they ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.cli.common import require_format, usage_error
from convcalc.cli.options import Mode, Optimizer, OutputFormat, Precision, TableOrJson

if TYPE_CHECKING:
    from convcalc.engine.results import Analysis
    from convcalc.passes.deploy import Deployment, Grid
    from convcalc.passes.training import Training


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
    from convcalc.passes.patches import parse_grid

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
        from convcalc.passes.training import training

        return training(analysis, (optimizer or Optimizer.sgd).value, (precision or Precision.fp32).value)
    if mode is Mode.deploy:
        from convcalc.passes.deploy import deployment

        plan, (grid, split) = deployment(analysis, analysis.dtype), patches
        if grid is None:
            return plan
        from convcalc.passes.patches import patched

        try:
            return patched(analysis, plan, grid, split)
        except ValueError as error:
            usage_error(f"{analysis.name}: {error}")
    return None
