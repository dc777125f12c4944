"""The run manifest ``OUT_DIR/movenet-run.json`` and the check that a file's outputs are complete.

A folder run records every input in the manifest: its status (``done``, ``failed``
with a reason, ``skipped`` because its outputs were already complete, or
``pending`` when the run stopped before reaching it), its outputs, frame counts
and timings, plus the settings and engine of the run. The manifest is replaced
atomically as files finish and once more when the run ends, fails or is
interrupted, so it always parses and says how far the run got.

:func:`check_outputs_complete` is what ``--skip-existing`` trusts: it reads the
outputs themselves rather than the manifest, because files can be deleted or
damaged after a run.

Example::

    state = check_outputs_complete(job, settings)
    if state.complete:
        print(job.input, "already done:", state.frames, "frames")
    else:
        print(job.input, "needs a run:", state.reason)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__, media
from .batch import FileRecord, Job, RunSettings
from .fsutil import atomic_write
from .writers import CSV_HEADER, SCHEMA

MANIFEST_NAME = "movenet-run.json"
MANIFEST_SCHEMA = "movenet-run/1"
STATUSES = ("done", "failed", "skipped", "pending")


@dataclass
class Completeness:
    """Whether one input's outputs are complete, and why not.

    ``other_settings`` is set when the outputs are whole but were made with other
    model settings: redoing them would silently replace results, so the caller asks
    for ``--overwrite``.
    """

    complete: bool
    reason: str | None = None
    frames: int | None = None
    people: int | None = None
    other_settings: bool = False


def check_outputs_complete(job: Job, settings: RunSettings) -> Completeness:
    """Read ``job``'s outputs and tell whether they are a complete result for ``settings``.

    Complete means: every output exists; the JSON parses, is schema ``movenet/1``,
    says ``"complete": true`` and has ``frame_count`` frame entries; it was made by
    the same model, refinement, thresholds and MultiPose input size (and backend,
    unless ``auto``); the annotated video has that many frames (an annotated image
    opens); the CSV has the header and one row per person in the JSON. The frame
    selection and the tracking/smoothing options are not all in the JSON:
    :func:`movenet_cli.folder.run_folder` compares them with the earlier run's manifest.
    """
    outputs = job.outputs
    missing = [p for p in outputs.paths() if not p.is_file()]
    if missing:
        return Completeness(False, f"{missing[0]} is missing")
    try:
        doc = json.loads(outputs.json.read_text(encoding="utf-8"))
        frames = doc["frames"]
        frame_count = doc["source"]["frame_count"]
        model = doc["model"]
        ok = doc.get("schema") == SCHEMA and doc.get("complete") is True and frame_count == len(frames)
        people = sum(len(frame["people"]) for frame in frames)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Completeness(False, f"{outputs.json} cannot be read ({type(exc).__name__})")
    if not ok:
        return Completeness(False, f"{outputs.json} is incomplete")
    wanted = {"name": settings.model, "threshold": settings.threshold, "min_pose_score": settings.min_pose_score}
    if settings.refine is not None or model.get("refine") is not None:
        wanted["refine"] = settings.refine
    if settings.backend != "auto":
        wanted["backend"] = settings.backend
    labels = {"name": "model"}
    differing = [f"{labels.get(k, k)} {model.get(k)!r}" for k, value in wanted.items() if model.get(k) != value]
    size = model.get("input_size")
    if not differing and settings.model == "multipose" and isinstance(size, list) and max(size) != settings.input_size:
        differing.append(f"input size {max(size)}")
    if differing:
        return Completeness(False, f"made with other settings ({', '.join(differing)})", other_settings=True)
    if outputs.media is not None:
        problem = _media_problem(job.kind, outputs.media, frame_count)
        if problem:
            return Completeness(False, problem)
    if outputs.csv is not None:
        problem = _csv_problem(outputs.csv, people)
        if problem:
            return Completeness(False, problem)
    return Completeness(True, frames=frame_count, people=people)


def _media_problem(kind: str, path: Path, frame_count: int) -> str | None:
    try:
        if kind == "image":
            media.read_image(path)
            return None
        found = media.count_frames(path)
    except (media.MediaError, OSError) as exc:
        return f"{path} cannot be read ({str(exc).strip() or type(exc).__name__})"
    if found != frame_count:
        return f"{path} has {found} frames, the JSON {frame_count}"
    return None


def _csv_problem(path: Path, people: int) -> str | None:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            header = fh.readline().rstrip("\r\n")
            rows = sum(1 for line in fh if line.strip())
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path} cannot be read ({type(exc).__name__})"
    if header != ",".join(CSV_HEADER):
        return f"{path} has no movenet header"
    if rows != people:
        return f"{path} has {rows} rows for {people} people in the JSON"
    return None


def count_statuses(records: list[FileRecord]) -> dict[str, int]:
    """How many records have each status."""
    return {status: sum(r.status == status for r in records) for status in STATUSES}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _rel(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class RunManifest:
    """The manifest of one folder run, rewritten atomically as records change.

    ``update`` writes at most every ``interval`` seconds; ``finish`` always writes.

    Example::

        manifest = RunManifest(out_dir, in_dir=in_dir, settings=settings, engine={"name": "local", "jobs": 2},
                               records=[FileRecord(job.input, job.kind, job.outputs) for job in jobs])
        manifest.update(0, record)
        manifest.finish("complete")
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        *,
        in_dir: str | os.PathLike,
        settings: RunSettings,
        engine: dict[str, Any],
        records: list[FileRecord],
        options: dict[str, Any] | None = None,
        interval: float = 1.0,
    ):
        self.out_dir = Path(out_dir)
        self.in_dir = Path(in_dir)
        self.path = self.out_dir / MANIFEST_NAME
        self.settings = settings
        self.engine = dict(engine)
        self.options = dict(options or {})
        self.records = records
        self.interval = interval
        self.status = "running"
        self.error: str | None = None
        self.started = _now()
        self._t0 = time.perf_counter()
        self._written = 0.0

    def update(self, index: int, record: FileRecord) -> None:
        self.records[index] = record
        if time.perf_counter() - self._written >= self.interval:
            self.write()

    def finish(self, status: str, error: str | None = None) -> None:
        """Record how the run ended (complete, incomplete, interrupted, aborted) and write."""
        self.status, self.error = status, error
        self.write()

    def counts(self) -> dict[str, int]:
        return count_statuses(self.records)

    def to_dict(self) -> dict[str, Any]:
        running = self.status == "running"
        return {
            "schema": MANIFEST_SCHEMA,
            "status": self.status,
            "error": self.error,
            "movenet_version": __version__,
            "started": self.started,
            "finished": None if running else _now(),
            "seconds": round(time.perf_counter() - self._t0, 3),
            "input_dir": str(self.in_dir.resolve()),
            "output_dir": str(self.out_dir.resolve()),
            "engine": self.engine,
            "settings": self.settings.as_dict(),
            "options": self.options,
            "counts": self.counts(),
            "frames": sum(r.frames or 0 for r in self.records if r.status == "done"),
            "files": [self._file(r) for r in self.records],
        }

    def _file(self, record: FileRecord) -> dict[str, Any]:
        outputs = record.outputs
        fps = record.frames / record.seconds if record.frames and record.seconds else None
        return {
            "input": _rel(record.input, self.in_dir),
            "kind": record.kind,
            "status": record.status,
            "reason": record.reason,
            "outputs": {name: _rel(getattr(outputs, name), self.out_dir) for name in ("media", "json", "csv")},
            "frames": record.frames,
            "people": record.people,
            "seconds": record.seconds,
            "fps": None if fps is None else round(fps, 2),
            "worker": record.worker,
        }

    def write(self) -> None:
        with atomic_write(self.path) as fh:
            json.dump(self.to_dict(), fh, indent=2)
            fh.write("\n")
        self._written = time.perf_counter()


def read_manifest(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest in ``out_dir``, or None when there is none (or it does not parse)."""
    try:
        return json.loads((Path(out_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
