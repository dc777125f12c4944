"""Square crops for the SinglePose models, and the MoveNet tutorial's crop-region tracking.

SinglePose Lightning and Thunder see a fixed square input (192 or 256 pixels). On a
whole frame a person may be a few dozen pixels tall; cropping a square around them
first lets the model see them large. :class:`Crop` is that square in source pixels,
:func:`crop_resize` cuts it out (zero outside the frame) and resizes it the way the
letterbox does, and ``Crop.to_source`` maps model coordinates back exactly.

:func:`crop_region` is the crop-region rule of the TensorFlow Hub MoveNet tutorial
(``torso_visible``, ``determine_torso_and_body_range``, ``determine_crop_region``): a square
around the hips, big enough for the torso (x1.9) and for every confident keypoint (x1.2).

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image
    from movenet_cli.pose.crops import Crop, crop_resize
    from movenet_cli.pose.letterbox import to_keypoints

    frame = read_image("sample_media/person.jpg")    # 960 x 540
    crop = Crop.around(480, 270, 540, out=192)         # a 540-pixel square in the middle
    tensor = crop_resize(frame, crop)                  # uint8 [192, 192, 3]
    raw = PoseEstimator("lightning").infer(tensor[None])
    keypoints = to_keypoints(raw, crop)                # model output -> rows of x, y, score in frame pixels
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .letterbox import bilinear_taps, take_pixels

MIN_CROP_KEYPOINT_SCORE = 0.2  # as in the tutorial and pose-detection
TORSO_EXPANSION = 1.9
BODY_EXPANSION = 1.2

_LEFT_SHOULDER, _RIGHT_SHOULDER, _LEFT_HIP, _RIGHT_HIP = 5, 6, 11, 12
_TORSO = (_LEFT_SHOULDER, _RIGHT_SHOULDER, _LEFT_HIP, _RIGHT_HIP)


@dataclass(frozen=True)
class Crop:
    """A square of side ``size`` source pixels with its top-left corner at (``x0``, ``y0``),
    resized to ``out`` x ``out`` model pixels. It may reach outside the frame."""

    x0: float
    y0: float
    size: float
    out: int

    @classmethod
    def around(cls, cx: float, cy: float, size: float, out: int) -> "Crop":
        """The square of side ``size`` centred on (``cx``, ``cy``)."""
        return cls(cx - size / 2, cy - size / 2, size, out)

    @classmethod
    def whole_frame(cls, height: int, width: int, out: int) -> "Crop":
        """The whole frame padded equally to a square (the tutorial's ``init_crop_region``)."""
        return cls.around(width / 2, height / 2, float(max(height, width)), out)

    def to_source(self, x_norm, y_norm):
        """Map coordinates normalised to the model input back to source pixels."""
        x = self.x0 + np.asarray(x_norm, np.float64) * self.size
        y = self.y0 + np.asarray(y_norm, np.float64) * self.size
        return x, y


def crop_resize(image, crop: Crop) -> np.ndarray:
    """Cut ``crop`` out of a uint8 HxWx3 frame (or a :class:`~movenet_cli.media.yuv.Yuv420` frame:
    only the pixels read are converted) and resize it to ``crop.out`` square (uint8).

    Sampling is bilinear with half-pixel centres, as :func:`~movenet_cli.pose.letterbox.resize`;
    whatever lies outside the frame is black, as the letterbox padding.
    """
    height, width = image.shape[:2]
    y0, y1, wy, in_y = bilinear_taps(height, crop.out, crop.y0, crop.size)
    x0, x1, wx, in_x = bilinear_taps(width, crop.out, crop.x0, crop.size)
    n = crop.out
    pixels = take_pixels(image, np.concatenate([y0, y1]), np.concatenate([x0, x1]))
    rows_lo, rows_hi = pixels[:n], pixels[n:]
    top = rows_lo[:, :n].astype(np.float32)
    top += (rows_lo[:, n:] - top) * wx[None, :, None]
    bottom = rows_hi[:, :n].astype(np.float32)
    bottom += (rows_hi[:, n:] - bottom) * wx[None, :, None]
    out = top + (bottom - top) * wy[:, None, None]
    out *= (in_y[:, None] & in_x[None, :])[..., None]
    return (out + 0.5).astype(np.uint8)


def box_square(bbox, margin: float, out: int) -> Crop | None:
    """The square centred on a person's box, side = its longer side x (1 + 2 ``margin``), resized to
    ``out`` model pixels (``None``: no box, or too small to cut)."""
    if bbox is None:
        return None
    x0, y0, x1, y1 = bbox
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    if not np.isfinite(side) or side < 2:
        return None
    return Crop.around((x0 + x1) / 2, (y0 + y1) / 2, side, out)


def keypoint_extent(keypoints: np.ndarray, threshold: float) -> tuple[float, float, float, float] | None:
    """The box around the keypoints scoring at least ``threshold`` (``None`` if none does):
    a SinglePose person's bbox."""
    ok = keypoints[keypoints[:, 2] >= threshold]
    if len(ok) == 0:
        return None
    return (float(ok[:, 0].min()), float(ok[:, 1].min()), float(ok[:, 0].max()), float(ok[:, 1].max()))


def torso_visible(keypoints: np.ndarray, min_score: float = MIN_CROP_KEYPOINT_SCORE) -> bool:
    """Whether a hip and a shoulder are both confidently found (rows of x, y, score)."""
    s = keypoints[:, 2]
    return bool(
        (s[_LEFT_HIP] > min_score or s[_RIGHT_HIP] > min_score)
        and (s[_LEFT_SHOULDER] > min_score or s[_RIGHT_SHOULDER] > min_score)
    )


def crop_region(
    keypoints: np.ndarray, height: int, width: int, out: int, min_score: float = MIN_CROP_KEYPOINT_SCORE
) -> Crop | None:
    """The tutorial's ``determine_crop_region``, in source pixels; ``None`` means the whole frame.

    The square is centred on the mid-hip point; its half side is the larger of 1.9x the
    torso's reach and 1.2x the reach of every confident keypoint from that centre, no
    more than the distance to the farthest frame edge.
    """
    if not torso_visible(keypoints, min_score):
        return None
    cx = (keypoints[_LEFT_HIP, 0] + keypoints[_RIGHT_HIP, 0]) / 2
    cy = (keypoints[_LEFT_HIP, 1] + keypoints[_RIGHT_HIP, 1]) / 2
    torso = keypoints[list(_TORSO), :2]
    body = keypoints[keypoints[:, 2] >= min_score, :2]
    half = max(
        TORSO_EXPANSION * np.abs(torso[:, 0] - cx).max(),
        TORSO_EXPANSION * np.abs(torso[:, 1] - cy).max(),
        BODY_EXPANSION * (np.abs(body[:, 0] - cx).max() if len(body) else 0.0),
        BODY_EXPANSION * (np.abs(body[:, 1] - cy).max() if len(body) else 0.0),
    )
    half = min(half, max(cx, width - cx, cy, height - cy))
    if not math.isfinite(half) or half <= 0 or half > max(width, height) / 2:
        return None
    return Crop(float(cx - half), float(cy - half), float(2 * half), out)
