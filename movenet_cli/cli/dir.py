"""``movenet dir``: every image and video under a folder, with a run manifest."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import settings as defaults
from ..errors import EXIT_FAILED, UsageError, describe
from ..run import run_folder
from ..run.remote import fetch_results, write_run_report
from ..storage import as_url, redact
from ..run.checks import check_folder_run
from ..settings import REPORT_NAME
from ..util.progress import write_line
from .console import FINISHED, debugging, expectation_missed, handle_errors, note
from .options import Number, draw_angles_option, report_and_junit
from .options import (FolderOrBucket, accuracy_option, analysis_options, check_options, draw_options, filter_options,
                      pose_options, quality_options, run_checks, run_settings, video_options)


def _reporter(quiet: bool, finished: list):
    def report(record):
        if record.status == "done":
            finished.append(record.input)
        if record.status == "failed":
            write_line(f"movenet: error: {describe(record.reason, record.input)}")
            if record.traceback and debugging():
                write_line(record.traceback.rstrip())
        elif quiet:
            return
        elif record.status == "done":
            fps = record.frames / record.seconds if record.seconds else 0.0
            frames = f"{record.frames} frame{'' if record.frames == 1 else 's'}"
            write_line(f"{record.input}: done, {frames} in {record.seconds:.1f} s ({fps:.1f} fps)")
        elif record.status == "skipped":
            write_line(f"{record.input}: skipped, outputs complete")

    return report


@click.command("dir")
@click.argument("in_dir", type=FolderOrBucket())
@click.option("--output", "-o", "out_dir", required=True, type=FolderOrBucket())
@click.option("--no-video", is_flag=True, help="For videos, write only the keypoint data.")
@click.option("--csv", "image_csv", is_flag=True, help="Also write CSV for images (videos always get one).")
@click.option("--skip-existing", is_flag=True,
              help="Resume: skip inputs whose outputs are complete (checked, not just present); redo the rest.")
@click.option("--jobs", "-j", type=Number(*defaults.JOBS_RANGE, integer=True), default=None,
              help="Files processed at once, each in its own worker process [default: one per core].")
@click.option("--engine", type=click.Choice(defaults.ENGINES), default=defaults.ENGINE, show_default=True,
              help="local: this machine; ray: one Ray task per file (pip install 'movenet-cli[ray]').")
@click.option("--address", default=None, help="Ray cluster to join (e.g. auto, HOST:6379); default: a local instance.")
@click.option("--include", multiple=True, metavar="PATTERN",
              help="Also take files whose name or relative path matches (e.g. '*.dat'); their kind is read from "
              "their content. Repeatable.")
@click.option("--exclude", multiple=True, metavar="PATTERN",
              help="Leave out files whose name or relative path matches (e.g. 'raw/*'). Repeatable.")
@analysis_options
@filter_options
@click.option("--report", "with_report", is_flag=True,
              help="Also write OUT_DIR/report.html: every input with pictures and numbers, problems first.")
@video_options
@draw_options
@draw_angles_option
@quality_options
@check_options
@pose_options
@accuracy_option(defaults.ACCURACY)
@handle_errors
def dir_(in_dir, out_dir, no_video, image_csv, skip_existing, jobs, engine, address, include, exclude, with_report,
         overwrite, quiet, **params):
    """Process every image and video under IN_DIR, mirroring outputs under OUT_DIR.

    Every run writes OUT_DIR/movenet-run.json: each input's status, outputs, frame
    counts and timings, and the settings used.
    """
    checks = run_checks(params, "movenet dir")
    with checks.on_refusal(lambda: [str(in_dir)]):
        settings = run_settings(params)
        if address is not None and engine != "ray":
            raise click.BadParameter("only used with --engine ray", param_hint="--address")
        if jobs is not None and engine == "ray":
            raise click.BadParameter("Ray decides how many files run at once; leave --jobs out", param_hint="--jobs")
        if not as_url(in_dir) and not in_dir.is_dir():
            raise UsageError(f"{in_dir}: {'is not a folder' if in_dir.exists() else 'no such folder'}; "
                             "give the folder of images and videos")
        also = [] if as_url(out_dir) else report_and_junit(out_dir, out_dir / REPORT_NAME if with_report else None,
                                                           checks.junit, overwrite)
        finished: list[Path] = []
        context = click.get_current_context()

        def planned(records):
            context.meta[FINISHED] = (finished, len(records))  # reported if the run is interrupted

        run = run_folder(in_dir, out_dir, settings, engine=engine, jobs=jobs, address=address, overwrite=overwrite,
                         skip_existing=skip_existing, video=not no_video, image_csv=image_csv, progress=not quiet,
                         on_plan=planned, on_record=_reporter(quiet, finished), include=list(include),
                         exclude=list(exclude), also=also)
    _summary(run, out_dir)
    if with_report:
        note(f"report: {write_run_report(run, out_dir)}")
    fetch_results(run, json=checks.expect.any)  # a bucket run's JSON, read by the expectations
    for line in check_folder_run(run, checks):
        expectation_missed(line)
    sys.exit(EXIT_FAILED if run.problems else checks.exit_code())


def _summary(run, out_dir: Path) -> None:
    counts = run.counts
    note(f"{counts['done']} done, {counts['failed']} failed, {counts['skipped']} skipped, "
         f"{len(run.not_taken)} not taken -> {redact(out_dir)} (manifest {run.manifest_path.name})")
    for record in run.failed:
        note(f"  failed: {describe(record.reason, record.input)}")
    for entry in run.not_taken:
        note(f"  {'could not read' if entry.problem else 'not taken'}: {describe(entry.reason, entry.path)}")
