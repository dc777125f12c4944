"""Drawing skeletons on frames, in the MoveNet tutorial's colours.

Edges on the person's left side are magenta, right side cyan, across the body
yellow; keypoints are filled dots. Only keypoints and edges whose scores pass the
threshold are drawn. Line width and dot size scale with the frame, so a 4K frame
and a 480p frame both look right. MultiPose people also get their box and id.

Example::

    annotated = draw_poses(frame, poses, threshold=0.3, show_ids=True)
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..settings import THRESHOLD
from ..types import SKELETON, Pose

EDGE_COLORS = {"left": (255, 0, 255), "right": (0, 255, 255), "center": (255, 255, 0)}
POINT_COLOR = (255, 20, 147)
BOX_COLOR = (255, 255, 255)


def line_width(height: int, width: int) -> int:
    """Stroke width for a frame: about 1/320 of its diagonal, at least 2 px."""
    return max(2, round((height * height + width * width) ** 0.5 / 320))


def draw_poses(
    image: np.ndarray,
    poses: Sequence[Pose],
    *,
    threshold: float = THRESHOLD,
    show_boxes: bool = False,
    show_ids: bool = False,
    inplace: bool = False,
) -> np.ndarray:
    """Return ``image`` (uint8 HxWx3) with the poses drawn on it.

    Draws on a copy, or with ``inplace`` on ``image`` itself (which must be writable).
    Each person is drawn on a crop of the frame just large enough for its skeleton,
    box and label, so the cost follows the size of the people, not of the frame.
    """
    out = image if inplace else image.copy()
    if not poses:
        return out
    height, width = out.shape[:2]
    lw = line_width(height, width)
    radius = max(2, round(lw * 1.4))
    font = _font(max(12, lw * 6)) if show_ids else None
    for pose in poses:
        kp = pose.keypoints
        edges = [(a, b, side) for a, b, side in SKELETON if kp[a, 2] >= threshold and kp[b, 2] >= threshold]
        points = [(x, y) for x, y, score in kp if score >= threshold]
        box = pose.bbox if pose.bbox is not None and (show_boxes or show_ids) else None
        label = _label(box, pose.id, font, lw) if show_ids and box is not None and font is not None else None
        extents = [(x - radius, y - radius, x + radius, y + radius) for x, y in points]
        extents += [(min(kp[a, 0], kp[b, 0]) - lw, min(kp[a, 1], kp[b, 1]) - lw,
                     max(kp[a, 0], kp[b, 0]) + lw, max(kp[a, 1], kp[b, 1]) + lw) for a, b, _ in edges]  # fmt: skip
        if box is not None and show_boxes:
            extents.append((box[0] - lw, box[1] - lw, box[2] + lw, box[3] + lw))
        if label is not None:  # the text origin too: Pillow places text by its (positive) fractional offset
            extents += [label[0], label[1] * 2]
        if not extents:
            continue
        x0 = max(0, math.floor(min(e[0] for e in extents)) - 2)
        y0 = max(0, math.floor(min(e[1] for e in extents)) - 2)
        x1 = min(width, math.ceil(max(e[2] for e in extents)) + 3)
        y1 = min(height, math.ceil(max(e[3] for e in extents)) + 3)
        if x1 <= x0 or y1 <= y0:
            continue
        crop = out[y0:y1, x0:x1]
        canvas = Image.fromarray(crop)
        pen = ImageDraw.Draw(canvas)
        for a, b, side in edges:
            pen.line([(kp[a, 0] - x0, kp[a, 1] - y0), (kp[b, 0] - x0, kp[b, 1] - y0)], fill=EDGE_COLORS[side], width=lw)
        for x, y in points:
            x, y = x - x0, y - y0
            pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=POINT_COLOR)
        if box is not None and show_boxes:
            pen.rectangle([box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0], outline=BOX_COLOR, width=max(1, lw // 2))
        if label is not None:
            (lx0, ly0, lx1, ly1), (tx, ty), text = label
            pen.rectangle([lx0 - x0, ly0 - y0, lx1 - x0, ly1 - y0], fill=(0, 0, 0))
            pen.text((tx - x0, ty - y0), text, fill=BOX_COLOR, font=font)
        crop[...] = np.asarray(canvas)
    return out


def _label(box, pose_id: int, font, lw: int):
    """Where an id label goes: its background box, the text origin and the text."""
    x0, y0 = box[0], box[1]
    text = f"{pose_id}"
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
