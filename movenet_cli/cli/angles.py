"""``movenet angles``: joint and segment angles of an existing result, without running the model."""

from __future__ import annotations

from pathlib import Path

import click

from ..analysis.angles import ANGLE_NAMES
from ..pipeline import Outputs, check_outputs
from ..pipeline.analysis import result_angles, with_analysis
from ..results import load_result
from ..settings import AnalysisSettings
from ..util.preflight import prepare_output_dirs
from .console import handle_errors, note
from .options import Number, filter_options


@click.command("angles")
@click.argument("result", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), help="The angles CSV [default: RESULT.angles.csv].")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path),
              help="Also draw one angle over time (raw, and filtered with --filter) into this PNG.")
@click.option("--angle", type=click.Choice(ANGLE_NAMES), default="right_knee", show_default=True, help="The angle --plot draws.")
@click.option("--person", type=Number(0, integer=True), default=None,
              help="The person id --plot draws [default: the person seen in most frames].")
@filter_options
@click.option("--overwrite", is_flag=True, help="Replace output files that already exist.")
@click.option("--quiet", "-q", is_flag=True, help="No summary line.")
@handle_errors
def angles(result, output, plot_path, angle, person, filter_, max_gap, overwrite, quiet):
    """Compute joint and segment angles (Sports2D conventions) from a movenet/1 RESULT.json.

    One CSV row per person per frame; an angle whose keypoints are below the result's threshold is empty.
    """
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise click.BadParameter(f"{plot_path} must end in .png", param_hint="--plot")
    analysis = AnalysisSettings(angles=True, filter=filter_, max_gap=max_gap)
    output = output or with_analysis(Outputs(json=result), analysis).angles
    outputs = Outputs(csv=output, plot=plot_path)
    check_outputs([result], outputs, overwrite=overwrite)
    doc = load_result(result)
    prepare_output_dirs(outputs.paths())
    done = result_angles(doc, output, analysis, plot=plot_path, angle=angle, person=person)
    if not quiet:
        how = f", {done['filter']['type']} filtered" if done["filter"] else ""
        drawn = f"; {angle} of person {done['person']} -> {plot_path}" if plot_path is not None else ""
        note(f"{result}: {done['rows']} rows{how} -> {output}{drawn}")
