"""Stable person ids across the frames of a video, as pose-detection's MoveNet trackers do.

A tracker keeps the people it has seen (tracks) and links each new detection to the
most similar track not yet taken this frame, greedily in detection order (highest
score first), if the similarity reaches ``min_similarity``; every detection left over
starts a new track. Tracks not linked for more than ``max_age`` milliseconds are
dropped, and only the ``max_tracks`` most recently linked are kept. Ids start at 1 and
are never reused within one tracker, so within one video.

Two similarities, as in tfjs-models ``pose-detection``:

* ``box``: intersection over union of the person boxes (MoveNet's default);
* ``keypoints``: object keypoint similarity (OKS) of the keypoints both poses are
  confident about, with COCO's per-keypoint falloffs, in frame-normalised coordinates.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import iter_frames
    from movenet_cli.temporal.tracking import make_tracker

    estimator = PoseEstimator("multipose")
    tracker = make_tracker("box", width=960, height=540)
    for frame in iter_frames("sample_media/demo_clip.mp4", end=1.0):
        people = tracker.apply(estimator(frame.image), frame.time * 1000)   # milliseconds
        print(frame.index, [p.id for p in people])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..settings import MAX_AGE_MS, MAX_TRACKS, MIN_SIMILARITY, TRACKERS
from ..types import COCO_SIGMAS, Pose

# OKS settings of pose-detection's keypoint tracker (falloffs from COCO).
KEYPOINT_CONFIDENCE = 0.3
MIN_KEYPOINTS = 4


@dataclass
class Track:
    """What a tracker remembers of one person: the pose last linked and when (ms)."""

    id: int
    last_ms: float
    keypoints: np.ndarray  # (17, 3), frame-normalised x, y and score
    bbox: tuple[float, float, float, float] | None


class Tracker:
    """Links poses to tracks; subclasses define :meth:`similarity` (1 best, 0 unrelated)."""

    kind = ""

    def __init__(
        self,
        width: int,
        height: int,
        *,
        max_tracks: int = MAX_TRACKS,
        max_age: float = MAX_AGE_MS,
        min_similarity: float | None = None,
    ):
        if max_tracks < 1:
            raise ValueError(f"max_tracks must be at least 1, got {max_tracks}")
        if max_age <= 0:
            raise ValueError(f"max_age must be positive (milliseconds), got {max_age}")
        if min_similarity is None:
            min_similarity = MIN_SIMILARITY[self.kind]
        if not 0 <= min_similarity <= 1:
            raise ValueError(f"min_similarity must be between 0 and 1, got {min_similarity}")
        self.scale = np.array([1.0 / width, 1.0 / height, 1.0])
        self.max_tracks = int(max_tracks)
        self.max_age = float(max_age)
        self.min_similarity = float(min_similarity)
        self.tracks: list[Track] = []
        self._next_id = 1

    @property
    def ids(self) -> set[int]:
        """Ids of the tracks still alive."""
        return {track.id for track in self.tracks}

    def similarity(self, pose: Pose, keypoints: np.ndarray, track: Track) -> float:  # pragma: no cover
        raise NotImplementedError

    def apply(self, poses: list[Pose], time_ms: float) -> list[Pose]:
        """Set ``id`` on each of ``poses`` (detections of one frame, best first); returns them."""
        self.tracks = [t for t in self.tracks if time_ms - t.last_ms <= self.max_age]
        normalised = [pose.keypoints * self.scale for pose in poses]
        free = list(range(len(self.tracks)))
        unmatched = []
        for pose, keypoints in zip(poses, normalised):
            best, best_sim = -1, -1.0
            for j in free:
                sim = self.similarity(pose, keypoints, self.tracks[j])
                if sim >= self.min_similarity and sim > best_sim:
                    best, best_sim = j, sim
            if best < 0:
                unmatched.append((pose, keypoints))
                continue
            track = self.tracks[best]
            track.last_ms, track.keypoints, track.bbox = time_ms, keypoints, pose.bbox
            pose.id = track.id
            free.remove(best)
        for pose, keypoints in unmatched:
            pose.id = self._next_id
            self._next_id += 1
            self.tracks.append(Track(pose.id, time_ms, keypoints, pose.bbox))
        self.tracks.sort(key=lambda t: -t.last_ms)
        del self.tracks[self.max_tracks :]
        return poses

    def reset(self) -> None:
        """Forget every track (ids still never repeat)."""
        self.tracks = []


class BoxTracker(Tracker):
    """Similarity: intersection over union of the person boxes."""

    kind = "box"

    def similarity(self, pose: Pose, keypoints: np.ndarray, track: Track) -> float:
        return box_iou(pose.bbox, track.bbox)


class KeypointTracker(Tracker):
    """Similarity: object keypoint similarity (OKS) of the keypoints both are confident about."""

    kind = "keypoints"

    def similarity(self, pose: Pose, keypoints: np.ndarray, track: Track) -> float:
        return keypoint_similarity(keypoints, track.keypoints)


def box_iou(a, b) -> float:
    """Intersection over union of two [x_min, y_min, x_max, y_max] boxes (0 if either is missing)."""
    if a is None or b is None:
        return 0.0
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    if x0 >= x1 or y0 >= y1:
        return 0.0
    inter = (x1 - x0) * (y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def keypoint_similarity(pose: np.ndarray, track: np.ndarray, threshold: float = KEYPOINT_CONFIDENCE) -> float:
    """OKS between two (17, 3) keypoint sets in normalised coordinates, as pose-detection computes it.

    The object area is that of the box around the track's confident keypoints; fewer than
    :data:`MIN_KEYPOINTS` keypoints confident in both gives 0.
    """
    both = (pose[:, 2] >= threshold) & (track[:, 2] >= threshold)
    if both.sum() < MIN_KEYPOINTS:
        return 0.0
    sure = track[track[:, 2] > threshold]
    area = 1e-6
    if len(sure):
        area += (max(0.0, sure[:, 0].max()) - min(1.0, sure[:, 0].min())) * (
            max(0.0, sure[:, 1].max()) - min(1.0, sure[:, 1].min())
        )
    d2 = ((pose[both, :2] - track[both, :2]) ** 2).sum(axis=1)
    falloff = 2 * COCO_SIGMAS[both]
    return float(np.exp(-d2 / (2 * area * falloff**2)).mean())


def make_tracker(
    kind: str,
    width: int,
    height: int,
    *,
    max_tracks: int = MAX_TRACKS,
    max_age: float = MAX_AGE_MS,
    min_similarity: float | None = None,
) -> Tracker:
    """A ``box`` or ``keypoints`` tracker for frames of ``width`` x ``height`` pixels."""
    classes = {"box": BoxTracker, "keypoints": KeypointTracker}
    if kind not in classes:
        raise ValueError(f"unknown tracker {kind!r}; choose one of {', '.join(TRACKERS)}")
    return classes[kind](width, height, max_tracks=max_tracks, max_age=max_age, min_similarity=min_similarity)
