"""Drawing skeletons on frames, in the MoveNet tutorial's colours.

Edges on the person's left side are magenta, right side cyan, across the body
yellow; keypoints are filled dots. Only keypoints and edges whose scores pass the
threshold are drawn. Line width and dot size scale with the frame, so a 4K frame
and a 480p frame both look right. MultiPose people also get their id.

A :class:`DrawStyle` picks the layers (``skeleton``, ``points``, ``boxes``, ``ids``,
``scores``, ``angles``), fixed line width and dot radius, and face blurring. The ``angles``
layer writes each joint angle (:mod:`movenet_cli.analysis.angles`, integer degrees) beside its
joint, computed from the keypoints being drawn: per frame, before any offline filter. Blurring covers a
square around the confident nose, eye and ear keypoints of each person: a
convenience for publishing footage, not an anonymisation guarantee (a face the
model does not find, or finds with low scores, stays as it is).

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image, write_image
    from movenet_cli.render.draw import DrawStyle, draw_poses

    frame = read_image("sample_media/person.jpg")
    poses = PoseEstimator("multipose")(frame)
    write_image("out/person.jpg", draw_poses(frame, poses, threshold=0.3, show_ids=True))
    style = DrawStyle(layers=("skeleton", "boxes"), line_width=4, blur_faces=True, angles=True)
    write_image("out/person_boxes.jpg", draw_poses(frame, poses, threshold=0.3, style=style))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .. import settings
from ..analysis.angles import JOINT_ANGLES, joint_anchor, pose_angles
from ..errors import UsageError
from ..settings import THRESHOLD
from ..types import SKELETON, Pose

EDGE_COLORS = {"left": (255, 0, 255), "right": (0, 255, 255), "center": (255, 255, 0)}
POINT_COLOR = (255, 20, 147)
BOX_COLOR = (255, 255, 255)
FACE_KEYPOINTS = (0, 1, 2, 3, 4)  # nose, eyes, ears
SHOULDERS = (5, 6)


@dataclass(frozen=True)
class DrawStyle:
    """What :func:`draw_poses` draws.

    ``layers``: any of ``settings.DRAW_LAYERS`` (``None``: skeleton and points, plus ids when
    the caller asks for them, as for MultiPose); ``line_width`` and ``point_radius`` in pixels
    (``None``: scaled with the frame); ``blur_faces`` blurs each person's face region;
    ``angles`` adds the ``angles`` layer to the others (``--draw-angles``).
    """

    layers: tuple[str, ...] | None = settings.DRAW
    line_width: int | None = settings.LINE_WIDTH
    point_radius: int | None = settings.POINT_RADIUS
    blur_faces: bool = settings.BLUR_FACES
    angles: bool = settings.DRAW_ANGLES

    def check(self) -> "DrawStyle":
        unknown = [layer for layer in self.layers or () if layer not in settings.DRAW_LAYERS]
        if unknown:
            raise UsageError(f"unknown drawing layer {unknown[0]!r}; choose from {', '.join(settings.DRAW_LAYERS)}")
        for name, value, bounds in (("line width", self.line_width, settings.LINE_WIDTH_RANGE),
                                    ("point radius", self.point_radius, settings.POINT_RADIUS_RANGE)):
            if value is not None:
                settings.check_range(name, value, bounds, integer=True, unit=" pixels")
        return self

    def resolve(self, show_ids: bool, show_boxes: bool) -> frozenset[str]:
        """The layers to draw: the style's, or the default look with the caller's ids and boxes;
        plus ``angles`` when the style asks for them."""
        extra = {"angles"} if self.angles else set()
        if self.layers is not None:
            return frozenset(self.layers) | extra
        return frozenset({"skeleton", "points"} | ({"ids"} if show_ids else set()) | ({"boxes"} if show_boxes else set())
                         | extra)


def line_width(height: int, width: int) -> int:
    """Stroke width for a frame: about 1/320 of its diagonal, at least 2 px."""
    return max(2, round((height * height + width * width) ** 0.5 / 320))


@dataclass
class _Pens:
    """Sizes and layers for one frame."""

    layers: frozenset
    lw: int
    radius: int
    font: object
    pad: int  # label padding: the frame-scaled width, whatever the line width
    small: object = None  # the font of the angle labels


def draw_poses(
    image: np.ndarray,
    poses: Sequence[Pose],
    *,
    threshold: float = THRESHOLD,
    show_boxes: bool = False,
    show_ids: bool = False,
    inplace: bool = False,
    style: DrawStyle | None = None,
) -> np.ndarray:
    """Return ``image`` (uint8 HxWx3) with the poses drawn on it.

    Draws on a copy, or with ``inplace`` on ``image`` itself (which must be writable).
    Each person is drawn on a crop of the frame just large enough for its skeleton,
    box and label, so the cost follows the size of the people, not of the frame.
    ``style`` overrides ``show_boxes``/``show_ids`` when it names its layers.
    """
    style = style or DrawStyle()
    out = image if inplace else image.copy()
    if not poses:
        return out
    height, width = out.shape[:2]
    if style.blur_faces:
        for pose in poses:
            blur_face(out, pose, threshold)
    pens = pens_for(style, height, width, show_ids, show_boxes)
    for pose in poses:
        _draw_pose(out, pose, threshold, pens)
    return out


def pens_for(style: DrawStyle, height: int, width: int, show_ids: bool, show_boxes: bool) -> _Pens:
    """Sizes, font and layers for drawing ``style`` on a ``width`` x ``height`` frame."""
    scaled = line_width(height, width)
    lw = style.line_width or scaled
    layers = style.resolve(show_ids, show_boxes)
    labelled = bool(layers & {"ids", "scores"})
    font = _font(max(12, scaled * 6)) if labelled else None
    small = _font(max(12, scaled * 5)) if "angles" in layers else None
    return _Pens(layers, lw, style.point_radius or max(2, round(scaled * 1.4)), font, scaled, small)


@dataclass
class Plan:
    """What one person's drawing holds, and the crop ``[y0:y1, x0:x1]`` of the frame it fits in."""

    edges: list
    points: list
    box: object
    labels: list  # (rect, text origin, text, font): the id/score label and the angle labels
    x0: int
    y0: int
    x1: int
    y1: int


def _draw_pose(out: np.ndarray, pose: Pose, threshold: float, pens: _Pens) -> None:
    """Draw one person on the smallest crop of ``out`` that holds its drawing."""
    plan = plan_pose(pose, threshold, pens, *out.shape[:2])
    if plan is None:
        return
    crop = out[plan.y0 : plan.y1, plan.x0 : plan.x1]
    canvas = Image.fromarray(crop)
    paint(ImageDraw.Draw(canvas), plan, pose.keypoints, pens, plan.x0, plan.y0)
    crop[...] = np.asarray(canvas)


def plan_pose(pose: Pose, threshold: float, pens: _Pens, height: int, width: int) -> Plan | None:
    """The drawing of one person on a ``width`` x ``height`` frame (``None``: nothing to draw)."""
    kp, lw, radius, layers = pose.keypoints, pens.lw, pens.radius, pens.layers
    edges = [(a, b, side) for a, b, side in SKELETON if kp[a, 2] >= threshold and kp[b, 2] >= threshold]
    edges = edges if "skeleton" in layers else []
    points = [(x, y) for x, y, score in kp if score >= threshold] if "points" in layers else []
    box = pose.bbox if pose.bbox is not None and "boxes" in layers else None
    text = _label_text(pose, layers)
    label = _label(pose.bbox, text, pens.font, pens.pad) if text and pose.bbox is not None else None
    labels = [(*label, pens.font)] if label is not None else []
    labels += [(*a, pens.small) for a in _angle_labels(pose, threshold, pens)] if "angles" in layers else []
    extents = [(x - radius, y - radius, x + radius, y + radius) for x, y in points]
    extents += [(min(kp[a, 0], kp[b, 0]) - lw, min(kp[a, 1], kp[b, 1]) - lw,
                 max(kp[a, 0], kp[b, 0]) + lw, max(kp[a, 1], kp[b, 1]) + lw) for a, b, _ in edges]  # fmt: skip
    if box is not None:
        extents.append((box[0] - lw, box[1] - lw, box[2] + lw, box[3] + lw))
    for rect, origin, _, _ in labels:  # the text origin too: Pillow places text by its (positive) fractional offset
        extents += [rect, origin * 2]
    if not extents:
        return None
    x0 = max(0, math.floor(min(e[0] for e in extents)) - 2)
    y0 = max(0, math.floor(min(e[1] for e in extents)) - 2)
    x1 = min(width, math.ceil(max(e[2] for e in extents)) + 3)
    y1 = min(height, math.ceil(max(e[3] for e in extents)) + 3)
    if x1 <= x0 or y1 <= y0:
        return None
    return Plan(edges, points, box, labels, x0, y0, x1, y1)


def paint(pen, plan: Plan, kp: np.ndarray, pens: _Pens, x0: int, y0: int) -> None:
    """Draw ``plan`` with ``pen`` on a canvas whose top left is frame pixel ``(x0, y0)``."""
    lw, radius, box = pens.lw, pens.radius, plan.box
    for a, b, side in plan.edges:
        pen.line([(kp[a, 0] - x0, kp[a, 1] - y0), (kp[b, 0] - x0, kp[b, 1] - y0)], fill=EDGE_COLORS[side], width=lw)
    for x, y in plan.points:
        x, y = x - x0, y - y0
        pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=POINT_COLOR)
    if box is not None:
        pen.rectangle([box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0], outline=BOX_COLOR, width=max(1, lw // 2))
    for (lx0, ly0, lx1, ly1), (tx, ty), text, font in plan.labels:
        pen.rectangle([lx0 - x0, ly0 - y0, lx1 - x0, ly1 - y0], fill=(0, 0, 0))
        pen.text((tx - x0, ty - y0), text, fill=BOX_COLOR, font=font)  # the text lies on its background


def _angle_labels(pose: Pose, threshold: float, pens: _Pens) -> list:
    """A label for each joint angle of ``pose`` that its keypoints define: the value in integer
    degrees, beside the joint on the side away from the body's middle, vertically centred on it."""
    kp = pose.keypoints
    sure = kp[kp[:, 2] >= threshold, 0]
    middle = float(sure.mean()) if len(sure) else 0.0
    values = pose_angles(pose, threshold=threshold)
    labels = []
    for name in JOINT_ANGLES:
        anchor = joint_anchor(kp, name, threshold)
        if values[name] is None or anchor is None:
            continue
        text = f"{round(values[name])}"
        left, top, right, bottom = pens.small.getbbox(text)
        w, h = right - left + 2 * pens.pad, bottom - top + 2 * pens.pad
        gap = pens.radius + pens.pad
        lx = anchor[0] + gap if anchor[0] >= middle else anchor[0] - gap - w
        ly = anchor[1] - h / 2
        labels.append(((lx, ly, lx + w, ly + h), (lx + pens.pad - left, ly + pens.pad - top), text))
    return labels


def _label_text(pose: Pose, layers: frozenset) -> str:
    parts = [f"{pose.id}"] if "ids" in layers else []
    if "scores" in layers:
        parts.append(f"{pose.score:.2f}")
    return " ".join(parts)


def face_region(pose: Pose, threshold: float, height: int, width: int) -> tuple[int, int, int, int] | None:
    """The square ``(x0, y0, x1, y1)`` blurred for a person's face, or ``None`` without a confident
    nose, eye or ear.

    Centred on those keypoints; its half side is the largest of: their spread, 0.4 times the
    shoulder width (a face seen from the side shows one eye and one ear), and 6 % of the box
    height; at least 6 px.
    """
    kp = pose.keypoints
    face = kp[[i for i in FACE_KEYPOINTS if kp[i, 2] >= threshold], :2]
    if not len(face):
        return None
    cx, cy = face.mean(axis=0)
    half = [0.9 * float(np.ptp(face[:, 0])), 0.9 * float(np.ptp(face[:, 1])), 6.0]
    if all(kp[i, 2] >= threshold for i in SHOULDERS):
        half.append(0.4 * float(np.hypot(*(kp[SHOULDERS[0], :2] - kp[SHOULDERS[1], :2]))))
    if pose.bbox is not None:
        half.append(0.06 * float(pose.bbox[3] - pose.bbox[1]))
    h = max(half)
    x0, y0 = max(0, math.floor(cx - h)), max(0, math.floor(cy - h))
    x1, y1 = min(width, math.ceil(cx + h)), min(height, math.ceil(cy + h))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def blur_face(out: np.ndarray, pose: Pose, threshold: float) -> None:
    """Blur the face region of ``pose`` in ``out`` (in place); nothing outside it changes."""
    region = face_region(pose, threshold, *out.shape[:2])
    if region is None:
        return
    x0, y0, x1, y1 = region
    crop = out[y0:y1, x0:x1]
    radius = max(3.0, max(x1 - x0, y1 - y0) / 6)
    crop[...] = np.asarray(Image.fromarray(crop).filter(ImageFilter.GaussianBlur(radius)))


def _label(box, text: str, font, lw: int):
    """Where a label goes: its background box, the text origin and the text."""
    x0, y0 = box[0], box[1]
    left, top, right, bottom = font.getbbox(text)
    left, top, right, bottom = x0 + left, y0 + top, x0 + right, y0 + bottom  # as ImageDraw.textbbox((x0, y0))
    ty = max(0, y0 - (bottom - top) - 2 * lw)
    rect = (x0, ty, x0 + (right - left) + 2 * lw, ty + (bottom - top) + 2 * lw)
    return rect, (x0 + lw, ty + lw - (top - y0)), text


_FONTS: dict[int, ImageFont.ImageFont] = {}


def _font(size: int):
    if size not in _FONTS:
        try:
            _FONTS[size] = ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1 has one fixed-size default font
            _FONTS[size] = ImageFont.load_default()
    return _FONTS[size]
