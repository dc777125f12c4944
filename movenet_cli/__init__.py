"""movenet-cli: batch MoveNet pose estimation for images, videos and folders.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image

    poses = PoseEstimator("multipose")(read_image("sample_media/person.jpg"))
"""

__version__ = "0.1.0"

from .pose.estimator import PoseEstimator  # noqa: E402 - the version first: lower layers read it
from .types import KEYPOINT_NAMES, SKELETON, FrameResult, Pose  # noqa: E402

__all__ = ["KEYPOINT_NAMES", "SKELETON", "FrameResult", "Pose", "PoseEstimator"]
