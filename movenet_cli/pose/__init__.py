"""Pose estimation on one frame: letterbox, model, keypoints in source pixels, refinement.

Example::

    from movenet_cli.pose import PoseEstimator
    from movenet_cli.media import read_image

    people = PoseEstimator("multipose")(read_image("sample_media/person.jpg"))
"""

from .crops import keypoint_extent
from .estimator import PoseEstimator

__all__ = ["PoseEstimator", "keypoint_extent"]
