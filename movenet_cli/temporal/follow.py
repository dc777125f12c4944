"""SinglePose on video follows the person: each frame's crop comes from the last frame's keypoints.

The crop for the next frame is the tutorial's crop region (:func:`~movenet_cli.pose.crops.crop_region`)
around the person found in this frame; it goes back to the whole frame when the torso is not
visible or nobody was found.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import iter_frames
    from movenet_cli.pose.crops import Crop, crop_resize
    from movenet_cli.pose.letterbox import to_keypoints
    from movenet_cli.temporal.follow import CropFollower

    estimator, follower = PoseEstimator("lightning"), CropFollower(height=540, width=960, input_size=192)
    for frame in iter_frames("sample_media/demo_clip.mp4", end=0.5):
        crop = follower.crop or Crop.whole_frame(540, 960, 192)     # None: look at the whole frame
        keypoints = to_keypoints(estimator.infer(crop_resize(frame.image, crop)[None]), crop)
        follower.update(keypoints)           # the next frame's crop, around this frame's person
"""

from __future__ import annotations

import numpy as np

from ..pose.crops import MIN_CROP_KEYPOINT_SCORE, Crop, crop_region


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
