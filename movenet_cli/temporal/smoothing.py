"""One-Euro smoothing of each tracked person's keypoints over the frame timestamps.

The One-Euro filter (Casiez et al., CHI 2012) is a low-pass filter whose cut-off rises
with the speed of the signal: a keypoint at rest is smoothed hard (no jitter), a moving
one lightly (little lag). This is pose-detection's ``OneEuroFilter`` (with its ``asinh``
threshold on large jumps), applied to x and y of every keypoint in coordinates
normalised to the frame size, with the sampling rate taken from the timestamps so it
works offline at any frame rate and with skipped frames.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import iter_frames
    from movenet_cli.temporal.smoothing import KeypointSmoother
    from movenet_cli.temporal.tracking import make_tracker

    estimator = PoseEstimator("multipose")
    tracker, smoother = make_tracker("box", width=960, height=540), KeypointSmoother(width=960, height=540)
    for frame in iter_frames("sample_media/demo_clip.mp4", end=1.0):
        people = tracker.apply(estimator(frame.image), frame.time * 1000)   # ids first: smoothing is per id
        smoother.apply(people, frame.time)                                 # in place
"""

from __future__ import annotations

import math
import numpy as np

from ..settings import THRESHOLD, OneEuroParams
from ..types import Pose


# pose-detection's MoveNet defaults (KEYPOINT_FILTER_CONFIG). On the sample clip they
# cut keypoint jitter by only about 13%: beta 300 opens the filter at the slightest motion.
POSE_DETECTION_PARAMS = OneEuroParams(min_cutoff=2.5, beta=300.0)
DEFAULT_PARAMS = OneEuroParams()  # ours: see OneEuroParams


def _alpha(cutoff, frequency: float):
    return 1.0 / (1.0 + frequency / (2 * math.pi * cutoff))


class OneEuroFilter:
    """One-Euro filter over an array of values that share timestamps (seconds)."""

    def __init__(self, params: OneEuroParams = DEFAULT_PARAMS):
        self.params = params
        self.frequency = params.frequency
        self.last_time: float | None = None
        self._raw: np.ndarray | None = None  # last input
        self._value: np.ndarray | None = None  # last output
        self._speed: np.ndarray | None = None  # filtered derivative

    def __call__(self, values: np.ndarray, time: float) -> np.ndarray:
        values = np.asarray(values, np.float64)
        p = self.params
        if self._raw is None or self._raw.shape != values.shape:
            self.last_time, self._raw, self._value = time, values.copy(), values.copy()
            self._speed = np.zeros_like(values)
            return values.copy()
        if time <= self.last_time:  # out of order or repeated: nothing sensible to do
            return values.copy()
        self.frequency = 1.0 / (time - self.last_time)
        self.last_time = time
        speed = (values - self._raw) * self.frequency
        self._speed += _alpha(p.derivative_cutoff, self.frequency) * (speed - self._speed)
        magnitude = np.abs(self._speed)
        alpha = _alpha(p.min_cutoff + p.beta * magnitude, self.frequency)
        change = values - self._value
        if p.threshold_cutoff is not None:
            threshold = p.threshold_cutoff + p.threshold_beta * magnitude
            change = threshold * np.arcsinh(change / threshold)
        self._value = self._value + alpha * change
        self._raw = values.copy()
        return self._value.copy()


class KeypointSmoother:
    """Smooths the keypoints of every tracked person (by ``Pose.id``) in place."""

    def __init__(self, width: int, height: int, params: OneEuroParams = DEFAULT_PARAMS):
        self.scale = np.array([1.0 / width, 1.0 / height])
        self.params = params
        self.filters: dict[int, OneEuroFilter] = {}

    def apply(self, poses: list[Pose], time: float, alive: set[int] | None = None) -> list[Pose]:
        """Filter ``poses`` of the frame at ``time`` seconds; forget people not in ``alive``."""
        for pose in poses:
            filt = self.filters.get(pose.id)
            if filt is None:
                filt = self.filters[pose.id] = OneEuroFilter(self.params)
            xy = filt(pose.keypoints[:, :2] * self.scale, time) / self.scale
            pose.keypoints = np.concatenate([xy, pose.keypoints[:, 2:]], axis=1)
        if alive is not None:
            for gone in set(self.filters) - alive:
                del self.filters[gone]
        return poses

    def reset(self, pose_id: int | None = None) -> None:
        """Forget one person's filter state, or everyone's."""
        if pose_id is None:
            self.filters.clear()
        else:
            self.filters.pop(pose_id, None)


# -- measuring it --------------------------------------------------------------


def keypoint_jitter(results, threshold: float = THRESHOLD) -> float:
    """Mean size of the second difference of confident keypoints, relative to the person's box.

    For every person id seen in three consecutive frames (by frame index), and every
    keypoint scoring at least ``threshold`` in all three, this is
    ``|p[t+1] - 2 p[t] + p[t-1]|`` divided by the longer side of the middle frame's box:
    the frame-to-frame wobble that smoothing should remove, whatever the image size.
    ``results`` are FrameResults in frame order. Returns ``nan`` when nothing qualifies.
    """
    tracks: dict[int, dict[int, Pose]] = {}
    for result in results:
        for pose in result.people:
            tracks.setdefault(pose.id, {})[result.index] = pose
    values = []
    for frames in tracks.values():
        for i, mid in frames.items():
            before, after = frames.get(i - 1), frames.get(i + 1)
            if before is None or after is None or mid.bbox is None:
                continue
            size = max(mid.bbox[2] - mid.bbox[0], mid.bbox[3] - mid.bbox[1])
            sure = (before.keypoints[:, 2] >= threshold) & (mid.keypoints[:, 2] >= threshold)
            sure &= after.keypoints[:, 2] >= threshold
            if size <= 0 or not sure.any():
                continue
            second = after.keypoints[sure, :2] - 2 * mid.keypoints[sure, :2] + before.keypoints[sure, :2]
            values.extend(np.linalg.norm(second, axis=1) / size)
    return float(np.mean(values)) if values else float("nan")


def steady_lag(params: OneEuroParams = DEFAULT_PARAMS, speed: float = 0.2, fps: float = 30.0, seconds: float = 3.0):
    """Frames by which the filter trails a keypoint moving at a constant ``speed`` (frame sizes
    per second) once it has settled, after ``seconds`` of motion sampled at ``fps``."""
    filt = OneEuroFilter(params)
    steps = max(2, int(round(seconds * fps)))
    for i in range(steps):
        out = filt(np.array([speed * i / fps]), i / fps)[0]
    return float((speed * (steps - 1) / fps - out) / (speed / fps))


def trajectory_lag(frames, raw, smoothed, max_lag: float = 5.0, step: float = 0.05) -> float:
    """Frames by which ``smoothed`` trails ``raw`` (both sampled at frame indices ``frames``).

    The shift of the raw trajectory that best explains the smoothed one (least squares,
    raw linearly interpolated), searched from ``-max_lag`` to ``max_lag``; the first ten
    frames of the track, while the filter settles, are left out.
    """
    frames, raw, smoothed = (np.asarray(a, np.float64) for a in (frames, raw, smoothed))
    keep = frames >= frames[0] + 10
    best_err, best_shift = np.inf, 0.0
    for shift in np.arange(-max_lag, max_lag + step / 2, step):
        source = frames - shift
        use = keep & (source >= frames[0]) & (source <= frames[-1])
        if use.sum() < 5:
            continue
        err = float(np.mean((smoothed[use] - np.interp(source[use], frames, raw)) ** 2))
        if err < best_err:
            best_err, best_shift = err, float(shift)
    return best_shift


def person_lag(raw, smoothed, person_id: int | None = None, keypoints=(11, 12), threshold: float = THRESHOLD):
    """Frames by which one tracked person trails in ``smoothed`` compared with ``raw`` results.

    Compares the x of the mean of ``keypoints`` (default the mid-hip) frame by frame with
    :func:`trajectory_lag`. ``person_id`` ``None`` takes the person seen in most frames.
    Returns ``(lag, person_id, speed)``, speed in pixels per frame.
    """
    if person_id is None:
        counts: dict[int, int] = {}
        for result in raw:
            for pose in result.people:
                counts[pose.id] = counts.get(pose.id, 0) + 1
        person_id = max(counts, key=counts.get)
    rows = list(keypoints)

    def track(results):
        out = {}
        for result in results:
            for pose in result.people:
                if pose.id == person_id and (pose.keypoints[rows, 2] >= threshold).all():
                    out[result.index] = float(pose.keypoints[rows, 0].mean())
        return out

    a, b = track(raw), track(smoothed)
    frames = sorted(set(a) & set(b))
    xs = [a[f] for f in frames]
    speed = float(np.polyfit(frames, xs, 1)[0])
    return trajectory_lag(frames, xs, [b[f] for f in frames]), person_id, speed
