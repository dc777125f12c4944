"""movenet-cli: batch MoveNet pose estimation for images, videos and folders.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image

    poses = PoseEstimator("multipose")(read_image("sample_media/person.jpg"))
"""

from .estimator import KEYPOINT_NAMES, SKELETON, FrameResult, Pose, PoseEstimator

__all__ = ["KEYPOINT_NAMES", "SKELETON", "FrameResult", "Pose", "PoseEstimator"]
__version__ = "0.1.0"
