"""``movenet report``: an HTML page of a finished ``dir`` run, rebuilt from its outputs alone."""

from __future__ import annotations

from pathlib import Path

import click

from ..render.report import write_report
from .console import handle_errors, note
from .options import report_page_options


@click.command("report")
@click.argument("out_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--output", "-o", "page", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the page here [default: OUT_DIR/report.html]; its pictures go beside it.")
@report_page_options
@handle_errors
def report(out_dir, page, low_score, quiet):
    """Write OUT_DIR/report.html for a finished `movenet dir` run: a summary, one row per input
    (status, people per frame, scores, thumbnails, links), problems first.

    Built from OUT_DIR/movenet-run.json and the per-input JSON; no model runs. The folder
    stays self-contained (pictures in OUT_DIR/report_files/, relative links only).
    """
    written = write_report(out_dir, report_path=page, low_score=low_score)
    if not quiet:
        note(f"report: {written}")
