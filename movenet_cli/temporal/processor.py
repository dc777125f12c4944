"""Per-video state that turns frame-by-frame estimates into tracks: follow -> track -> smooth.

For each video the pipeline makes one :class:`FrameProcessor` and calls it once per frame,
in frame order, in its inference thread:

* SinglePose models follow the person with the tutorial's crop region
  (:class:`~movenet_cli.temporal.follow.CropFollower`) instead of always seeing the whole frame;
* MultiPose people are re-estimated on crops when the estimator has a refiner, then get
  stable ids from a tracker (:mod:`movenet_cli.temporal.tracking`);
* MultiPose at ``--accuracy high`` detects people only now and then and follows each one between
  with SinglePose Lightning (:class:`~movenet_cli.temporal.high.VideoHigh`; ``MOVENET_VIDEO_HIGH``
  ``thunder`` follows with Thunder, ``frame`` runs every frame as a photo);
* everyone's keypoints are One-Euro smoothed per id (:mod:`movenet_cli.temporal.smoothing`).

What happens is set by :class:`~movenet_cli.settings.VideoQuality`.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import iter_frames
    from movenet_cli.settings import VideoQuality
    from movenet_cli.temporal import FrameProcessor

    estimator = PoseEstimator("multipose")
    process = FrameProcessor(VideoQuality(tracker="keypoints"), estimator, width=960, height=540)
    for frame in iter_frames("sample_media/demo_clip.mp4", end=1.0):
        tensor, box = estimator.preprocess(frame.image)
        people = process(frame.image, tensor, box, frame.time)   # tracked and smoothed
        print(frame.index, [p.id for p in people])
"""

from __future__ import annotations

from typing import Any

import os
import weakref

import numpy as np

from .. import settings
from ..errors import UsageError
from ..pose.crops import crop_resize, keypoint_extent
from ..pose.estimator import PoseEstimator
from ..settings import VideoQuality
from ..types import Pose
from .follow import CropFollower
from .high import VideoHigh
from .smoothing import KeypointSmoother
from .tracking import make_tracker


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
        self.video_high = None
        mode = video_high_mode(estimator)
        if mode not in (None, "frame"):
            self.video_high = VideoHigh(estimator.accurate, follower=_follower(estimator, mode))
        self.smoother = None
        if options.smooth and (self.tracker is not None or not multipose):
            self.smoother = KeypointSmoother(width, height, options.smoothing)

    def info(self) -> dict[str, Any]:
        """What was applied, for the JSON ``model`` block (``video_high`` only where it ran)."""
        tracker = self.tracker
        high = {} if self.video_high is None else {"video_high": self.video_high.info()}
        return high | {
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
        return self.follower is None and self.video_high is None

    @property
    def uses_image(self) -> bool:
        """Whether it looks at the frame itself, beyond the model input (crops, flips, sizes)."""
        est = self.estimator
        return self.follower is not None or est.refiner is not None or est.accurate is not None

    def estimate(self, images: list[np.ndarray], tensors: list[np.ndarray], box) -> list[list[Pose]]:
        """The model stage for frames in order: the people of each (one model call per stage of
        the accuracy level for the whole batch). ``tensors`` are the letterboxed frames."""
        est = self.estimator
        crop = self.follower.crop if self.follower is not None else None
        if self.video_high is not None:
            return [self.video_high(image) for image in images]
        if est.accurate is not None:
            crops = None if est.spec.multipose else [crop] * len(images)
            return est.accurate.estimate_batch(images, crops)
        if crop is not None:  # following: one frame at a time, cut from the frame
            tensors, box = [crop_resize(images[0], crop)], crop
        people = [est.decode(raw, box) for raw in est.infer(np.stack(tensors))]
        if est.refiner is not None:
            people = [est.refiner(image, found) for image, found in zip(images, people)]
        return people

    def track(self, people: list[Pose], time: float) -> list[Pose]:
        """Follow, track and smooth one frame's people; frames in order."""
        if self.follower is not None:
            self.follower.update(people[0].keypoints if people else None)
        if self.tracker is not None:
            self.tracker.apply(people, time * 1000.0)
        if self.smoother is not None:
            self._smooth(people, time)
        return people

    def __call__(self, image: np.ndarray, tensor: np.ndarray, box, time: float) -> list[Pose]:
        """The people in one frame; ``tensor``/``box`` are the letterboxed frame and its geometry."""
        return self.track(self.estimate([image], [tensor], box)[0], time)

    def _smooth(self, people: list[Pose], time: float) -> None:
        if self.tracker is not None:
            self.smoother.apply(people, time, alive=self.tracker.ids)
        elif not people:
            self.smoother.reset()  # SinglePose lost the person: start afresh
        else:
            self.smoother.apply(people, time)
            for pose in people:  # SinglePose boxes are the extent of the keypoints
                pose.bbox = keypoint_extent(pose.keypoints, self.estimator.threshold)


def video_high_mode(estimator: PoseEstimator) -> str | None:
    """How a video at ``estimator``'s level runs ``high``: ``None`` where it is not MultiPose at ``high``,
    else ``MOVENET_VIDEO_HIGH`` (``lightning``, ``thunder`` or ``frame``; default ``lightning``)."""
    accurate = estimator.accurate
    if accurate is None or not accurate.multipose or accurate.level != "high" or accurate.refiner is None:
        return None
    mode = os.environ.get(settings.VIDEO_HIGH_ENV, settings.VIDEO_HIGH)
    if mode not in settings.VIDEO_HIGH_MODES:
        raise UsageError(f"{settings.VIDEO_HIGH_ENV}={mode!r}: choose one of {', '.join(settings.VIDEO_HIGH_MODES)}")
    return mode


_FOLLOWERS: "weakref.WeakKeyDictionary[PoseEstimator, PoseEstimator]" = weakref.WeakKeyDictionary()


def _follower(estimator: PoseEstimator, model: str) -> PoseEstimator:
    """The SinglePose estimator that follows people between detections (built once per estimator)."""
    refiner = estimator.accurate.refiner
    if refiner.model == model:
        return refiner
    if estimator not in _FOLLOWERS or _FOLLOWERS[estimator].model != model:
        _FOLLOWERS[estimator] = PoseEstimator(model, backend=estimator.backend, threshold=estimator.threshold,
                                              store=estimator.store, threads=getattr(refiner.runner, "threads", None),
                                              batch_size=estimator.batch_size)
    return _FOLLOWERS[estimator]
