"""Resuming a folder run: which inputs are already done, which must be redone, which may not be touched.

:func:`check_outputs_complete` is what ``--skip-existing`` trusts: it reads the outputs
themselves rather than the manifest, because files can be deleted or damaged after a run.
A damaged output (cut short, hand-edited, a field of the wrong type) only makes that input
be redone.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.run.job import process_job
    from movenet_cli.run.plan import plan_folder
    from movenet_cli.run.resume import check_outputs_complete
    from movenet_cli.settings import RunSettings

    settings, jobs = RunSettings(), plan_folder("sample_media", "out/results").jobs
    process_job(PoseEstimator.from_settings(settings), jobs[1], settings)   # person.jpg only
    for job in jobs:
        state = check_outputs_complete(job, settings)
        if state.complete:
            print(job.input, "already done:", state.frames, "frames")   # person.jpg
        else:
            print(job.input, "needs a run:", state.reason)              # the videos: outputs missing
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import MediaError, OutputExistsError, describe
from ..media import count_frames, read_image
from ..pipeline import check_outputs
from ..render.sinks import CSV_HEADER
from ..results.load import ResultDoc, ResultError, load_result
from .. import settings as defaults
from ..settings import RunSettings
from .job import FileRecord
from .plan import Job


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


def _other_settings(doc: ResultDoc, settings: RunSettings) -> list[str]:
    """The settings recorded in the JSON ``model`` block that differ from this run's."""
    model = doc.model
    wanted = {"name": settings.model, "threshold": settings.threshold, "min_pose_score": settings.min_pose_score}
    if settings.refine is not None or model.get("refine") is not None:
        wanted["refine"] = settings.refine
    if settings.backend != "auto":
        wanted["backend"] = settings.backend
    labels = {"name": "model"}
    differing = [f"{labels.get(k, k)} {model.get(k)!r}" for k, value in wanted.items() if model.get(k) != value]
    accuracy = model.get("accuracy")
    level = accuracy.get("level") if isinstance(accuracy, dict) else "standard"
    if level != settings.accuracy:
        differing.append(f"accuracy {level!r}")
    size = model.get("input_size")
    if not differing and settings.model == "multipose" and isinstance(size, list) and size and max(size) != settings.input_size:
        differing.append(f"input size {max(size)}")
    return differing


def check_outputs_complete(job: Job, settings: RunSettings) -> Completeness:
    """Read ``job``'s outputs and tell whether they are a complete result for ``settings``.

    Complete means: every output exists; the JSON is a valid ``movenet/1`` document that says
    ``"complete": true`` and has ``frame_count`` frame entries; it was made by the same model,
    refinement, thresholds and MultiPose input size (and backend, unless ``auto``); the
    annotated video has that many frames (an annotated image opens); the CSV has the header and
    one row per person in the JSON. The frame selection and the tracking/smoothing options are
    not all in the JSON: :func:`changed_options` compares them with the earlier run's manifest.
    """
    outputs = job.outputs
    missing = [p for p in outputs.paths() if not p.is_file()]
    if missing:
        return Completeness(False, f"{missing[0]} is missing")
    try:
        doc = load_result(outputs.json)
    except ResultError as exc:
        return Completeness(False, str(exc))
    frame_count = doc.source.get("frame_count")
    if not doc.complete or frame_count != len(doc.frames):
        return Completeness(False, f"{outputs.json} is incomplete")
    differing = _other_settings(doc, settings)
    if differing:
        return Completeness(False, f"made with other settings ({', '.join(differing)})", other_settings=True)
    people = sum(len(frame.people) for frame in doc.frames)
    problem = (_media_problem(job.kind, outputs.media, frame_count) if outputs.media is not None else None) or (
        _csv_problem(outputs.csv, people) if outputs.csv is not None else None
    )
    if problem:
        return Completeness(False, problem)
    return Completeness(True, frames=frame_count, people=people)


def _media_problem(kind: str, path: Path, frame_count: int) -> str | None:
    try:
        if kind == "image":
            read_image(path)
            return None
        found = count_frames(path)
    except (MediaError, OSError) as exc:
        return f"{path} cannot be read ({describe(exc)})"
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


def changed_options(previous: dict | None, settings: RunSettings) -> list[str]:
    """The options that the JSON outputs do not record and that differ from an earlier run's manifest.

    Frame selection and tracking/smoothing change every file's results; the model and
    thresholds are checked per file (:func:`check_outputs_complete`).
    """
    before = previous.get("settings") if isinstance(previous, dict) else None
    if not isinstance(before, dict):
        return []  # nothing to compare with; the outputs themselves are still checked
    now = settings.as_dict()
    changed = []
    if any(before.get(key) != now[key] for key in ("start", "end", "every")):
        changed.append("--start/--end/--every")
    if json.loads(json.dumps(before.get("quality"))) != json.loads(json.dumps(now["quality"])):
        changed.append("tracking/smoothing options")
    if json.loads(json.dumps(before.get("style"))) != json.loads(json.dumps(now["style"])):
        changed.append("drawing options")
    encoding = {"preset": defaults.PRESET, "crf": defaults.CRF, "scale": defaults.SCALE}  # older manifests lack some
    if any(before.get(key, default) != now.get(key, default) for key, default in encoding.items()):
        changed.append("--preset/--crf/--scale")
    return changed


def decide(job: Job, settings: RunSettings, *, overwrite: bool, skip_existing: bool) -> FileRecord | None:
    """A finished record for an input that will not run (skipped or refused), None for one that will."""
    record = FileRecord(job.input, job.kind, job.outputs)
    if skip_existing:
        state = check_outputs_complete(job, settings)
        if state.complete:
            record.status, record.frames, record.people = "skipped", state.frames, state.people
            return record
        if state.other_settings and not overwrite:
            record.status = "failed"
            record.reason = f"its outputs were {state.reason}; pass --overwrite to replace them"
            return record
        overwrite = True  # incomplete outputs of an earlier run are redone
    try:
        check_outputs([job.input], job.outputs, overwrite=overwrite)
    except OutputExistsError as exc:
        record.status, record.reason = "failed", str(exc)
        return record
    return None
