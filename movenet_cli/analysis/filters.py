"""Offline, zero-phase filtering of recorded tracks: Butterworth or Savitzky-Golay, after gap filling.

For a recorded video the whole track of every person is known, so it can be filtered
forward and backward (no lag), as Sports2D does (4th-order Butterworth at 6 Hz after
filling short gaps). Per tracked person (``Pose.id``) and keypoint:

1. Samples are the frames between the person's first and last appearance. A frame
   where the person is missing, or the keypoint scores below ``threshold``, is a gap.
2. Gaps of fewer than ``max_gap`` frames are filled by cubic interpolation over the
   timestamps (``scipy.interpolate.CubicSpline`` through the track's sure samples);
   longer gaps split the track into segments, each filtered on its own.
3. Each segment is filtered with ``scipy.signal.filtfilt`` (Butterworth, zero phase)
   or ``scipy.signal.savgol_filter``. Timestamps that are not evenly spaced (variable
   frame rate, dropped frames) are first resampled onto a uniform grid at the median
   frame interval, filtered there, and interpolated back to the frame times.

Keypoints filled across a short gap get the interpolated position and the score
``threshold`` (they pass it, just), so they are drawn and used; the ``"filled"`` count
in the description says how many. Frames where the person is absent are not given one.
A segment too short for the filter, or sampled too slowly for its cut-off (a variable frame
rate video whose person is seen only through a slow stretch), keeps its raw positions and is
listed under ``"unfiltered"`` with the reason; a Savitzky-Golay window wider than a segment is
narrowed to it (``"narrowed"``). A filter never fails a run on its data: only a cut-off the
video's own frame rate can never support is refused, before any work (:func:`check_cutoff`).

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.analysis.filters import filter_frames, parse_filter
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.results import load_result

    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(json=Path("out/clip.json")), end=1.0)
    frames = load_result("out/clip.json").frames
    smoothed, info = filter_frames(frames, parse_filter("butterworth:6:4"), max_gap=10, threshold=0.3)
    print(info)                             # the "filter" entry of the JSON model block
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable

import numpy as np
from .. import settings
from ..errors import MovenetError, UsageError
from ..types import KEYPOINT_NAMES, FrameResult

DEFAULT_MAX_GAP = settings.MAX_GAP
KINDS = settings.FILTERS


class FilterError(MovenetError):
    """Frames that cannot be filtered offline (e.g. timestamps out of order); the message says which."""


@dataclass(frozen=True)
class FilterSpec:
    """A ``--filter`` choice. ``cutoff_hz``/``order`` for Butterworth, ``window``/``poly`` for Savitzky-Golay."""

    kind: str
    cutoff_hz: float = settings.BUTTERWORTH_CUTOFF_HZ
    order: int = settings.BUTTERWORTH_ORDER
    window: int = settings.SAVGOL_WINDOW
    poly: int = settings.SAVGOL_POLY

    @property
    def offline(self) -> bool:
        """True for the filters this module applies (the whole track must be known)."""
        return self.kind in ("butterworth", "savgol")


def _numbers(text: str, parts: list[str], kinds: tuple[type, ...]) -> list:
    out = []
    for part, kind in zip(parts, kinds):
        try:
            out.append(kind(part))
        except ValueError:
            raise UsageError(f"--filter {text}: {part!r} is not a{'n integer' if kind is int else ' number'}") from None
    return out


def parse_filter(text: str) -> FilterSpec:
    """``butterworth[:CUTOFF_HZ[:ORDER]]``, ``savgol[:WINDOW[:POLY]]``, ``one-euro`` or ``none``."""
    name, *parts = text.strip().lower().split(":")
    name = re.sub(r"[_ ]", "-", name)
    name = {"oneeuro": "one-euro", "euro": "one-euro", "butter": "butterworth", "savitzky-golay": "savgol"}.get(name, name)
    if name not in KINDS:
        raise UsageError(f"--filter {text}: unknown filter {name!r} (choose from {', '.join(KINDS)})")
    limit = {"butterworth": 2, "savgol": 2}.get(name, 0)
    if len(parts) > limit:
        raise UsageError(f"--filter {text}: {name} takes at most {limit} ':'-separated values")
    if name == "butterworth":
        values = _numbers(text, parts, (float, int))
        spec = FilterSpec(name, *values)
        if not spec.cutoff_hz > 0 or spec.order < 1:
            raise UsageError(f"--filter {text}: the cut-off must be above 0 Hz and the order at least 1")
    elif name == "savgol":
        values = _numbers(text, parts, (int, int))
        spec = FilterSpec(name, **dict(zip(("window", "poly"), values)))
        if spec.window < 3 or spec.window % 2 == 0 or not 0 <= spec.poly < spec.window:
            raise UsageError(f"--filter {text}: the window must be odd and at least 3, the order below it")
    else:
        spec = FilterSpec(name)
    return spec


# -- one signal ------------------------------------------------------------------


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return list(zip(edges[::2], edges[1::2]))


def fill_gaps(times: np.ndarray, values: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill interior nan runs shorter than ``max_gap`` samples by a cubic spline through the others.

    ``values`` is ``(n,)`` or ``(n, d)``. Returns the filled values and a mask of the filled samples.
    """
    values = np.array(values, np.float64)
    missing = np.isnan(values.reshape(len(values), -1)).any(axis=1)
    filled = np.zeros(len(values), bool)
    sure = ~missing
    if sure.sum() < 2:
        return values, filled
    first, last = np.flatnonzero(sure)[[0, -1]]
    for start, stop in _runs(missing):
        if start > first and stop <= last and stop - start < max_gap:
            filled[start:stop] = True
    if filled.any():
        from scipy.interpolate import CubicSpline  # scipy loads only when a filter runs

        spline = CubicSpline(times[sure], values[sure], axis=0)
        values[filled] = spline(times[filled])
    return values, filled


def _uniform(times: np.ndarray) -> bool:
    steps = np.diff(times)
    return bool(np.all(np.abs(steps - np.median(steps)) <= 0.01 * np.median(steps)))


def check_cutoff(spec: FilterSpec, rate_hz: float | None, what: str = "the video") -> None:
    """Refuse a Butterworth cut-off at or above half of ``rate_hz`` (frames per second of ``what``):
    no segment of it could be filtered. Called before any work; ``None`` (rate unknown) passes."""
    if spec.kind == "butterworth" and rate_hz and math.isfinite(rate_hz) and spec.cutoff_hz >= 0.999 * rate_hz / 2:
        raise UsageError(f"--filter butterworth:{spec.cutoff_hz:g}: the cut-off must be below half the frame rate "
                         f"of {what} ({rate_hz / 2:g} Hz at {rate_hz:g} fps)")


def segment_plan(spec: FilterSpec, n: int, rate: float) -> tuple[FilterSpec | None, str]:
    """How a gap-free segment of ``n`` samples at ``rate`` Hz is filtered: the spec to apply (``None``:
    left raw) and, when that is not ``spec`` as asked, why."""
    if spec.kind == "butterworth":
        need = max(3, 2 * spec.order + 1)
        if n < need:
            return None, f"{n} frame{'s' if n != 1 else ''}; Butterworth of order {spec.order} needs at least {need}"
        if spec.cutoff_hz >= 0.999 * rate / 2:
            return None, f"{rate:.4g} fps; a {spec.cutoff_hz:g} Hz cut-off needs more than {2 * spec.cutoff_hz:g} fps"
        return spec, ""
    window, need = min(spec.window, n if n % 2 else n - 1), max(3, spec.poly + 1 + spec.poly % 2)
    if window < need:
        return None, f"{n} frame{'s' if n != 1 else ''}; Savitzky-Golay of order {spec.poly} needs at least {need}"
    if window < spec.window:
        return replace(spec, window=window), f"{n} frames; window {spec.window} narrowed to {window}"
    return spec, ""


def _apply(spec: FilterSpec, values: np.ndarray, rate: float) -> np.ndarray:
    """Filter evenly sampled ``values`` (n, d) along axis 0 with ``spec`` as :func:`segment_plan` gave it."""
    from scipy.signal import butter, filtfilt, savgol_filter  # scipy loads only when a filter runs

    if spec.kind == "butterworth":
        b, a = butter(spec.order, spec.cutoff_hz, btype="low", fs=rate)
        return filtfilt(b, a, values, axis=0, padlen=min(3 * max(len(a), len(b)), len(values) - 1))
    return savgol_filter(values, spec.window, spec.poly, axis=0, mode="interp")


def filter_segment(spec: FilterSpec, times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray | None, bool, str]:
    """Zero-phase filter one gap-free segment sampled at ``times``.

    Returns the values (``None``: the segment is left raw), whether it was resampled onto an even
    grid first, and why it was not filtered as asked ("" when it was)."""
    n = len(times)
    step = float(np.median(np.diff(times))) if n > 1 else float("nan")
    even = n < 3 or _uniform(times)
    count = n if even else int(round((times[-1] - times[0]) / step)) + 1
    plan, why = segment_plan(spec, count, 1.0 / step if n > 1 else float("nan"))
    if plan is None:
        return None, False, why
    if even:
        return _apply(plan, values, 1.0 / step), False, why
    from scipy.interpolate import CubicSpline

    grid = np.linspace(times[0], times[-1], count)  # the segment's own ends: nothing is extrapolated
    on_grid = CubicSpline(times, values, axis=0)(grid)
    return CubicSpline(grid, _apply(plan, on_grid, 1.0 / (grid[1] - grid[0])), axis=0)(times), True, why


# -- tracks ------------------------------------------------------------------------


def _tracks(frames: list[FrameResult]) -> dict[int, dict[int, int]]:
    """Person id -> {position in ``frames``: position in that frame's ``people``}."""
    tracks: dict[int, dict[int, int]] = {}
    for n, frame in enumerate(frames):
        for k, pose in enumerate(frame.people):
            tracks.setdefault(pose.id, {})[n] = k
    return tracks


def frame_rate(frames: list[FrameResult], fps: float | None = None) -> float | None:
    """Frames per second of ``frames``: the source's ``fps`` over the frame step when they agree (so
    29.97 stays 29.97), else the rate of the median step; ``None`` for fewer than two frames."""
    steps = np.diff([f.time for f in frames])
    steps = steps[steps > 0]
    if not len(steps):
        return None
    step = float(np.median(steps))
    every = round(step * fps) if fps else 0
    if every >= 1 and abs(step - every / fps) <= 1e-3 * step:
        return fps / every
    return 1.0 / step


class _Done:
    """What a filter run did: counts, and the segments not filtered as asked, by person, frames and reason."""

    def __init__(self) -> None:
        self.counts = dict(segments=0, resampled_segments=0, unfiltered_segments=0, filled=0)
        self.unlike: dict[tuple[str, int, int, int, str], list[str]] = {}

    def segment(self, person: int, frames: tuple[int, int], keypoint: str, resampled: bool, filtered: bool, why: str):
        self.counts["segments"] += 1
        self.counts["resampled_segments"] += int(resampled)
        self.counts["unfiltered_segments"] += int(not filtered)
        if why:
            key = ("unfiltered" if not filtered else "narrowed", person, *frames, why)
            self.unlike.setdefault(key, []).append(keypoint)

    def lists(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {"unfiltered": [], "narrowed": []}
        for (kind, person, first, last, why), names in self.unlike.items():
            out[kind].append({"person_id": person, "frames": [first, last],
                              "keypoints": "all" if len(names) == len(KEYPOINT_NAMES) else names, "reason": why})
        return out


def _filter_keypoint(spec, times, xy, max_gap, done: _Done, where) -> tuple[np.ndarray, np.ndarray]:
    """Fill and filter one keypoint's (n, 2) track (nan = gap); returns new xy and the filled mask.
    ``where(start, stop)`` names the segment for ``done``: (person, (first frame, last frame), keypoint)."""
    xy, filled = fill_gaps(times, xy, max_gap)
    present = ~np.isnan(xy).any(axis=1)
    for start, stop in _runs(present):
        out, resampled, why = filter_segment(spec, times[start:stop], xy[start:stop])
        person, frames, keypoint = where(start, stop)
        done.segment(person, frames, keypoint, resampled, out is not None, why)
        if out is not None:
            xy[start:stop] = out
    done.counts["filled"] += int(filled.sum())
    return xy, filled


def _filter_track(spec, frames, pid: int, track: dict[int, int], max_gap: int, threshold: float, done: _Done) -> None:
    """Filter one person's keypoints in place (``frames`` are copies)."""
    span = np.arange(min(track), max(track) + 1)
    times = np.array([frames[n].time for n in span], np.float64)
    kp = np.full((len(span), 17, 3), np.nan)
    for i, n in enumerate(span):
        if n in track:
            kp[i] = frames[n].people[track[n]].keypoints
    for k in range(kp.shape[1]):
        xy = np.where((kp[:, k, 2] >= threshold)[:, None], kp[:, k, :2], np.nan)
        where = lambda a, b, k=k: (pid, (frames[span[a]].index, frames[span[b - 1]].index), KEYPOINT_NAMES[k])  # noqa: E731
        new, filled = _filter_keypoint(spec, times, xy, max_gap, done, where)
        for i, n in enumerate(span):
            if n in track and not np.isnan(new[i]).any():
                pose = frames[n].people[track[n]]
                pose.keypoints[k, :2] = new[i]
                if filled[i]:
                    pose.keypoints[k, 2] = threshold


def filter_frames(
    frames: Iterable[FrameResult], spec: FilterSpec, *, max_gap: int = DEFAULT_MAX_GAP, threshold: float = settings.THRESHOLD
) -> tuple[list[FrameResult], dict[str, Any]]:
    """Zero-phase filter every tracked person's keypoints; returns new frames and what was done.

    ``frames`` are in time order; they are not modified. A segment too short or too slowly sampled
    for the filter is left raw (a Savitzky-Golay window wider than the segment is narrowed to it):
    the dict lists those under ``"unfiltered"`` and ``"narrowed"`` (person, first and last frame
    index, keypoints, reason). The dict is meant for the JSON ``model`` block (key ``"filter"``).
    """
    frames = copy.deepcopy(list(frames))
    if not spec.offline:
        raise ValueError(f"{spec.kind} is not an offline filter")
    if max_gap < 1:
        raise UsageError(f"--max-gap {max_gap}: must be at least 1 frame")
    times = np.array([f.time for f in frames], np.float64)
    if np.any(np.diff(times) <= 0):
        bad = int(np.flatnonzero(np.diff(times) <= 0)[0]) + 1
        raise FilterError(f"frame {frames[bad].index}: time {frames[bad].time:g} s does not follow the previous frame's")
    rate = frame_rate(frames)
    done = _Done()
    tracks = _tracks(frames)
    for pid, track in tracks.items():
        _filter_track(spec, frames, pid, track, max_gap, threshold, done)
    return frames, describe(spec, max_gap=max_gap, threshold=threshold, rate_hz=None if rate is None else round(rate, 3),
                            tracks=len(tracks), **done.counts, **done.lists())


def describe(spec: FilterSpec, **done: Any) -> dict[str, Any]:
    """The JSON description of a filter run: its settings, then what it did."""
    if spec.kind == "butterworth":
        params = {"cutoff_hz": spec.cutoff_hz, "order": spec.order, "zero_phase": True, "method": "scipy.signal.filtfilt"}
    else:
        params = {"window": spec.window, "poly": spec.poly, "zero_phase": True, "method": "scipy.signal.savgol_filter"}
    gap = {"interpolation": "cubic", "filled_score": done.get("threshold")}
    return {"type": spec.kind, **params, **gap, **done}
