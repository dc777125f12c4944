"""Offline zero-phase filtering: lag, attenuation, gap filling, uneven timestamps, and the real clip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import butter, freqz

from helpers import DEMO_CLIP, run_movenet
from movenet_cli.analysis.filters import (
    FilterError,
    check_cutoff,
    FilterSpec,
    fill_gaps,
    filter_frames,
    filter_segment,
    parse_filter,
)
from movenet_cli.errors import UsageError
from movenet_cli.results.load import load_result
from movenet_cli.temporal.smoothing import KeypointSmoother, keypoint_jitter, person_lag, trajectory_lag
from movenet_cli.types import FrameResult, Pose


def track(xs, times=None, ys=None, scores=None, pid=1):
    """FrameResults of one person whose 17 keypoints all sit at (x, y)."""
    n = len(xs)
    times = np.arange(n) / 30.0 if times is None else times
    ys = np.full(n, 100.0) if ys is None else ys
    scores = np.full(n, 0.9) if scores is None else scores
    frames = []
    for i in range(n):
        kp = np.tile([xs[i], ys[i], scores[i]], (17, 1)).astype(float)
        frames.append(FrameResult(i, float(times[i]), [Pose(kp, 0.9, (xs[i] - 50, 0, xs[i] + 50, 200), pid)]))
    return frames


def xs_of(frames, k=0):
    return np.array([f.people[0].keypoints[k, 0] for f in frames])


def test_parse_filter_strings():
    assert parse_filter("butterworth") == FilterSpec("butterworth", 6.0, 4)
    assert parse_filter("butterworth:8") == FilterSpec("butterworth", 8.0, 4)
    assert parse_filter("Butterworth:4.5:2") == FilterSpec("butterworth", 4.5, 2)
    assert parse_filter("savgol") == FilterSpec("savgol", window=9, poly=2)
    assert parse_filter("savgol:15:3") == FilterSpec("savgol", window=15, poly=3)
    assert parse_filter("one-euro").offline is False and parse_filter("none").kind == "none"
    for bad, needle in [("kalman", "unknown filter"), ("butterworth:fast", "not a number"), ("butterworth:6:2.5", "integer"),
                        ("savgol:8", "odd"), ("savgol:9:9", "odd"), ("butterworth:0", "above 0"), ("butterworth:6:4:1", "at most 2")]:
        with pytest.raises(UsageError, match=needle):
            parse_filter(bad)


def test_butterworth_has_no_lag_where_one_euro_lags():
    n = 90
    xs = 200 + 5.0 * np.arange(n) + np.random.default_rng(1).normal(0, 2, n)  # 5 px/frame, with noise
    frames = track(xs)
    smoothed, info = filter_frames(frames, parse_filter("butterworth"))
    assert info["type"] == "butterworth" and info["zero_phase"] and info["cutoff_hz"] == 6.0 and info["order"] == 4
    idx = np.arange(n)
    assert abs(trajectory_lag(idx, xs, xs_of(smoothed))) <= 0.1  # the noise limits the estimate to 0.1
    euro = track(xs)
    smoother = KeypointSmoother(width=960, height=540)
    for f in euro:
        smoother.apply(f.people, f.time)
    assert trajectory_lag(idx, xs, xs_of(euro)) >= 0.2  # the online filter trails
    # cross-correlation of the velocities peaks at shift 0
    raw_v, filt_v = np.diff(xs) - np.diff(xs).mean(), np.diff(xs_of(smoothed)) - np.diff(xs_of(smoothed)).mean()
    shifts = range(-5, 6)
    corr = [np.dot(raw_v[10 + s:-10 + s], filt_v[10:-10]) for s in shifts]
    assert list(shifts)[int(np.argmax(corr))] == 0
    assert frames[0].people[0].keypoints[0, 0] == xs[0]  # the input is not modified


def test_butterworth_attenuates_a_sine_at_the_cutoff_by_the_expected_gain():
    """filtfilt squares the gain: at the cut-off a Butterworth passes 1/sqrt(2), forward-backward 1/2."""
    t = np.arange(600) / 60.0
    xs = 300 + 10 * np.sin(2 * np.pi * 6.0 * t)
    out = xs_of(filter_frames(track(xs, times=t), parse_filter("butterworth:6:4"))[0])
    assert amplitude(out[100:-100], t[100:-100], 6.0) == pytest.approx(5.0, rel=0.01)
    slow = 300 + 10 * np.sin(2 * np.pi * 1.0 * t)  # well below the cut-off: passes
    out = xs_of(filter_frames(track(slow, times=t), parse_filter("butterworth:6:4"))[0])
    assert amplitude(out[100:-100], t[100:-100], 1.0) == pytest.approx(10.0, rel=0.01)
    fast = 300 + 10 * np.sin(2 * np.pi * 12.0 * t)  # an octave above: the digital filter's gain, squared
    out = xs_of(filter_frames(track(fast, times=t), parse_filter("butterworth:6:4"))[0])
    gain = abs(freqz(*butter(4, 6.0, fs=60.0), worN=[12.0], fs=60.0)[1][0])
    assert gain < 0.1
    assert amplitude(out[100:-100], t[100:-100], 12.0) == pytest.approx(10 * gain**2, rel=0.02)


def amplitude(values, t, hz):
    """Amplitude of the ``hz`` sine in ``values`` (least squares on sin, cos and a constant)."""
    basis = np.c_[np.sin(2 * np.pi * hz * t), np.cos(2 * np.pi * hz * t), np.ones_like(t)]
    coef = np.linalg.lstsq(basis, values, rcond=None)[0]
    return float(np.hypot(coef[0], coef[1]))


def test_short_gaps_are_filled_cubically_and_long_ones_split_the_track():
    n = 60
    xs = 0.05 * np.arange(n) ** 2  # a parabola: the cubic spline fills it exactly
    scores = np.full(n, 0.9)
    scores[10:19] = 0.1  # 9 frames: shorter than max_gap 10
    scores[30:40] = 0.1  # 10 frames: not shorter, splits the track
    frames = track(xs, scores=scores)
    out, info = filter_frames(frames, parse_filter("savgol:5:2"), max_gap=10)
    got, s = xs_of(out), np.array([f.people[0].keypoints[0, 2] for f in out])
    assert got[10:19] == pytest.approx(xs[10:19], abs=1e-6)  # filled, and savgol keeps a parabola
    assert (s[10:19] == 0.3).all()  # filled keypoints carry the threshold as score
    assert (s[30:40] == 0.1).all() and (got[30:40] == xs[30:40]).all()  # the long gap is left as it was
    assert info["filled"] == 9 * 17 and info["segments"] == 2 * 17
    # a gap at the start or end of a track is never filled (nothing to interpolate from on one side)
    values, filled = fill_gaps(np.arange(6.0), np.array([np.nan, 1, 2, 3, np.nan, np.nan]), max_gap=10)
    assert not filled.any() and np.isnan(values[[0, 4, 5]]).all()


def test_missing_frames_count_in_the_gap_but_are_not_invented():
    frames = track(10.0 * np.arange(40))
    del frames[20].people[0]
    out, info = filter_frames(frames, parse_filter("butterworth"))
    assert out[20].people == []
    assert info["filled"] == 17 and xs_of(out[21:], 0)[0] == pytest.approx(210.0, abs=0.5)


def test_uneven_timestamps_are_filtered_at_their_real_times():
    rng = np.random.default_rng(3)
    steps = rng.choice([1 / 30, 2 / 30, 1 / 60], size=120)
    t = np.r_[0.0, np.cumsum(steps)[:-1]]
    xs = 100 + 200 * t  # 200 px/s, a straight line in time
    out, info = filter_frames(track(xs, times=t), parse_filter("butterworth:4"))
    assert info["resampled_segments"] == 17
    assert xs_of(out) == pytest.approx(xs, abs=0.05)  # a line in time stays a line: no lag, no wobble
    with pytest.raises(FilterError, match="does not follow"):
        filter_frames(track(xs, times=t[::-1]), parse_filter("butterworth"))


def test_a_cutoff_the_rate_cannot_support_is_refused_up_front_and_never_fails_the_filter():
    check_cutoff(parse_filter("butterworth:14"), 30.0)
    for rate in (30.0, 29.97):
        with pytest.raises(UsageError, match="half the frame rate"):
            check_cutoff(parse_filter("butterworth:15"), rate)
    check_cutoff(parse_filter("savgol"), 1.0)  # no cut-off
    check_cutoff(parse_filter("butterworth"), None)  # rate unknown (one frame, an image)
    # the filter itself leaves a segment it cannot filter raw, and says which frames and why
    xs = 100 + np.random.default_rng(0).normal(0, 3, 30)
    out, info = filter_frames(track(xs), parse_filter("butterworth:15"))
    assert (xs_of(out) == xs).all() and info["unfiltered_segments"] == 17
    assert info["unfiltered"] == [{"person_id": 1, "frames": [0, 29], "keypoints": "all",
                                   "reason": "30 fps; a 15 Hz cut-off needs more than 30 fps"}]


def test_short_segments_stay_raw_and_are_listed():
    out, resampled, why = filter_segment(parse_filter("butterworth"), np.arange(5) / 30, np.arange(10.0).reshape(5, 2))
    assert out is None and not resampled and "needs at least 9" in why
    out, info = filter_frames(track(np.arange(5.0)), parse_filter("butterworth"))
    assert info["unfiltered_segments"] == 17 and (xs_of(out) == np.arange(5.0)).all()
    assert info["unfiltered"][0]["frames"] == [0, 4] and "5 frames" in info["unfiltered"][0]["reason"]


@pytest.mark.parametrize("spec", ["butterworth", "savgol"])
def test_one_frame_is_left_raw_and_described_in_strict_json(spec):
    """A 1-frame video, or any image in dir: nothing to filter, and the description has no NaN."""
    frames = track([120.0])
    out, info = filter_frames(frames, parse_filter(spec))
    assert xs_of(out) == [120.0] and info["rate_hz"] is None
    assert info["unfiltered"] == [{"person_id": 1, "frames": [0, 0], "keypoints": "all", "reason": info["unfiltered"][0]["reason"]}]
    json.dumps(info, allow_nan=False)  # what the JSON sink does
    assert filter_frames([], parse_filter(spec))[1]["tracks"] == 0


def test_a_person_seen_only_through_a_slow_stretch_is_left_raw_there():
    """Variable frame rate: 30 fps for 2 s, then 10 fps; a 6 Hz cut-off fits the first, not the second."""
    t = np.r_[np.arange(60) / 30, 2 + np.arange(1, 40) / 10]
    xs = 100 + np.random.default_rng(2).normal(0, 3, len(t))
    a = track(xs, times=t, pid=1)  # seen throughout
    b = track(xs + 300, times=t, pid=2)
    frames = [FrameResult(i, f.time, f.people + (b[i].people if f.time > 2 else [])) for i, f in enumerate(a)]
    out, info = filter_frames(frames, parse_filter("butterworth"))
    assert info["rate_hz"] == 30.0
    assert info["unfiltered"] == [{"person_id": 2, "frames": [60, 98], "keypoints": "all",
                                   "reason": "10 fps; a 6 Hz cut-off needs more than 12 fps"}]
    slow = np.array([f.people[1].keypoints[0, 0] for f in out[60:]])
    assert (slow == xs[60:] + 300).all()  # raw
    assert not np.allclose(xs_of(out), xs)  # person 1 (whole track, resampled) is filtered
    json.dumps(info, allow_nan=False)


def test_savgol_uses_the_window_asked_for_and_narrows_it_to_a_short_segment():
    from scipy.signal import savgol_filter

    xs = 100 + np.random.default_rng(4).normal(0, 5, 40)
    for window in (5, 15):
        out, info = filter_frames(track(xs), parse_filter(f"savgol:{window}:2"))
        assert info["window"] == window
        assert xs_of(out) == pytest.approx(savgol_filter(xs, window, 2, mode="interp"), abs=1e-9)
    out, info = filter_frames(track(xs[:7]), parse_filter("savgol:9:2"))
    assert xs_of(out) == pytest.approx(savgol_filter(xs[:7], 7, 2, mode="interp"), abs=1e-9)
    assert info["narrowed"] == [{"person_id": 1, "frames": [0, 6], "keypoints": "all",
                                 "reason": "7 frames; window 9 narrowed to 7"}] and info["unfiltered"] == []


def test_max_gap_decides_which_gaps_are_filled():
    from movenet_cli.pipeline.analysis import filtered
    from movenet_cli.settings import AnalysisSettings

    scores = np.full(40, 0.9)
    scores[10:14] = 0.1  # a 4-frame gap
    frames = track(10.0 * np.arange(40), scores=scores)
    for max_gap, filled in ((4, 0), (5, 4 * 17), (10, 4 * 17)):
        _, info = filter_frames(frames, parse_filter("savgol"), max_gap=max_gap)
        assert info["filled"] == filled and info["max_gap"] == max_gap
        out, info = filtered(frames, AnalysisSettings(filter="savgol", max_gap=max_gap), 0.3)  # as the commands call it
        assert info["filled"] == filled and (out[11].people[0].keypoints[:, 2] == (0.3 if filled else 0.1)).all()


def test_each_person_is_filtered_on_their_own_track():
    a, b = track(np.full(40, 100.0), pid=1), track(np.full(40, 500.0), pid=2)
    both = [FrameResult(i, fa.time, fa.people + fb.people) for i, (fa, fb) in enumerate(zip(a, b))]
    out, info = filter_frames(both, parse_filter("butterworth"))
    assert info["tracks"] == 2
    for f in out:
        assert f.people[0].keypoints[0, 0] == pytest.approx(100.0) and f.people[1].keypoints[0, 0] == pytest.approx(500.0)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """The sample clip, tracked, unsmoothed and with the default One-Euro smoothing."""
    folder = tmp_path_factory.mktemp("filters")
    docs = []
    for name, extra in (("raw", ["--no-smooth"]), ("euro", [])):
        out = folder / f"{name}.json"
        run = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out, "-q", *extra)
        assert run.returncode == 0, run.stderr
        docs.append(load_result(out))
    return docs


def test_clip_butterworth_jitter_and_lag_against_one_euro(clip):
    """Measured on the demo clip: jitter raw 0.044, One-Euro 0.023 (lag 0.65 frames), Butterworth 6 Hz 0.015 (0.05)."""
    raw, euro = clip
    butter, info = filter_frames(raw.frames, parse_filter("butterworth"))
    j_raw, j_euro, j_butter = (keypoint_jitter(r) for r in (raw.frames, euro.frames, butter))
    assert j_butter < 0.8 * j_euro < j_raw, (j_raw, j_euro, j_butter)
    lag_euro, walker, speed = person_lag(raw.frames, euro.frames)
    lag_butter, _, _ = person_lag(raw.frames, butter, person_id=walker)
    assert abs(speed) > 3  # the walking woman
    assert abs(lag_butter) <= 0.1 < lag_euro, (lag_butter, lag_euro)
    assert info["tracks"] == 2 and info["filled"] > 0
