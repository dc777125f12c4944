"""Planning a folder run: every image and video under a folder, with mirrored outputs, and every
entry that is not taken, with the reason.

What ``dir`` takes is decided per file: a name whose extension is an image or video format
:mod:`movenet_cli.media` reads (the same lists ``image`` and ``video`` accept), minus what
``exclude`` patterns match, plus files of other names that ``include`` patterns match (their
kind is then read from their content). Symbolic links to folders are followed once (a link
back into a folder already walked is not). Everything else is listed in :attr:`Plan.not_taken`:
hidden entries, unknown types, unreadable folders, named pipes and devices, excluded names.
A file named as media that cannot be read (a link to a missing file) is taken, and fails: the
user meant it as an input.
Outputs keep the input's relative path under the output folder (see
:func:`~movenet_cli.pipeline.outputs.mirrored_outputs`), so ``a.jpg`` and ``a.png`` in one
folder never write the same file.

Example::

    from movenet_cli.run.plan import plan_folder

    plan = plan_folder("sample_media", "out/results", exclude=["portrait_*"])
    for job in plan.jobs:
        print(job.input, job.kind, job.outputs.paths())
    for entry in plan.not_taken:
        print(entry.path, entry.reason)     # README.md, make_samples.sh, portrait_clip.mp4
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..media import media_kind
from ..media.formats import image_extension, sniff_kind
from ..pipeline.analysis import with_analysis
from ..pipeline.outputs import Outputs, Target, WriteSet, mirrored_outputs
from ..settings import AnalysisSettings


@dataclass
class Job:
    """One input and where its outputs go."""

    input: Path
    kind: str  # "image" or "video"
    outputs: Outputs


@dataclass
class NotTaken:
    """An entry under the input folder that the run does not process, and why.

    ``problem`` marks the entries the user most likely wanted processed (an unreadable
    folder): they make the run incomplete."""

    path: Path
    reason: str
    problem: bool = False


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    not_taken: list[NotTaken] = field(default_factory=list)


def _matches(rel: str, patterns: list[str]) -> str | None:
    name = rel.rsplit("/", 1)[-1]
    return next((p for p in patterns if fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p)), None)


def _kind(path: Path, rel: str, include: list[str], exclude: list[str]) -> tuple[str | None, str | None]:
    """(kind, None) for a file to take, (None, reason) for one not taken."""
    pattern = _matches(rel, exclude)
    if pattern:
        return None, f"excluded by --exclude {pattern}"
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if media_kind(path) is not None:  # named as media: meant as an input, so it fails (a dangling link)
            return media_kind(path), None
        return None, f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(mode):
        return None, "not a regular file (a named pipe, device or socket)"
    kind = media_kind(path)
    if kind is None and _matches(rel, include):
        try:
            kind = sniff_kind(path)
        except OSError as exc:
            return None, f"cannot be read ({exc.strerror or exc})"
    if kind is None:
        return None, "not an image or video by its extension (add --include PATTERN to take it)"
    return kind, None


def _target(out_dir: Path, rel: Path, path: Path, kind: str) -> Path:
    target = out_dir / rel
    if kind == "image" and media_kind(path) is None:  # taken by --include: the annotated image needs a format
        target = target.with_name(target.name + (image_extension(path) or ".png"))
    return target


class _Walk:
    """One walk of the input folder."""

    def __init__(self, in_dir: Path, out_dir: Path, include: list[str], exclude: list[str]):
        self.in_dir, self.out_dir = in_dir, out_dir
        self.include, self.exclude = include, exclude
        self.plan = Plan()
        self.seen: dict[str, Path] = {}  # real path of each folder walked -> the path it was walked as

    def skip(self, path: Path, reason: str, problem: bool = False) -> None:
        self.plan.not_taken.append(NotTaken(path, reason, problem))

    def folders(self, root: Path, names: list[str]) -> list[str]:
        """The subfolders of ``root`` to walk into (the rest recorded)."""
        keep = []
        for name in sorted(names, key=lambda n: ((root / n).is_symlink(), n)):  # real folders before links
            path = root / name
            real = os.path.realpath(path)
            if name.startswith("."):
                self.skip(path, "hidden folder")
            elif real == os.path.realpath(self.out_dir):
                continue  # the output folder itself
            elif real in self.seen:
                self.skip(path, f"the same folder as {self.seen[real]} (walked once)")
            else:
                self.seen[real] = path
                keep.append(name)
        return sorted(keep)

    def file(self, path: Path) -> None:
        rel = path.relative_to(self.in_dir)
        if path.name.startswith("."):
            return self.skip(path, "hidden file")
        kind, reason = _kind(path, rel.as_posix(), self.include, self.exclude)
        if kind is None:
            return self.skip(path, reason)
        target = _target(self.out_dir, rel, path, kind)
        outputs = mirrored_outputs(target, kind, video=self.video, image_csv=self.image_csv)
        self.plan.jobs.append(Job(path, kind, with_analysis(outputs, self.analysis)))

    def run(self, *, video: bool, image_csv: bool, analysis: AnalysisSettings | None, also: list[Target]) -> Plan:
        self.video, self.image_csv, self.analysis = video, image_csv, analysis
        self.seen[os.path.realpath(self.in_dir)] = self.in_dir

        def unreadable(exc: OSError) -> None:
            self.skip(Path(exc.filename or self.in_dir), f"folder cannot be read ({exc.strerror or exc})", True)

        for root, dirs, files in os.walk(self.in_dir, onerror=unreadable, followlinks=True):
            root_path = Path(root)
            dirs[:] = self.folders(root_path, dirs)
            for name in sorted(files):
                self.file(root_path / name)
        self.check(also)
        return self.plan

    def check(self, also: list[Target]) -> None:
        """Everything the run writes, as one set: each input's outputs and ``also`` (the run's
        manifest and lock, a JUnit report, the HTML report); refused before any work when two of
        them are one file, or one is an input. Whether each input's outputs may be replaced is
        decided per input (resume)."""
        writes = WriteSet(job.input for job in self.plan.jobs)
        for job in self.plan.jobs:
            writes.add_outputs(job.outputs, input=job.input, managed=True)
        writes.targets.extend(also)
        writes.check(overwrite=False)


def plan_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    video: bool = True,
    image_csv: bool = False,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    analysis: AnalysisSettings | None = None,
    also: Iterable[Target] = (),
) -> Plan:
    """The jobs for every image and video under ``in_dir`` (recursive, sorted), with the angles and
    exports ``analysis`` asks for, and what is not taken; ``also``: other files the run writes."""
    walk = _Walk(Path(in_dir), Path(out_dir), list(include or ()), list(exclude or ()))
    return walk.run(video=video, image_csv=image_csv, analysis=analysis, also=list(also))
