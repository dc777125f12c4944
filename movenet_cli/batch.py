"""Folders: find every image and video under a folder and mirror the outputs.

Outputs keep the input's relative path under the output folder. Annotated images
keep their file name; annotated videos are ``NAME.mp4`` for ``NAME.mp4`` inputs and
``NAME.EXT.mp4`` otherwise; data files are the input's full name plus ``.json`` /
``.csv``. So ``a.jpg`` and ``a.png`` in one folder never write the same file.

Example::

    jobs = plan_folder("footage", "out")
    summary = run_jobs(estimator, jobs, overwrite=False)
    print(summary.done, summary.failed)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import media
from .pipeline import Outputs, RunStats, check_outputs, process_image, process_video


class IncompleteInput(media.MediaError):
    """A video that decoded only in part; its outputs exist and say ``"complete": false``."""


@dataclass
class Job:
    """One input and where its outputs go."""

    input: Path
    kind: str  # "image" or "video"
    outputs: Outputs


@dataclass
class Summary:
    done: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


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


def run_jobs(
    estimator,
    jobs: list[Job],
    *,
    overwrite: bool = False,
    skip_existing: bool = False,
    video_options: dict | None = None,
    on_done: Callable[[Job, RunStats | None, str | None], None] | None = None,
    errors: tuple[type[BaseException], ...] = (Exception,),
) -> Summary:
    """Process every job; a failing file is recorded and the others go on."""
    summary = Summary()
    for job in jobs:
        if skip_existing and all(p.exists() for p in job.outputs.paths()):
            summary.skipped.append(job.input)
            continue
        try:
            check_outputs([job.input], job.outputs, overwrite=overwrite or skip_existing)
            if job.kind == "image":
                result = process_image(estimator, job.input, job.outputs)
                stats = RunStats(1, 0.0, len(result.people))
            else:
                stats = process_video(estimator, job.input, job.outputs, **(video_options or {}))
                if not stats.complete:  # outputs written, marked incomplete: still a failure to report
                    raise IncompleteInput(f"{stats.problem}; outputs hold only the decoded frames")
        except errors as exc:
            reason = str(exc) or type(exc).__name__
            summary.failed.append((job.input, reason))
            if on_done:
                on_done(job, None, reason)
            continue
        summary.done.append(job.input)
        if on_done:
            on_done(job, stats, None)
    return summary
