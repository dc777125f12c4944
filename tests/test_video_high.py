"""Video-native ``--accuracy high`` against per-frame ``high`` on the sample clips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import DEMO_CLIP, ROOT

from movenet_cli import pipeline
from movenet_cli.settings import VIDEO_HIGH_ENV, VideoQuality
from movenet_cli.temporal.high import VideoHigh, agreement
from movenet_cli.types import Pose

PORTRAIT_CLIP = ROOT / "sample_media" / "portrait_clip.mp4"


def _run(est, clip, end, tmp_path, monkeypatch, mode):
    """The people of each frame (unsmoothed, untracked) and the JSON's model block."""
    monkeypatch.setenv(VIDEO_HIGH_ENV, mode)
    found: list = []
    out = tmp_path / f"{clip.stem}-{mode}.json"
    calls = dict(est.accurate.calls)
    pipeline.process_video(est, clip, pipeline.Outputs(None, out), progress=False, end=end, quality=VideoQuality.off(),
                           on_result=lambda r: found.append([Pose(p.keypoints.copy(), p.score, p.bbox) for p in r.people]))
    detections = est.accurate.calls.get("multipose", 0) - calls.get("multipose", 0)
    return found, json.loads(out.read_text())["model"], detections


P95_BOUND = {"lightning": 6.0, "thunder": 2.0}  # percent of the box diagonal
_PER_FRAME: dict = {}  # per-frame high's run of each clip, made once


@pytest.mark.parametrize("clip, end, mode", [(DEMO_CLIP, 1.0, "lightning"), (DEMO_CLIP, 1.0, "thunder"),
                                             (PORTRAIT_CLIP, 0.5, "lightning")],
                         ids=["demo", "demo-thunder", "portrait"])  # fmt: skip
def test_video_native_high_agrees_with_per_frame_high(estimators, tmp_path, monkeypatch, clip, end, mode):
    """Between detections, following each person with SinglePose gives the keypoints per-frame high
    gives (median under 1% of the box diagonal) and the same people, for a fraction of the
    MultiPose calls."""
    est = estimators("multipose", accuracy="high")
    if clip not in _PER_FRAME:
        _PER_FRAME[clip] = _run(est, clip, end, tmp_path, monkeypatch, "frame")
    frame, frame_model, frame_calls = _PER_FRAME[clip]
    video, video_model, video_calls = _run(est, clip, end, tmp_path, monkeypatch, mode)
    assert "video_high" not in frame_model
    assert video_model["video_high"]["detect_every"] == 10 and video_model["video_high"]["follow"] == mode
    assert len(frame) == len(video) >= 15 and any(frame)
    numbers = agreement(frame, video)
    # measured on these frames: median 0.25-0.62%, p95 1.0-1.9% with Thunder/Lightning on the
    # demo clip, 4.4% with Lightning on the portrait clip (people close to each other). People:
    # per-frame high loses the man jumping on the demo clip's roof (scoring about min_pose_score)
    # on 17 of its 30 frames; video-native holds him between detections (1.63-1.67 people a frame
    # against 1.43, every extra one him) and, detecting again sooner after a detection lost him,
    # misses nobody per-frame high finds.
    assert numbers["median"] <= 1.0 and numbers["p95"] <= P95_BOUND[mode], numbers
    assert abs(numbers["people"] - numbers["people_ref"]) <= 0.35 and numbers["missed"] <= 0.1, numbers
    assert video_calls <= frame_calls / 3, (video_calls, frame_calls)


def test_detection_runs_again_every_n_frames_and_when_someone_is_lost(estimators):
    """Detection on the first frame, then every ``every`` frames; a frame where the followed
    person is gone (a black frame) runs detection on that frame again, and finds nobody."""
    from movenet_cli.media import iter_frames

    est = estimators("multipose", accuracy="high")
    frames = [f.image for f in iter_frames(DEMO_CLIP, end=0.4)]
    follow = VideoHigh(est.accurate, every=4)
    counts = [len(follow(image)) for image in frames[:9]]
    assert follow.detections == 3 and min(counts) >= 1  # frames 1, 5, 9
    assert follow(np.zeros_like(frames[0])) == [] and follow.detections == 4
    assert follow.followed == []
