"""media/probe.py and media/decode.py: probing, decoding upright frames with source indices and
times, ranges, and handing over only the pixels the resize reads. Real ffmpeg, real clips."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from helpers import DEMO_CLIP, PERSON_JPG, PORTRAIT_CLIP, ffmpeg_children
from movenet_cli import media

needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


@pytest.fixture(scope="module")
def demo_small() -> list[np.ndarray]:
    """Every frame of demo_clip.mp4, subsampled 4x for cheap comparisons."""
    return [f.image[::4, ::4].astype(np.int16) for f in media.iter_frames(DEMO_CLIP)]


# --------------------------------------------------------------------------
# Probing and decoding
# --------------------------------------------------------------------------


def test_probe_demo_clip():
    info = media.probe_video(DEMO_CLIP)
    assert (info.width, info.height) == (960, 540)
    assert info.fps == pytest.approx(30.0)
    assert info.rotation == 0
    assert info.has_audio and info.audio_codec == "aac"
    assert info.codec == "h264"
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert info.frame_count == 90


def test_demo_clip_frames(demo_small):
    assert len(demo_small) == 90
    assert media.count_frames(DEMO_CLIP) == 90
    gen = media.iter_frames(DEMO_CLIP)
    first = next(gen)
    gen.close()
    assert first.image.shape == (540, 960, 3)
    assert first.image.dtype == np.uint8
    assert first.image.flags["C_CONTIGUOUS"] and first.image.flags["WRITEABLE"]
    assert (first.index, first.time) == (0, 0.0)


def test_portrait_clip_is_upright():
    info = media.probe_video(PORTRAIT_CLIP)
    assert info.rotation == 90
    assert (info.width, info.height) == (360, 640)
    assert not info.has_audio

    frames = list(media.iter_frames(PORTRAIT_CLIP))
    assert len(frames) == 45
    assert all(f.image.shape == (640, 360, 3) for f in frames)

    # The stored (landscape) frame turned 90 degrees clockwise is what we get.
    import imageio_ffmpeg

    raw = imageio_ffmpeg.read_frames(str(PORTRAIT_CLIP), input_params=["-noautorotate"])
    meta = next(raw)
    stored = np.frombuffer(next(raw), np.uint8).reshape(meta["size"][1], meta["size"][0], 3)
    raw.close()
    assert stored.shape == (360, 640, 3)
    assert np.array_equal(np.rot90(stored, k=-1), frames[0].image)


def test_range_and_every_keep_source_indices(demo_small):
    frames = list(media.iter_frames(DEMO_CLIP, start=1.0, end=2.0, every=5))
    assert [f.index for f in frames] == [30, 35, 40, 45, 50, 55]
    assert frames[0].time == pytest.approx(1.0)
    for f in frames:
        assert np.array_equal(f.image[::4, ::4], demo_small[f.index])

    # A start between two frames begins at the next frame; end is exclusive.
    frames = list(media.iter_frames(DEMO_CLIP, start=0.51, end=0.7))
    assert [f.index for f in frames] == [16, 17, 18, 19, 20]
    assert np.array_equal(frames[0].image[::4, ::4], demo_small[16])

    assert list(media.iter_frames(DEMO_CLIP, start=10.0)) == []


def test_size_scales_after_rotation():
    gen = media.iter_frames(PORTRAIT_CLIP, size=(180, 320))
    assert next(gen).image.shape == (320, 180, 3)
    gen.close()


@needs_proc
def test_closing_generator_stops_ffmpeg():
    gen = media.iter_frames(DEMO_CLIP)
    next(gen)
    assert ffmpeg_children()
    gen.close()
    deadline = time.time() + 5
    while ffmpeg_children() and time.time() < deadline:
        time.sleep(0.05)
    assert ffmpeg_children() == []


def test_probe_errors(tmp_path):
    with pytest.raises(media.MediaError, match="file not found"):
        media.probe_video(tmp_path / "missing.mp4")
    fake = tmp_path / "fake.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(media.MediaError, match="not a video file"):
        media.probe_video(fake)
    with pytest.raises(media.MediaError, match="still image"):
        media.probe_video(PERSON_JPG)
    with pytest.raises(ValueError):
        media.iter_frames(DEMO_CLIP, every=0)


def test_decoding_only_the_pixels_the_resize_reads():
    """ffmpeg hands over exactly image[rows][:, cols] of the upright frames, ranges and steps kept."""
    from movenet_cli.pose.letterbox import Letterbox, letterbox, letterbox_samples

    info = media.probe_video(PORTRAIT_CLIP)  # stored landscape, rotation 90
    box = Letterbox.fit(info.height, info.width, 256, 160)
    grid = box.samples()
    full = list(media.iter_frames(PORTRAIT_CLIP, start=0.3, end=1.2, every=2))
    part = list(media.iter_frames(PORTRAIT_CLIP, start=0.3, end=1.2, every=2, pixels=(grid.rows, grid.cols)))
    assert [f.index for f in part] == [f.index for f in full] and len(full) == 14
    for a, b in zip(full, part):
        assert b.image.shape == (len(grid.rows), len(grid.cols), 3)
        np.testing.assert_array_equal(b.image, grid.take(a.image))
        np.testing.assert_array_equal(letterbox_samples(b.image, grid, box), letterbox(a.image, box))
    with pytest.raises(ValueError):
        media.iter_frames(PORTRAIT_CLIP, pixels=([0, info.height], [0]))
    with pytest.raises(ValueError):
        media.iter_frames(PORTRAIT_CLIP, size=(90, 160), pixels=([0], [0]))
