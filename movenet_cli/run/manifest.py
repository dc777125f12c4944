"""The run manifest ``OUT_DIR/movenet-run.json``.

A folder run records every input in the manifest: its status (``done``, ``failed``
with a reason, ``skipped`` because its outputs were already complete, or
``pending`` when the run stopped before reaching it), its outputs, frame counts
and timings, plus the settings and engine of the run. The manifest is replaced
atomically as files finish and once more when the run ends, fails or is
interrupted, so it always parses and says how far the run got.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.run.job import FileRecord, process_job
    from movenet_cli.run.manifest import RunManifest, read_manifest
    from movenet_cli.run.plan import plan_folder
    from movenet_cli.settings import RunSettings

    settings, jobs = RunSettings(), plan_folder("sample_media", "out/results").jobs
    records = [FileRecord(job.input, job.kind, job.outputs) for job in jobs]
    manifest = RunManifest("out/results", in_dir="sample_media", settings=settings,
                           engine={"name": "local", "jobs": 1}, records=records)
    manifest.update(1, process_job(PoseEstimator.from_settings(settings), jobs[1], settings))   # person.jpg
    manifest.finish("interrupted")           # the videos stay "pending"
    print([entry["status"] for entry in read_manifest("out/results")["files"]])
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..results.load import ResultError, check_manifest
from ..results.names import MANIFEST_NAME, MANIFEST_SCHEMA
from ..settings import RunSettings
from ..util.fs import write_json_atomic
from .job import FileRecord

LOCK_NAME = ".movenet-run.lock"  # held by the run writing the folder
STATUSES = ("done", "failed", "skipped", "pending")


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
        not_taken: list | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.in_dir = Path(in_dir)
        self.path = self.out_dir / MANIFEST_NAME
        self.settings = settings
        self.engine = dict(engine)
        self.options = dict(options or {})
        self.records = records
        self.not_taken = list(not_taken or ())
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
            "not_taken": [
                {"path": _rel(e.path, self.in_dir), "reason": e.reason, "problem": e.problem} for e in self.not_taken
            ],
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
        write_json_atomic(self.path, self.to_dict())
        self._written = time.perf_counter()


def read_manifest(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest in ``out_dir``, or None when there is none, or it does not parse or has fields
    of the wrong type (:func:`~movenet_cli.results.load.check_manifest`): a resumed run then has
    nothing to compare its options with, and still checks every output itself."""
    path = Path(out_dir) / MANIFEST_NAME
    try:
        return check_manifest(json.loads(path.read_text(encoding="utf-8")), path)
    except (OSError, ValueError, RecursionError, ResultError):
        return None
