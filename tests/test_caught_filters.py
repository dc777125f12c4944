"""Offline filters on known signals: what ``--filter`` accepts, where a segment is short enough to stay
raw, gaps at their edges, and the exact output of the filters scipy documents.

Synthetic tracks only (see ``test_filters.py``), so every number is known.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, filtfilt, savgol_filter

from movenet_cli.analysis.filters import (
    FilterError, FilterSpec, fill_gaps, filter_frames, filter_segment, parse_filter, segment_plan,
)
from movenet_cli.errors import UsageError
from test_filters import track, xs_of


@pytest.mark.parametrize("text, kind", [
    ("oneeuro", "one-euro"), ("euro", "one-euro"), ("one_euro", "one-euro"), ("One Euro", "one-euro"),
    ("butter", "butterworth"), ("Savitzky-Golay", "savgol"), ("savitzky_golay", "savgol"), (" none ", "none"),
])
def test_filter_names_and_their_aliases(text, kind):
    assert parse_filter(text).kind == kind


def test_the_smallest_values_each_filter_accepts():
    assert parse_filter("butterworth:0.5:1") == FilterSpec("butterworth", 0.5, 1)
    assert parse_filter("savgol:3:0") == FilterSpec("savgol", window=3, poly=0)


@pytest.mark.parametrize("text, message", [
    ("butterworth:fast", "--filter butterworth:fast: 'fast' is not a number"),
    ("savgol:9.5", "--filter savgol:9.5: '9.5' is not an integer"),
    ("kalman", "--filter kalman: unknown filter 'kalman' (choose from butterworth, savgol, one-euro, none)"),
    ("savgol:9:2:1", "--filter savgol:9:2:1: savgol takes at most 2 ':'-separated values"),
    ("one-euro:3", "--filter one-euro:3: one-euro takes at most 0 ':'-separated values"),
    ("butterworth:6:0", "--filter butterworth:6:0: the cut-off must be above 0 Hz and the order at least 1"),
    ("savgol:1:0", "--filter savgol:1:0: the window must be odd and at least 3, the order below it"),
    ("savgol:5:-1", "--filter savgol:5:-1: the window must be odd and at least 3, the order below it"),
])
def test_what_filter_refuses_and_the_words_it_uses(text, message):
    with pytest.raises(UsageError) as caught:
        parse_filter(text)
    assert str(caught.value) == message


def test_a_gap_between_the_only_two_sure_samples_is_filled():
    values, filled = fill_gaps(np.arange(3.0), np.array([1.0, np.nan, 3.0]), max_gap=10)
    assert filled.tolist() == [False, True, False] and values[1] == pytest.approx(2.0)
    values, filled = fill_gaps(np.arange(5.0), np.array([[0.0, 0.0], [np.nan, np.nan], [2.0, 4.0], [np.nan, 1.0], [4.0, 16.0]]),
                               max_gap=10)
    assert filled.tolist() == [False, True, False, True, False]  # a sample missing x or y is a gap


@pytest.mark.parametrize("n", [10, 40])
def test_butterworth_output_is_scipy_filtfilt_with_the_padding_the_segment_allows(n):
    xs = 100 + np.random.default_rng(n).normal(0, 4, n)
    out, info = filter_frames(track(xs), parse_filter("butterworth:6:4"))
    b, a = butter(4, 6.0, btype="low", fs=30.0)
    assert xs_of(out) == pytest.approx(filtfilt(b, a, xs, padlen=min(15, n - 1)), abs=1e-9)
    assert info["unfiltered"] == [] and info["method"] == "scipy.signal.filtfilt"


@pytest.mark.parametrize("order, need", [(1, 3), (2, 5), (4, 9)])
def test_the_shortest_segment_a_butterworth_filters(order, need):
    times = np.arange(need) / 30.0
    values = np.random.default_rng(order).normal(0, 1, (need, 2))
    out, resampled, why = filter_segment(FilterSpec("butterworth", 6.0, order), times, values)
    assert out is not None and why == "" and not resampled
    out, _, why = filter_segment(FilterSpec("butterworth", 6.0, order), times[:-1], values[:-1])
    assert out is None and why == f"{need - 1} frames; Butterworth of order {order} needs at least {need}"


def test_savgol_narrows_to_the_longest_odd_window_and_leaves_too_short_segments_raw():
    xs = 100 + np.random.default_rng(5).normal(0, 5, 8)
    out, info = filter_frames(track(xs), parse_filter("savgol:9:2"))  # 8 frames: window 7
    assert xs_of(out) == pytest.approx(savgol_filter(xs, 7, 2, mode="interp"), abs=1e-9)
    assert info["narrowed"][0]["reason"] == "8 frames; window 9 narrowed to 7"
    assert info["method"] == "scipy.signal.savgol_filter" and info["window"] == 9 and info["poly"] == 2
    assert segment_plan(FilterSpec("savgol", window=9, poly=3), 5, 30.0)[0] == FilterSpec("savgol", window=5, poly=3)
    assert segment_plan(FilterSpec("savgol", window=9, poly=3), 4, 30.0) == (
        None, "4 frames; Savitzky-Golay of order 3 needs at least 5")
    assert segment_plan(FilterSpec("savgol", window=9, poly=2), 1, 30.0) == (
        None, "1 frame; Savitzky-Golay of order 2 needs at least 3")


def test_a_keypoint_exactly_at_the_threshold_is_sure_not_a_gap():
    scores = np.full(30, 0.9)
    scores[10:13] = 0.3
    out, info = filter_frames(track(10.0 * np.arange(30), scores=scores), parse_filter("savgol"), threshold=0.3)
    assert info["filled"] == 0 and info["segments"] == 17


def test_a_max_gap_of_one_fills_nothing_and_zero_is_refused():
    scores = np.full(30, 0.9)
    scores[10] = 0.1
    _, info = filter_frames(track(10.0 * np.arange(30), scores=scores), parse_filter("savgol"), max_gap=1)
    assert info["filled"] == 0 and info["max_gap"] == 1
    with pytest.raises(UsageError, match=r"^--max-gap 0: must be at least 1 frame$"):
        filter_frames(track(np.arange(30.0)), parse_filter("savgol"), max_gap=0)


def test_a_frame_time_that_does_not_advance_is_named():
    frames = track(np.arange(10.0))
    frames[6].time = frames[5].time  # equal, not only earlier
    with pytest.raises(FilterError, match=r"^frame 6: time 0\.166667 s does not follow the previous frame's$"):
        filter_frames(frames, parse_filter("butterworth"))
    with pytest.raises(ValueError, match="one-euro is not an offline filter"):
        filter_frames(frames, parse_filter("one-euro"))


def test_the_description_carries_the_settings_and_the_rate_to_three_decimals():
    t = np.arange(40) / 29.97002997
    _, info = filter_frames(track(np.arange(40.0), times=t), parse_filter("butterworth"), max_gap=7, threshold=0.4)
    assert (info["max_gap"], info["threshold"], info["filled_score"], info["rate_hz"]) == (7, 0.4, 0.4, 29.97)
    assert info["interpolation"] == "cubic" and info["tracks"] == 1


def test_uneven_timestamps_are_resampled_over_the_segment_itself():
    """A sine well below the cut-off, sampled unevenly, comes back as it was at the real times."""
    steps = np.random.default_rng(7).choice([1 / 30, 1 / 15], size=200)
    t = np.r_[0.0, np.cumsum(steps)[:-1]] + 5.0  # the segment does not start at time 0
    xs = 300 + 20 * np.sin(2 * np.pi * 0.5 * t)
    out, info = filter_frames(track(xs, times=t), parse_filter("butterworth:6:2"))
    assert info["resampled_segments"] == 17
    assert xs_of(out)[20:-20] == pytest.approx(xs[20:-20], abs=0.3)
    assert xs_of(out)[[0, -1]] == pytest.approx(xs[[0, -1]], abs=2.0)
