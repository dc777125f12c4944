"""``movenet export``: an existing result in the formats other tools read (OpenPose, COCO, TRC)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import settings as defaults
from ..pipeline import Outputs, check_outputs
from ..pipeline.analysis import export_result, with_analysis
from ..results import load_result
from ..settings import AnalysisSettings
from ..util.preflight import prepare_output_dirs
from .console import handle_errors, note
from .options import Number, filter_options, openpose_layout_option


@click.command("export")
@click.argument("result", type=click.Path(path_type=Path))
@click.option("--format", "formats", multiple=True, required=True, type=click.Choice(defaults.EXPORT_FORMATS),
              help="openpose (RESULT_json/, one JSON per frame), coco (RESULT.coco.json), "
              "trc (RESULT_trc/, one file per tracked person). Repeatable.")
@click.option("--height", type=Number(*defaults.HEIGHT_RANGE_M), default=None,
              help="The person's height in metres: the TRC export is then in metres.")
@openpose_layout_option
@filter_options
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist (a folder is replaced whole).")
@click.option("--quiet", "-q", is_flag=True, help="No per-format lines.")
@handle_errors
def export(result, formats, height, layout, filter_, max_gap, overwrite, quiet):
    """Export a movenet/1 RESULT.json for OpenPose consumers (Pose2Sim), COCO tools or OpenSim.

    Files go beside RESULT.json; what a format cannot hold is listed (it stays in the JSON).
    All the exports asked for are published together, or none.
    """
    analysis = AnalysisSettings(formats=tuple(dict.fromkeys(formats)), height=height, filter=filter_, max_gap=max_gap,
                                layout=layout)
    outputs = with_analysis(Outputs(json=result), analysis)
    outputs = Outputs(coco=outputs.coco, openpose=outputs.openpose, trc=outputs.trc)
    check_outputs([result], outputs, overwrite=overwrite)
    doc = load_result(result)
    prepare_output_dirs(outputs.paths())
    for done in export_result(doc, outputs, analysis):
        if not quiet:
            where = done.paths[0] if len(done.paths) == 1 else f"{len(done.paths)} files in {done.paths[0].parent}" \
                if done.paths else "no files (nobody was found)"
            note(f"{done.format}: {where}")
            for line in done.notes:
                note(f"  {line}")
