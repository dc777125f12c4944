"""temporal/follow.py: SinglePose follows the person with a crop over the video."""

from __future__ import annotations

import numpy as np

from helpers import run_video
from movenet_cli.settings import VideoQuality


def _mean_keypoint_score(results):
    return float(np.mean([p.keypoints[:, 2].mean() for r in results for p in r.people]))


def test_singlepose_video_follows_the_person(estimators):
    est = estimators("lightning")
    whole = run_video(est, VideoQuality(follow=False, smooth=False), end=1.5)
    follow = run_video(est, VideoQuality(smooth=False), end=1.5)
    assert sum(bool(r.people) for r in follow) >= sum(bool(r.people) for r in whole)
    # seen large, the person's keypoints are much surer (measured 0.70 against 0.37)
    assert _mean_keypoint_score(follow) >= _mean_keypoint_score(whole) + 0.15
