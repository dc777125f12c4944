"""Joint and segment angles from the 17 MoveNet keypoints, in Sports2D's conventions.

Angles are in degrees, measured in the image plane. The definitions follow Sports2D
(``Pose2Sim.common.angle_dict``: keypoints, offset and sign) so the numbers can be
compared with its output; :data:`ANGLES` lists each one with its convention, and
:func:`angle_table` renders that list as a Markdown table.

Two points are synthesised, as Sports2D does: ``neck`` is the midpoint of the
shoulders and ``mid_hip`` the midpoint of the hips; each needs both of its keypoints.
An angle whose keypoints do not all score at least ``threshold`` is ``None`` (``nan``
in the array functions), never a guess.

Sports2D flips x for a person seen from the left (``side="left"``) so that flexion
stays positive; it decides the side from the toes, which MoveNet lacks, and so
takes ``"right"`` (no flip) for the 17 COCO keypoints: the default here too.

Example::

    import numpy as np
    from movenet_cli.types import Pose
    from movenet_cli.analysis.angles import pose_angles

    kp = np.zeros((17, 3)); kp[:, 2] = 1.0
    kp[12, :2] = (0, 0); kp[14, :2] = (0, 100); kp[16, :2] = (-100, 100)  # right hip, knee, ankle
    print(pose_angles(Pose(kp, 1.0, None, 1))["right_knee"])  # 90.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from .. import settings
from ..types import KEYPOINT_NAMES, FrameResult, Pose

# Points an angle may use: one keypoint, or the mean of several (all must pass).
_POINTS: dict[str, tuple[int, ...]] = {name: (i,) for i, name in enumerate(KEYPOINT_NAMES)}
_POINTS["neck"] = (KEYPOINT_NAMES.index("left_shoulder"), KEYPOINT_NAMES.index("right_shoulder"))
_POINTS["mid_hip"] = (KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip"))

SIDES = ("right", "left")


@dataclass(frozen=True)
class AngleDef:
    """One angle: the points it uses, Sports2D's offset and sign, and its convention in words.

    ``points`` has 2 entries (segment: direction from the second to the first point),
    3 (joint: angle at the middle point) or 4 (angle between the vectors 0->1 and 2->3).
    The value is ``(raw + offset) * sign`` wrapped to ``[-wrap, wrap)``.
    """

    name: str
    kind: str  # "joint" or "segment"
    points: tuple[str, ...]
    offset: float
    sign: float
    convention: str
    wrap: float = 180.0
    note: str = ""


def _joint(name: str, points: tuple[str, ...], offset: float, sign: float, convention: str, note: str = "") -> AngleDef:
    return AngleDef(name, "joint", points, offset, sign, convention, note=note)


def _segment(name: str, points: tuple[str, str], convention: str, wrap: float = 180.0, note: str = "") -> AngleDef:
    return AngleDef(name, "segment", points, 0.0, -1.0, convention, wrap, note)


_FLEX = "0 straight, positive flexing forward for a person facing right (+x)"
_SEG = "direction {a}, counter-clockwise from the +x axis with y up; {rest}"


def _definitions() -> tuple[AngleDef, ...]:
    defs: list[AngleDef] = []
    for s in SIDES:
        defs += [
            _joint(f"{s}_knee", (f"{s}_ankle", f"{s}_knee", f"{s}_hip"), -180, 1, "flexion: 0 straight leg, positive when the shank folds back behind the thigh (facing +x)"),
            _joint(f"{s}_hip", (f"{s}_knee", f"{s}_hip", "mid_hip", "neck"), 0, -1, "flexion: angle from the trunk (mid_hip->neck) to the thigh (knee->hip); " + _FLEX),
            _joint(f"{s}_shoulder", (f"{s}_elbow", f"{s}_shoulder", "mid_hip", "neck"), 0, -1, "flexion: angle from the trunk (mid_hip->neck) to the upper arm (elbow->shoulder); " + _FLEX),
            _joint(f"{s}_elbow", (f"{s}_wrist", f"{s}_elbow", f"{s}_shoulder"), 180, -1, "flexion: 0 straight arm, positive when the forearm folds forward (facing +x)"),
        ]
    defs.append(
        _joint("neck", ("neck", "nose", "mid_hip", "neck"), 0, 1,
               "flexion: angle from the trunk (mid_hip->neck) to neck->nose, positive forward (facing +x)",
               "not in Sports2D (its neck angle is disabled); the nose sits in front of the trunk line, so in profile an upright head reads about +20")
    )
    for s in SIDES:
        defs += [
            _segment(f"{s}_shank", (f"{s}_ankle", f"{s}_knee"), _SEG.format(a="knee->ankle", rest="-90 upright")),
            _segment(f"{s}_thigh", (f"{s}_knee", f"{s}_hip"), _SEG.format(a="hip->knee", rest="-90 upright")),
            _segment(f"{s}_arm", (f"{s}_elbow", f"{s}_shoulder"), _SEG.format(a="shoulder->elbow (upper arm)", rest="-90 hanging")),
            _segment(f"{s}_forearm", (f"{s}_wrist", f"{s}_elbow"), _SEG.format(a="elbow->wrist", rest="-90 hanging")),
        ]
    defs += [
        _segment("trunk", ("neck", "mid_hip"), _SEG.format(a="mid_hip->neck", rest="+90 upright")),
        _segment("pelvis", ("left_hip", "right_hip"), _SEG.format(a="right_hip->left_hip", rest="0 level, positive rising to the right of the image; in [-90, 90)"), 90.0),
        _segment("shoulders", ("left_shoulder", "right_shoulder"), _SEG.format(a="right_shoulder->left_shoulder", rest="0 level, positive rising to the right of the image; in [-90, 90)"), 90.0),
        _segment("head", ("nose", "neck"), _SEG.format(a="neck->nose", rest="+90 straight up"),
                 note="Sports2D uses the top of the head; MoveNet has none, so the nose stands in"),
    ]
    return tuple(defs)


ANGLES: tuple[AngleDef, ...] = _definitions()
ANGLE_NAMES: tuple[str, ...] = tuple(a.name for a in ANGLES)
# Sports2D angles that need keypoints MoveNet does not have.
NOT_AVAILABLE = {
    "right_ankle / left_ankle": "need the big toe and heel",
    "right_wrist / left_wrist": "need the index finger",
    "right_foot / left_foot": "need the big toe and heel",
    "right_hand / left_hand": "need the index finger",
}
_BY_NAME = {a.name: a for a in ANGLES}
# Joint angles are named after the point they are measured at (the neck angle after the mid-shoulder point).
JOINT_ANGLES: tuple[str, ...] = tuple(a.name for a in ANGLES if a.kind == "joint")


def _select(names: Iterable[str] | None) -> tuple[AngleDef, ...]:
    if names is None:
        return ANGLES
    unknown = [n for n in names if n not in _BY_NAME]
    if unknown:
        raise ValueError(f"unknown angle {unknown[0]!r}; known: {', '.join(ANGLE_NAMES)}")
    return tuple(_BY_NAME[n] for n in names)


def _point(keypoints: np.ndarray, name: str, threshold: float) -> np.ndarray:
    """(..., 2) coordinates of a named point, nan where one of its keypoints is below threshold."""
    rows = keypoints[..., _POINTS[name], :]
    xy = rows[..., :2].mean(axis=-2)
    sure = (rows[..., 2] >= threshold).all(axis=-1)
    return np.where(sure[..., None], xy, np.nan)


def _raw(points: list[np.ndarray]) -> np.ndarray:
    """Sports2D's ``points_to_angles`` in image coordinates (y down), degrees."""
    if len(points) == 2:
        u = points[0] - points[1]
        return np.degrees(np.arctan2(u[..., 1], u[..., 0]))
    if len(points) == 3:
        u, v = points[0] - points[1], points[2] - points[1]
    else:
        u, v = points[1] - points[0], points[3] - points[2]
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = (u * v).sum(axis=-1)
    return -np.degrees(np.arctan2(cross, dot))


def compute_angles(
    keypoints: np.ndarray, *, threshold: float = settings.THRESHOLD, side: str = "right", names: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """Angles of keypoint arrays shaped ``(..., 17, 3)``: name -> array shaped ``(...)``, nan where undefined.

    ``side="left"`` mirrors x first (Sports2D's ``visible_side``), so a person seen
    facing -x gets positive flexion.
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    kp = np.array(keypoints, dtype=np.float64)
    if side == "left":
        kp[..., 0] = -kp[..., 0]
    out = {}
    for angle in _select(names):
        raw = _raw([_point(kp, p, threshold) for p in angle.points])
        value = (raw + angle.offset) * angle.sign
        out[angle.name] = np.mod(value + angle.wrap, 2 * angle.wrap) - angle.wrap
    return out


def joint_anchor(keypoints: np.ndarray, name: str, threshold: float = settings.THRESHOLD) -> tuple[float, float] | None:
    """Where the joint angle ``name`` sits in the image: the point it is named after (``neck``: the
    midpoint of the shoulders), or ``None`` when a keypoint of that point is below ``threshold``."""
    xy = _point(np.asarray(keypoints, dtype=np.float64), name, threshold)
    return None if np.isnan(xy).any() else (float(xy[0]), float(xy[1]))


def pose_angles(pose: Pose, *, threshold: float = settings.THRESHOLD, side: str = "right", digits: int | None = None) -> dict[str, float | None]:
    """The angles of one person: name -> degrees, or ``None`` when a keypoint is below ``threshold``."""
    values = compute_angles(pose.keypoints, threshold=threshold, side=side)
    return {n: None if math.isnan(v) else (round(float(v), digits) if digits is not None else float(v)) for n, v in values.items()}


def frame_angles(
    frames: Iterable[FrameResult], *, threshold: float = settings.THRESHOLD, side: str = "right", digits: int | None = 2
) -> list[dict[int, dict[str, float | None]]]:
    """Per frame, person id -> :func:`pose_angles` (the ``angles`` block of each person in the JSON)."""
    return [{p.id: pose_angles(p, threshold=threshold, side=side, digits=digits) for p in f.people} for f in frames]


def angles_csv_header() -> list[str]:
    """Header of ``*.angles.csv``: frame, time, person_id, then one column per angle."""
    return ["frame", "time", "person_id", *ANGLE_NAMES]


def angles_csv_rows(frames: Iterable[FrameResult], *, threshold: float = settings.THRESHOLD, side: str = "right") -> list[list[Any]]:
    """Rows of ``*.angles.csv``, one per person per frame; an undefined angle is an empty cell."""
    rows = []
    for frame in frames:
        for pose in frame.people:
            values = pose_angles(pose, threshold=threshold, side=side, digits=2)
            rows.append([frame.index, round(frame.time, 6), pose.id, *("" if values[n] is None else values[n] for n in ANGLE_NAMES)])
    return rows


def angles_model_block(threshold: float = settings.THRESHOLD, side: str = "right") -> dict[str, Any]:
    """What to record in the JSON ``model`` block when angles are written."""
    return {"units": "degrees", "convention": "sports2d", "side": side, "threshold": threshold, "names": list(ANGLE_NAMES)}


def angle_series(frames: Iterable[FrameResult], name: str, person_id: int, *, threshold: float = settings.THRESHOLD, side: str = "right"):
    """``(times, values)`` arrays of one angle of one person over the frames it appears in (nan where undefined)."""
    times, values = [], []
    for frame in frames:
        for pose in frame.people:
            if pose.id == person_id:
                times.append(frame.time)
                values.append(compute_angles(pose.keypoints, threshold=threshold, side=side, names=[name])[name])
    return np.asarray(times, np.float64), np.asarray(values, np.float64)


def angle_table() -> str:
    """The angle definitions as a Markdown table (name, kind, keypoints, convention)."""
    lines = ["| angle | kind | keypoints | convention |", "| --- | --- | --- | --- |"]
    for a in ANGLES:
        note = f" ({a.note})" if a.note else ""
        lines.append(f"| `{a.name}` | {a.kind} | {', '.join(a.points)} | {a.convention}{note} |")
    return "\n".join(lines)
