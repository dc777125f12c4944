"""Drawing skeletons straight onto yuv420p planes, the picture :func:`~movenet_cli.render.draw.draw_poses`
draws on RGB frames.

Each person is drawn once on a transparent RGBA canvas the size of its drawing; its alpha
channel is the mask of the pixels the drawing covers (Pillow draws shapes without
antialiasing, so the mask is exact; label text is antialiased on its opaque black background).
The covered pixels get the drawing's luma; each 2x2 chroma sample gets the mean of its four
pixels, drawn or not, as the encoder averages them from RGB. Face blurring blurs the three
planes of the face square (chroma at half the radius): blurring is linear, so this is the
RGB blur up to rounding.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import iter_frames
    from movenet_cli.media.yuv import colour_table
    from movenet_cli.render.draw_yuv import draw_poses_yuv

    estimator = PoseEstimator("multipose")
    frames = iter_frames("sample_media/demo_clip.mp4", end=0.2, yuv=True, table=colour_table())  # as planes
    for frame in frames:
        poses = estimator(frame.image)           # the model input is cut from the planes
        draw_poses_yuv(frame.image, poses, threshold=0.3, show_ids=True)          # in place
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..media.yuv import Yuv420, rgb_to_yuv
from ..settings import THRESHOLD
from ..types import Pose
from .draw import DrawStyle, Plan, face_region, paint, pens_for, plan_pose


def draw_poses_yuv(
    frame: Yuv420,
    poses: Sequence[Pose],
    *,
    threshold: float = THRESHOLD,
    show_boxes: bool = False,
    show_ids: bool = False,
    style: DrawStyle | None = None,
) -> Yuv420:
    """Draw ``poses`` on ``frame``'s planes, in place, as ``draw_poses`` draws them on RGB; return ``frame``."""
    style = style or DrawStyle()
    if not poses:
        return frame
    if style.blur_faces:
        for pose in poses:
            _blur_face(frame, pose, threshold)
    pens = pens_for(style, frame.height, frame.width, show_ids, show_boxes)
    for pose in poses:
        plan = plan_pose(pose, threshold, pens, frame.height, frame.width)
        if plan is not None:
            _composite(frame, pose, plan, pens)
    return frame


def _even(x0: int, y0: int, x1: int, y1: int, frame: Yuv420) -> tuple[int, int, int, int]:
    """The region grown to whole 2x2 chroma blocks."""
    return x0 & ~1, y0 & ~1, min(frame.width, x1 + (x1 & 1)), min(frame.height, y1 + (y1 & 1))


def _composite(frame: Yuv420, pose: Pose, plan: Plan, pens) -> None:
    x0, y0, x1, y1 = _even(plan.x0, plan.y0, plan.x1, plan.y1, frame)
    size = (x1 - x0, y1 - y0)
    canvas = Image.new("RGBA", size)  # drawn once: the alpha channel is the mask of what it covers
    paint(ImageDraw.Draw(canvas), plan, pose.keypoints, pens, x0, y0)
    pixels = np.asarray(canvas)
    rows, cols = np.nonzero(pixels[..., 3] > 127)
    if not len(rows):
        return
    luma, cb, cr = rgb_to_yuv(pixels[rows, cols, :3])
    frame.y[y0 + rows, x0 + cols] = (luma + 0.5).astype(np.uint8)
    # Chroma of each touched 2x2 block: its own for the pixels not drawn, the drawing's for the rest.
    width = size[0] // 2
    block = (rows >> 1) * width + (cols >> 1)
    blocks = width * (size[1] // 2)
    counts = np.bincount(block, minlength=blocks)
    touched = np.flatnonzero(counts)
    share = counts[touched] * 0.25
    by, bx = y0 // 2 + touched // width, x0 // 2 + touched % width
    for plane, drawn in ((frame.u, cb), (frame.v, cr)):
        ink = np.bincount(block, weights=drawn, minlength=blocks)[touched] * 0.25
        mixed = plane[by, bx] * (1 - share) + ink + 0.5
        plane[by, bx] = np.clip(mixed, 0, 255).astype(np.uint8)


def _blur_face(frame: Yuv420, pose: Pose, threshold: float) -> None:
    region = face_region(pose, threshold, frame.height, frame.width)
    if region is None:
        return
    x0, y0, x1, y1 = _even(*region, frame)
    radius = max(3.0, max(x1 - x0, y1 - y0) / 6)
    for plane, scale in ((frame.y, 1), (frame.u, 2), (frame.v, 2)):
        crop = plane[y0 // scale : y1 // scale, x0 // scale : x1 // scale]
        crop[...] = np.asarray(Image.fromarray(crop).filter(ImageFilter.GaussianBlur(radius / scale)))
