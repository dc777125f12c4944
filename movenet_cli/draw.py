"""Drawing skeletons on frames, in the MoveNet tutorial's colours.

Edges on the person's left side are magenta, right side cyan, across the body
yellow; keypoints are filled dots. Only keypoints and edges whose scores pass the
threshold are drawn. Line width and dot size scale with the frame, so a 4K frame
and a 480p frame both look right. MultiPose people also get their box and id.

Example::

    annotated = draw_poses(frame, poses, threshold=0.3, show_ids=True)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .estimator import SKELETON, Pose

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
    threshold: float = 0.3,
    show_boxes: bool = False,
    show_ids: bool = False,
) -> np.ndarray:
    """Return a copy of ``image`` (uint8 HxWx3) with the poses drawn on it."""
    canvas = Image.fromarray(image)
    if not poses:
        return np.asarray(canvas)
    pen = ImageDraw.Draw(canvas)
    height, width = image.shape[:2]
    lw = line_width(height, width)
    radius = max(2, round(lw * 1.4))
    font = _font(max(12, lw * 6)) if show_ids else None
    for pose in poses:
        kp = pose.keypoints
        for a, b, side in SKELETON:
            if kp[a, 2] >= threshold and kp[b, 2] >= threshold:
                pen.line([(kp[a, 0], kp[a, 1]), (kp[b, 0], kp[b, 1])], fill=EDGE_COLORS[side], width=lw)
        for x, y, score in kp:
            if score >= threshold:
                pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=POINT_COLOR)
        if pose.bbox is not None and (show_boxes or show_ids):
            x0, y0, x1, y1 = pose.bbox
            if show_boxes:
                pen.rectangle([x0, y0, x1, y1], outline=BOX_COLOR, width=max(1, lw // 2))
            if show_ids and font is not None:
                label = f"{pose.id}"
                left, top, right, bottom = pen.textbbox((x0, y0), label, font=font)
                ty = max(0, y0 - (bottom - top) - 2 * lw)
                pen.rectangle([x0, ty, x0 + (right - left) + 2 * lw, ty + (bottom - top) + 2 * lw], fill=(0, 0, 0))
                pen.text((x0 + lw, ty + lw - (top - y0)), label, fill=BOX_COLOR, font=font)
    return np.asarray(canvas)


_FONTS: dict[int, ImageFont.ImageFont] = {}


def _font(size: int):
    if size not in _FONTS:
        try:
            _FONTS[size] = ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1 has one fixed-size default font
            _FONTS[size] = ImageFont.load_default()
    return _FONTS[size]
