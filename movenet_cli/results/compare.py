"""Compare two ``movenet/1`` results (or two folders of them) within a tolerance.

Frames are matched by ``index``; people by ``id`` when both documents come from a
tracker (``model.tracker`` set), else greedily by OKS (tracked people left without
a partner by id are then paired by OKS, and the changed id is a difference). A
comparison fails when a frame or person is missing or extra, when a tracked id
changed, when a keypoint whose score reaches the keypoint threshold in either
document moved by more than the tolerance (a fraction of the person's box diagonal,
or absolute pixels), or when a keypoint or person score moved by more than the
score tolerance. A value exactly at its limit passes.

Folders: every JSON file under EXPECTED is matched with the same relative path under
ACTUAL; ``movenet-run.json`` manifests are compared by the status of each input.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.results.compare import Tolerance, compare_paths

    for name in ("golden", "actual"):
        process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                      Outputs(json=Path(f"out/{name}.json")), end=1.0)
    result = compare_paths("out/golden.json", "out/actual.json", Tolerance(relative=0.05))
    print(result.summary())
    raise SystemExit(0 if result.ok else 1)
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import settings
from ..errors import MovenetError, UsageError
from ..types import COCO_SIGMAS, KEYPOINT_NAMES, FrameResult, Pose
from .load import SCHEMA, ResultDoc, ResultError, check_manifest, parse_result, read_json
from .names import MANIFEST_SCHEMA

REPORT_SCHEMA = "movenet-compare/1"

# Kinds of difference that are about structure (something missing, extra or unreadable): listed first.
STRUCTURAL = (
    "error",
    "missing_file",
    "extra_file",
    "status",
    "incomplete",
    "missing_frame",
    "extra_frame",
    "missing_person",
    "extra_person",
    "person_id",
)
_EPS = 1e-9  # relative slack so a value exactly at its limit passes despite float rounding


class CompareError(MovenetError):
    """Two paths that cannot be compared at all (one missing, a file against a folder, an empty folder)."""


@dataclass(frozen=True)
class Tolerance:
    """How far ACTUAL may be from EXPECTED.

    ``relative``: keypoint distance limit as a fraction of the person's box diagonal;
    ``pixels``: an absolute limit in pixels, used instead when set; ``score``: limit on
    the change of a keypoint or person score; ``threshold``: keypoint score from which a
    keypoint is compared (``None``: the expected document's ``model.threshold``);
    ``min_oks``: the least OKS for two untracked people to be taken as the same person.
    """

    relative: float = settings.COMPARE_TOLERANCE
    pixels: float | None = None
    score: float = settings.COMPARE_SCORE_TOLERANCE
    threshold: float | None = None
    min_oks: float = settings.COMPARE_MIN_OKS

    def __post_init__(self) -> None:
        for name in ("relative", "pixels", "score", "threshold", "min_oks"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise UsageError(f"compare: tolerance {name} must be a number >= 0, not {value!r}")

    def limit(self, diagonal: float) -> float:
        """The keypoint distance limit in pixels for a person of this box diagonal."""
        return self.pixels if self.pixels is not None else self.relative * diagonal

    def describe(self) -> str:
        where = f"{self.pixels:g} px" if self.pixels is not None else f"{self.relative:g} x box diagonal"
        return f"keypoints within {where}, scores within {self.score:g}"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("relative", "pixels", "score", "threshold", "min_oks")}


def exceeds(value: float, limit: float) -> bool:
    """Whether ``value`` is beyond ``limit``; exactly at the limit (to float rounding) is within."""
    return value > limit + _EPS * max(1.0, abs(limit))


@dataclass
class Difference:
    """One way ACTUAL differs from EXPECTED.

    ``kind`` is one of :data:`STRUCTURAL` or ``keypoint`` (``value`` = distance in px),
    ``keypoint_score`` or ``person_score`` (``value`` = absolute change); ``limit`` is
    what ``value`` was allowed. ``person`` is the expected id (the actual one for an
    extra person), ``actual_person`` the matched id in ACTUAL when it differs.
    """

    kind: str
    file: str = ""
    frame: int | None = None
    person: int | None = None
    actual_person: int | None = None
    keypoint: str | None = None
    value: float | None = None
    limit: float | None = None
    detail: str = ""

    @property
    def severity(self) -> float:
        """How bad it is: structural differences are infinite, others ``value / limit``."""
        if self.kind in STRUCTURAL or self.value is None:
            return math.inf
        return self.value / self.limit if self.limit else math.inf

    def sort_key(self) -> tuple:
        rank = STRUCTURAL.index(self.kind) if self.kind in STRUCTURAL else len(STRUCTURAL)
        return (rank, -self.severity if rank == len(STRUCTURAL) else 0.0, self.file, self.frame or 0,
                self.person or 0, self.keypoint or "")

    def where(self) -> str:
        parts = [self.file] if self.file else []
        if self.frame is not None:
            parts.append(f"frame {self.frame}")
        if self.person is not None:
            matched = "" if self.actual_person in (None, self.person) else f" (actual {self.actual_person})"
            parts.append(f"person {self.person}{matched}")
        if self.keypoint is not None:
            parts.append(self.keypoint)
        return ", ".join(parts)

    def describe(self) -> str:
        """One line: where, what, by how much."""
        if self.kind == "keypoint":
            what = f"moved {self.value:.2f} px (limit {self.limit:.2f} px{self.detail})"
        elif self.kind in ("keypoint_score", "person_score"):
            label = "score" if self.kind == "keypoint_score" else "person score"
            what = f"{label} changed by {self.value:.4f} (limit {self.limit:g}){self.detail}"
        else:
            what = self.detail or self.kind.replace("_", " ")
        where = self.where()
        return f"{where}: {what}" if where else what

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("kind", "file", "frame", "person", "actual_person", "keypoint")}
        out.update(value=self.value, limit=self.limit, message=self.describe())
        return out


@dataclass
class FileComparison:
    """The comparison of one pair of files; ``error`` is set when they could not be compared."""

    name: str
    expected: str
    actual: str
    kind: str = "result"  # "result" (movenet/1) or "manifest" (movenet-run/1)
    frames: int = 0
    people: int = 0
    keypoints: int = 0
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.differences

    def add(self, kind: str, **fields: Any) -> None:
        self.differences.append(Difference(kind, file=self.name, **fields))

    def to_dict(self) -> dict[str, Any]:
        keys = ("name", "expected", "actual", "kind", "ok", "error", "frames", "people", "keypoints")
        out = {k: getattr(self, k) for k in keys}
        out.update(differences=len(self.differences), notes=self.notes, seconds=round(self.seconds, 3))
        return out


@dataclass
class CompareResult:
    """All compared files; ``ok`` when every file is within tolerance."""

    expected: str
    actual: str
    tolerance: Tolerance
    files: list[FileComparison] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    def count(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def differences(self) -> list[Difference]:
        """Every difference (an uncomparable file as an ``error``), worst first."""
        found = [d for f in self.files for d in f.differences]
        found += [Difference("error", file=f.name, detail=f.error) for f in self.files if f.error]
        return sorted(found, key=Difference.sort_key)

    def summary(self, limit: int = settings.COMPARE_SHOWN) -> str:
        """A short text for the terminal: counts, then the worst ``limit`` differences."""
        counts = (f"{len(self.files)} file{'s' * (len(self.files) != 1)}, {self.count('frames')} frames, "
                  f"{self.count('people')} people, {self.count('keypoints')} keypoints compared")
        lines = [f"compare {self.expected} -> {self.actual}: {'OK' if self.ok else 'FAILED'}",
                 f"  {counts}; {self.tolerance.describe()}"]
        lines += [f"  note: {f.name + ': ' if f.name else ''}{n}" for f in self.files for n in f.notes]
        found = self.differences
        if found:
            kinds: dict[str, int] = {}
            for d in found:
                kinds[d.kind] = kinds.get(d.kind, 0) + 1
            by_kind = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in kinds.items())
            lines.append(f"  {len(found)} difference{'s' * (len(found) != 1)} ({by_kind}), worst first:")
            lines += [f"    {d.describe()}" for d in found[:limit]]
            if len(found) > limit:
                lines.append(f"    ... and {len(found) - limit} more (all of them with --report PATH)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The full comparison as plain JSON data (schema ``movenet-compare/1``)."""
        names = ("frames", "people", "keypoints")
        return {
            "schema": REPORT_SCHEMA,
            "ok": self.ok,
            "expected": self.expected,
            "actual": self.actual,
            "tolerance": self.tolerance.to_dict(),
            "counts": {"files": len(self.files), **{n: self.count(n) for n in names}},
            "files": [f.to_dict() for f in self.files],
            "differences": [d.to_dict() for d in self.differences],
        }


def oks(expected: Pose, actual: Pose, threshold: float) -> float:
    """COCO's object keypoint similarity of ``actual`` to ``expected`` over the expected keypoints
    at or above ``threshold`` (all of them if none is), with the expected box area as scale."""
    ke, ka = expected.keypoints, actual.keypoints
    visible = ke[:, 2] >= threshold
    if not visible.any():
        visible[:] = True
    area = _box_area(expected.bbox) or _box_area(_extent(ke[visible])) or 1.0
    d2 = ((ke[:, :2] - ka[:, :2]) ** 2).sum(axis=1)
    e = d2 / ((2 * COCO_SIGMAS) ** 2 * area * 2)
    return float(np.exp(-e[visible]).mean())


def _box_area(box: tuple[float, float, float, float] | None) -> float:
    return 0.0 if box is None else max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _extent(points: np.ndarray) -> tuple[float, float, float, float] | None:
    if len(points) == 0:
        return None
    return (float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max()))


def _diagonal(expected: Pose, actual: Pose, compared: np.ndarray) -> float:
    """The person's box diagonal: the expected box, else the actual one, else the compared keypoints' extent."""
    box = expected.bbox or actual.bbox
    if box is None:
        points = np.vstack([expected.keypoints[compared, :2], actual.keypoints[compared, :2]])
        box = _extent(points) or (0.0, 0.0, 0.0, 0.0)
    return float(math.hypot(box[2] - box[0], box[3] - box[1]))


def _greedy_by_oks(
    expected: list[Pose], actual: list[Pose], rest_e: list[int], rest_a: list[int], threshold: float, min_oks: float
) -> list[tuple[int, int]]:
    """Pairs among the given indices, highest OKS first (ties by position), down to ``min_oks``."""
    scored = sorted((-oks(expected[i], actual[j], threshold), i, j) for i in rest_e for j in rest_a)
    pairs, used_e, used_a = [], set(), set()
    for neg, i, j in scored:
        if -neg >= min_oks and i not in used_e and j not in used_a:
            pairs.append((i, j))
            used_e.add(i)
            used_a.add(j)
    return pairs


def match_people(
    expected: list[Pose], actual: list[Pose], *, tracked: bool, threshold: float, min_oks: float
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pairs ``(i, j)`` of ``expected[i]`` with ``actual[j]``, then the unmatched expected and actual indices.

    Tracked documents first pair equal ids; the people left (all of them when untracked)
    are paired greedily by highest OKS, down to ``min_oks``.
    """
    pairs: list[tuple[int, int]] = []
    if tracked:
        where = {p.id: j for j, p in enumerate(actual)}
        pairs = [(i, where[p.id]) for i, p in enumerate(expected) if p.id in where]
    rest_e = [i for i in range(len(expected)) if i not in {i for i, _ in pairs}]
    rest_a = [j for j in range(len(actual)) if j not in {j for _, j in pairs}]
    more = _greedy_by_oks(expected, actual, rest_e, rest_a, threshold, min_oks)
    pairs += more
    missing = [i for i in rest_e if i not in {i for i, _ in more}]
    extra = [j for j in rest_a if j not in {j for _, j in more}]
    return sorted(pairs), missing, extra


def _compare_pair(out: FileComparison, frame: int, e: Pose, a: Pose, tol: Tolerance, threshold: float) -> None:
    compared = (e.keypoints[:, 2] >= threshold) | (a.keypoints[:, 2] >= threshold)
    out.people += 1
    out.keypoints += int(compared.sum())
    ids = {"frame": frame, "person": e.id, "actual_person": a.id}
    if exceeds(abs(e.score - a.score), tol.score):
        out.add("person_score", **ids, value=abs(e.score - a.score), limit=tol.score)
    diagonal = _diagonal(e, a, compared)
    limit = tol.limit(diagonal)
    detail = "" if tol.pixels is not None else f" = {tol.relative:g} x {diagonal:.1f} px diagonal"
    distances = np.hypot(*(e.keypoints[:, :2] - a.keypoints[:, :2]).T)
    score_changes = np.abs(e.keypoints[:, 2] - a.keypoints[:, 2])
    for k in np.flatnonzero(compared):
        name = KEYPOINT_NAMES[k]
        if exceeds(float(distances[k]), limit):
            out.add("keypoint", **ids, keypoint=name, value=float(distances[k]), limit=limit, detail=detail)
        if exceeds(float(score_changes[k]), tol.score):
            out.add("keypoint_score", **ids, keypoint=name, value=float(score_changes[k]), limit=tol.score)


def _by_index(doc: ResultDoc) -> dict[int, FrameResult]:
    frames: dict[int, FrameResult] = {}
    for frame in doc.frames:
        if frame.index in frames:
            raise ResultError(f"{doc.path}: frame index {frame.index} appears twice")
        frames[frame.index] = frame
    return frames


def _frame_summary(frame: FrameResult) -> str:
    return f"{len(frame.people)} {'person' if len(frame.people) == 1 else 'people'} in it"


def compare_frames(
    out: FileComparison,
    expected: dict[int, FrameResult],
    actual: dict[int, FrameResult],
    tol: Tolerance,
    *,
    tracked: bool,
    threshold: float,
) -> None:
    """Add to ``out`` the differences between two documents' frames (keyed by index)."""
    for index in sorted(expected.keys() - actual.keys()):
        out.add("missing_frame", frame=index, detail=f"frame missing from ACTUAL ({_frame_summary(expected[index])})")
    for index in sorted(actual.keys() - expected.keys()):
        out.add("extra_frame", frame=index, detail=f"frame not in EXPECTED ({_frame_summary(actual[index])})")
    for index in sorted(expected.keys() & actual.keys()):
        e_people, a_people = expected[index].people, actual[index].people
        out.frames += 1
        pairs, missing, extra = match_people(
            e_people, a_people, tracked=tracked, threshold=threshold, min_oks=tol.min_oks
        )
        for i in missing:
            p = e_people[i]
            detail = f"person missing from ACTUAL (score {p.score:.2f})"
            out.add("missing_person", frame=index, person=p.id, detail=detail)
        for j in extra:
            p = a_people[j]
            out.add("extra_person", frame=index, person=p.id, detail=f"person not in EXPECTED (score {p.score:.2f})")
        for i, j in pairs:
            e, a = e_people[i], a_people[j]
            if tracked and e.id != a.id:
                out.add("person_id", frame=index, person=e.id, actual_person=a.id, detail="tracked id changed")
            _compare_pair(out, index, e, a, tol, threshold)


def _is_tracked(doc: ResultDoc) -> bool:
    return isinstance(doc.model.get("tracker"), dict)


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _model_notes(expected: ResultDoc, actual: ResultDoc) -> list[str]:
    """What differs in the settings that shaped the keypoints (reported, not failed on)."""
    notes = []
    for block, keys in (
        ("model", ("name", "backend", "input_size", "weights_sha256", "threshold", "refine", "tracker", "smoothing")),
        ("source", ("width", "height")),
    ):
        e_block, a_block = getattr(expected, block), getattr(actual, block)
        for key in keys:
            if e_block.get(key) != a_block.get(key):
                notes.append(f"{block}.{key} differs: {_short(e_block.get(key))} -> {_short(a_block.get(key))}")
    return notes


def compare_docs(expected: ResultDoc, actual: ResultDoc, tol: Tolerance, name: str = "") -> FileComparison:
    """Compare two loaded ``movenet/1`` documents."""
    started = time.perf_counter()
    out = FileComparison(name, str(expected.path), str(actual.path))
    threshold = tol.threshold
    if threshold is None:
        recorded = expected.model.get("threshold")
        threshold = float(recorded) if isinstance(recorded, (int, float)) else settings.THRESHOLD
    try:
        e_frames, a_frames = _by_index(expected), _by_index(actual)
    except ResultError as exc:
        out.error = str(exc)
        return out
    out.notes = _model_notes(expected, actual)
    if expected.complete and not actual.complete:
        out.add("incomplete", detail="ACTUAL says complete: false (its input was not read to the end)")
    elif actual.complete and not expected.complete:
        out.notes.append("EXPECTED says complete: false")
    tracked = _is_tracked(expected) and _is_tracked(actual)
    compare_frames(out, e_frames, a_frames, tol, tracked=tracked, threshold=threshold)
    out.seconds = time.perf_counter() - started
    return out


def _normal_status(status: Any) -> str:
    """``skipped`` (outputs already complete) counts as ``done``."""
    return "done" if status == "skipped" else str(status)


def compare_manifests(
    expected: dict[str, Any], actual: dict[str, Any], name: str, paths: tuple[str, str]
) -> FileComparison:
    """Compare two ``movenet-run/1`` manifests by the status of each input (``skipped`` counts as ``done``)."""
    out = FileComparison(name, paths[0], paths[1], kind="manifest")
    try:
        e_files = {f["input"]: f for f in expected["files"]}
        a_files = {f["input"]: f for f in actual["files"]}
    except (KeyError, TypeError):
        out.error = "not a movenet-run/1 manifest (no files list with inputs)"
        return out
    for item in sorted(e_files.keys() - a_files.keys()):
        out.add("missing_file", detail=f"{item}: input missing from the ACTUAL run")
    for item in sorted(a_files.keys() - e_files.keys()):
        out.add("extra_file", detail=f"{item}: input not in the EXPECTED run")
    for item in sorted(e_files.keys() & a_files.keys()):
        e_status, a_status = (_normal_status(d[item].get("status")) for d in (e_files, a_files))
        if e_status != a_status:
            reason = a_files[item].get("reason")
            because = f" ({reason})" if reason else ""
            out.add("status", detail=f"{item}: status {a_status}{because}, expected {e_status}")
    return out


def _schema(data: Any) -> str | None:
    schema = data.get("schema") if isinstance(data, dict) else None
    return schema if isinstance(schema, str) else None


def compare_files(expected: Path, actual: Path, tol: Tolerance, name: str = "") -> FileComparison:
    """Compare two files, results or manifests; an unreadable file or a schema mismatch sets ``error``."""
    started = time.perf_counter()
    out = FileComparison(name, str(expected), str(actual))
    try:
        e_data, a_data = read_json(expected), read_json(actual)
        e_schema, a_schema = _schema(e_data), _schema(a_data)
        if e_schema != a_schema:
            raise ResultError(
                f"{actual}: schema {a_schema!r} cannot be compared with {expected}'s {e_schema!r}; "
                "compare results written by compatible versions"
            )
        if e_schema == MANIFEST_SCHEMA:
            check_manifest(e_data, expected)
            check_manifest(a_data, actual)
            out = compare_manifests(e_data, a_data, name, (str(expected), str(actual)))
        elif e_schema == SCHEMA:
            out = compare_docs(parse_result(e_data, expected), parse_result(a_data, actual), tol, name)
        else:
            known = f"{SCHEMA!r} or {MANIFEST_SCHEMA!r}"
            raise ResultError(f"{expected}: schema {e_schema!r} is not one compare knows ({known})")
    except ResultError as exc:
        out.error = str(exc)
    out.seconds = time.perf_counter() - started
    return out


def _json_files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*.json")) if p.is_file()}


def _compared_schema(path: Path) -> str | None:
    """The schema of a JSON file if it is one compare knows (or a version of it), else None."""
    try:
        schema = _schema(read_json(path))
    except ResultError:
        return None
    families = tuple(name.split("/")[0] + "/" for name in (SCHEMA, MANIFEST_SCHEMA))
    return schema if schema and schema.startswith(families) else None


def compare_folders(expected: Path, actual: Path, tol: Tolerance) -> list[FileComparison]:
    """Compare every movenet JSON under ``expected`` with the same relative path under ``actual``."""
    e_files, a_files = _json_files(expected), _json_files(actual)
    known = {rel: path for rel, path in e_files.items() if _compared_schema(path)}
    if not known:
        raise CompareError(f"{expected}: holds no movenet results (*.json with schema {SCHEMA!r}) to compare")
    found = []
    for rel, path in known.items():
        if rel not in a_files:
            missing = FileComparison(rel, str(path), str(actual / rel))
            missing.add("missing_file", detail=f"missing from {actual}")
            found.append(missing)
        else:
            found.append(compare_files(path, a_files[rel], tol, rel))
    for rel in sorted(a_files.keys() - e_files.keys()):
        if _compared_schema(a_files[rel]):
            extra = FileComparison(rel, str(expected / rel), str(a_files[rel]))
            extra.add("extra_file", detail=f"not in {expected}")
            found.append(extra)
    return found


def compare_paths(
    expected: str | os.PathLike, actual: str | os.PathLike, tolerance: Tolerance | None = None
) -> CompareResult:
    """Compare two files or two folders; :class:`CompareError` when they cannot be compared at all."""
    tol = tolerance or Tolerance()
    e_path, a_path = Path(expected), Path(actual)
    for path in (e_path, a_path):
        if not path.exists():
            raise CompareError(f"{path}: no such file or folder")
    result = CompareResult(str(e_path), str(a_path), tol)
    if e_path.is_dir() and a_path.is_dir():
        result.files = compare_folders(e_path, a_path, tol)
    elif e_path.is_dir() or a_path.is_dir():
        folder, other = (e_path, a_path) if e_path.is_dir() else (a_path, e_path)
        raise CompareError(f"{folder} is a folder and {other} is not: compare two files or two folders")
    else:
        result.files = [compare_files(e_path, a_path, tol, "")]
    return result
