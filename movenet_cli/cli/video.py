"""``movenet video``: poses on a video, its annotated MP4, JSON, CSV, JSON Lines, plot and report."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from .. import settings
from ..errors import EXIT_FAILED, MovenetError, describe
from ..media.stdin import STDIN, spooled_stdin
from ..media.url import display_url, is_url
from ..pipeline import Outputs, process_video
from ..pipeline.analysis import with_analysis
from ..render.report import write_video_report
from ..run.remote import staged_video
from ..util.preflight import check_input, prepare_output_dirs
from .console import expectation_missed, handle_errors, incomplete, note, reserve_stdout, warn
from .options import (VideoSource, accuracy_option, analysis_options, check_options, check_report_path,
                      check_video_writes, draw_angles_option, draw_options, filter_options, pose_options, quality_options, run_checks,
                      run_settings, runner_options, url_options, video_estimator, video_options)


def _outputs(output, json_path, csv_path, no_video, plot_path, jsonl) -> Outputs:
    if output is None and not (no_video and (json_path or csv_path or plot_path or jsonl)):
        raise click.UsageError("give --output/-o (or --no-video with --json/--csv/--jsonl/--plot)")
    if output is not None and output.suffix.lower() != ".mp4" and not no_video:
        raise click.BadParameter(f"{output} must end in .mp4", param_hint="--output")
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise click.BadParameter(f"{plot_path} must end in .png", param_hint="--plot")
    beside = (lambda ext: output.with_suffix(ext)) if output is not None else (lambda ext: None)
    return Outputs(None if no_video else output, json_path or beside(".json"), csv_path or beside(".csv"), plot_path,
                   jsonl=None if jsonl is None else (jsonl if jsonl == STDIN else Path(jsonl)))


@click.command()
@click.argument("source", type=VideoSource())
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Annotated MP4 (JSON and CSV go beside it).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the JSON here instead.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="Write the CSV here instead.")
@click.option("--jsonl", metavar="PATH|-", default=None,
              help="Also write JSON Lines, one line per frame as it is produced; - for stdout (then only data goes there).")
@click.option("--no-video", is_flag=True, help="Write only the keypoint data, no annotated video.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), help="Also write a PNG summary of the run here.")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write an HTML report of the run here (pictures in NAME_files/ beside it).")
@analysis_options
@filter_options
@draw_options
@draw_angles_option
@video_options
@url_options
@runner_options
@quality_options
@check_options
@pose_options
@accuracy_option(settings.ACCURACY)
@handle_errors
def video(source, output, json_path, csv_path, jsonl, no_video, plot_path, report_path, threads, batch_size, overwrite,
          quiet, url_timeout, **params):
    """Estimate poses on a video: annotated H.264 MP4 plus per-frame JSON and CSV.

    SOURCE may be - to read the video from stdin, or an http(s):// or rtsp:// URL. People keep their ids across frames and
    keypoints are smoothed over time; SinglePose models follow the person with a crop.
    """
    checks = run_checks(params, "movenet video")
    with checks.on_refusal(lambda: [str(source)]):
        chosen = run_settings(params)
        outputs = with_analysis(_outputs(output, json_path, csv_path, no_video, plot_path, jsonl), chosen.analysis)
        check_report_path(report_path, outputs)
        if jsonl == STDIN:
            reserve_stdout()
        frames: list = []
        with spooled_stdin() if str(source) == STDIN else contextlib.nullcontext(source) as path:
            try:
                with staged_video(path, outputs, overwrite=overwrite, report=report_path) as (path, local):
                    stats = _run(path, local, source, chosen, checks, report_path, overwrite, quiet, threads,
                                 batch_size, url_timeout, json_path, csv_path, frames)
            except (MovenetError, OSError) as exc:
                if hasattr(exc, "writes"):
                    raise  # outputs refused: the line names them
                raise MovenetError(describe(exc, display_url(source)),
                                   exit_code=getattr(exc, "exit_code", EXIT_FAILED)) from exc
    if report_path is not None:
        page = write_video_report(outputs.json, outputs.media, report_path, plot_path=outputs.plot, csv_path=outputs.csv)
        if not quiet:
            note(f"report: {page}")
    _finish(source, stats, outputs, frames, checks, quiet)


def _run(path, outputs, source, chosen, checks, report_path, overwrite, quiet, threads, batch_size, url_timeout,
         json_path, csv_path, frames):
    """Check every output as one set, then run the model over the video (outputs local, or scratch for a bucket)."""
    if not is_url(path):
        check_input(path)
    check_video_writes([] if is_url(path) else [path], outputs, report_path, checks.junit, overwrite=overwrite,
                       named={"json": json_path, "csv": csv_path})
    prepare_output_dirs(outputs.paths())
    estimator = video_estimator(chosen, threads, batch_size, encoding=outputs.media is not None, warn=warn)
    return process_video(estimator, path, outputs, progress=not quiet, source_name=display_url(source),
                         on_result=frames.append if checks.expect.any else None, url_timeout=url_timeout,
                         warn=warn, **chosen.video_options())


def _finish(source, stats, outputs, frames, checks, quiet) -> None:
    if not stats.complete:
        warn(incomplete(source, stats.problem))
        checks.record(str(source), error=incomplete(source, stats.problem), seconds=stats.seconds)
    else:
        missed = checks.record(str(source), frames=frames, seconds=stats.seconds)
        if missed:
            expectation_missed(missed)
    checks.write()
    if not quiet:
        note(f"{source}: {stats.frames} frames in {stats.seconds:.1f} s ({stats.fps:.1f} fps) -> "
             + ", ".join(map(str, outputs.paths() + outputs.folders())))
    sys.exit(checks.exit_code())
