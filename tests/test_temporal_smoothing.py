"""temporal/smoothing.py: One-Euro smoothing over the real timestamps, at any frame rate.

The expectations come from the filter's definition (Casiez et al. 2012, with pose-detection's
asinh threshold), written out here, not from the module's own measures.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import run_video
from movenet_cli.settings import OneEuroParams, VideoQuality
from movenet_cli.temporal.smoothing import DEFAULT_PARAMS, OneEuroFilter, keypoint_jitter, person_lag


def reference_one_euro(times, values, p: OneEuroParams) -> np.ndarray:
    """One-Euro filter of ``values`` (n, ...) sampled at ``times`` (seconds), from its definition."""

    def alpha(cutoff, dt):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    values = np.asarray(values, np.float64)
    out = np.empty_like(values)
    out[0], speed = values[0], np.zeros_like(values[0])
    for n in range(1, len(values)):
        dt = times[n] - times[n - 1]
        raw_speed = (values[n] - values[n - 1]) / dt
        speed = speed + alpha(p.derivative_cutoff, dt) * (raw_speed - speed)
        change = values[n] - out[n - 1]
        if p.threshold_cutoff is not None:
            limit = p.threshold_cutoff + p.threshold_beta * np.abs(speed)
            change = limit * np.arcsinh(change / limit)
        out[n] = out[n - 1] + alpha(p.min_cutoff + p.beta * np.abs(speed), dt) * change
    return out


def _filter(times, values, params):
    filt = OneEuroFilter(params)
    return np.array([filt(v, t) for t, v in zip(times, values)])


@pytest.mark.parametrize("fps", [10.0, 30.0, 60.0])
def test_lag_is_the_cutoff_time_constant_at_any_frame_rate(fps):
    """A keypoint moving steadily trails by 1 / (2 pi cutoff) seconds, whatever the frame rate."""
    params = OneEuroParams(threshold_cutoff=None)  # the plain One-Euro filter
    speed = 0.2  # frame sizes per second
    times = np.arange(int(4 * fps)) / fps
    out = _filter(times, (speed * times)[:, None], params)[:, 0]
    lag_seconds = (speed * times[-1] - out[-1]) / speed
    cutoff = params.min_cutoff + params.beta * speed
    assert lag_seconds == pytest.approx(1 / (2 * math.pi * cutoff), rel=1e-3)


def test_filter_follows_the_timestamps_not_a_fixed_rate():
    """Irregular steps (dropped frames, --every, variable frame rate) filter as their timestamps say."""
    rng = np.random.default_rng(1)
    steps = rng.choice([1 / 60, 1 / 30, 1 / 10, 0.2], size=80)
    times = np.concatenate([[0.0], np.cumsum(steps)])
    values = np.cumsum(rng.normal(0, 0.01, (len(times), 17, 2)), axis=0) + 0.5
    for params in (DEFAULT_PARAMS, OneEuroParams(min_cutoff=1.0, beta=0.5, threshold_cutoff=None)):
        np.testing.assert_allclose(_filter(times, values, params), reference_one_euro(times, values, params),
                                   rtol=0, atol=1e-12)


def _tracks(results) -> dict[int, tuple[list[float], list[np.ndarray]]]:
    """id -> (times, keypoint xy) over the frames where that id is seen."""
    tracks: dict[int, tuple[list, list]] = {}
    for r in results:
        for p in r.people:
            times, xys = tracks.setdefault(p.id, ([], []))
            times.append(r.time)
            xys.append(p.keypoints[:, :2])
    return tracks


def test_video_with_every_smooths_over_the_frame_times(estimators):
    """--every 3 on the 30 fps clip: frames 0.1 s apart, and the filter is told so."""
    est = estimators("multipose")
    raw = run_video(est, VideoQuality(smooth=False), every=3)
    smoothed = run_video(est, VideoQuality(), every=3)
    assert [r.index for r in raw] == list(range(0, 90, 3))
    assert raw[1].time == pytest.approx(0.1, abs=1e-6)
    scale = np.array([960.0, 540.0])  # the filter works on coordinates relative to the frame
    checked = 0
    raw_tracks, smooth_tracks = _tracks(raw), _tracks(smoothed)
    assert sorted(raw_tracks) == sorted(smooth_tracks)
    for pid, (times, xys) in raw_tracks.items():
        expected = reference_one_euro(times, np.array(xys) / scale, DEFAULT_PARAMS) * scale
        np.testing.assert_allclose(np.array(smooth_tracks[pid][1]), expected, atol=1e-6)
        checked += len(times)
    assert checked >= 30


def test_smoothing_cuts_jitter_with_under_a_frame_of_lag(clip_runs):
    raw, smoothed = clip_runs
    jitter_raw, jitter_smooth = keypoint_jitter(raw), keypoint_jitter(smoothed)
    assert jitter_smooth <= 0.6 * jitter_raw, (jitter_raw, jitter_smooth)  # measured: 48% less
    lag, _, speed = person_lag(raw, smoothed)  # the walking woman's mid-hip
    assert abs(speed) > 3 and 0 <= lag <= 1.0, (lag, speed)
