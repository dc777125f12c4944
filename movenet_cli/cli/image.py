"""``movenet image``: poses on still images."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import settings
from ..errors import MovenetError, describe
from ..media import IMAGE_EXTENSIONS
from ..media.images import check_image_size
from ..pipeline.analysis import with_analysis
from ..pipeline import image_outputs, process_images
from ..pipeline.outputs import WriteSet
from ..pose import PoseEstimator
from ..util.preflight import check_input, prepare_output_dirs
from .console import debugging, expectation_missed, fail, handle_errors, note
from .options import draw_angles_option
from .options import accuracy_option, analysis_options, check_options, draw_options, pose_options, run_checks, run_settings


@click.command()
# readable=False: an unreadable input is a failed input (exit 1, see preflight), not a usage error.
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="Annotated image path (one input), or a folder (several inputs, or a path without an image extension).")
@click.option("--csv", "write_csv", is_flag=True, help="Also write a CSV beside each JSON.")
@check_options
@analysis_options
@draw_options
@draw_angles_option
@pose_options
@accuracy_option(settings.ACCURACY_IMAGE)
@handle_errors
def image(images, output, write_csv, overwrite, quiet, **params):
    """Estimate poses on images: annotated image plus JSON (and CSV with --csv)."""
    checks = run_checks(params, "movenet image")
    with checks.on_refusal(lambda: map(str, images)) as refusal:
        chosen = run_settings(params)
        for path in images:
            refusal.culprit = str(path)
            check_input(path)
            try:
                check_image_size(path)  # a huge image is refused before a model is loaded
            except MovenetError as exc:
                raise MovenetError(describe(exc, path)) from exc
        refusal.culprit = None
        single = len(images) == 1 and output.suffix.lower() in IMAGE_EXTENSIONS
        plans = [(path, with_analysis(image_outputs(path, output, single=single, csv=write_csv), chosen.analysis))
                 for path in images]
        writes = WriteSet(images)
        for path, outputs in plans:
            writes.add_outputs(outputs, input=path if len(images) > 1 else None, options={"media": "--output"})
        writes.add(checks.junit, "--junit", rebuilds="junit")
        writes.check(overwrite=overwrite)
        prepare_output_dirs(out for _, outputs in plans for out in outputs.paths())
        estimator = PoseEstimator.from_settings(chosen)

    def done(path, outputs, result):
        missed = checks.record(str(path), frames=[result])
        if missed:
            expectation_missed(missed)
        if not quiet:
            n = len(result.people)
            note(f"{path}: {n} {'person' if n == 1 else 'people'} -> {', '.join(map(str, outputs.paths()))}")

    def error(path, exc):
        checks.record(str(path), error=describe(exc, path))
        if debugging():
            raise exc
        fail(describe(exc, path))

    checks.lap()
    process_images(estimator, plans, on_done=done, on_error=error, analysis=chosen.analysis, style=chosen.style)
    checks.write()
    sys.exit(checks.exit_code())
