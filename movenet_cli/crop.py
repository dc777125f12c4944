"""Square crops for the SinglePose models, and the MoveNet tutorial's crop-region tracking.

SinglePose Lightning and Thunder see a fixed square input (192 or 256 pixels). On a
whole frame a person may be a few dozen pixels tall; cropping a square around them
first lets the model see them large. :class:`Crop` is that square in source pixels,
:func:`crop_resize` cuts it out (zero outside the frame) and resizes it the way the
letterbox does, and ``Crop.to_source`` maps model coordinates back exactly.

:class:`CropFollower` is the crop-region algorithm of the TensorFlow Hub MoveNet
tutorial (``init_crop_region``, ``torso_visible``, ``determine_torso_and_body_range``,
``determine_crop_region``): on video, the crop for the next frame is a square around
the hips of the person found in this frame, big enough for the torso (x1.9) and for
every confident keypoint (x1.2); it goes back to the whole frame when the torso is not
visible or nobody was found.

Example::

    follower = CropFollower(height=540, width=960, input_size=192)
    crop = follower.crop                       # None: the whole frame, letterboxed
    ...                                        # estimate on crop_resize(frame, crop)
    follower.update(poses[0].keypoints if poses else None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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


def _taps(start: float, size: float, n_in: int, n_out: int):
    """Bilinear taps along one axis for output pixels sampling [start, start + size)."""
    pos = start + (np.arange(n_out, dtype=np.float64) + 0.5) * (size / n_out) - 0.5
    inside = (pos >= -0.5) & (pos <= n_in - 0.5)
    pos = np.clip(pos, 0, n_in - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (pos - lo).astype(np.float32), inside


def crop_resize(image: np.ndarray, crop: Crop) -> np.ndarray:
    """Cut ``crop`` out of a uint8 HxWx3 frame and resize it to ``crop.out`` square (uint8).

    Sampling is bilinear with half-pixel centres, as :func:`~movenet_cli.preprocess.resize`;
    whatever lies outside the frame is black, as the letterbox padding.
    """
    height, width = image.shape[:2]
    y0, y1, wy, in_y = _taps(crop.y0, crop.size, height, crop.out)
    x0, x1, wx, in_x = _taps(crop.x0, crop.size, width, crop.out)
    rows_lo, rows_hi = image[y0], image[y1]
    top = rows_lo[:, x0].astype(np.float32)
    top += (rows_lo[:, x1] - top) * wx[None, :, None]
    bottom = rows_hi[:, x0].astype(np.float32)
    bottom += (rows_hi[:, x1] - bottom) * wx[None, :, None]
    out = top + (bottom - top) * wy[:, None, None]
    out *= (in_y[:, None] & in_x[None, :])[..., None]
    return (out + 0.5).astype(np.uint8)


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


class CropFollower:
    """Per-video state of the crop-region algorithm: where SinglePose looks next.

    ``crop`` is ``None`` while the model should see the whole (letterboxed) frame.
    """

    def __init__(self, height: int, width: int, input_size: int, min_score: float = MIN_CROP_KEYPOINT_SCORE):
        self.height, self.width = int(height), int(width)
        self.input_size = int(input_size)
        self.min_score = float(min_score)
        self.crop: Crop | None = None

    def update(self, keypoints: np.ndarray | None) -> None:
        """Choose the next frame's crop from this frame's keypoints (``None``: nobody found)."""
        if keypoints is None:
            self.crop = None
            return
        self.crop = crop_region(keypoints, self.height, self.width, self.input_size, self.min_score)

    def reset(self) -> None:
        self.crop = None
