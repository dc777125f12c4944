"""Video-grade poses: the per-video state that turns frame-by-frame estimates into tracks.

For each video :meth:`VideoQuality.start` makes a :class:`FrameProcessor`, which the
pipeline calls once per frame, in frame order, in its inference thread:

* SinglePose models follow the person with the tutorial's crop region
  (:class:`~movenet_cli.crop.CropFollower`) instead of always seeing the whole frame;
* MultiPose people are re-estimated on crops when the estimator has a refiner
  (:mod:`movenet_cli.refine`), then get stable ids from a tracker
  (:mod:`movenet_cli.tracking`);
* everyone's keypoints are One-Euro smoothed per id (:mod:`movenet_cli.smoothing`).

Example::

    quality = VideoQuality(tracker="keypoints", smooth=False)
    process = quality.start(estimator, width=960, height=540)
    people = process(frame.image, tensor, box, frame.time)   # tensor, box: estimator.preprocess
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .crop import CropFollower, crop_resize
from .estimator import Pose, PoseEstimator
from .models.store import MODELS
from .smoothing import DEFAULT_PARAMS, KeypointSmoother, OneEuroParams
from .tracking import DEFAULT_MAX_AGE_MS, DEFAULT_MAX_TRACKS, DEFAULT_TRACKER, make_tracker


@dataclass(frozen=True)
class VideoQuality:
    """What happens to poses across frames of a video.

    ``tracker`` is ``"box"``, ``"keypoints"`` or ``None`` (MultiPose ids are then just the
    rank in each frame, and nothing is smoothed); ``max_age`` is in milliseconds;
    ``min_similarity`` ``None`` takes the tracker's default. ``follow`` makes SinglePose
    models follow the person with a crop.
    """

    tracker: str | None = DEFAULT_TRACKER
    max_tracks: int = DEFAULT_MAX_TRACKS
    max_age: float = DEFAULT_MAX_AGE_MS
    min_similarity: float | None = None
    smooth: bool = True
    smoothing: OneEuroParams = field(default=DEFAULT_PARAMS)
    follow: bool = True

    @classmethod
    def off(cls) -> "VideoQuality":
        """Every frame on its own, as for still images."""
        return cls(tracker=None, smooth=False, follow=False)

    def start(self, estimator: PoseEstimator, width: int, height: int) -> "FrameProcessor":
        return FrameProcessor(self, estimator, width, height)

    def batches(self, model: str) -> bool:
        """Whether frames of ``model`` can go to the model several at a time: their model
        inputs do not depend on earlier results (as they do when SinglePose follows)."""
        return not (self.follow and not MODELS[model].multipose)


class FrameProcessor:
    """One video's worth of state; call it on each frame in order."""

    def __init__(self, options: VideoQuality, estimator: PoseEstimator, width: int, height: int):
        self.options = options
        self.estimator = estimator
        multipose = estimator.spec.multipose
        self.follower = None
        if options.follow and not multipose:
            self.follower = CropFollower(height, width, estimator.spec.input_size)
        self.tracker = None
        if options.tracker is not None and multipose:
            self.tracker = make_tracker(
                options.tracker,
                width,
                height,
                max_tracks=options.max_tracks,
                max_age=options.max_age,
                min_similarity=options.min_similarity,
            )
        self.smoother = None
        if options.smooth and (self.tracker is not None or not multipose):
            self.smoother = KeypointSmoother(width, height, options.smoothing)

    def info(self) -> dict[str, Any]:
        """What was applied, for the JSON ``model`` block."""
        tracker = self.tracker
        return {
            "tracker": None
            if tracker is None
            else {
                "type": tracker.kind,
                "max_tracks": tracker.max_tracks,
                "max_age_ms": tracker.max_age,
                "min_similarity": tracker.min_similarity,
            },
            "smoothing": None if self.smoother is None else dict(vars(self.smoother.params), filter="one-euro"),
            "crop_following": self.follower is not None,
        }

    @property
    def batchable(self) -> bool:
        """Whether the model input is always the letterboxed frame, so that frames can be run
        in batches and handed to :meth:`finish` (no crop that follows earlier results)."""
        return self.follower is None

    @property
    def uses_image(self) -> bool:
        """Whether it looks at the frame itself, beyond the model input (crops)."""
        return self.follower is not None or self.estimator.refiner is not None

    def __call__(self, image: np.ndarray, tensor: np.ndarray, box, time: float) -> list[Pose]:
        """The people in one frame; ``tensor``/``box`` are the letterboxed frame and its geometry."""
        est = self.estimator
        if self.follower is not None and self.follower.crop is not None:
            tensor, box = crop_resize(image, self.follower.crop), self.follower.crop
        return self.finish(image, est.infer(tensor[None])[0], box, time)

    def finish(self, image: np.ndarray, raw: np.ndarray, box, time: float) -> list[Pose]:
        """The people in one frame from the model's raw output for it; frames in order."""
        est = self.estimator
        people = est.decode(raw, box)
        if est.refiner is not None:
            people = est.refiner(image, people)
        if self.follower is not None:
            self.follower.update(people[0].keypoints if people else None)
        if self.tracker is not None:
            self.tracker.apply(people, time * 1000.0)
        if self.smoother is not None:
            if self.tracker is not None:
                self.smoother.apply(people, time, alive=self.tracker.ids)
            elif not people:
                self.smoother.reset()  # SinglePose lost the person: start afresh
            else:
                self.smoother.apply(people, time)
                for pose in people:  # SinglePose boxes are the extent of the keypoints
                    pose.bbox = est._extent(pose.keypoints)
        return people
