"""Tests for movenet_cli.media and movenet_cli.fsutil.

Videos are really decoded and encoded with the ffmpeg bundled with
imageio-ffmpeg, using the short clips in sample_media/.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from movenet_cli import media
from movenet_cli.media.probe import _parse_probe
from movenet_cli.util.fs import atomic_path, atomic_write

SAMPLES = Path(__file__).resolve().parent.parent / "sample_media"
DEMO_CLIP = SAMPLES / "demo_clip.mp4"
PORTRAIT_CLIP = SAMPLES / "portrait_clip.mp4"
PERSON_JPG = SAMPLES / "person.jpg"


def _child_ffmpeg_pids() -> list[int]:
    """PIDs of ffmpeg processes started by this Python process (Linux only)."""
    me = os.getpid()
    pids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as fh:
                text = fh.read()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == me and "ffmpeg" in name and fields[0] != "Z":
            pids.append(int(text.split()[0]))
    return pids


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
    assert _child_ffmpeg_pids()
    gen.close()
    deadline = time.time() + 5
    while _child_ffmpeg_pids() and time.time() < deadline:
        time.sleep(0.05)
    assert _child_ffmpeg_pids() == []


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


def test_parse_probe_legacy_rotate_tag():
    text = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'phone.mov':
  Metadata:
    creation_time   : 2019-05-01T10:00:00.000000Z
  Duration: 00:00:02.00, start: 0.000000, bitrate: 16000 kb/s
    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 1920x1080, 15000 kb/s, \
29.97 fps, 29.97 tbr, 600 tbn, 1200 tbc (default)
    Metadata:
      rotate          : 270
      handler_name    : Core Media Video
    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 96 kb/s (default)
At least one output file must be specified
"""
    info = _parse_probe(text, "phone.mov").info
    assert info.rotation == 270
    assert (info.width, info.height) == (1080, 1920)
    assert info.fps == pytest.approx(30000 / 1001)
    assert info.frame_count == 60
    assert info.has_audio

    # ffmpeg 4.x also printed the display matrix (counter-clockwise angle).
    text = text.replace("rotate          : 270", "handler_name    : x")
    side_data = "    Side data:\n      displaymatrix: rotation of -90.00 degrees\n"
    text = text.replace("(default)\n    Metadata:", "(default)\n" + side_data + "    Metadata:", 1)
    assert _parse_probe(text, "phone.mov").info.rotation == 90


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


def test_writer_round_trip_with_audio(tmp_path):
    out = tmp_path / "annotated.mp4"
    with media.VideoWriter(out, 960, 540, 30, audio_source=DEMO_CLIP) as writer:
        for frame in media.iter_frames(DEMO_CLIP):
            writer.write(frame.image)
    assert writer.frames_written == 90
    info = media.probe_video(out)
    assert (info.width, info.height, info.codec) == (960, 540, "h264")
    assert info.has_audio and info.audio_codec == "aac"
    assert sum(1 for _ in media.iter_frames(out)) == 90
    assert os.listdir(tmp_path) == ["annotated.mp4"]


def test_writer_trims_audio_to_range(tmp_path):
    out = tmp_path / "part.mp4"
    with media.VideoWriter(out, 960, 540, 30, audio_source=DEMO_CLIP, audio_start=1.0, audio_end=2.0) as w:
        for frame in media.iter_frames(DEMO_CLIP, start=1.0, end=2.0):
            w.write(frame.image)
    info = media.probe_video(out)
    assert info.has_audio
    assert sum(1 for _ in media.iter_frames(out)) == 30
    # The video keeps its length; copied AAC may overhang by one packet.
    assert 0.99 <= info.duration <= 1.06


def test_writer_reencodes_audio_that_mp4_cannot_copy(tmp_path):
    src = tmp_path / "vorbis.mkv"
    subprocess.run(
        [
            media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
            "-c:v", "mpeg4", "-c:a", "libvorbis", str(src),
        ],
        check=True,
    )  # fmt: skip
    assert media.probe_video(src).audio_codec == "vorbis"
    out = tmp_path / "out.mp4"
    with media.VideoWriter(out, 64, 48, 10, audio_source=src) as w:
        for frame in media.iter_frames(src):
            w.write(frame.image)
    info = media.probe_video(out)
    assert info.audio_codec == "aac"
    assert sum(1 for _ in media.iter_frames(out)) == 10


def test_writer_pads_odd_size(tmp_path):
    rng = np.random.default_rng(0)
    # Gray noise: survives 4:2:0 chroma subsampling, but not any rescaling.
    image = np.repeat(rng.integers(40, 255, (45, 61, 1), dtype=np.uint8), 3, axis=2)
    out = tmp_path / "odd.mp4"
    with media.VideoWriter(out, 61, 45, 25, crf=0) as w:
        for _ in range(5):
            w.write(image)
    info = media.probe_video(out)
    assert (info.width, info.height) == (62, 46)
    back = next(media.iter_frames(out)).image
    assert back.shape == (46, 62, 3)
    # Not rescaled: the original pixels stay where they were.
    assert np.abs(back[:45, :61].astype(int) - image).mean() < 3
    # Padding is black (chroma of the shared 2x2 block may bleed a little).
    assert back[45, :60].mean() < 30 and back[:44, 61].mean() < 30


@needs_proc
def test_writer_is_atomic_on_exception(tmp_path):
    out = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError):
        with media.VideoWriter(out, 64, 48, 25) as w:
            w.write(np.zeros((48, 64, 3), np.uint8))
            assert _child_ffmpeg_pids()
            raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []
    assert _child_ffmpeg_pids() == []


def test_writer_abort_and_empty(tmp_path):
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"previous")
    w = media.VideoWriter(out, 64, 48, 25)
    w.write(np.zeros((48, 64, 3), np.uint8))
    w.abort()
    assert os.listdir(tmp_path) == ["clip.mp4"] and out.read_bytes() == b"previous"

    with pytest.raises(media.MediaError, match="no frames"):
        with media.VideoWriter(tmp_path / "empty.mp4", 64, 48, 25):
            pass
    assert os.listdir(tmp_path) == ["clip.mp4"]

    with media.VideoWriter(tmp_path / "x.mp4", 64, 48, 25) as w:
        with pytest.raises(ValueError):
            w.write(np.zeros((48, 63, 3), np.uint8))
        w.write(np.zeros((48, 64, 3), np.uint8))


# --------------------------------------------------------------------------
# Atomic files
# --------------------------------------------------------------------------


def test_atomic_write_leaves_nothing_on_exception(tmp_path):
    target = tmp_path / "result.json"
    with pytest.raises(KeyError):
        with atomic_write(target) as fh:
            fh.write("{half")
            raise KeyError("boom")
    assert os.listdir(tmp_path) == []

    target.write_text("old")
    with pytest.raises(KeyError):
        with atomic_write(target, "wb") as fh:
            fh.write(b"new")
            raise KeyError("boom")
    assert os.listdir(tmp_path) == ["result.json"] and target.read_text() == "old"

    with atomic_write(target) as fh:
        fh.write("new")
    assert os.listdir(tmp_path) == ["result.json"] and target.read_text() == "new"

    with pytest.raises(ValueError):
        with atomic_path(tmp_path / "a.png") as tmp:
            tmp.write_bytes(b"x")
            raise ValueError
    assert os.listdir(tmp_path) == ["result.json"]


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["L", "1", "RGBA", "LA", "P", "PA-transparent", "CMYK", "I;16"])
def test_read_image_converts_modes(tmp_path, mode):
    base = np.zeros((20, 30, 3), np.uint8)
    base[:10, :, 0] = 255
    img = Image.fromarray(base)
    path = tmp_path / "img.png"
    if mode == "PA-transparent":
        img.convert("P").save(path, transparency=0)
    elif mode == "CMYK":
        path = tmp_path / "img.jpg"
        img.convert("CMYK").save(path)
    elif mode == "I;16":
        Image.fromarray(np.full((20, 30), 65535, np.uint16)).save(path)
    elif mode in ("RGBA", "LA"):
        rgba = np.dstack([base, np.full((20, 30), 128, np.uint8)])
        Image.fromarray(rgba).convert(mode).save(path)
    else:
        img.convert(mode).save(path)

    arr = media.read_image(path)
    assert arr.shape == (20, 30, 3) and arr.dtype == np.uint8 and arr.flags["C_CONTIGUOUS"]
    if mode == "RGBA":  # half-transparent red composited on black
        assert tuple(arr[0, 0]) == (128, 0, 0)
    if mode == "I;16":
        assert (arr == 255).all()
    if mode in ("P", "CMYK"):
        assert arr[0, 0, 0] > 240 and arr[0, 0, 1] < 15 and arr[-1, -1].max() < 15


def test_read_image_applies_exif_orientation(tmp_path):
    stored = np.zeros((20, 30, 3), np.uint8)
    stored[:10] = 255  # top half white
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    path = tmp_path / "phone.jpg"
    img.save(path, exif=exif, quality=95)
    arr = media.read_image(path)
    assert arr.shape == (30, 20, 3)
    assert arr[:, -3:].mean() > 240 and arr[:, :3].mean() < 15  # top went to the right


def test_read_sample_photo_and_errors(tmp_path):
    arr = media.read_image(PERSON_JPG)
    assert arr.shape == (540, 960, 3)
    with pytest.raises(media.MediaError, match="file not found"):
        media.read_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(media.MediaError, match="not an image"):
        media.read_image(bad)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".bmp"])
def test_write_image_round_trip(tmp_path, ext):
    image = np.zeros((24, 32, 3), np.uint8)
    image[:, :16] = (250, 10, 10)
    path = tmp_path / f"out{ext}"
    media.write_image(path, image)
    assert os.listdir(tmp_path) == [path.name]
    back = media.read_image(path)
    assert back.shape == image.shape
    diff = np.abs(back.astype(int) - image)
    if ext in (".png", ".bmp"):
        assert diff.max() == 0
    else:
        assert diff.mean() < 8
    with pytest.raises(media.MediaError, match="unsupported"):
        media.write_image(tmp_path / "out.xyz", image)
