"""``--accuracy high`` on video: look for people now and then, follow each one between.

Per-frame ``high`` (:class:`~movenet_cli.pose.accuracy.AccurateEstimator`) treats every frame
as a photo: MultiPose at 320 (and its mirror image) finds the people, then Thunder re-estimates each
on the square around its box. On footage the person in frame N+1 is where they were in frame N,
so :class:`VideoHigh` runs that full detection only on some frames and, between them, only a
SinglePose model (Lightning by default, or Thunder) on each followed person's square, taken from
their box in the last frame moved by its last motion; every person's crop goes to the model in
one batched call. A person's box between detections is the extent of their confident keypoints
widened by the margins MultiPose's box had around them at the last detection; their score is the
detection's, scaled down as their mean keypoint score falls below its value at the detection
(people then scoring under the estimator's ``min_pose_score`` are left out, as per-frame high
leaves them out).

Detection runs again, on the same frame,

* every :data:`DETECT_EVERY` frames, when new people may have come in; after half that when the
  last detection found fewer people than were followed into it (someone scoring near the
  estimator's ``min_pose_score`` drops out of one detection and is back a few frames later, as
  per-frame high's own count shows: waiting the whole interval missed them);
* when a followed person is lost: their mean keypoint score falls below :data:`LOST_SCORE`, or
  below :data:`SCORE_DROP` times its value at the last detection, fewer than
  :data:`MIN_KEYPOINTS` keypoints stay confident, or two people's keypoints fall together
  (OKS above :data:`~movenet_cli.pose.accuracy.NMS_OKS`);
* when nobody is followed.

The detection is per-frame high's own (``accurate``), whatever its recipe runs (a mirror pass
only where it has one): the same detector on both sides; a mirror pass added to video's detection
alone moved the people counts on the sample clips further from per-frame high's (1.11 and 1.87 a
frame against 1.24 and 1.60). ``bench/video_high.py`` measures the agreement with per-frame
``high`` (:func:`agreement`) and the model CPU of each design; ``MOVENET_VIDEO_HIGH``
(``lightning``, ``thunder``, ``frame``) chooses on the command line.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import iter_frames
    from movenet_cli.temporal.high import VideoHigh

    estimator = PoseEstimator("multipose", accuracy="high")
    follow = VideoHigh(estimator.accurate, follower=PoseEstimator("lightning"))
    for frame in iter_frames("sample_media/demo_clip.mp4", end=0.5):
        people = follow(frame.image)
        print(frame.index, len(people), follow.detections)   # detection frames so far
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..pose.accuracy import NMS_OKS, AccurateEstimator, oks_nms, pose_oks
from ..pose.crops import Crop, box_square, crop_resize
from ..types import Box, Pose

DETECT_EVERY = 10  # frames between detections while everyone is followed
LOST_SCORE = 0.2  # a followed person's mean keypoint score below this: lost
SCORE_DROP = 0.5  # ... or below this share of its value at the last detection
MIN_KEYPOINTS = 4  # confident keypoints needed to place a followed person's box


@dataclass
class _Followed:
    """One person between detections."""

    pose: Pose  # last estimate (own copy: later stages change poses in place)
    margins: np.ndarray  # box beyond the keypoint extent: left, top, right, bottom, in extents
    keypoint_score: float  # mean keypoint score at the last detection
    score: float  # the person's score at the last detection
    motion: np.ndarray  # box centre's last move, pixels

    def crop(self, out: int, margin: float) -> Crop | None:
        """The square Thunder sees in the next frame: the last box moved by its last motion."""
        x0, y0, x1, y1 = self.pose.bbox
        dx, dy = self.motion
        return box_square((x0 + dx, y0 + dy, x1 + dx, y1 + dy), margin, out)


def _extent(keypoints: np.ndarray, threshold: float) -> np.ndarray | None:
    ok = keypoints[keypoints[:, 2] >= threshold, :2]
    if len(ok) < MIN_KEYPOINTS:
        return None
    return np.concatenate([ok.min(axis=0), ok.max(axis=0)])


def _size(extent: np.ndarray) -> np.ndarray:
    return np.maximum(extent[2:] - extent[:2], 1.0)


def _box(extent: np.ndarray, margins: np.ndarray) -> Box:
    w, h = _size(extent)
    return (float(extent[0] - margins[0] * w), float(extent[1] - margins[1] * h),
            float(extent[2] + margins[2] * w), float(extent[3] + margins[3] * h))


def _margins(pose: Pose, extent: np.ndarray) -> np.ndarray:
    w, h = _size(extent)
    x0, y0, x1, y1 = pose.bbox
    return np.array([(extent[0] - x0) / w, (extent[1] - y0) / h, (x1 - extent[2]) / w, (y1 - extent[3]) / h])


def _copy(pose: Pose) -> Pose:
    return replace(pose, keypoints=pose.keypoints.copy())


class VideoHigh:
    """Video-native ``high`` for one video's frames, in order (call it on each frame).

    ``accurate`` is a MultiPose :class:`~movenet_cli.pose.accuracy.AccurateEstimator` with a
    refiner (``high``); ``every`` is the most frames between two detections; ``follower`` the
    SinglePose estimator between detections (default: the refiner, Thunder); ``motion``: move each
    square by the person's last motion.
    ``frames``/``detections`` count the frames seen and the frames that ran detection.
    """

    def __init__(self, accurate: AccurateEstimator, every: int = DETECT_EVERY, *, motion: bool = True,
                 follower=None):
        if accurate.refiner is None or not accurate.multipose:
            raise ValueError("video-native high needs MultiPose with a refiner")
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.accurate = accurate
        self.refiner = follower or accurate.refiner  # the SinglePose model between detections
        self.threshold = accurate.estimator.threshold
        self.every = int(every)
        self.use_motion = motion
        self.followed: list[_Followed] = []
        self.since = 0  # frames since the last detection
        self.due = self.every  # frames from the last detection to the next
        self.frames = 0
        self.detections = 0

    def info(self) -> dict[str, Any]:
        """What runs, for the JSON ``model`` block."""
        return {"follow": self.refiner.model, "detect_every": self.every, "lost_score": LOST_SCORE, "score_drop": SCORE_DROP,
                "min_keypoints": MIN_KEYPOINTS}

    def __call__(self, image) -> list[Pose]:
        """The people in the next frame (uint8 HxWx3 RGB or YUV planes), numbered by score."""
        self.frames += 1
        if self.followed and self.since < self.due:
            people = self._follow(image)
            if people is not None:
                self.since += 1
                return people
        return self._detect(image)

    def _detect(self, image) -> list[Pose]:
        people = self.accurate.estimate_batch([image])[0]
        self.detections += 1
        self.since = 1
        # Fewer people than were followed into this detection: one may have dipped under the
        # score threshold for this frame only, so look again halfway through the interval.
        self.due = max(1, self.every // 2) if len(people) < len(self.followed) else self.every
        followed = []
        for pose in people:
            extent = _extent(pose.keypoints, self.threshold)
            if pose.bbox is not None and extent is not None:
                followed.append(_Followed(_copy(pose), _margins(pose, extent), float(pose.keypoints[:, 2].mean()),
                                          pose.score, np.zeros(2)))
        self.followed = followed
        return people

    def _follow(self, image) -> list[Pose] | None:
        """Everyone followed, re-estimated on their predicted squares; ``None`` when one is lost."""
        out = self.refiner.spec.input_size
        crops = [f.crop(out, self.accurate.margin) for f in self.followed]
        if any(c is None for c in crops):
            return None
        raws = self.refiner.infer(np.ascontiguousarray(np.stack([crop_resize(image, c) for c in crops])))
        self.accurate.calls[self.refiner.model] = self.accurate.calls.get(self.refiner.model, 0) + len(crops)
        people = []
        for f, crop, raw in zip(self.followed, crops, raws):
            keypoints = self.refiner.decode(raw, crop, min_pose_score=0.0)[0].keypoints
            mean = float(keypoints[:, 2].mean())
            extent = _extent(keypoints, self.threshold)
            if extent is None or mean < max(LOST_SCORE, SCORE_DROP * f.keypoint_score):
                return None
            score = f.score * min(1.0, mean / f.keypoint_score)
            people.append(replace(f.pose, keypoints=keypoints, bbox=_box(extent, f.margins), score=score))
        if len(oks_nms(people, NMS_OKS)) < len(people):
            return None
        for f, pose in zip(self.followed, people):
            if self.use_motion:
                f.motion = _centre(pose.bbox) - _centre(f.pose.bbox)
            f.pose = _copy(pose)
        people.sort(key=lambda p: -p.score)
        people = [p for p in people if p.score >= self.accurate.estimator.min_pose_score]
        return [replace(p, id=i) for i, p in enumerate(people, 1)]


def _centre(box: Box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def pair(ref: list[Pose], other: list[Pose], min_oks: float = 0.3) -> list[tuple[Pose, Pose]]:
    """One frame's people of two runs paired one to one by OKS (at least ``min_oks``), most similar first."""
    scored = sorted(((pose_oks(a, b), i, j) for i, a in enumerate(ref) for j, b in enumerate(other)),
                    key=lambda s: -s[0])
    used_i, used_j, pairs = set(), set(), []
    for sim, i, j in scored:
        if sim >= min_oks and i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            pairs.append((ref[i], other[j]))
    return pairs


def agreement(ref: list[list[Pose]], other: list[list[Pose]], threshold: float = 0.3) -> dict[str, float]:
    """How far a run's people (``other``, frame by frame) are from a reference run's (``ref``).

    People are :func:`pair`-ed; for each pair, every keypoint both score at least ``threshold``
    gives its distance over the diagonal of the reference person's box. ``median``/``p95``: of
    those distances, in percent; ``people_ref``/``people``: people per frame; ``count_differs``:
    percent of frames whose counts differ; ``missed``/``extra``: unpaired reference/other people
    per frame.
    """
    shares, paired = [], 0
    for r, o in zip(ref, other):
        pairs = pair(r, o)
        paired += len(pairs)
        for a, b in pairs:
            both = (a.keypoints[:, 2] >= threshold) & (b.keypoints[:, 2] >= threshold)
            x0, y0, x1, y1 = a.bbox
            diagonal = max(float(np.hypot(x1 - x0, y1 - y0)), 1.0)
            shares.extend(np.hypot(*(a.keypoints[both, :2] - b.keypoints[both, :2]).T) / diagonal)
    share = np.asarray(shares) if shares else np.zeros(1)
    counts_ref, counts = np.array([len(f) for f in ref]), np.array([len(f) for f in other])
    return {"median": float(np.median(share)) * 100, "p95": float(np.percentile(share, 95)) * 100,
            "people_ref": float(counts_ref.mean()), "people": float(counts.mean()),
            "count_differs": float((counts_ref != counts).mean()) * 100,
            "missed": float(counts_ref.sum() - paired) / len(ref), "extra": float(counts.sum() - paired) / len(ref)}
