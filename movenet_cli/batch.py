"""Folders: find every image and video under a folder and mirror the outputs.

Outputs keep the input's relative path under the output folder. Annotated images
keep their file name; annotated videos are ``NAME.mp4`` for ``NAME.mp4`` inputs and
``NAME.EXT.mp4`` otherwise; data files are the input's full name plus ``.json`` /
``.csv``. So ``a.jpg`` and ``a.png`` in one folder never write the same file.

Every engine (one process, worker processes, Ray) runs each file through
:func:`process_job` and gets back a :class:`FileRecord`; :mod:`movenet_cli.folder`
drives a whole folder run.

Example::

    jobs = plan_folder("footage", "out")
    settings = RunSettings("multipose")
    estimator = settings.make_estimator()
    for job in jobs:
        record = process_job(estimator, job, settings)
        print(record.input, record.status, record.reason or "")
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from . import media
from .fsutil import remove_partials
from .pipeline import Outputs, check_outputs, process_image, process_video
from .quality import VideoQuality


def error_line(exc: BaseException) -> str:
    """The first line of an error's message (its type name if it has none): what a record keeps."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class FolderRunError(Exception):
    """A folder run cannot start or go on (one-line reason); single files fail on their own."""


class IncompleteInput(media.MediaError):
    """A video that decoded only in part; its outputs exist and say ``"complete": false``."""


@dataclass
class Job:
    """One input and where its outputs go."""

    input: Path
    kind: str  # "image" or "video"
    outputs: Outputs


@dataclass(frozen=True)
class RunSettings:
    """How every file of a folder run is processed: the model and the video options.

    Plain values only, so a settings object travels to worker processes and Ray tasks.

    Example::

        settings = RunSettings("lightning", end=2.0)
        estimator = settings.make_estimator(threads=1)
    """

    model: str = "multipose"
    backend: str = "auto"
    threshold: float = 0.3
    min_pose_score: float = 0.25
    input_size: int = 256
    refine: str | None = None
    start: float | None = None
    end: float | None = None
    every: int = 1
    preset: str = "veryfast"
    crf: int = 23
    quality: VideoQuality = field(default_factory=VideoQuality)

    def make_estimator(self, threads: int | None = None, store=None):
        from .estimator import PoseEstimator

        return PoseEstimator(
            self.model,
            backend=self.backend,
            threshold=self.threshold,
            min_pose_score=self.min_pose_score,
            input_size=self.input_size,
            refine=self.refine,
            threads=threads,
            store=store,
        )

    def video_options(self) -> dict:
        return dict(
            start=self.start, end=self.end, every=self.every, preset=self.preset, crf=self.crf, quality=self.quality
        )

    def as_dict(self) -> dict:
        return asdict(self)


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


def process_job(
    estimator,
    job: Job,
    settings: RunSettings,
    *,
    overwrite: bool = False,
    progress: bool = False,
    on_result: Callable | None = None,
    errors: tuple[type[BaseException], ...] = (Exception,),
) -> FileRecord:
    """Process one input; an error in ``errors`` becomes a failed record instead of an exception."""
    record = FileRecord(job.input, job.kind, job.outputs, worker=f"{socket.gethostname()}:{os.getpid()}")
    started = time.perf_counter()
    try:
        check_outputs([job.input], job.outputs, overwrite=overwrite)
        for path in job.outputs.paths():
            remove_partials(path)  # left by an earlier attempt that was killed
        if job.kind == "image":
            result = process_image(estimator, job.input, job.outputs)
            frames, people = 1, len(result.people)
        else:
            stats = process_video(
                estimator, job.input, job.outputs, progress=progress, on_result=on_result, **settings.video_options()
            )
            frames, people = stats.frames, stats.people
            if not stats.complete:  # outputs written, marked incomplete: still a failure to report
                raise IncompleteInput(f"{stats.problem}; outputs hold only the decoded frames")
    except errors as exc:
        record.status, record.reason = "failed", error_line(exc)
    else:
        record.status, record.frames, record.people = "done", frames, people
    record.seconds = round(time.perf_counter() - started, 3)
    return record


def media_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in media.IMAGE_EXTENSIONS:
        return "image"
    if suffix in media.VIDEO_EXTENSIONS:
        return "video"
    return None


def plan_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    video: bool = True,
    image_csv: bool = False,
) -> list[Job]:
    """List the jobs for every image and video under ``in_dir`` (recursive, sorted)."""
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    skip = out_dir.resolve()
    jobs = []
    for root, dirs, files in os.walk(in_dir):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (root_path / d).resolve() != skip)
        for name in sorted(files):
            path = root_path / name
            kind = media_kind(path)
            if name.startswith(".") or kind is None:
                continue
            target = out_dir / path.relative_to(in_dir)
            data = lambda ext: target.with_name(target.name + ext)  # noqa: E731
            if kind == "image":
                outputs = Outputs(target, data(".json"), data(".csv") if image_csv else None)
            else:
                annotated = target if target.suffix.lower() == ".mp4" else data(".mp4")
                outputs = Outputs(annotated if video else None, data(".json"), data(".csv"))
            jobs.append(Job(path, kind, outputs))
    _check_unique(jobs)
    return jobs


def _check_unique(jobs: list[Job]) -> None:
    seen: dict[Path, Path] = {}
    for job in jobs:
        for out in job.outputs.paths():
            other = seen.setdefault(out, job.input)
            if other != job.input:
                raise ValueError(f"{job.input} and {other} would both write {out}")
