"""Exports of a ``movenet/1`` result to the formats other tools read: OpenPose, COCO results, TRC.

The ``movenet/1`` JSON stays the source of truth. Each writer returns an
:class:`Export` with the files written and ``notes``: what the format cannot hold
(person boxes and scores in TRC, ...), so nothing is dropped without saying so.
Every file is written to a hidden temporary name and renamed into place.

- **openpose**: a folder of ``<stem>_<12-digit frame index>_keypoints.json``, one per
  frame (the source frame index, as OpenPose numbers the frames of a video: a run with
  ``--start`` or ``--every`` keeps the video's numbers), ``version`` 1.3,
  ``people[].pose_keypoints_2d`` as flat ``x, y, c`` and ``person_id`` ``[track id]``.
  The keypoint layout (:data:`OPENPOSE_LAYOUTS`) is ``coco17`` by default: the 17 COCO
  keypoints in COCO order, which is Pose2Sim's ``COCO_17`` skeleton (``pose_model =
  'COCO_17'`` or ``'Body'``, the one its OpenSim kinematics take); or ``coco18``,
  OpenPose's own COCO-18 order with a ``Neck`` (Pose2Sim's ``pose_model = 'COCO'``),
  the midpoint of the shoulders with the mean of their scores when both score at least
  ``threshold``, else ``0, 0, 0`` (how OpenPose writes a part it did not find). Every
  other keypoint keeps its position and score whatever the score.
- **coco**: a COCO keypoint results list (``image_id``, ``category_id``,
  ``keypoints`` as 17 ``x, y, score`` triplets, ``score``). ``image_id`` is the frame's
  source index by default; :func:`image_ids_from_ground_truth` maps the results of
  images to the ids of a COCO ground truth by file name.
- **trc**: a folder with one OpenSim/Pose2Sim TRC per tracked person,
  ``<stem>_id<ID>_px.trc`` (or ``_m.trc``): Pose2Sim's five header lines, markers named
  as Pose2Sim's ``COCO_17`` skeleton, one row per processed frame of the video (every
  file the same length, so that Sports2D's ``--load_trc_px`` pairs row and frame),
  ``Frame#`` and ``Time`` the source frame's own, ``NaN`` where the person is missing or
  the keypoint is below ``threshold``, Z = 0. In pixels the coordinates are the JSON's
  (x right, y down). With ``height_m`` the file is in metres, y up, origin at the bottom
  left of the frame: see :func:`pixels_per_metre`.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.analysis.exports import write_coco, write_openpose, write_trc
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.results import load_result

    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(json=Path("out/clip.json")), end=1.0)
    doc = load_result("out/clip.json")
    print(write_openpose(doc, "out/clip_json").notes)              # COCO-17, Pose2Sim's 'COCO_17'
    write_coco(doc, "out/clip.coco.json")
    print(write_trc(doc, "out/clip_trc", height_m=1.75).paths)     # out/clip_trc/demo_clip_id1_m.trc, ...
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from ..errors import MovenetError
from ..results.load import ResultDoc
from .. import settings
from ..types import KEYPOINT_NAMES, FrameResult, Pose
from .filters import frame_rate
from ..util.fs import Publication, atomic_write, temp_folder_for

K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
NECK = -1  # stands for the synthesised neck in an OpenPose layout
# Pose2Sim's names of the 17 COCO keypoints, in COCO (= MoveNet) order: its COCO_17 skeleton.
COCO17_PARTS = ("Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist",
                "RWrist", "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle")
# OpenPose's COCO-18 body parts (Pose2Sim's COCO skeleton), as indices into the MoveNet keypoints.
OPENPOSE_PARTS = ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee",
                  "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar")
OPENPOSE_ORDER = (0, NECK, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)


@dataclass(frozen=True)
class Layout:
    """A keypoint layout of the OpenPose export: part names, and the MoveNet keypoint of each (``NECK``: synthesised)."""

    name: str
    parts: tuple[str, ...]
    order: tuple[int, ...]
    pose2sim: str  # the pose_model Pose2Sim's Config.toml names it by


OPENPOSE_LAYOUTS = {
    "coco17": Layout("coco17", COCO17_PARTS, tuple(range(17)), "COCO_17"),
    "coco18": Layout("coco18", OPENPOSE_PARTS, OPENPOSE_ORDER, "COCO"),
}
TRC_MARKERS = COCO17_PARTS  # markers named as Pose2Sim's COCO_17, in MoveNet order
# Anthropometry for pixels_per_metre: the 2D-to-3D segment correction Sports2D applies,
# and the ankle height as a fraction of stature (Winter, Biomechanics and Motor Control
# of Human Movement, 2009), standing in for the heel MoveNet does not have.
CORRECTION_2D_TO_3D = 1.063
ANKLE_HEIGHT = 0.039
NOSE_TO_HEAD_TOP = 1.5  # Sports2D: head = 1.5 x (mid-shoulder to nose) when there is no head top


class ExportError(MovenetError):
    """An export that cannot be written (no tracked person, no way to scale, a bad path); names the file."""


@dataclass
class Export:
    """What an export wrote, and what the format could not hold."""

    format: str
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a hidden temporary name, then a rename)."""
    try:
        with atomic_write(path, newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise ExportError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def _folder(path: str | os.PathLike) -> Path:
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{folder}: cannot make the folder ({exc.strerror or exc})") from None
    return folder


def _stem(doc: ResultDoc) -> str:
    return Path(str(doc.source.get("path") or doc.path)).stem


# -- OpenPose -----------------------------------------------------------------------


def _layout(name: str) -> Layout:
    try:
        return OPENPOSE_LAYOUTS[name]
    except KeyError:
        raise ExportError(f"unknown keypoint layout {name!r}; choose from {', '.join(OPENPOSE_LAYOUTS)}") from None


def openpose_keypoints(pose: Pose, threshold: float = settings.THRESHOLD, layout: str = settings.OPENPOSE_LAYOUT
                       ) -> list[float]:
    """One person's ``pose_keypoints_2d``: ``x, y, c`` per part of ``layout``; a Neck from the shoulders."""
    kp = pose.keypoints
    flat: list[float] = []
    for index in _layout(layout).order:
        if index != NECK:
            flat += [round(float(v), 3) for v in kp[index]]
            continue
        shoulders = kp[[K["left_shoulder"], K["right_shoulder"]]]
        if (shoulders[:, 2] >= threshold).all():
            flat += [round(float(v), 3) for v in shoulders.mean(axis=0)]
        else:
            flat += [0.0, 0.0, 0.0]
    return flat


def openpose_frame(frame: FrameResult, threshold: float = settings.THRESHOLD, layout: str = settings.OPENPOSE_LAYOUT
                   ) -> dict[str, Any]:
    """One frame's OpenPose document."""
    empty: list[float] = []
    people = [
        {"person_id": [pose.id], "pose_keypoints_2d": openpose_keypoints(pose, threshold, layout),
         "face_keypoints_2d": empty, "hand_left_keypoints_2d": empty, "hand_right_keypoints_2d": empty,
         "pose_keypoints_3d": empty, "face_keypoints_3d": empty, "hand_left_keypoints_3d": empty,
         "hand_right_keypoints_3d": empty}
        for pose in frame.people
    ]
    return {"version": 1.3, "people": people}


Files = list  # of (path, text): what an export writes, made before anything is written


def render_openpose(doc: ResultDoc, folder: str | os.PathLike, *, threshold: float = settings.THRESHOLD,
                    layout: str = settings.OPENPOSE_LAYOUT) -> tuple[Export, Files]:
    """The files of :func:`write_openpose`, not yet written."""
    out, stem, chosen = Path(folder), _stem(doc), _layout(layout)
    notes = ["OpenPose's layout has no person box, person score or frame time; they stay in the movenet/1 JSON",
             f"keypoints in the {chosen.name} layout: Pose2Sim's pose_model = '{chosen.pose2sim}'"]
    if NECK in chosen.order:
        notes.append(f"Neck is the midpoint of the shoulders (score: their mean) when both score at least {threshold:g}, "
                     "else 0,0,0")
    export = Export("openpose", notes=notes)
    files = [(out / f"{stem}_{frame.index:012d}_keypoints.json", json.dumps(openpose_frame(frame, threshold, layout)))
             for frame in doc.frames]
    export.paths = [path for path, _ in files]
    return export, files


def write_openpose(doc: ResultDoc, folder: str | os.PathLike, *, threshold: float = settings.THRESHOLD,
                   layout: str = settings.OPENPOSE_LAYOUT) -> Export:
    """One ``<stem>_<frame:012d>_keypoints.json`` per frame, published as the folder ``folder`` (whole)."""
    return _write_all(folder, *render_openpose(doc, folder, threshold=threshold, layout=layout))


def _write_all(folder: str | os.PathLike, export: Export, files: Files) -> Export:
    """Write ``files``, all inside ``folder``: the folder is built under a temporary name and published
    whole (replacing a folder of that name), so a failure leaves nothing new behind."""
    _folder(Path(folder).parent)
    publication = Publication()
    try:
        tmp = temp_folder_for(folder)
    except OSError as exc:
        raise ExportError(f"{folder}: cannot make the folder ({exc.strerror or exc})") from None
    publication.add(tmp, folder)
    try:
        with publication:
            for path, text in files:
                (tmp / path.relative_to(folder)).write_text(text, encoding="utf-8", newline="\n")
            publication.publish()
    except OSError as exc:
        raise ExportError(f"{folder}: cannot be written ({exc.strerror or exc})") from None
    return export


# -- COCO results ---------------------------------------------------------------------


def coco_entry(image_id: int, pose: Pose, category_id: int = 1) -> dict[str, Any]:
    """One COCO results entry (keypoint scores in the visibility slots)."""
    return {
        "image_id": image_id,
        "category_id": category_id,
        "keypoints": [round(float(v), 3) for row in pose.keypoints for v in row],
        "score": round(float(pose.score), 5),
    }


ImageId = Callable[[ResultDoc, FrameResult], "int | None"]


def frame_image_id(doc: ResultDoc, frame: FrameResult) -> int:
    """The default ``image_id``: the frame's index in its source (0 for an image)."""
    return frame.index


def image_ids_from_ground_truth(ground_truth: dict[str, Any]) -> ImageId:
    """``image_id`` of a result from a COCO ground truth, matching the source's file name.

    Results of sources not in the ground truth get ``None`` and are left out.
    """
    by_name = {Path(str(img["file_name"])).name: img["id"] for img in ground_truth.get("images", [])}
    return lambda doc, frame: by_name.get(Path(str(doc.source.get("path", ""))).name)


def coco_results(docs: Iterable[ResultDoc], image_id: ImageId = frame_image_id, category_id: int = 1) -> list[dict[str, Any]]:
    """COCO keypoint results of every person of every frame of ``docs``."""
    results = []
    for doc in docs:
        for frame in doc.frames:
            ident = image_id(doc, frame)
            if ident is not None:
                results.extend(coco_entry(ident, pose, category_id) for pose in frame.people)
    return results


def render_coco(
    docs: ResultDoc | Iterable[ResultDoc], path: str | os.PathLike, *, image_id: ImageId = frame_image_id, category_id: int = 1
) -> tuple[Export, Files]:
    """The file of :func:`write_coco`, not yet written."""
    docs = [docs] if isinstance(docs, ResultDoc) else list(docs)
    path = Path(path)
    notes = ["COCO results have no track id, box or time; image_id is " + (
        "the frame's source index" if image_id is frame_image_id else "looked up by file name")]
    return Export("coco", [path], notes), [(path, json.dumps(coco_results(docs, image_id, category_id)))]


def write_coco(
    docs: ResultDoc | Iterable[ResultDoc], path: str | os.PathLike, *, image_id: ImageId = frame_image_id, category_id: int = 1
) -> Export:
    """Write the COCO results of ``docs`` (one document or several) to ``path``."""
    export, [(path, text)] = render_coco(docs, path, image_id=image_id, category_id=category_id)
    _folder(path.parent)
    _write_text(path, text)
    return export


# -- TRC -----------------------------------------------------------------------------


def _trimmed_mean(values: np.ndarray, keep: float = 0.5) -> float:
    values = np.sort(values[np.isfinite(values)])
    if len(values) == 0:
        return float("nan")
    cut = int(len(values) * (1 - keep) / 2)
    return float(values[cut:len(values) - cut].mean())


def _pixel_stature(kp: np.ndarray, threshold: float) -> float:
    """A person's height in pixels from one frame's keypoints (nan if a needed keypoint is unsure)."""
    need = ["nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
    if not (kp[[K[n] for n in need], 2] >= threshold).all():
        return float("nan")
    p = {n: kp[K[n], :2] for n in need}
    dist = lambda a, b: float(np.linalg.norm(p[a] - p[b]))  # noqa: E731
    legs = sum((dist(f"{s}_ankle", f"{s}_knee") + dist(f"{s}_knee", f"{s}_hip") + dist(f"{s}_hip", f"{s}_shoulder")) / 2 for s in ("left", "right"))
    head = NOSE_TO_HEAD_TOP * float(np.linalg.norm(p["nose"] - (p["left_shoulder"] + p["right_shoulder"]) / 2))
    return CORRECTION_2D_TO_3D * (legs + head) / (1 - ANKLE_HEIGHT)


def pixels_per_metre(frames: Iterable[FrameResult], person_id: int, height_m: float, *, threshold: float = settings.THRESHOLD) -> float:
    """Scale of the image at one person, from their height in metres.

    Like Sports2D: the person's pixel height is the sum of shank, thigh and trunk (hip to
    shoulder, both sides averaged) plus 1.5 x mid-shoulder-to-nose for the head, times
    1.063 for segments foreshortened in 2D; MoveNet has no heel, so the ankle height
    (3.9 % of stature) is added. The 50 % most extreme frames are trimmed off.
    """
    heights = [_pixel_stature(p.keypoints, threshold) for f in frames for p in f.people if p.id == person_id]
    px = _trimmed_mean(np.asarray(heights, np.float64))
    if not np.isfinite(px) or px <= 0:
        raise ExportError(f"person {person_id}: never seen whole (nose, shoulders, hips, knees, ankles), cannot scale to metres")
    return px / height_m


def _tracks(frames: list[FrameResult]) -> dict[int, dict[int, Pose]]:
    """Person id -> {position in ``frames``: pose}, ids in order of first appearance."""
    tracks: dict[int, dict[int, Pose]] = {}
    for n, frame in enumerate(frames):
        for pose in frame.people:
            tracks.setdefault(pose.id, {})[n] = pose
    return tracks


def trc_text(name: str, frames: list[FrameResult], track: dict[int, Pose], *, rate: float, units: str,
             transform: Callable[[np.ndarray], np.ndarray], threshold: float = settings.THRESHOLD) -> str:
    """One person's TRC file: Pose2Sim's header, then Frame#, Time and X, Y, Z of every marker for
    every frame of ``frames`` (``NaN`` where the person is missing or a keypoint is unsure)."""
    count, digits = len(frames), 5 if units == "m" else 3
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        "\t".join(map(str, [f"{rate:.10g}", f"{rate:.10g}", count, len(TRC_MARKERS), units, f"{rate:.10g}",
                            frames[0].index, count])),
        "Frame#\tTime\t" + "\t\t\t".join(TRC_MARKERS) + "\t\t\t",
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(TRC_MARKERS) + 1)),
    ]
    missing = ["NaN", "NaN", "NaN"]
    for n, frame in enumerate(frames):
        cells = [str(frame.index), f"{frame.time:.6f}"]
        pose = track.get(n)
        xy = transform(pose.keypoints[:, :2]) if pose is not None else None
        for k in range(len(TRC_MARKERS)):
            if pose is None or pose.keypoints[k, 2] < threshold:
                cells += missing
            else:
                cells += [f"{xy[k, 0]:.{digits}f}", f"{xy[k, 1]:.{digits}f}", f"{0:.{digits}f}"]
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def _scaling(doc: ResultDoc, tracks, height_m: float | None, scale_person: int | None, threshold: float):
    """(units, transform, note) for the TRC coordinates."""
    if height_m is None:
        return "px", (lambda xy: xy), "pixels of the frame, x right, y down (as in the JSON)"
    if not height_m > 0:
        raise ExportError(f"{doc.path}: the person's height must be above 0 m, not {height_m:g}")
    person = scale_person if scale_person is not None else max(tracks, key=lambda pid: len(tracks[pid]))
    if person not in tracks:
        raise ExportError(f"{doc.path}: no person with id {person} to take the scale from")
    ppm = pixels_per_metre(doc.frames, person, height_m, threshold=threshold)
    frame_h = float(doc.source.get("height") or 0)
    transform = lambda xy: np.stack([xy[:, 0] / ppm, (frame_h - xy[:, 1]) / ppm], axis=1)  # noqa: E731
    note = (f"metres, y up, origin at the bottom left of the frame; {ppm:.2f} px/m from person {person}'s height "
            f"{height_m:g} m, used for every person (one camera plane)")
    return "m", transform, note


def render_trc(
    doc: ResultDoc, folder: str | os.PathLike, *, height_m: float | None = None, scale_person: int | None = None,
    threshold: float = settings.THRESHOLD,
) -> tuple[Export, Files]:
    """The files of :func:`write_trc`, not yet written."""
    tracks = _tracks(doc.frames)
    if not tracks:
        raise ExportError(f"{doc.path}: nobody was found, so there is no TRC to write")
    units, transform, note = _scaling(doc, tracks, height_m, scale_person, threshold)
    out, stem = Path(folder), _stem(doc)
    fps = float(doc.source.get("fps") or 0) or None
    rate = frame_rate(doc.frames, fps) or fps or 30.0
    export = Export("trc", notes=[
        f"coordinates in {note}; Z is 0",
        f"keypoints below {threshold:g}, and frames without the person, are NaN; every file has a row for each "
        "frame of the run, Frame# and Time the video's own",
        "TRC has no keypoint scores, person boxes or person scores; they stay in the movenet/1 JSON",
    ])
    files = []
    for pid, track in tracks.items():
        path = out / f"{stem}_id{pid}_{units}.trc"
        files.append((path, trc_text(path.name, doc.frames, track, rate=rate, units=units, transform=transform,
                                     threshold=threshold)))
    export.paths = [path for path, _ in files]
    return export, files


def write_trc(
    doc: ResultDoc, folder: str | os.PathLike, *, height_m: float | None = None, scale_person: int | None = None,
    threshold: float = settings.THRESHOLD,
) -> Export:
    """One TRC per tracked person, published as the folder ``folder`` (whole); in metres when ``height_m`` is given.

    The scale comes from ``scale_person`` (default: the person seen in most frames)
    and applies to everyone, as in Sports2D, which scales from its first person.
    """
    return _write_all(folder, *render_trc(doc, folder, height_m=height_m, scale_person=scale_person,
                                          threshold=threshold))


WRITERS = {"openpose": write_openpose, "coco": write_coco, "trc": write_trc}
RENDERERS = {"openpose": render_openpose, "coco": render_coco, "trc": render_trc}
FORMATS = settings.EXPORT_FORMATS
