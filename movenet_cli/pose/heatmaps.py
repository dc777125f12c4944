"""MoveNet's heads, cut before its own decoding: mirror them back, average them, decode them.

The model graph ends in MoveNet's decoding (arg max of a centre heatmap, regression to each
keypoint, the keypoint heatmap near it, an offset within the cell).
:func:`~movenet_cli.models.runners.make_heads_runner` runs the graph cut before it, whose
output stacks the heads (:data:`~movenet_cli.models.tfjs.HEAD_ORDER`); :func:`split` names
them, :func:`decode_singlepose` is the SinglePose graph's decoding in NumPy (the constants read
from the graph), so ``decode_singlepose(split(cut(x)), decoding)`` is ``model(x)``.

Flip testing on heatmaps (as mmpose's ``flip_test``): run the model on an input and on its
mirror image, :func:`mirror_back` the mirror's heads (columns reversed, left and right channels
swapped, x components of regression and offsets mirrored), :func:`mean` the two and decode once.

Example::

    import numpy as np
    from movenet_cli.models.runners import make_heads_runner
    from movenet_cli.models.store import ModelStore
    from movenet_cli.pose.heatmaps import decode_singlepose, mean, mirror_back, split

    cut, decoding = make_heads_runner(ModelStore(), "lightning")
    x = np.zeros((1, 192, 192, 3), np.int32)
    heads = split(cut(x)[0])
    flipped = mirror_back(split(cut(x[:, :, ::-1])[0]), decoding)
    print(decode_singlepose(mean(heads, flipped), decoding).shape)   # (17, 3): y, x, score
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..types import FLIP_INDEX

_FLIP = list(FLIP_INDEX)


@dataclass(frozen=True)
class Heads:
    """The heads of one input, on the model's output grid (h, w): keypoint heatmaps (h, w, 17)
    and centre heatmap (h, w) after the sigmoid, regression from each cell to each keypoint and
    offsets of each keypoint within its cell, (h, w, 17, 2) as (dy, dx) in cells."""

    heatmaps: np.ndarray
    centre: np.ndarray
    regression: np.ndarray
    offsets: np.ndarray


def split(raw: np.ndarray) -> Heads:
    """The heads of one input from the cut graph's output ``[h, w, C]``."""
    raw = np.asarray(raw, np.float32)
    h, w = raw.shape[:2]
    return Heads(raw[..., :17], raw[..., 17], raw[..., 18:52].reshape(h, w, 17, 2), raw[..., 52:86].reshape(h, w, 17, 2))


def _cells_across(decoding: dict) -> float:
    """The input's width in cells as the decoding scales it (1 / scale; 48.01 for a 48-cell grid
    whose scale is stored as float16)."""
    return float(1.0 / decoding["scale"][1])


def mirror_back(heads: Heads, decoding: dict) -> Heads:
    """The heads of a horizontally mirrored input, as heads of the input itself: columns reversed,
    left and right keypoints swapped, and x positions mirrored (a keypoint at cell x + dx in the
    mirror lies at ``1 / scale - (x + dx)``, so x components become ``1 / scale - w + 1 - dx``)."""
    width = heads.heatmaps.shape[1]
    shift = np.float32(_cells_across(decoding) - width + 1)

    def mirror_vectors(v: np.ndarray) -> np.ndarray:
        v = v[:, ::-1][:, :, _FLIP].copy()
        v[..., 1] = shift - v[..., 1]
        return v

    return Heads(
        heads.heatmaps[:, ::-1][:, :, _FLIP],
        heads.centre[:, ::-1],
        mirror_vectors(heads.regression),
        mirror_vectors(heads.offsets),
    )


def mean(*many: Heads) -> Heads:
    """The element-wise mean of several inputs' heads (all on one grid)."""
    return Heads(*(np.mean([getattr(h, f) for h in many], axis=0, dtype=np.float32)
                   for f in ("heatmaps", "centre", "regression", "offsets")))


def decode_singlepose(heads: Heads, decoding: dict) -> np.ndarray:
    """SinglePose MoveNet's own decoding: (17, 3) rows of y, x (normalised to the input) and score,
    as the graph's output ``[0, 0]``.

    The person is the arg max of the centre heatmap times ``centre_weight``; each keypoint is the
    arg max of its heatmap divided by (distance from where the centre's regression puts it +
    ``distance_bias``), moved by its offset; its score is the heatmap there.
    """
    h, w = heads.centre.shape
    weighted = heads.centre * decoding["centre_weight"]
    cy, cx = divmod(int(np.argmax(weighted)), w)
    target = np.float32([cy, cx]) + heads.regression[cy, cx]  # (17, 2)
    gy, gx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    distance = np.sqrt((gy[..., None] - target[:, 0]) ** 2 + (gx[..., None] - target[:, 1]) ** 2)
    ranked = heads.heatmaps / (distance + decoding["distance_bias"])
    flat = np.argmax(ranked.reshape(h * w, 17), axis=0)
    ky, kx = np.divmod(flat, w)
    k = np.arange(17)
    offsets = heads.offsets[ky, kx, k]  # (17, 2)
    y = (ky.astype(np.float32) + offsets[:, 0]) * decoding["scale"][0]
    x = (kx.astype(np.float32) + offsets[:, 1]) * decoding["scale"][1]
    return np.column_stack([y, x, heads.heatmaps[ky, kx, k]]).astype(np.float32)
