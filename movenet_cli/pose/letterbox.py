"""Letterboxing: fit a frame into the model input keeping its aspect ratio, and back.

The frame is scaled to fit the input and padded equally on both sides, the same
geometry as ``tf.image.resize_with_pad``. :class:`Letterbox` holds that geometry and
maps model-normalised coordinates back to source pixels by its exact inverse.

Example::

    from movenet_cli.media import read_image
    from movenet_cli.pose.letterbox import Letterbox, letterbox, multipose_input_shape

    frame = read_image("sample_media/person.jpg")    # 540 x 960
    box = Letterbox.fit(540, 960, *multipose_input_shape(540, 960))
    tensor = letterbox(frame, box)                   # uint8 [160, 256, 3]
    print(box.to_source(0.5, 0.5))                   # (480.0, 270.0): pixels of ``frame``
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..media.yuv import Yuv420


def multipose_input_shape(height: int, width: int, size: int = 256) -> tuple[int, int]:
    """Model input (h, w) for MultiPose: larger side ``size``, both multiples of 32.

    A 720x1280 frame gives (160, 256): 1280 -> 256, 720 -> 144, rounded up to 160.
    """
    if size % 32 or size <= 0:
        raise ValueError(f"input size must be a positive multiple of 32, got {size}")
    scale = size / max(height, width)
    h = min(size, max(32, math.ceil(height * scale / 32) * 32))
    w = min(size, max(32, math.ceil(width * scale / 32) * 32))
    return h, w


@dataclass(frozen=True)
class Letterbox:
    """Geometry of one letterbox: source (h, w) -> resized (h, w) placed at (top, left) in input (h, w)."""

    src_h: int
    src_w: int
    in_h: int
    in_w: int
    new_h: int
    new_w: int
    top: int
    left: int

    @classmethod
    def fit(cls, src_h: int, src_w: int, in_h: int, in_w: int) -> "Letterbox":
        ratio = max(src_w / in_w, src_h / in_h)
        new_h = max(1, min(in_h, int(src_h / ratio)))
        new_w = max(1, min(in_w, int(src_w / ratio)))
        return cls(src_h, src_w, in_h, in_w, new_h, new_w, (in_h - new_h) // 2, (in_w - new_w) // 2)

    def samples(self) -> "Samples":
        """The source pixels the resize of this letterbox reads (see :class:`Samples`)."""
        return Samples.of(self.src_h, self.src_w, self.new_h, self.new_w)

    def to_source(self, x_norm, y_norm):
        """Map coordinates normalised to the model input back to source pixels."""
        x = (np.asarray(x_norm, np.float64) * self.in_w - self.left) * (self.src_w / self.new_w)
        y = (np.asarray(y_norm, np.float64) * self.in_h - self.top) * (self.src_h / self.new_h)
        return x, y


def bilinear_taps(n_in: int, n_out: int, start: float = 0.0, size: float | None = None):
    """Half-pixel-centre bilinear sampling along one axis, as ``tf.image.resize`` does it.

    Output pixel ``i`` samples the span ``[start, start + size)`` of ``n_in`` input pixels
    (default: all of them). Returns the lower and upper source indices, the weight of the
    upper one, and whether the sample lies inside the input at all.
    """
    size = n_in if size is None else size
    pos = start + (np.arange(n_out, dtype=np.float64) + 0.5) * (size / n_out) - 0.5
    inside = (pos >= -0.5) & (pos <= n_in - 0.5)
    pos = np.clip(pos, 0, n_in - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (pos - lo).astype(np.float32), inside


def to_keypoints(raw: np.ndarray, geometry) -> np.ndarray:
    """Rows of (y, x, score) normalised to a model input -> rows of (x, y, score) in source pixels.

    ``geometry`` is a :class:`Letterbox` or a :class:`~movenet_cli.pose.crops.Crop`: anything
    with ``to_source(x_norm, y_norm)``.
    """
    yxs = np.asarray(raw).reshape(-1, 3)
    x, y = geometry.to_source(yxs[:, 1], yxs[:, 0])
    return np.stack([x, y, yxs[:, 2].astype(np.float64)], axis=1)


@dataclass(frozen=True, eq=False)
class Samples:
    """The source pixels a bilinear resize reads, and how it blends them.

    Output row ``i`` blends source rows ``rows[i]`` and ``rows[h + i]``, output column ``j``
    source columns ``cols[j]`` and ``cols[w + j]``. :meth:`blend` finishes the resize from
    ``image[rows][:, cols]`` alone, so a decoder can hand over just those pixels.

    Example::

        grid = Samples.of(994, 1768, 143, 256)
        small = grid.blend(grid.take(frame))   # == resize(frame, 143, 256)
    """

    rows: np.ndarray
    cols: np.ndarray
    wy: np.ndarray
    wx: np.ndarray

    @classmethod
    def of(cls, src_h: int, src_w: int, height: int, width: int) -> "Samples":
        y0, y1, wy, _ = bilinear_taps(src_h, height)
        x0, x1, wx, _ = bilinear_taps(src_w, width)
        return cls(np.concatenate([y0, y1]), np.concatenate([x0, x1]), wy, wx)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the resized image."""
        return len(self.wy), len(self.wx)

    def take(self, image) -> np.ndarray:
        """The pixels of ``image`` the resize reads: uint8 [2h, 2w, 3] (see :func:`take_pixels`)."""
        return take_pixels(image, self.rows, self.cols)

    def blend(self, samples: np.ndarray) -> np.ndarray:
        """The resized uint8 image from :meth:`take`'s pixels: rows first, then columns."""
        height, width = self.shape
        samples = samples.astype(np.float32)
        lanes = (None,) * (samples.ndim - 2)  # a 2-D array blends one channel
        top, bottom = samples[:height], samples[height:]
        blended = top + (bottom - top) * self.wy[(slice(None), None, *lanes)]
        left, right = blended[:, :width], blended[:, width:]
        out = left + (right - left) * self.wx[(None, slice(None), *lanes)]
        out += 0.5
        return out.astype(np.uint8)


def take_pixels(image, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``image[rows][:, cols]`` as uint8 RGB, of a uint8 HxWx3 RGB frame or of a
    :class:`~movenet_cli.media.yuv.Yuv420` frame with its colour table (only those pixels are
    converted, bit for bit as the decoder converts them)."""
    if isinstance(image, Yuv420):
        return image.take(rows, cols)
    return np.take(np.take(image, rows, axis=0), cols, axis=1)


def resize(image, height: int, width: int) -> np.ndarray:
    """Bilinear resize of a uint8 HxWx3 image (or a :class:`~movenet_cli.media.yuv.Yuv420` frame),
    as ``tf.image.resize`` does it (half-pixel centres, no antialiasing), which is how MoveNet's
    reference pipeline feeds the model."""
    if image.shape[0] == height and image.shape[1] == width and not isinstance(image, Yuv420):
        return image
    grid = Samples.of(image.shape[0], image.shape[1], height, width)
    if isinstance(image, Yuv420):  # channel by channel: the same arithmetic, without interleaving the samples
        return np.stack([grid.blend(plane) for plane in image.take_planes(grid.rows, grid.cols)], axis=-1)
    return grid.blend(grid.take(image))


def letterbox(image, box: Letterbox) -> np.ndarray:
    """Place ``image`` (uint8 HxWx3 of the box's source size, or a
    :class:`~movenet_cli.media.yuv.Yuv420` frame of it) in a zero-padded model input."""
    return _pad(resize(image, box.new_h, box.new_w), box)


def letterbox_samples(samples: np.ndarray, grid: Samples, box: Letterbox) -> np.ndarray:
    """:func:`letterbox` from the pixels ``grid.take(image)`` of the source, bit for bit."""
    return _pad(grid.blend(samples), box)


def _pad(small: np.ndarray, box: Letterbox) -> np.ndarray:
    if (box.new_h, box.new_w) == (box.in_h, box.in_w):
        return np.ascontiguousarray(small)
    out = np.zeros((box.in_h, box.in_w, 3), np.uint8)
    out[box.top : box.top + box.new_h, box.left : box.left + box.new_w] = small
    return out
