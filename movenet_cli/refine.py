"""Two-stage estimation: MultiPose finds the people, a SinglePose model re-estimates each one.

MultiPose Lightning sees the whole frame at a few hundred pixels, so a small or partly
hidden person gets few pixels. :class:`Refiner` cuts a square around each person's box
(with a margin), runs SinglePose Thunder or Lightning on it and maps the keypoints back
to the frame. The person keeps MultiPose's id, score and box; the keypoints are the
SinglePose ones.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image

    image = read_image("sample_media/person.jpg")
    multipose = PoseEstimator("multipose")
    refiner = Refiner(PoseEstimator("thunder"))
    people = refiner(image, multipose(image))
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .crop import Crop, crop_resize
from .estimator import Pose, PoseEstimator

# The square's side is the box's longer side times (1 + 2 * margin). MultiPose boxes
# already reach 5-20% beyond the keypoints, and every margin tried (0 to 0.5) did worse
# than none, on the COCO images in tests/data/coco-dev (AP) and on the sample footage
# (keypoint confidence and jitter); see bench/quality.py.
DEFAULT_MARGIN = 0.0


class Refiner:
    """Re-estimates people found by MultiPose with a SinglePose ``estimator`` on square crops."""

    def __init__(self, estimator: PoseEstimator, margin: float = DEFAULT_MARGIN):
        if estimator.spec.multipose:
            raise ValueError("refinement needs a SinglePose model (lightning or thunder)")
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.estimator = estimator
        self.margin = float(margin)

    @property
    def model(self) -> str:
        return self.estimator.model

    def crop_for(self, pose: Pose) -> Crop | None:
        """The square around ``pose`` that the SinglePose model sees (``None``: no box)."""
        if pose.bbox is None:
            return None
        x0, y0, x1, y1 = pose.bbox
        side = max(x1 - x0, y1 - y0) * (1 + 2 * self.margin)
        if not np.isfinite(side) or side < 2:
            return None
        return Crop.around((x0 + x1) / 2, (y0 + y1) / 2, side, self.estimator.spec.input_size)

    def refine_one(self, image: np.ndarray, pose: Pose) -> Pose:
        crop = self.crop_for(pose)
        if crop is None:
            return pose
        raw = self.estimator.infer(crop_resize(image, crop)[None])[0]
        x, y = crop.to_source(raw.reshape(17, 3)[:, 1], raw.reshape(17, 3)[:, 0])
        keypoints = np.stack([x, y, raw.reshape(17, 3)[:, 2].astype(np.float64)], axis=1)
        return replace(pose, keypoints=keypoints)

    def __call__(self, image: np.ndarray, poses: list[Pose]) -> list[Pose]:
        """The same people, each with keypoints re-estimated on a crop of ``image``."""
        return [self.refine_one(image, pose) for pose in poses]
