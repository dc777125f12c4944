"""Kept for code written against the first release: the estimator lives in
:mod:`movenet_cli.pose.estimator`, the data types in :mod:`movenet_cli.types`."""

from .pose.estimator import PoseEstimator
from .types import KEYPOINT_NAMES, SKELETON, FrameResult, Pose

__all__ = ["KEYPOINT_NAMES", "SKELETON", "FrameResult", "Pose", "PoseEstimator"]
