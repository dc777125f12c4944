"""Two-stage estimation: MultiPose finds the people, a SinglePose model re-estimates each one.

MultiPose Lightning sees the whole frame at a few hundred pixels, so a small or partly
hidden person gets few pixels. :class:`Refiner` cuts a square around each person's box
(with a margin), runs SinglePose Thunder or Lightning on it and maps the keypoints back
to the frame. The person keeps MultiPose's id, score and box; the keypoints are the
SinglePose ones.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image
    from movenet_cli.pose.refine import Refiner

    image = read_image("sample_media/person.jpg")
    multipose = PoseEstimator("multipose")
    refiner = Refiner(PoseEstimator("thunder"))
    people = refiner(image, multipose(image))
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import numpy as np

from .. import settings
from ..types import ModelSpec, Pose
from .crops import Crop, box_square, crop_resize
from .letterbox import to_keypoints


class SinglePose(Protocol):
    """What a refiner needs of a SinglePose estimator."""

    spec: ModelSpec

    @property
    def model(self) -> str: ...

    def infer(self, inputs: np.ndarray) -> np.ndarray: ...


class Refiner:
    """Re-estimates people found by MultiPose with a SinglePose ``estimator`` on square crops."""

    def __init__(self, estimator: SinglePose, margin: float = settings.REFINE_MARGIN):
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
        return box_square(pose.bbox, self.margin, self.estimator.spec.input_size)

    def refine_one(self, image: np.ndarray, pose: Pose) -> Pose:
        crop = self.crop_for(pose)
        if crop is None:
            return pose
        raw = self.estimator.infer(crop_resize(image, crop)[None])[0]
        return replace(pose, keypoints=to_keypoints(raw, crop))

    def __call__(self, image: np.ndarray, poses: list[Pose]) -> list[Pose]:
        """The same people, each with keypoints re-estimated on a crop of ``image``."""
        return [self.refine_one(image, pose) for pose in poses]
