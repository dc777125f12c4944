"""``movenet video``: poses on a video, its annotated MP4, JSON, CSV and plot."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_FAILED, MovenetError, OutputExistsError, describe
from ..pipeline import Outputs, check_outputs, process_video
from ..pose import PoseEstimator
from ..render.report import write_video_report
from ..util.preflight import check_input, prepare_output_dirs
from ..util.system import default_threads
from .console import handle_errors, incomplete, note, warn
from .options import draw_options, pose_options, quality_options, run_settings, runner_options, video_options


def _outputs(output, json_path, csv_path, no_video, plot_path) -> Outputs:
    if output is None and not (no_video and (json_path or csv_path or plot_path)):
        raise click.UsageError("give --output/-o (or --no-video with --json/--csv/--plot)")
    if output is not None and output.suffix.lower() != ".mp4" and not no_video:
        raise click.BadParameter(f"{output} must end in .mp4", param_hint="--output")
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise click.BadParameter(f"{plot_path} must end in .png", param_hint="--plot")
    beside = (lambda ext: output.with_suffix(ext)) if output is not None else (lambda ext: None)
    return Outputs(None if no_video else output, json_path or beside(".json"), csv_path or beside(".csv"), plot_path)


def _check_report(report_path, outputs: Outputs, overwrite: bool) -> None:
    if report_path is None:
        return
    if report_path.suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{report_path} must end in .html", param_hint="--report")
    if outputs.json is None:
        raise click.BadParameter("the report is built from the JSON: give -o or --json", param_hint="--report")
    if report_path.exists() and not overwrite:
        raise OutputExistsError(f"{report_path}: already exists; pass --overwrite to replace it")


@click.command()
@click.argument("source", type=click.Path(path_type=Path, readable=False))
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Annotated MP4 (JSON and CSV go beside it).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the JSON here instead.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="Write the CSV here instead.")
@click.option("--no-video", is_flag=True, help="Write only the keypoint data, no annotated video.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), help="Also write a PNG summary of the run here.")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write an HTML report of the run here (pictures in NAME_files/ beside it).")
@video_options
@runner_options
@draw_options
@quality_options
@pose_options
@handle_errors
def video(source, output, json_path, csv_path, no_video, plot_path, report_path, threads, batch_size, overwrite, quiet,
          **params):
    """Estimate poses on a video: annotated H.264 MP4 plus per-frame JSON and CSV.

    People keep their ids across frames and keypoints are smoothed over time; SinglePose
    models follow the person with a crop.
    """
    settings = run_settings(params)
    outputs = _outputs(output, json_path, csv_path, no_video, plot_path)
    _check_report(report_path, outputs, overwrite)
    check_input(source)
    check_outputs([source], outputs, overwrite=overwrite)
    prepare_output_dirs(outputs.paths())
    threads = threads or default_threads(encoding=outputs.media is not None)
    batch_size = batch_size or (threads if settings.quality.batches(settings.model) else 1)
    estimator = PoseEstimator.from_settings(settings, threads=threads, batch_size=batch_size)
    try:
        stats = process_video(estimator, source, outputs, progress=not quiet, **settings.video_options())
    except (MovenetError, OSError) as exc:
        raise MovenetError(describe(exc, source), exit_code=getattr(exc, "exit_code", EXIT_FAILED)) from exc
    if report_path is not None:
        page = write_video_report(outputs.json, outputs.media, report_path, plot_path=outputs.plot, csv_path=outputs.csv)
        if not quiet:
            note(f"report: {page}")
    if not stats.complete:
        warn(incomplete(source, stats.problem))
        sys.exit(EXIT_FAILED)
    if not quiet:
        note(f"{source}: {stats.frames} frames in {stats.seconds:.1f} s ({stats.fps:.1f} fps) -> "
             + ", ".join(map(str, outputs.paths())))
