"""One file of a folder run: process it and record what happened.

Every engine (this process, worker processes, Ray) runs each file through
:func:`process_job` and gets back a :class:`FileRecord`; a file's failure is recorded,
never raised, so it does not stop the others.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.run.job import process_job
    from movenet_cli.run.plan import plan_folder
    from movenet_cli.settings import RunSettings

    settings = RunSettings(end=0.5)
    estimator = PoseEstimator.from_settings(settings)
    for job in plan_folder("sample_media", "out/results").jobs:
        record = process_job(estimator, job, settings)
        print(record.input, record.status, record.reason or "")
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import IncompleteInput, MovenetError, first_line
from ..pipeline import Outputs, check_outputs, process_image, process_video
from ..settings import RunSettings
from ..util.fs import remove_partials
from .plan import Job


# (index in the run, job); outputs may be replaced: the caller has checked them
Task = tuple[int, Job]


@dataclass
class FileRecord:
    """What happened to one input: ``status`` is done, failed (with ``reason``), skipped or pending."""

    input: Path
    kind: str
    outputs: Outputs
    status: str = "pending"
    reason: str | None = None
    frames: int | None = None
    people: int | None = None
    seconds: float | None = None
    worker: str | None = None  # host:pid that processed it
    traceback: str | None = field(default=None, repr=False)  # for an unexpected error, shown with --debug

    @classmethod
    def failed(cls, job: Job, reason: str) -> "FileRecord":
        return cls(job.input, job.kind, job.outputs, status="failed", reason=reason, worker=worker_name())


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def failure_reason(exc: BaseException) -> str:
    """The one line a failed record keeps: the message of an expected error, else its type too."""
    if isinstance(exc, (MovenetError, OSError)):
        return first_line(exc)
    return f"unexpected {type(exc).__name__}: {first_line(exc)} (run with --debug for the traceback)"


def _run(estimator, job: Job, settings: RunSettings, progress: bool, on_result: Callable | None) -> tuple[int, int]:
    stage = getattr(job, "stage", None)  # a bucket on either side (movenet_cli.run.remote)
    name = stage.source_name if stage is not None else None
    if job.kind == "image":
        result = process_image(estimator, job.input, job.outputs, settings.analysis, style=settings.style,
                               source_name=name)
        return 1, len(result.people)
    stats = process_video(
        estimator, job.input, job.outputs, progress=progress, on_result=on_result, source_name=name,
        **settings.video_options()
    )
    if not stats.complete:  # outputs written, marked incomplete: still a failure to report
        raise IncompleteInput(f"{stats.problem}; outputs hold only the decoded frames")
    return stats.frames, stats.people


def process_job(
    estimator,
    job: Job,
    settings: RunSettings,
    *,
    overwrite: bool = False,
    progress: bool = False,
    on_result: Callable | None = None,
) -> FileRecord:
    """Process one input; any error becomes a failed record (the traceback kept for an unexpected one)."""
    record = FileRecord(job.input, job.kind, job.outputs, worker=worker_name())
    stage = getattr(job, "stage", None)
    started = time.perf_counter()
    try:
        check_outputs([job.input], job.outputs, overwrite=overwrite)
        for path in job.outputs.paths():
            remove_partials(path)  # left by an earlier attempt that was killed
        if stage is not None:
            stage.fetch()
        record.frames, record.people = _run(estimator, job, settings, progress, on_result)
        if stage is not None:
            stage.publish()
        record.status = "done"
    except Exception as exc:  # noqa: BLE001 - one file's failure, whatever it is, is recorded
        record.status, record.reason = "failed", failure_reason(exc)
        record.frames = record.people = None
        if not isinstance(exc, (MovenetError, OSError)):
            record.traceback = traceback.format_exc()
    finally:
        if stage is not None:
            stage.clean()
    record.seconds = round(time.perf_counter() - started, 3)
    return record
