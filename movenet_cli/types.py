"""The data that flows between the stages: people, frames, and the keypoint layout.

This module imports nothing of the package, so every layer can use it.

Example::

    import numpy as np
    from movenet_cli.types import KEYPOINT_NAMES, Pose

    pose = Pose(keypoints=np.zeros((17, 3)), score=0.9, bbox=(0, 0, 10, 20), id=1)
    pose.keypoints[5] = (4, 6, 0.8)
    print(KEYPOINT_NAMES[pose.keypoints[:, 2].argmax()])     # left_shoulder
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KEYPOINT_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

# Edges of the skeleton, as in the MoveNet tutorial, with the side each belongs to:
# "left"/"right" of the person, or "center" for edges across the body.
SKELETON: tuple[tuple[int, int, str], ...] = (
    (0, 1, "left"),
    (0, 2, "right"),
    (1, 3, "left"),
    (2, 4, "right"),
    (0, 5, "left"),
    (0, 6, "right"),
    (5, 7, "left"),
    (7, 9, "left"),
    (6, 8, "right"),
    (8, 10, "right"),
    (5, 6, "center"),
    (5, 11, "left"),
    (6, 12, "right"),
    (11, 12, "center"),
    (11, 13, "left"),
    (13, 15, "left"),
    (12, 14, "right"),
    (14, 16, "right"),
)

# Index of each keypoint's mirror image (left <-> right), for horizontal flips.
FLIP_INDEX = tuple(
    KEYPOINT_NAMES.index(n.replace("left", "@").replace("right", "left").replace("@", "right")) for n in KEYPOINT_NAMES
)

# COCO's per-keypoint OKS falloffs (sigmas), in keypoint order.
COCO_SIGMAS = np.array(
    [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072]  # nose, eyes, ears, shoulders, elbows
    + [0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089]  # wrists, hips, knees, ankles
)

Box = tuple[float, float, float, float]  # x_min, y_min, x_max, y_max


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of the code needs to know about one model."""

    name: str
    input_size: int | None  # square side for SinglePose; None: dynamic (MultiPose)

    @property
    def multipose(self) -> bool:
        return self.input_size is None

    @property
    def npm_files(self) -> tuple[str, str]:
        return f"movenet-{self.name}.json", f"movenet-{self.name}.bin"


MODELS: dict[str, ModelSpec] = {
    "lightning": ModelSpec("lightning", 192),
    "thunder": ModelSpec("thunder", 256),
    "multipose": ModelSpec("multipose", None),
}
MODEL_NAMES = tuple(MODELS)


@dataclass
class Pose:
    """One person: 17 keypoints as rows of (x, y, score) in source pixels."""

    keypoints: np.ndarray  # float (17, 3)
    score: float
    bbox: Box | None  # x_min, y_min, x_max, y_max
    id: int = 0


@dataclass
class FrameResult:
    """The people found in one frame of a source."""

    index: int
    time: float
    people: list[Pose] = field(default_factory=list)
