"""``movenet compare``: whether two results (or two folders of them) still agree."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import settings
from ..errors import EXIT_FAILED, EXIT_OK, safe_name
from ..results.compare import Tolerance, compare_paths
from ..results.junit import suite_from_compare, write_junit
from ..pipeline.outputs import WriteSet
from ..run.checks import RunChecks
from ..util.fs import write_json_atomic
from ..util.preflight import prepare_output_dirs
from .console import handle_errors
from .options import Number


@click.command()
@click.argument("expected", type=click.Path(path_type=Path))
@click.argument("actual", type=click.Path(path_type=Path))
@click.option("--tolerance", type=Number(0), default=settings.COMPARE_TOLERANCE, show_default=True,
              help="How far a keypoint may move, as a fraction of the person's box diagonal.")
@click.option("--tolerance-px", type=Number(0), default=None,
              help="How far a keypoint may move, in pixels (instead of --tolerance).")
@click.option("--score-tolerance", type=Number(0), default=settings.COMPARE_SCORE_TOLERANCE, show_default=True,
              help="How much a keypoint or person score may change.")
@click.option("--threshold", type=Number(0, 1), default=None,
              help="Compare keypoints whose score reaches this in either result [default: EXPECTED's threshold].")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write every difference here as JSON (schema movenet-compare/1).")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a JUnit XML report here: one testcase per compared file.")
@click.option("--overwrite", is_flag=True,
              help="Replace files at --report/--junit that are not earlier reports of this command.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing; the exit code tells.")
@handle_errors
def compare(expected, actual, tolerance, tolerance_px, score_tolerance, threshold, report_path, junit_path, overwrite,
            quiet):
    """Compare EXPECTED with ACTUAL: movenet/1 JSON files, or folders of them matched by relative path
    (movenet-run.json manifests by the status of each input).

    Frames are matched by index, people by track id (else by OKS). Exits 0 when ACTUAL is within
    tolerance, 1 when it is not (a frame or person missing or extra, a keypoint moved too far,
    a score changed too much) or when the files cannot be compared.
    """
    tol = Tolerance(relative=tolerance, pixels=tolerance_px, score=score_tolerance, threshold=threshold)
    checks = RunChecks(junit=junit_path, suite="movenet compare")
    with checks.on_refusal(lambda: [f"{expected} -> {actual}"]):
        writes = WriteSet([expected, actual], sealed=[p for p in (expected, actual) if p.is_dir()])
        writes.add(report_path, "--report", rebuilds="compare")
        writes.add(junit_path, "--junit", rebuilds="junit")
        writes.check(overwrite=overwrite)
        prepare_output_dirs(writes.paths())
        result = compare_paths(expected, actual, tol)
    if report_path is not None:
        write_json_atomic(report_path, result.to_dict())
    if junit_path is not None:
        write_junit(junit_path, [suite_from_compare(result)])
    if not quiet:
        for line in result.summary().splitlines():
            click.echo(safe_name(line))
    sys.exit(EXIT_OK if result.ok else EXIT_FAILED)
