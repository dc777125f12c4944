"""movenet-cli: batch MoveNet pose estimation for images, videos and folders.

Every module's ``Example::`` block runs as written from the repository root: it reads
``sample_media/`` (or ``tests/data/``) and writes under an existing ``out/`` folder
(``mkdir -p out`` first). ``tests/test_docstring_examples.py`` runs them all; a block whose
first line is ``# example: not run (REASON)`` is left out for that reason.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image

    poses = PoseEstimator("multipose")(read_image("sample_media/person.jpg"))
"""

__version__ = "0.1.0"

from .pose.estimator import PoseEstimator  # noqa: E402 - the version first: lower layers read it
from .types import KEYPOINT_NAMES, SKELETON, FrameResult, Pose  # noqa: E402

__all__ = ["KEYPOINT_NAMES", "SKELETON", "FrameResult", "Pose", "PoseEstimator"]
