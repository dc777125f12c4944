"""``movenet report``: an HTML page of a finished ``dir`` run, rebuilt from its outputs alone."""

from __future__ import annotations

from pathlib import Path

import click

from ..pipeline.outputs import WriteSet, within
from ..render.report import report_reads, write_report
from ..settings import REPORT_NAME
from .console import handle_errors, note
from .options import add_report, report_page_options


@click.command("report")
@click.argument("out_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--output", "-o", "page", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the page here [default: OUT_DIR/report.html]; its pictures go beside it.")
@click.option("--overwrite", is_flag=True, help="Replace a file at the page's path that is not an earlier report.")
@report_page_options
@handle_errors
def report(out_dir, page, low_score, overwrite, quiet):
    """Write OUT_DIR/report.html for a finished `movenet dir` run: a summary, one row per input
    (status, people per frame, scores, thumbnails, links), problems first.

    Built from OUT_DIR/movenet-run.json and the per-input JSON; no model runs. The folder
    stays self-contained (pictures in OUT_DIR/report_files/, relative links only).
    """
    page = page if page is not None else out_dir / REPORT_NAME
    if page.suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{page} must end in .html", param_hint="--output")
    _, reads, in_dir = report_reads(out_dir)
    writes = WriteSet(reads, sealed=[in_dir] if in_dir is not None and not within(page, out_dir) else [])
    add_report(writes, page, "--output")
    writes.check(overwrite=overwrite)
    written = write_report(out_dir, report_path=page, low_score=low_score)
    if not quiet:
        note(f"report: {written}")
